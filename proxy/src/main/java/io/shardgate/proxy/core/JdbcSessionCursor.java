package io.shardgate.proxy.core;

import io.shardgate.proxy.core.SessionBackends.Lease;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.execute.BackendConnection;
import io.shardgate.proxy.execute.SessionCursor;

/** The executor's view of a {@link ProxySession}: its backend connections (JDBC, or native ones pinned to a transaction) and its transaction state. */
final class JdbcSessionCursor implements SessionCursor {
    private final ProxySession session;
    private final SessionBackends backends;
    private final ProxyCore core;

    JdbcSessionCursor(ProxySession session, SessionBackends backends, ProxyCore core) {
        this.session = session;
        this.backends = backends;
        this.core = core;
    }

    /** The lease's connection as the executor sees it: the native one of a transaction pinned natively, else JDBC. */
    private BackendConnection wrap(Lease lease) {
        return lease.nat() != null ? lease.nat() : new JdbcBackendConnection(lease, backends, session, core);
    }

    @Override
    public boolean transactional() {
        return session.transactional();
    }

    @Override
    public BackendConnection acquire(String shard) {
        return wrap(backends.acquire(shard, session.transactional(), session.transactionStart()));
    }

    /** A native connection's read when the session and the statement qualify (see {@link NativeReadConnection}). */
    @Override
    public BackendConnection acquireRead(io.shardgate.router.plan.ShardStatement statement, java.util.List<Object> parameters) {
        if (NativeReadConnection.qualifies(core, session, backends, statement, parameters)) {
            return new NativeReadConnection(statement.shard(), core, session, backends);
        }
        return acquire(statement.shard());
    }

    @Override
    public BackendConnection borrow(String shard) {
        return wrap(backends.borrow(shard));
    }

    @Override
    public BackendConnection pinned(String shard) {
        Lease lease = backends.pinnedLease(shard);
        return lease == null ? null : wrap(lease);
    }

    @Override
    public BackendConnection shadowInTransaction(String shard) {
        Lease lease = backends.acquire(shard, true, session.transactionStart());
        backends.receivesCopies(shard);
        return wrap(lease);
    }

    @Override
    public void release(BackendConnection connection) {
        if (connection instanceof NativeReadConnection) {
            return; // its source gave the native connection back
        }
        if (connection instanceof NativeBackendConnection n) {
            backends.release(new Lease(backends.poolOf(n.shard()), null, n.pinned(), n));
            return;
        }
        backends.release(JdbcBackendConnection.of(connection).lease());
    }

    @Override
    public ProxyException endTransaction(ProxyException cause, String brokenShard) {
        return session.endTransaction(cause, brokenShard);
    }

    @Override
    public void rolledBackByShard() {
        backends.rollback();
        session.transactionEndedByShard();
    }

    @Override
    public void rollBackForFailedCopy() {
        backends.rollback();
        session.transactionEndedByShard();
        session.forgetTransactionStart();
    }

    @Override
    public void answeredBy(String shard) {
        session.answeredBy(shard);
    }

    @Override
    public void insertId(long id) {
        session.lastInsertId(id);
    }
}

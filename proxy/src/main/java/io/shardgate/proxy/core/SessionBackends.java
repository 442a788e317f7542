package io.shardgate.proxy.core;

import io.shardgate.cluster.Dialect;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendErrors;
import io.shardgate.proxy.exec.ConnectionStates;
import io.shardgate.proxy.exec.SessionSettings;
import io.shardgate.proxy.exec.ShardExecutor;
import io.shardgate.proxy.exec.ShardPool;
import io.shardgate.proxy.exec.ShardPools;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The backend connections of one session. Outside a transaction each statement borrows a connection and
 * gives it back. Inside one, a connection per shard is pinned on first use ({@code autocommit=0}) and kept
 * until COMMIT or ROLLBACK, which go to every pinned shard in turn.
 *
 * <p>A multi-shard COMMIT is not atomic: shards commit one after another and a failure after the first
 * leaves the earlier shards committed (the error names them). Until a two-phase commit exists this is
 * the guarantee: each shard's part is atomic, the whole is not.
 */
final class SessionBackends {
    private final ShardPools pools;
    private final ConnectionStates states;
    private final Map<String, Lease> pinned = new LinkedHashMap<>();
    private final List<String> savepoints = new ArrayList<>();
    /** Pinned shards that received dual-write copies in this transaction: they commit before the others. */
    private final java.util.Set<String> shadows = new java.util.HashSet<>();
    private final Dialect dialect;
    /** Connections lent to this session right now (borrowed or pinned), for {@link #cancelRunning} from another thread. */
    private final java.util.Set<Connection> lent = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Lent connections whose protocol state is unknown (see {@link #markBroken}): discarded, never given back to the pool. */
    private final java.util.Set<Connection> broken = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private SessionSettings settings = SessionSettings.NONE;

    /** A connection lent for one statement, or pinned to the session's transaction. */
    record Lease(ShardPool pool, Connection connection, boolean pinned) {
        String shard() {
            return pool.name();
        }
    }

    SessionBackends(ShardPools pools, ConnectionStates states, Dialect dialect) {
        this.pools = pools;
        this.states = states;
        this.dialect = dialect;
    }

    SessionSettings settings() {
        return settings;
    }

    boolean hasPinned() {
        return !pinned.isEmpty();
    }

    Lease pinnedLease(String shard) {
        return pinned.get(shard);
    }

    /**
     * A connection to {@code shard} carrying the session's settings: the pinned one inside a transaction
     * (pinning it now, after running {@code transactionStart}), else a borrowed one.
     */
    Lease acquire(String shard, boolean transactional, List<String> transactionStart) {
        if (!transactional) {
            return borrow(shard);
        }
        Lease lease = pinned.get(shard);
        return lease != null ? lease : pin(shard, transactionStart);
    }

    /** A connection outside the transaction (borrowed even when one is pinned). */
    Lease borrow(String shard) {
        ShardPool pool = pools.pool(shard);
        Connection c = pool.borrow();
        lent.add(c);
        long start = System.nanoTime();
        try {
            states.ensure(c, settings);
        } catch (SQLException e) {
            close(c);
            throw BackendErrors.translate(e, pool, start);
        } catch (RuntimeException | Error e) {
            lent.remove(c);
            pool.discard(c);
            throw BackendErrors.unexpected(e, pool);
        }
        return new Lease(pool, c, false);
    }

    private Lease pin(String shard, List<String> transactionStart) {
        Lease borrowed = borrow(shard);
        long start = System.nanoTime();
        try {
            Connection c = borrowed.connection();
            c.setAutoCommit(false);
            for (String sql : transactionStart) {
                ShardExecutor.execute(c, sql);
            }
            for (String savepoint : savepoints) {
                ShardExecutor.execute(c, "SAVEPOINT " + quote(savepoint));
            }
        } catch (SQLException e) {
            close(borrowed.connection());
            throw BackendErrors.translate(e, borrowed.pool(), start);
        } catch (RuntimeException | Error e) {
            lent.remove(borrowed.connection());
            borrowed.pool().discard(borrowed.connection());
            throw BackendErrors.unexpected(e, borrowed.pool());
        }
        Lease lease = new Lease(borrowed.pool(), borrowed.connection(), true);
        pinned.put(shard, lease);
        return lease;
    }

    /** Gives a borrowed connection back (or discards it if it is broken); pinned ones stay. */
    void release(Lease lease) {
        if (!lease.pinned()) {
            close(lease.connection());
        }
    }

    /**
     * Something other than the server's own error (a driver or proxy bug, an Error) broke off work on {@code lease}'s
     * connection: the driver may have stopped halfway through a reply, so the next statement on it would read the
     * rest. The connection is discarded now (closed physically, so the server rolls back what it ran) and never goes
     * back to the pool; a pinned one stays in the session as a closed connection, so the transaction's next use of it
     * fails as a broken connection does and ends the transaction. Safe from any thread.
     */
    void markBroken(Lease lease) {
        broken.add(lease.connection());
        lease.pool().discard(lease.connection());
    }

    boolean isBroken(Lease lease) {
        return broken.contains(lease.connection());
    }

    /**
     * Adopts new settings: runs {@code statement} on every pinned connection (a reset would end their
     * transaction), or, with none pinned, validates the settings on a borrowed connection of {@code validationShard}.
     */
    void changeSettings(SessionSettings next, String statement, String validationShard) {
        if (pinned.isEmpty()) {
            SessionSettings previous = settings;
            settings = next;
            try {
                release(borrow(validationShard));
            } catch (RuntimeException e) {
                settings = previous;
                throw e;
            }
            return;
        }
        for (Lease lease : pinned.values()) {
            runOn(lease, statement);
            record(lease, next);
        }
        settings = next;
    }

    private void record(Lease lease, SessionSettings next) {
        try {
            states.record(lease.connection(), next);
        } catch (SQLException e) {
            throw BackendErrors.translate(e, lease.pool(), System.nanoTime());
        }
    }

    // ---- savepoints

    void savepoint(String name) {
        forEachPinned("SAVEPOINT " + quote(name));
        savepoints.remove(name);
        savepoints.add(name);
    }

    void rollbackToSavepoint(String name) {
        requireSavepoint(name);
        forEachPinned("ROLLBACK TO SAVEPOINT " + quote(name));
        savepoints.subList(savepoints.indexOf(name) + 1, savepoints.size()).clear();
    }

    void releaseSavepoint(String name) {
        requireSavepoint(name);
        forEachPinned("RELEASE SAVEPOINT " + quote(name));
        savepoints.subList(savepoints.indexOf(name), savepoints.size()).clear();
    }

    private void requireSavepoint(String name) {
        if (!savepoints.contains(name)) {
            throw ProxyException.backend(1305, "42000", "SAVEPOINT " + name + " does not exist", null);
        }
    }

    /** Runs {@code sql} on every pinned connection (a statement about the open transaction). */
    void runOnPinned(String sql) {
        forEachPinned(sql);
    }

    private void forEachPinned(String sql) {
        for (Lease lease : pinned.values()) {
            runOn(lease, sql);
        }
    }

    private void runOn(Lease lease, String sql) {
        long start = System.nanoTime();
        try {
            ShardExecutor.execute(lease.connection(), sql);
        } catch (SQLException e) {
            throw BackendErrors.translate(e, lease.pool(), start);
        } catch (RuntimeException | Error e) {
            markBroken(lease);
            throw BackendErrors.unexpected(e, lease.pool());
        }
    }

    // ---- ending the transaction

    /**
     * Marks a pinned shard as holding copies of rows whose authoritative shard is another: at COMMIT it goes first.
     * Otherwise a later transaction on the same key could start on the authoritative shard before this copy commits
     * and replace the copy with its own (delete, insert) while this one is still uncommitted: PostgreSQL's delete does
     * not see a row inserted by a transaction that commits meanwhile, and the insert then fails as a duplicate.
     */
    void receivesCopies(String shard) {
        shadows.add(shard);
    }

    /**
     * Commits every pinned shard in turn, those holding dual-write copies first (see {@link #receivesCopies}); on a
     * failure rolls back the rest and says exactly which shards committed.
     */
    void commit() {
        for (Lease lease : pinned.values()) {
            if (isBroken(lease)) {
                List<String> rolledBack = rollbackAll(List.of(), lease.shard());
                releaseAll();
                throw new ProxyException(ErrorCode.INTERNAL, "COMMIT refused: the transaction's connection to shard " + lease.shard()
                        + " was discarded after an internal error; nothing was committed"
                        + (rolledBack.isEmpty() ? "" : ", rolled back on " + rolledBack));
            }
        }
        List<String> committed = new ArrayList<>();
        List<Lease> order = new ArrayList<>(pinned.values());
        order.sort(java.util.Comparator.comparing(l -> !shadows.contains(l.shard())));
        try {
            for (Lease lease : order) {
                long start = System.nanoTime();
                try {
                    lease.connection().commit();
                    committed.add(lease.shard());
                } catch (SQLException e) {
                    ProxyException cause = BackendErrors.translate(e, lease.pool(), start);
                    List<String> rolledBack = rollbackAll(committed, lease.shard());
                    throw commitFailure(cause, lease.shard(), committed, rolledBack);
                } catch (RuntimeException | Error e) {
                    markBroken(lease);
                    List<String> rolledBack = rollbackAll(committed, lease.shard());
                    throw commitFailure(BackendErrors.unexpected(e, lease.pool()), lease.shard(), committed, rolledBack);
                }
            }
        } finally {
            releaseAll();
        }
    }

    private static ProxyException commitFailure(ProxyException cause, String failed, List<String> committed, List<String> rolledBack) {
        if (committed.isEmpty()) {
            String message = "COMMIT failed on shard " + failed + ": " + cause.getMessage() + "; nothing was committed"
                    + (rolledBack.isEmpty() ? "" : ", rolled back on " + rolledBack);
            return rewrap(cause, message);
        }
        String message = "COMMIT failed on shard " + failed + " after shards " + committed + " had committed: " + cause.getMessage()
                + "; rolled back on " + (rolledBack.isEmpty() ? "no other shard" : rolledBack)
                + ". A transaction over several shards commits shard by shard (no two-phase commit yet), so its changes on "
                + committed + " stay; check and repair the others";
        return rewrap(cause, message);
    }

    private static ProxyException rewrap(ProxyException cause, String message) {
        return cause.code() == null
                ? ProxyException.backend(cause.error().mysqlErrno(), cause.error().sqlState(), message, cause)
                : new ProxyException(cause.code(), message, cause);
    }

    /** Rolls back every pinned shard and returns the connections; failures are ignored (the server rolls back on disconnect). */
    void rollback() {
        rollbackAll(List.of(), null);
        releaseAll();
    }

    /**
     * Ends the transaction after a pinned connection to {@code broken} failed: rolls back the others and
     * returns the error to report, saying so.
     */
    ProxyException abandon(ProxyException cause, String broken) {
        List<String> rolledBack = rollbackAll(List.of(), broken);
        releaseAll();
        String message = cause.getMessage() + "; the transaction is over: its connection to shard " + broken + " broke"
                + (rolledBack.isEmpty() ? "" : ", and it was rolled back on shards " + rolledBack);
        return rewrap(cause, message);
    }

    private List<String> rollbackAll(List<String> skip, String failed) {
        List<String> rolledBack = new ArrayList<>();
        for (Lease lease : pinned.values()) {
            if (skip.contains(lease.shard()) || isBroken(lease)) {
                continue;
            }
            try {
                lease.connection().rollback();
                if (!lease.shard().equals(failed)) {
                    rolledBack.add(lease.shard());
                }
            } catch (SQLException ignored) {
                // a broken connection: the server rolls back when it notices the disconnect
            }
        }
        return rolledBack;
    }

    private void releaseAll() {
        pinned.values().forEach(l -> close(l.connection()));
        pinned.clear();
        savepoints.clear();
        shadows.clear();
    }

    /**
     * Cancels whatever the session's PostgreSQL connections are running (pgJDBC sends the shard a CancelRequest for the
     * connection's backend; an idle backend ignores it). Safe to call from another thread.
     */
    void cancelRunning() {
        for (Connection c : lent) {
            try {
                if (c.isWrapperFor(org.postgresql.PGConnection.class)) {
                    c.unwrap(org.postgresql.PGConnection.class).cancelQuery();
                }
            } catch (SQLException | RuntimeException ignored) {
                // the connection went back to the pool or broke meanwhile: nothing of this session runs on it
            }
        }
    }

    private void close(Connection c) {
        lent.remove(c);
        if (broken.remove(c)) {
            return; // discarded already
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // returning to the pool failed: the pool discards the connection
        }
    }

    private String quote(String identifier) {
        return dialect == Dialect.POSTGRES ? "\"" + identifier.replace("\"", "\"\"") + "\""
                : "`" + identifier.replace("`", "``") + "`";
    }

    static ProxyException internal(String message) {
        return new ProxyException(ErrorCode.INTERNAL, message);
    }
}

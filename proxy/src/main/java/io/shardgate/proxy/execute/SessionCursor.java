package io.shardgate.proxy.execute;

import io.shardgate.proxy.error.ProxyException;

/**
 * What the executor needs of the session it runs for: connections as the session's transaction state decides
 * (pinned inside a transaction, borrowed outside), and the session told what happened (the shard that answered, the
 * generated id, a transaction that ended on the shards). The session owns its transaction; the executor never keeps
 * state between statements.
 */
public interface SessionCursor {

    /** Whether statements run in the client's transaction (one it began, or autocommit off). */
    boolean transactional();

    /** A connection to {@code shard} for one statement: the transaction's (joining it now) when transactional, else one lent. */
    BackendConnection acquire(String shard);

    /**
     * A connection for one shard's read of a merge ({@code statement} with {@code parameters}): as {@link #acquire}, or
     * one that reads over the shard's own protocol when the session and the statement allow it.
     */
    default BackendConnection acquireRead(io.shardgate.router.plan.ShardStatement statement, java.util.List<Object> parameters) {
        return acquire(statement.shard());
    }

    /** A connection outside the transaction, even when one is pinned on {@code shard}. */
    BackendConnection borrow(String shard);

    /** The transaction's connection to {@code shard}, or null. */
    BackendConnection pinned(String shard);

    /** The transaction's connection to {@code shard} that receives dual-write copies (it commits before the others). */
    BackendConnection shadowInTransaction(String shard);

    /** Gives back a lent connection (a discarded one is closed); pinned ones stay. */
    void release(BackendConnection connection);

    /**
     * A connection of the transaction broke ({@code brokenShard}): the transaction is over, rolled back on every shard;
     * returns {@code cause} telling the client so.
     */
    ProxyException endTransaction(ProxyException cause, String brokenShard);

    /** A shard ended the transaction to break a deadlock: the rest is rolled back too, and the transaction is over. */
    void rolledBackByShard();

    /** A dual write's copy failed inside the client's transaction: rolled back on every shard, the transaction is over. */
    void rollBackForFailedCopy();

    /** The statement's answer came from {@code shard} (SHOW WARNINGS asks it next). */
    void answeredBy(String shard);

    /** A shard generated {@code id} (LAST_INSERT_ID()). */
    void insertId(long id);
}

package io.shardgate.proxy.execute;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import java.util.List;

/**
 * One backend connection as the executor sees it: lent to one statement, or pinned to the session's transaction.
 * Everything the executor does to a shard goes through this interface, so that the kind of connection (JDBC today, the
 * shard's own protocol later) is not the executor's business, and so that the executor can be tested against a
 * logging fake.
 *
 * <p>Error contract: a failure the server reported, or a lost connection, is a {@link BackendError} carrying the error
 * the client would see (the server's errno, SQLSTATE and text unchanged; or SHARD_UNAVAILABLE naming the shard, its
 * address, the elapsed time and the root cause). Anything else thrown (a {@link RuntimeException} or {@link Error}) is
 * unexpected: the connection's protocol state is unknown, and the executor {@link #discard}s it.
 */
public interface BackendConnection {

    /** The shard this connection belongs to. */
    String shard();

    /** The shard and its address, for messages and the log. */
    String describe();

    /** Whether the connection belongs to the session's transaction (it stays with the session after the statement). */
    boolean pinned();

    /**
     * Runs one statement of a plan with the session's parameters: sent as the client's bytes, or as SQL with the
     * statement's parameters bound, as the connection and the statement allow.
     */
    StatementResult run(ShardStatement statement, List<Object> parameters) throws BackendError;

    /**
     * Starts one read of a plan as {@link #run} would run it, with its rows left on the connection to be read as they
     * come ({@link RowSource}); the connection stays busy with it until the source is closed. A statement that returns
     * no rows comes back {@link RowSource.Opened.Done done}.
     */
    RowSource.Opened open(ShardStatement statement, List<Object> parameters) throws BackendError;

    /** Runs a statement of the proxy's own, without parameters (SHOW WARNINGS, reading a session variable). */
    StatementResult run(String sql) throws BackendError;

    /** The result columns of {@code sql}, from a server-side prepare. */
    List<ColumnInfo> describe(String sql) throws BackendError;

    /** Starts a transaction of the proxy's own on a connection in autocommit mode. */
    void begin() throws BackendError;

    void commit() throws BackendError;

    void rollback() throws BackendError;

    /** Back to autocommit mode after {@link #begin}; a connection that cannot be switched back is closed, never reused. */
    void restoreAutocommit();

    /**
     * A dual write's lookup ({@code SELECT key … FOR UPDATE}, see {@link ShadowCopy.LookupKeys}): the distinct keys that
     * lie in moving slots, typed for binding.
     */
    List<Object> lookUpKeys(ShadowCopy.LookupKeys lookup, List<Object> parameters) throws BackendError;

    /** The current rows of {@code keys} in {@code table}, read with {@code FOR UPDATE} (the source side of a copy). */
    RowImage readImage(String table, String keyColumn, List<Object> keys) throws BackendError;

    /** Replaces the rows of {@code keys} in {@code table} by {@code image} (the shadow side of a copy). */
    void replaceRows(String table, String keyColumn, List<Object> keys, RowImage image) throws BackendError;

    /** Never give this connection back to the pool (its protocol state is unknown); a pinned one ends its transaction. */
    void discard();

    /** Whether {@link #discard} was called. */
    boolean discarded();
}

package io.shardgate.proxy.session;

/**
 * The rows of a result as they arrive from the shards, pulled one at a time by the front end that writes them (so a
 * client that reads slowly slows the shards' reads, and no whole result is held). Used by one thread; not reusable.
 *
 * <p>Contract: {@link #next} until it returns null (the result ended; {@link #warnings} is then the statement's count),
 * or until it throws the error a server would send after the rows so far (a {@link io.shardgate.proxy.error.ProxyException}).
 * {@link #close} is always called, after the end or instead of it: before the end it stops the shards' work (the client
 * went away, or it needs no more rows), and gives their connections back clean or not at all.
 */
public interface RowStream {

    /** The next row (backend text bytes per column, null = SQL NULL), or null at the end of the result. */
    byte[][] next();

    /** The statement's warning count; known once {@link #next} returned null. */
    int warnings();

    /** The statement's {@link StatementResult.Update#QUERY_STATUS} flags (no index used, …); known once {@link #next} returned null. */
    default int queryStatus() {
        return 0;
    }

    /** Ends the stream: after the end it only lets go; before it, it cancels what the shards still run. Idempotent. */
    void close();
}

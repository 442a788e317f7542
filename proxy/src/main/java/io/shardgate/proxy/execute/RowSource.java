package io.shardgate.proxy.execute;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import java.util.List;

/**
 * One shard's result rows as its connection reads them (JDBC streaming today, the shard's own protocol later): the
 * executor pulls a row only when the client can take one. While a source is open its connection runs nothing else.
 *
 * <p>Error contract as {@link BackendConnection}'s: a failure the server reported, or a lost connection, is a
 * {@link BackendError}; after one the source is finished (its connection's state is whatever the error left, which
 * {@link #close} deals with).
 */
public interface RowSource {

    List<ColumnInfo> columns();

    /** The next row, or null at the end of the result. */
    byte[][] next() throws BackendError;

    /** The warnings the shard reported for the statement; known at the end of the result. */
    int warnings();

    /** The shard's {@link StatementResult.Update#QUERY_STATUS} flags for the statement (MySQL); known at the end of the result. */
    default int queryStatus() {
        return 0;
    }

    /**
     * Ends the statement on the shard. After the end: the connection is ready for its next statement. Before it: the
     * shard stops (KILL QUERY, or the portal closed) and the connection is left clean, or marked so it never goes back to
     * the pool ({@link BackendConnection#discarded}).
     */
    void close();

    /** What opening a statement gave: a result to stream, or an answer without rows (read whole, as any). */
    sealed interface Opened {
        record Streaming(RowSource rows) implements Opened {}

        record Done(StatementResult result) implements Opened {}
    }
}

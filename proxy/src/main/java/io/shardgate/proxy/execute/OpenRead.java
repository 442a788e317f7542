package io.shardgate.proxy.execute;

import io.shardgate.proxy.admin.ProxyMetrics;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.merge.StreamingMerger;

/**
 * One shard's read whose rows are still coming, as a plan's input: its connection stays lent until the rows end or the
 * read is closed, and is given back then (a pinned one stays with the transaction). A failure mid-result is what it would
 * be for the whole read ({@link ShardCalls#failure}); the call is counted in the metrics when the read ends.
 */
final class OpenRead implements StreamingMerger.Input {
    private final BackendConnection connection;
    private final RowSource source;
    private final SessionCursor cursor;
    private final ShardCalls calls;
    private final ProxyMetrics metrics;
    private final long start;
    private boolean finished;

    OpenRead(BackendConnection connection, RowSource source, SessionCursor cursor, ShardCalls calls, ProxyMetrics metrics,
            long start) {
        this.connection = connection;
        this.source = source;
        this.cursor = cursor;
        this.calls = calls;
        this.metrics = metrics;
        this.start = start;
    }

    RowSource source() {
        return source;
    }

    @Override
    public byte[][] next() {
        if (finished) {
            return null;
        }
        byte[][] row;
        try {
            row = source.next();
        } catch (BackendError e) {
            ProxyException error = calls.failure(connection, e);
            finish(false);
            throw error;
        } catch (RuntimeException | Error e) {
            ProxyException error = calls.unexpected(connection, e);
            finish(false);
            throw error;
        }
        if (row == null) {
            cursor.answeredBy(connection.shard());
            finish(true);
        }
        return row;
    }

    @Override
    public void close() {
        if (finished) {
            return;
        }
        try {
            source.close(); // before the end: the shard stops, the connection is left clean or discarded
        } finally {
            finish(true);
        }
    }

    private void finish(boolean ok) {
        finished = true;
        metrics.shardCall(connection.shard(), System.nanoTime() - start, ok);
        cursor.release(connection);
    }
}

package io.shardgate.proxy.execute;

import io.shardgate.proxy.admin.ProxyMetrics;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendErrors;
import io.shardgate.proxy.session.StatementResult;

/**
 * What every plan does around a call to a shard, shared by the plan executor and the dual writer: the call timed
 * into the metrics, the shard that answered remembered, and what a failure does to the session's transaction.
 */
final class ShardCalls {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ShardCalls.class);

    private final SessionCursor cursor;
    private final ProxyMetrics metrics;

    ShardCalls(SessionCursor cursor, ProxyMetrics metrics) {
        this.cursor = cursor;
        this.metrics = metrics;
    }

    @FunctionalInterface
    interface ShardWork {
        StatementResult run() throws BackendError;
    }

    /** Runs one statement on {@code shard}, counted with its latency in the proxy's metrics. */
    StatementResult timed(String shard, ShardWork work) throws BackendError {
        long start = System.nanoTime();
        boolean ok = false;
        try {
            StatementResult result = work.run();
            ok = true;
            return result;
        } finally {
            metrics.shardCall(shard, System.nanoTime() - start, ok);
        }
    }

    /** The statement's answer came from {@code c}: the session learns the shard and a generated id. */
    StatementResult remember(BackendConnection c, StatementResult result) {
        cursor.answeredBy(c.shard());
        if (result instanceof StatementResult.Update u && u.lastInsertId() != 0) {
            cursor.insertId(u.lastInsertId());
        }
        return result;
    }

    /** A backend failure: a lost pinned connection ends the transaction on every shard, and so does a deadlock. */
    ProxyException failure(BackendConnection c, BackendError e) {
        ProxyException error = e.error();
        if (c.pinned() && error.code() == ErrorCode.SHARD_UNAVAILABLE) {
            return cursor.endTransaction(error, c.shard());
        }
        if (c.pinned() && e.deadlock()) {
            // the shard rolled its part back; the rest of the transaction must not commit without it
            cursor.rolledBackByShard();
        }
        return error;
    }

    /**
     * Something other than the server's error (a driver or proxy bug) broke off work on {@code c}: its connection is
     * discarded, never returned to the pool, and a pinned one ends the transaction as a broken connection does. The
     * proxy's own errors pass unchanged.
     */
    ProxyException unexpected(BackendConnection c, Throwable e) {
        if (e instanceof ProxyException p) {
            return p;
        }
        ProxyException error = discarded(c, e);
        return c.pinned() ? cursor.endTransaction(error, c.shard()) : error;
    }

    /** Discards {@code c} after an unexpected failure, logged; returns the error the client sees. */
    ProxyException discarded(BackendConnection c, Throwable e) {
        LOG.error("{}: unexpected failure of a statement; discarding its connection", c.describe(), e);
        c.discard();
        return BackendErrors.unexpected(e, c.describe());
    }
}

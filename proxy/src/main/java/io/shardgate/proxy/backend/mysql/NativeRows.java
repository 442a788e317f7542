package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.execute.BackendError;
import io.shardgate.proxy.execute.RowSource;
import io.shardgate.proxy.mysql.codec.Wire;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One text statement's result read from a native connection as a {@link RowSource} (issue 15 items 3-4): the column
 * definitions are the shard's own ({@link TextRows#column}), the rows are queued as their payloads by the connection's
 * event loop, in batches (what one read of the socket brought: one hand-over between threads per batch, not per row),
 * and split into values only when pulled. Backpressure: past {@link #PAUSE_BYTES} of queued rows the
 * connection stops reading its socket, and it reads again once the puller has brought the queue under
 * {@link #RESUME_BYTES}, so a slow client (or the slowest shard of a merge) bounds what the proxy holds.
 *
 * <p>The end: after the last row the warnings of the final EOF/OK are known; when there are some, the shard's
 * {@code SHOW WARNINGS} is read on the same connection and handed to {@link Ending#warnings}. Closed before the end, the
 * connection is cut (never reused) and the shard told to stop with {@code KILL QUERY} on a side connection, unless its
 * reply had already arrived whole. A server error is a {@link BackendError} with the server's errno, SQLSTATE and text;
 * a lost connection one with SHARD_UNAVAILABLE naming the shard.
 *
 * <p>Threads: the sink side runs on the connection's event loop; {@link #next}, {@link #close} on the one reader's thread.
 */
final class NativeRows implements RowSource {
    static final int PAUSE_BYTES = 1 << 20;
    static final int RESUME_BYTES = 256 << 10;
    /** Most rows and bytes handed over at once. */
    static final int BATCH_ROWS = 256;
    static final int BATCH_BYTES = 64 << 10;
    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** What the owner of the connection does when the result is over. */
    interface Ending {
        /** The shard listed {@code count} warnings as {@code rows} (Level, Code, Message; null if they could not be read). */
        void warnings(int count, List<byte[][]> rows);

        /**
         * The source is done with the connection: {@code idle} when its reply ended and it can serve another statement;
         * otherwise it has been closed. {@code killQuery}: the shard may still be running the statement.
         */
        void ended(boolean idle, boolean killQuery);
    }

    private record End(int warnings) {}

    private record Batch(List<byte[]> rows, long bytes) {}

    private record Failed(BackendError error) {}

    private final MySqlBackendConnection connection;
    private final String logicalDatabase;
    private final Ending ending;
    private final boolean drainOnClose;
    private final boolean deprecateEof;
    private final CompletableFuture<RowSource.Opened> opened = new CompletableFuture<>();
    private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicBoolean paused = new AtomicBoolean();
    private volatile Thread waiter;
    /** The reply's last packet came (the connection is idle again). */
    private volatile boolean replyEnded;

    // reader side
    private List<byte[]> batch = List.of();
    private int inBatch;
    private List<ColumnInfo> columns;
    private int warnings;
    private boolean finished;

    NativeRows(MySqlBackendConnection connection, String logicalDatabase, Ending ending) {
        this(connection, logicalDatabase, ending, false);
    }

    /**
     * As {@link #NativeRows(MySqlBackendConnection, String, Ending)}; {@code drainOnClose}: closed before the end, the rest
     * of the reply is read and dropped instead of cutting the connection (one that a session's transaction or its state
     * keeps, which a cut would end; a LIMIT pushed to the shard bounds what is left).
     */
    NativeRows(MySqlBackendConnection connection, String logicalDatabase, Ending ending, boolean drainOnClose) {
        this.drainOnClose = drainOnClose;
        this.connection = connection;
        this.logicalDatabase = logicalDatabase;
        this.ending = ending;
        this.deprecateEof = connection.deprecateEof();
    }

    /**
     * Sends {@code sql} as a COM_QUERY and waits for its column definitions (or its whole answer, when it has no rows).
     * On a failure the connection has been given back (closed when its state is unknown).
     */
    RowSource.Opened open(byte[] sql) throws BackendError {
        try {
            connection.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, sql), new Sink());
        } catch (ProxyException e) {
            finished = true;
            ending.ended(false, false);
            throw new BackendError(e, 0, null);
        }
        try {
            RowSource.Opened o = awaitOpened();
            if (o instanceof RowSource.Opened.Done done) {
                finished = true;
                if (done.result() instanceof StatementResult.Update u && u.warnings() > 0) {
                    ending.warnings(u.warnings(), listWarnings());
                }
                ending.ended(true, false);
            }
            return o;
        } catch (BackendError e) {
            finished = true;
            ending.ended(replyEnded, false);
            throw e;
        }
    }

    private RowSource.Opened awaitOpened() throws BackendError {
        try {
            RowSource.Opened o = opened.get();
            if (o instanceof RowSource.Opened.Streaming) {
                columns = List.copyOf(columnsRead);
            }
            return o;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connection.close();
            throw new BackendError(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, connection.settings().describe()
                    + ": interrupted while waiting for the result's columns; the connection is closed", e), 0, null);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BackendError b) {
                throw b;
            }
            connection.close();
            throw new BackendError(new ProxyException(ErrorCode.INTERNAL, connection.settings().describe()
                    + ": reading the result's columns failed: " + e.getCause(), e.getCause()), 0, null);
        }
    }

    @Override
    public List<ColumnInfo> columns() {
        return columns;
    }

    @Override
    public byte[][] next() throws BackendError {
        if (finished) {
            return null;
        }
        if (inBatch == batch.size()) {
            Object item = take();
            if (item instanceof Batch b) {
                batch = b.rows();
                inBatch = 0;
                consumed(b.bytes());
            } else {
                return ended(item);
            }
        }
        byte[] payload = batch.get(inBatch);
        batch.set(inBatch++, null);
        try {
            return TextRows.row(payload, columns.size());
        } catch (RuntimeException e) {
            finished = true;
            connection.close();
            ending.ended(false, true);
            throw new BackendError(new ProxyException(ErrorCode.INTERNAL, connection.settings().describe() + ": " + e.getMessage()
                    + "; the connection is closed", e), 0, null);
        }
    }

    /** The end of the rows, or a failure. */
    private byte[][] ended(Object item) throws BackendError {
        finished = true;
        if (item instanceof End end) {
            warnings = end.warnings();
            if (warnings > 0) {
                ending.warnings(warnings, listWarnings());
            }
            ending.ended(true, false);
            return null;
        }
        Failed failed = (Failed) item;
        ending.ended(replyEnded, false);
        throw failed.error();
    }

    /** The next queued item, waiting for one; an interrupt of the reader's thread cuts the connection. */
    private Object take() {
        Object item = queue.poll();
        boolean interrupted = false;
        while (item == null) {
            waiter = Thread.currentThread();
            item = queue.poll();
            if (item == null) {
                resumeIfPaused(); // nothing queued: whatever paused the reads is gone
                LockSupport.parkNanos(this, PARK_NANOS);
                if (Thread.interrupted()) {
                    interrupted = true;
                    connection.close(); // its failure comes through the queue
                }
                item = queue.poll();
            }
            waiter = null;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return item;
    }

    private void consumed(long bytes) {
        if (queuedBytes.addAndGet(-bytes) < RESUME_BYTES) {
            resumeIfPaused();
        }
    }

    private void resumeIfPaused() {
        if (paused.get() && paused.compareAndSet(true, false)) {
            connection.resumeReading();
        }
    }

    /** SHOW WARNINGS on the connection, now idle; null if they could not be read. */
    private List<byte[][]> listWarnings() {
        WarningsSink sink = new WarningsSink();
        try {
            connection.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY,
                    "SHOW WARNINGS".getBytes(StandardCharsets.US_ASCII)), sink);
            return sink.done.get(NativeBackends.REPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            connection.close();
            return null;
        } catch (ExecutionException | java.util.concurrent.TimeoutException | RuntimeException e) {
            connection.close();
            return null;
        }
    }

    /** The bytes of rows queued and not yet pulled (for tests of the backpressure). */
    long queuedBytes() {
        return queuedBytes.get();
    }

    @Override
    public int warnings() {
        return warnings;
    }

    @Override
    public void close() {
        if (finished) {
            return;
        }
        finished = true;
        if (replyEnded) {
            // the rest came already: dropped, and the connection serves the next statement
            queue.clear();
            batch = List.of();
            ending.ended(true, false);
            return;
        }
        if (drainOnClose) {
            batch = List.of();
            for (Object item = take(); item instanceof Batch b; item = take()) {
                consumed(b.bytes());
            }
            queue.clear();
            ending.ended(replyEnded && connection.isUsable(), false);
            return;
        }
        connection.close(); // reading the rest could take as long as the whole result
        queue.clear();
        batch = List.of();
        ending.ended(false, true);
    }

    // ---- event loop side

    private final List<ColumnInfo> columnsRead = new ArrayList<>();

    /** Receives the reply on the connection's event loop. */
    private final class Sink implements ReplySink {
        private long columnCount;
        private final RowPieces pieces = new RowPieces();
        private boolean failed;
        /** Rows read and not handed over yet; handed over by a task run after this read (or before the end). */
        private List<byte[]> gathered;
        private long gatheredBytes;

        @Override
        public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
            try {
                if (last) {
                    replyEnded = true;
                }
                if (!failed) {
                    read(packet, kind, continuation, last);
                }
            } catch (RuntimeException e) {
                failed = true;
                fail(new ProxyException(ErrorCode.INTERNAL, connection.settings().describe() + ": unreadable reply: " + e, e),
                        0, null);
                connection.close();
            } finally {
                packet.release();
            }
        }

        private void read(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
            ByteBuf payload = packet.slice(packet.readerIndex() + PieceDecoder.HEADER, packet.readableBytes() - PieceDecoder.HEADER);
            switch (kind) {
                case ROW -> row(payload, continuation);
                case COLUMN_COUNT -> columnCount = Wire.readLenEnc(payload.duplicate(), "column count");
                case COLUMN_DEFINITION -> {
                    columnsRead.add(TextRows.column(payload, logicalDatabase));
                    if (columnsRead.size() == columnCount) {
                        opened.complete(new RowSource.Opened.Streaming(NativeRows.this));
                    }
                }
                case METADATA_EOF -> { }
                case ROWS_END -> {
                    if (!last) {
                        failed = true;
                        fail(new ProxyException(ErrorCode.UNSUPPORTED, connection.settings().describe()
                                + ": the statement returned several results, which a merged read does not take"), 0, null);
                        connection.close();
                        return;
                    }
                    handOver();
                    offer(new End(endWarnings(payload)));
                }
                case OK -> {
                    if (!last) {
                        failed = true;
                        fail(new ProxyException(ErrorCode.UNSUPPORTED, connection.settings().describe()
                                + ": the statement returned several results, which a merged read does not take"), 0, null);
                        connection.close();
                        return;
                    }
                    opened.complete(new RowSource.Opened.Done(ok(payload)));
                }
                case ERROR -> {
                    BackendError e = NativeStatements.serverError(payload);
                    fail(e.error(), e.errno(), e.sqlState());
                }
                case PREPARE_OK, PARAMETER_DEFINITION, PREPARE_EOF -> throw new IllegalStateException("a " + kind
                        + " packet in the reply to a query");
            }
        }

        private void row(ByteBuf payload, boolean continuation) {
            byte[] whole = pieces.add(payload, continuation);
            if (whole != null) {
                queueRow(whole);
            }
        }

        private void queueRow(byte[] payload) {
            if (gathered == null) {
                gathered = new ArrayList<>(64);
                connection.later(this::handOver);
            }
            gathered.add(payload);
            gatheredBytes += payload.length;
            if (gathered.size() >= BATCH_ROWS || gatheredBytes >= BATCH_BYTES) {
                handOver(); // a long read of the socket: the reader can start on these
            }
        }

        /** Hands the gathered rows to the reader; pauses the socket's reads when the reader is that far behind. */
        private void handOver() {
            if (gathered == null) {
                return;
            }
            List<byte[]> rows = gathered;
            long bytes = gatheredBytes;
            gathered = null;
            gatheredBytes = 0;
            long queued = queuedBytes.addAndGet(bytes);
            offer(new Batch(rows, bytes));
            if (queued > PAUSE_BYTES && paused.compareAndSet(false, true)) {
                connection.pauseReading();
            }
        }

        @Override
        public void failed(ProxyException error) {
            pieces.release();
            fail(error, 0, null);
        }

        private void fail(ProxyException error, int errno, String sqlState) {
            handOver(); // the rows before the error come first
            BackendError e = new BackendError(error, errno, sqlState);
            if (!opened.completeExceptionally(e)) {
                offer(new Failed(e));
            }
        }
    }

    private void offer(Object item) {
        queue.offer(item);
        Thread t = waiter;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** The warning count of the packet after the rows: an EOF (0xFE, warnings, status), or with DEPRECATE_EOF an OK. */
    private int endWarnings(ByteBuf payload) {
        if (!deprecateEof) {
            return payload.readableBytes() >= 3 ? payload.getUnsignedShortLE(payload.readerIndex() + 1) : 0;
        }
        return NativeStatements.okFields(payload).warnings();
    }

    private StatementResult.Update ok(ByteBuf payload) {
        return NativeStatements.okFields(payload);
    }

}

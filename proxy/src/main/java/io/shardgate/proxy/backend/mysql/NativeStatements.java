package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.execute.BackendError;
import io.shardgate.proxy.mysql.codec.Wire;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Statements the executor runs on a native connection and reads whole, as the JDBC path reads them (see
 * {@code ShardExecutor}): the first result of the reply (a result set's column definitions and text rows, or an OK's
 * affected rows, last insert id and info), with the warning count of the reply's last OK or EOF. A server error is a
 * {@link BackendError} carrying the server's errno, SQLSTATE and text; a lost connection one with SHARD_UNAVAILABLE
 * naming the shard. The caller owns the connection and waits here; the reply timeout of the connection bounds the wait.
 */
public final class NativeStatements {
    private NativeStatements() {}

    /** Runs {@code sql} (a COM_QUERY's bytes) and reads its whole first result. */
    public static StatementResult query(MySqlBackendConnection c, byte[] sql, String logicalDatabase) throws BackendError {
        Whole sink = new Whole(c.deprecateEof(), logicalDatabase);
        send(c, MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, sql), sink);
        return await(c, sink.done, "the reply");
    }

    /**
     * The result columns of {@code sql} from COM_STMT_PREPARE's column definitions; the statement is closed on the server
     * right after (it is not kept among the connection's prepared statements).
     */
    public static List<ColumnInfo> describe(MySqlBackendConnection c, byte[] sql, String logicalDatabase) throws BackendError {
        Described sink = new Described(logicalDatabase);
        send(c, MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_STMT_PREPARE, sql), sink);
        Described.Prepared prepared = await(c, sink.done, "the prepare");
        byte[] id = new byte[4];
        for (int i = 0; i < 4; i++) {
            id[i] = (byte) (prepared.statementId() >>> (8 * i));
        }
        try {
            c.sendWithoutReply(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_STMT_CLOSE, id));
        } catch (ProxyException e) {
            throw new BackendError(e, 0, null);
        }
        return prepared.columns();
    }

    /** What the owner of a streamed read learns as it ends (see {@link #open}). */
    public interface ReadEnd {
        /** The shard listed {@code count} warnings as {@code rows} (Level, Code, Message; null if they could not be read). */
        void warnings(int count, List<byte[][]> rows);

        /**
         * The read is done with the connection: {@code idle} when its reply ended and it can serve another statement;
         * otherwise it has been closed. {@code killQuery}: the shard may still be running the statement.
         */
        void ended(boolean idle, boolean killQuery);
    }

    /**
     * Starts a read of {@code sql} (a COM_QUERY's bytes) with its rows left on the connection (see {@link NativeRows});
     * {@code drainOnClose}: a read closed early reads the rest and drops it, keeping the connection, instead of cutting it.
     */
    public static io.shardgate.proxy.execute.RowSource.Opened open(MySqlBackendConnection c, byte[] sql, String logicalDatabase,
            ReadEnd end, boolean drainOnClose) throws BackendError {
        NativeRows.Ending ending = new NativeRows.Ending() {
            @Override
            public void warnings(int count, List<byte[][]> rows) {
                end.warnings(count, rows);
            }

            @Override
            public void ended(boolean idle, boolean killQuery) {
                end.ended(idle, killQuery);
            }
        };
        return new NativeRows(c, logicalDatabase, ending, drainOnClose).open(sql);
    }

    /** The rows of {@code SHOW WARNINGS} (Level, Code, Message as the server's bytes), or null if they could not be read. */
    public static List<byte[][]> showWarnings(MySqlBackendConnection c) {
        WarningsSink sink = new WarningsSink();
        try {
            c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY,
                    "SHOW WARNINGS".getBytes(StandardCharsets.US_ASCII)), sink);
            return sink.done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            return null;
        } catch (ExecutionException | RuntimeException e) {
            return null;
        }
    }

    private static void send(MySqlBackendConnection c, ByteBuf packet, ReplySink sink) throws BackendError {
        try {
            c.send(packet, sink);
        } catch (ProxyException e) {
            throw new BackendError(e, 0, null);
        }
    }

    private static <T> T await(MySqlBackendConnection c, CompletableFuture<T> done, String what) throws BackendError {
        try {
            return done.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            throw new BackendError(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, c.settings().describe()
                    + ": interrupted while waiting for " + what + "; the connection is closed", e), 0, null);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BackendError b) {
                throw b;
            }
            if (e.getCause() instanceof ProxyException p) {
                throw new BackendError(p, 0, null);
            }
            c.close();
            throw new BackendError(new ProxyException(ErrorCode.INTERNAL, c.settings().describe() + ": reading " + what
                    + " failed: " + e.getCause() + "; the connection is closed", e.getCause()), 0, null);
        }
    }

    /** The server's error as the client sees it: errno, SQLSTATE and text (in its wire form) unchanged. */
    static BackendError serverError(ByteBuf payload) {
        ByteBuf p = payload.duplicate();
        p.skipBytes(1);
        int errno = p.readUnsignedShortLE();
        String state = "HY000";
        if (p.readableBytes() >= 6 && p.getByte(p.readerIndex()) == '#') {
            p.skipBytes(1);
            state = p.readCharSequence(5, StandardCharsets.US_ASCII).toString();
        }
        byte[] text = new byte[p.readableBytes()];
        p.readBytes(text);
        return new BackendError(ProxyException.backend(errno, state, ClientCharset.UTF8MB4.decode(text), null), errno, state);
    }

    private static ByteBuf payload(ByteBuf packet) {
        return packet.slice(packet.readerIndex() + PieceDecoder.HEADER, packet.readableBytes() - PieceDecoder.HEADER);
    }

    /** Reads a COM_QUERY reply whole (on the connection's event loop). */
    private static final class Whole implements ReplySink {
        final CompletableFuture<StatementResult> done = new CompletableFuture<>();
        private final boolean deprecateEof;
        private final String logicalDatabase;
        private final List<ColumnInfo> columns = new ArrayList<>();
        private final List<byte[][]> rows = new ArrayList<>();
        private long columnCount = -1;
        private int results;
        private StatementResult.Update update;
        private int warnings;
        private final RowPieces pieces = new RowPieces();
        private BackendError error;

        Whole(boolean deprecateEof, String logicalDatabase) {
            this.deprecateEof = deprecateEof;
            this.logicalDatabase = logicalDatabase;
        }

        @Override
        public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
            try {
                if (error == null) {
                    read(payload(packet), kind, continuation);
                }
            } catch (RuntimeException e) {
                error = new BackendError(new ProxyException(ErrorCode.INTERNAL, "unreadable reply: " + e, e), 0, null);
            } finally {
                packet.release();
            }
            if (last) {
                finish();
            }
        }

        /** Only the first result is kept (as Connector/J's {@code execute} gives it); the warnings are the last packet's. */
        private void read(ByteBuf payload, PacketKind kind, boolean continuation) {
            boolean first = results <= 1;
            switch (kind) {
                case COLUMN_COUNT -> {
                    results++;
                    if (results == 1) {
                        columnCount = Wire.readLenEnc(payload.duplicate(), "column count");
                    }
                }
                case COLUMN_DEFINITION -> {
                    if (first) {
                        columns.add(TextRows.column(payload, logicalDatabase));
                    }
                }
                case ROW -> {
                    if (first) {
                        row(payload, continuation);
                    }
                }
                case ROWS_END -> warnings = deprecateEof ? okFields(payload).warnings()
                        : payload.readableBytes() >= 3 ? payload.getUnsignedShortLE(payload.readerIndex() + 1) : 0;
                case OK -> {
                    StatementResult.Update ok = okFields(payload);
                    warnings = ok.warnings();
                    results++;
                    if (results == 1) {
                        update = ok;
                    }
                }
                case ERROR -> {
                    if (!continuation) {
                        error = serverError(payload);
                    }
                }
                case METADATA_EOF -> { }
                case PREPARE_OK, PARAMETER_DEFINITION, PREPARE_EOF -> throw new IllegalStateException("a " + kind
                        + " packet in the reply to a query");
            }
        }

        private void row(ByteBuf payload, boolean continuation) {
            byte[] whole = pieces.add(payload, continuation);
            if (whole != null) {
                rows.add(TextRows.row(whole, (int) columnCount));
            }
        }

        private void finish() {
            pieces.release();
            if (error != null) {
                done.completeExceptionally(error);
            } else if (update != null) {
                done.complete(new StatementResult.Update(update.affectedRows(), update.lastInsertId(), warnings, update.info(), update.queryStatus()));
            } else {
                done.complete(new StatementResult.Rows(columns, rows, warnings));
            }
        }

        @Override
        public void failed(ProxyException e) {
            pieces.release();
            done.completeExceptionally(new BackendError(e, 0, null));
        }
    }

    /** An OK packet's fields (header 0x00, or 0xFE when it ends rows with {@code DEPRECATE_EOF}). */
    static StatementResult.Update okFields(ByteBuf payload) {
        ByteBuf p = payload.duplicate();
        p.skipBytes(1);
        long affected = Wire.readLenEnc(p, "affected rows");
        long insertId = Wire.readLenEnc(p, "last insert id");
        Wire.need(p, 4, "status flags and warnings");
        int status = p.readUnsignedShortLE();
        int warnings = p.readUnsignedShortLE();
        // the server writes the info as a length-encoded string (as Connector/J reads it), session tracking or not
        String info = p.isReadable() ? new String(Wire.readLenEncBytes(p, "info"), StandardCharsets.UTF_8) : "";
        return new StatementResult.Update(affected, insertId, warnings, info, status);
    }

    /** Reads a COM_STMT_PREPARE reply: the statement id and the result's column definitions. */
    private static final class Described implements ReplySink {
        record Prepared(int statementId, List<ColumnInfo> columns) {}

        final CompletableFuture<Prepared> done = new CompletableFuture<>();
        private final String logicalDatabase;
        private final List<ColumnInfo> columns = new ArrayList<>();
        private int id = -1;
        private BackendError error;

        Described(String logicalDatabase) {
            this.logicalDatabase = logicalDatabase;
        }

        @Override
        public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
            try {
                ByteBuf payload = payload(packet);
                if (!continuation) {
                    switch (kind) {
                        case PREPARE_OK -> id = payload.getIntLE(payload.readerIndex() + 1);
                        case COLUMN_DEFINITION -> columns.add(TextRows.column(payload, logicalDatabase));
                        case ERROR -> error = serverError(payload);
                        case OK, COLUMN_COUNT, METADATA_EOF, ROW, ROWS_END, PARAMETER_DEFINITION, PREPARE_EOF -> { }
                    }
                }
            } catch (RuntimeException e) {
                error = new BackendError(new ProxyException(ErrorCode.INTERNAL, "unreadable prepare reply: " + e, e), 0, null);
            } finally {
                packet.release();
            }
            if (last) {
                if (error != null) {
                    done.completeExceptionally(error);
                } else {
                    done.complete(new Prepared(id, List.copyOf(columns)));
                }
            }
        }

        @Override
        public void failed(ProxyException e) {
            done.completeExceptionally(new BackendError(e, 0, null));
        }
    }
}

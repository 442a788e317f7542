package io.shardgate.proxy.backend.pg;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.shardgate.proxy.error.ProxyException;
import java.util.concurrent.CompletableFuture;

/**
 * Forwards a shard's reply messages to the client as they come, ReadyForQuery included (the relay runs only for an
 * idle session, whose status the shard's 'I' is). The one change: a RowDescription from a shard other than the catalog
 * shard has its table OIDs and attribute numbers zeroed, as the JDBC path does ({@link PgRelayTarget#keepTableOids()}).
 * For an extended-protocol request ({@link PgExtendedRequest}) CloseComplete and the ReadyForQuery stay here (the
 * Close is the proxy's own, the front end answers the client's Sync), and so do ParseComplete and BindComplete unless
 * they answer the client's own Parse and Bind ({@link Answers}).
 * A client that reads slower than the shard answers pauses the shard's reads until what was written is flushed: memory
 * stays bounded whatever the result size.
 */
public final class PgRelaySink implements PgReplySink {
    /**
     * Which of an extended-protocol reply's ParseComplete and BindComplete go to the client: those that answer the
     * client's own Parse ({@code passParse}) and Bind ({@code passBind}), so that an error there reaches the client where
     * a server would send it, in place of the answer; {@code addParse}: the client's Parse is answered first by a
     * ParseComplete of the proxy's (the connection had the statement prepared already, so the request has no Parse).
     */
    record Answers(boolean passParse, boolean passBind, boolean addParse) {
        /** The front end answered the client's Parse and Bind itself. */
        static final Answers NONE = new Answers(false, false, false);
    }

    private static final byte[] PARSE_COMPLETE = {'1', 0, 0, 0, 4};
    private static final int FLUSH_BYTES = 64 * 1024;
    private static final int MAX_COMPONENTS = 256;

    /**
     * The reply reached the client whole: how many DataRows, the shard's first ErrorResponse or null, the
     * ReadyForQuery's status, whether a ParseComplete came (the request's Parse succeeded), and whether the error came in
     * place of the answer to the client's own Parse ({@link Answers#passParse}).
     */
    public record Outcome(long rows, PgServerError error, char status, boolean parsed, boolean clientParseFailed) {}

    /** The relay broke off; {@code started}: some messages had reached the client already. */
    static final class Broken extends RuntimeException {
        final ProxyException error;
        final boolean started;

        Broken(ProxyException error, boolean started) {
            super(error.getMessage(), error);
            this.error = error;
            this.started = started;
        }
    }

    final CompletableFuture<Outcome> done = new CompletableFuture<>();
    private final Channel client;
    private final PgBackendConnection backend;
    private final boolean keepTableOids;
    private final boolean extended;
    private final Answers answers;
    private final java.util.function.Supplier<io.shardgate.proxy.error.SqlError> overridingError;
    private long rows;
    private long messages;
    private PgServerError error;
    private boolean parsed;
    private CompositeByteBuf pending;
    private volatile boolean paused;

    PgRelaySink(PgRelayTarget target, PgBackendConnection backend, boolean extended, Answers answers) {
        this.overridingError = target.tracker()::overridingError;
        this.extended = extended;
        this.answers = answers;
        this.client = target.client();
        this.keepTableOids = target.keepTableOids();
        this.backend = backend;
    }

    @Override
    public void message(PgFrame frame, boolean last) {
        if (answers.addParse() && messages == 0) {
            // the client's Parse, which the request did not need to send, is answered before the rest
            messages++;
            pending = client.alloc().compositeBuffer(MAX_COMPONENTS);
            pending.addComponent(true, Unpooled.wrappedBuffer(PARSE_COMPLETE));
        }
        switch (frame.type()) {
            case 'D' -> rows++;
            case '1' -> parsed = true;
            case 'T' -> {
                if (!keepTableOids) {
                    clearTableOids(frame.bytes());
                }
            }
            case 'E' -> {
                io.shardgate.proxy.error.SqlError own = overridingError.get();
                if (own != null) {
                    // the proxy's deadline cancelled the statement: the client gets the proxy's timeout error, not the
                    // shard's "due to user request"
                    frame.release();
                    frame = new PgFrame('E', errorResponse(own));
                }
                if (error == null) {
                    error = PgServerError.parse(frame.body());
                }
            }
            default -> { }
        }
        char status = last && frame.bodyLength() >= 1 ? (char) frame.body().getUnsignedByte(0) : '?';
        if (extended && (last || frame.type() == '3' || (frame.type() == '1' && !answers.passParse())
                || (frame.type() == '2' && !answers.passBind()))) {
            frame.release();
        } else {
            messages++;
            if (pending == null) {
                pending = client.alloc().compositeBuffer(MAX_COMPONENTS);
            }
            pending.addComponent(true, frame.bytes());
        }
        if (last) {
            if (pending != null && extended) {
                // the client's Sync (or Flush) comes next and flushes it with the ReadyForQuery: one segment, as a
                // server sends it, not two wake-ups of the client per execution
                client.write(take(), client.voidPromise());
            } else if (pending != null) {
                client.writeAndFlush(take(), client.voidPromise());
            }
            done.complete(new Outcome(rows, error, status, parsed, answers.passParse() && error != null && !parsed));
            return;
        }
        if (pending != null && (pending.readableBytes() >= FLUSH_BYTES || pending.numComponents() >= MAX_COMPONENTS)) {
            client.writeAndFlush(take(), client.voidPromise());
            if (!client.isWritable() && !paused) {
                paused = true;
                backend.pauseReading();
                // completes once everything written so far has reached the socket
                client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                    paused = false;
                    if (!done.isDone()) {
                        backend.resumeReading();
                    }
                });
            }
        }
    }

    /**
     * Zeroes the table OID and attribute number of every field of a RowDescription (whole message: type, length, field
     * count, then per field a name, table OID, attribute number, type OID, type size, type modifier and format code).
     */
    static void clearTableOids(ByteBuf message) {
        int at = message.readerIndex() + PgFrame.HEADER;
        int end = message.writerIndex();
        int fields = message.getUnsignedShort(at);
        at += 2;
        for (int i = 0; i < fields; i++) {
            int nul = message.indexOf(at, end, (byte) 0);
            if (nul < 0 || nul + 1 + 18 > end) {
                throw new IllegalArgumentException("RowDescription field " + i + " of " + fields + " is cut short");
            }
            at = nul + 1;
            message.setInt(at, 0);
            message.setShort(at + 4, 0);
            at += 18;
        }
    }

    /** An ErrorResponse of the proxy's own error: severity, SQLSTATE and message, as the front end's encoder writes them. */
    static ByteBuf errorResponse(io.shardgate.proxy.error.SqlError error) {
        String state = error.code() != null ? error.code().pgSqlState() : error.sqlState();
        ByteBuf out = Unpooled.buffer(64 + error.message().length() * 3);
        out.writeByte('E').writeInt(0);
        for (String[] f : new String[][] {{"S", "ERROR"}, {"V", "ERROR"}, {"C", state}, {"M", error.message()}}) {
            out.writeByte(f[0].charAt(0)).writeBytes(f[1].getBytes(java.nio.charset.StandardCharsets.UTF_8)).writeByte(0);
        }
        out.writeByte(0);
        out.setInt(1, out.writerIndex() - 1);
        return out;
    }

    private ByteBuf take() {
        ByteBuf out = pending;
        pending = null;
        return out;
    }

    @Override
    public void failed(ProxyException e) {
        if (pending != null) {
            client.writeAndFlush(take(), client.voidPromise());
        }
        done.completeExceptionally(new Broken(e, messages > 0));
    }
}

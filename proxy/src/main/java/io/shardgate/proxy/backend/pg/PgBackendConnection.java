package io.shardgate.proxy.backend.pg;

import io.shardgate.proxy.backend.BackendEventLoops;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One native connection to a PostgreSQL shard: the frontend side of protocol 3.0 on Netty. {@link #connect} opens it:
 * a StartupMessage (user, database, {@code client_encoding UTF8}, {@code DateStyle ISO}, {@code TimeZone} and
 * {@code extra_float_digits 3} as the proxy's pgJDBC connections end up with, {@code application_name}), then the
 * authentication the server asks for (trust, cleartext password, md5 or SCRAM-SHA-256 without channel binding), the
 * ParameterStatus messages (kept, see {@link #parameters()}), BackendKeyData (kept for {@link #cancelRequest()}) and
 * the first ReadyForQuery. Then it runs one request at a time: {@link #send} writes the given messages (the client's
 * own bytes when relaying) and hands each reply message, unmodified, to a {@link PgReplySink} as it arrives, the reply
 * ending at ReadyForQuery, whose transaction status is kept ({@link #transactionStatus()}).
 *
 * <p>ParameterStatus during a request is kept here and never reaches the sink (a client must not see the shard's
 * parameters change); it marks the connection's session as changed ({@link #sessionTag()} becomes unknown), so the pool
 * resets it before another session uses it. A server that starts a COPY or asks for anything a relay cannot answer
 * fails the request and closes the connection.
 *
 * <p>Failures: a refused connection, a failed login, a connection lost or a server that sends nothing for the reply
 * timeout (a hung server) fail the pending login or request with {@code SHARD_UNAVAILABLE} naming the shard and the
 * time elapsed, and close the connection. A closed connection is never reused: {@link #isUsable()} is false.
 *
 * <p>Threads: {@link #send} may be called from any thread, one request at a time; the sink is called on the
 * connection's event loop.
 */
public final class PgBackendConnection {
    static final int PROTOCOL_3_0 = 196608;
    static final int CANCEL_REQUEST_CODE = 80877102;

    private enum Phase { LOGIN, READY, BUSY, CLOSED }

    /** What the session of a connection is after a ParameterStatus arrived during a request: not known. */
    public static final String UNKNOWN_SESSION = "/* changed by a statement */";

    private final PgBackendSettings settings;
    private final BackendEventLoops loops;
    private final CompletableFuture<PgBackendConnection> login = new CompletableFuture<>();
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.LOGIN);
    private final long createdNanos = System.nanoTime();
    private final Map<String, String> parameters = new ConcurrentHashMap<>();
    private Channel channel;

    // login state (event loop)
    private ScramClient scram;
    private volatile int processId;
    private volatile int secretKey;

    // request state (event loop)
    private PgReplySink sink;
    private String request = "login";
    private long requestStart = createdNanos;
    private volatile long lastProgress = createdNanos;
    private long messages;
    private long messagesAtCheck;
    private boolean paused;
    private ScheduledFuture<?> watchdog;
    private volatile char transactionStatus = 'I';
    private volatile ProxyException closedBy;
    private volatile long lastUsedNanos = createdNanos;
    private volatile String sessionTag = "";
    private final PgPreparedStatements prepared = new PgPreparedStatements();

    private PgBackendConnection(BackendEventLoops loops, PgBackendSettings settings) {
        this.loops = loops;
        this.settings = settings;
    }

    /** Opens a connection; the future completes once logged in and ready, or fails with {@code SHARD_UNAVAILABLE}. */
    public static CompletableFuture<PgBackendConnection> connect(BackendEventLoops loops, PgBackendSettings settings) {
        return connect(loops, settings, null);
    }

    /**
     * Opens a connection on {@code loop} (null, or a loop of another transport: one of {@code loops}'), so that a relay
     * for a client served by that loop reads the shard's reply and writes it to the client on one thread, without
     * handing each reply to another event loop.
     */
    public static CompletableFuture<PgBackendConnection> connect(BackendEventLoops loops, PgBackendSettings settings,
            io.netty.channel.EventLoop loop) {
        Objects.requireNonNull(settings, "settings");
        PgBackendConnection c = new PgBackendConnection(loops, settings);
        ChannelFuture connecting = bootstrap(loop != null && loops.compatible(loop) ? loop : loops.group(), loops, settings)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        c.channel = ch;
                        ch.pipeline().addLast(c.new Progress(), new PgFrameDecoder(), c.new Handler());
                    }
                })
                .connect(settings.host(), settings.port());
        connecting.addListener(f -> {
            if (f.isSuccess()) {
                c.lastProgress = System.nanoTime();
                c.armWatchdog(settings.replyTimeout().toNanos());
                c.channel.writeAndFlush(c.startupMessage(c.channel.alloc()), c.channel.voidPromise());
            } else {
                c.fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": cannot connect ("
                        + millis(System.nanoTime() - c.createdNanos) + " ms): " + f.cause(), f.cause()));
            }
        });
        return c.login;
    }

    private static Bootstrap bootstrap(BackendEventLoops loops, PgBackendSettings settings) {
        return bootstrap(loops.group(), loops, settings);
    }

    private static Bootstrap bootstrap(io.netty.channel.EventLoopGroup group, BackendEventLoops loops, PgBackendSettings settings) {
        return new Bootstrap()
                .group(group)
                .channel(loops.channelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, settings.connectTimeout().toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true);
    }

    // ---- requests

    /**
     * Sends {@code request} (one or more whole frontend messages ending with a Sync, or one Query message), written as
     * is, and hands its reply to {@code sink}; this takes ownership of the buffer. {@code name} names the request in
     * messages ("Query", "Parse/Bind/Execute/Sync").
     *
     * @throws ProxyException        SHARD_UNAVAILABLE if the connection is closed
     * @throws IllegalStateException if another request is still running
     */
    public void send(ByteBuf request, String name, PgReplySink sink) {
        Objects.requireNonNull(sink, "sink");
        if (!phase.compareAndSet(Phase.READY, Phase.BUSY)) {
            request.release();
            throw notReady(name);
        }
        onLoop(() -> begin(request, sink, name));
    }

    /** Runs a simple Query of {@code sql} and sums its reply up (the proxy's own statements; relayed ones go through {@link #send}). */
    public CompletableFuture<PgReply> query(String sql) {
        CompletableFuture<PgReply> result = new CompletableFuture<>();
        try {
            send(queryMessage(sql.getBytes(StandardCharsets.UTF_8)), "Query", PgReply.collector(result));
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    /** A Query message ('Q') of {@code sql} (UTF-8 bytes, without the terminating zero). */
    public static ByteBuf queryMessage(byte[] sql) {
        ByteBuf out = Unpooled.buffer(6 + sql.length);
        out.writeByte('Q').writeInt(4 + sql.length + 1).writeBytes(sql).writeByte(0);
        return out;
    }

    /** Stops reading the server's reply (the sink cannot keep up); a few messages already read may still come. */
    public void pauseReading() {
        onLoop(() -> {
            paused = true;
            channel.config().setAutoRead(false);
        });
    }

    public void resumeReading() {
        onLoop(() -> {
            paused = false;
            lastProgress = System.nanoTime();
            channel.config().setAutoRead(true);
        });
    }

    /**
     * Asks the server to cancel what this connection runs now: a CancelRequest with the BackendKeyData on a connection
     * of its own, as any client does. The running request then fails with the server's 57014 (or ends normally if it
     * finished first). Completes once the request was written.
     */
    public CompletableFuture<Void> cancelRequest() {
        CompletableFuture<Void> sent = new CompletableFuture<>();
        int pid = processId;
        int key = secretKey;
        bootstrap(loops, settings).handler(new ChannelInboundHandlerAdapter()).connect(settings.host(), settings.port())
                .addListener((ChannelFuture f) -> {
                    if (!f.isSuccess()) {
                        sent.completeExceptionally(f.cause());
                        return;
                    }
                    ByteBuf out = f.channel().alloc().buffer(16).writeInt(16).writeInt(CANCEL_REQUEST_CODE).writeInt(pid).writeInt(key);
                    f.channel().writeAndFlush(out).addListener((ChannelFuture w) -> {
                        // the server closes the connection once it has read the request
                        w.channel().closeFuture().addListener(x -> sent.complete(null));
                        w.channel().eventLoop().schedule(() -> w.channel().close(), 5, TimeUnit.SECONDS);
                    });
                });
        return sent;
    }

    /** Ends the session politely (Terminate) if idle, and closes the connection. */
    public void quit() {
        if (phase.compareAndSet(Phase.READY, Phase.CLOSED)) {
            closedBy = new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": connection closed by the proxy");
            onLoop(() -> channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'X', 0, 0, 0, 4}))
                    .addListener(ChannelFutureListener.CLOSE));
        } else {
            close();
        }
    }

    /** Closes the connection at once; a running request fails. */
    public void close() {
        fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": connection closed by the proxy"));
    }

    // ---- state

    /** Idle, logged in and open: a request can be sent. */
    public boolean isUsable() {
        return phase.get() == Phase.READY && channel != null && channel.isActive();
    }

    /** The last ReadyForQuery's transaction status: 'I' idle, 'T' in a transaction block, 'E' in a failed one. */
    public char transactionStatus() {
        return transactionStatus;
    }

    /** The server's parameters as its ParameterStatus messages last gave them (server_version, TimeZone, …). */
    public Map<String, String> parameters() {
        return Map.copyOf(parameters);
    }

    /** The event loop the connection's reads and writes run on (null before it connected). */
    public io.netty.channel.EventLoop eventLoop() {
        Channel ch = channel;
        return ch == null ? null : ch.eventLoop();
    }

    /** The backend's process id (BackendKeyData). */
    public int processId() {
        return processId;
    }

    public PgBackendSettings settings() {
        return settings;
    }

    public long createdNanos() {
        return createdNanos;
    }

    /** When the last request ended (or the login, if none ran). */
    public long lastUsedNanos() {
        return lastUsedNanos;
    }

    /**
     * What session state its user gave the connection beyond the pool's own (a client session's settings' fingerprint);
     * empty when none, {@link #UNKNOWN_SESSION} when a statement changed a parameter. Kept for the next borrower to
     * compare; the pool clears it when it resets.
     */
    public String sessionTag() {
        return sessionTag;
    }

    public void sessionTag(String tag) {
        sessionTag = Objects.requireNonNull(tag, "tag");
    }

    /** The proxy's named statements on this connection (used by its borrower, one at a time). */
    public PgPreparedStatements preparedStatements() {
        return prepared;
    }

    @Override
    public String toString() {
        return settings.describe() + " pid " + processId;
    }

    // ---- internals (event loop)

    private void begin(ByteBuf request, PgReplySink sink, String name) {
        if (phase.get() != Phase.BUSY || !channel.isActive()) {
            request.release();
            ProxyException e = closedError(name);
            phase.compareAndSet(Phase.BUSY, Phase.CLOSED);
            sink.failed(e);
            return;
        }
        this.sink = sink;
        this.request = name;
        this.requestStart = System.nanoTime();
        this.lastProgress = requestStart;
        this.messages = 0;
        this.messagesAtCheck = 0;
        if (paused) {
            paused = false;
            channel.config().setAutoRead(true);
        }
        channel.writeAndFlush(request, channel.voidPromise());
        if (watchdog == null) {
            // one left armed by an earlier request checks this one when it fires (it measures from lastProgress): no
            // timer to schedule and cancel per request on the event loop
            armWatchdog(settings.replyTimeout().toNanos());
        }
    }

    private void onFrame(PgFrame frame) {
        messages++;
        switch (phase.get()) {
            case LOGIN -> {
                try {
                    loginMessage(frame);
                } finally {
                    frame.release();
                }
            }
            case BUSY -> replyMessage(frame);
            case READY -> {
                try {
                    idleMessage(frame);
                } finally {
                    frame.release();
                }
            }
            case CLOSED -> frame.release();
        }
    }

    /** Between requests a server sends only asynchronous messages; an error there is the server ending the session. */
    private void idleMessage(PgFrame frame) {
        switch (frame.type()) {
            case 'S' -> parameterStatus(frame, false);
            case 'N', 'A' -> { }
            case 'E' -> fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": the server ended the idle"
                    + " connection: " + PgServerError.parse(frame.body())));
            default -> fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": unexpected message '"
                    + PgFrameDecoder.printable(frame.type()) + "' on an idle connection"));
        }
    }

    private void replyMessage(PgFrame frame) {
        switch (frame.type()) {
            case 'S' -> {
                parameterStatus(frame, true);
                frame.release();
                return;
            }
            case 'A' -> {
                frame.release(); // a notification of a LISTEN some statement made: the connection is no client's
                return;
            }
            case 'G', 'H', 'W', 'd', 'c' -> {
                frame.release();
                fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": " + request
                        + " started a COPY, which native connections do not relay; the connection is closed"));
                return;
            }
            default -> { }
        }
        boolean last = frame.type() == 'Z';
        PgReplySink receiver = sink;
        if (last) {
            transactionStatus = frame.bodyLength() >= 1 ? (char) frame.body().getUnsignedByte(0) : '?';
            endRequest();
        }
        try {
            receiver.message(frame, last);
        } catch (RuntimeException e) {
            fail(new ProxyException(ErrorCode.INTERNAL, settings.describe() + ": the receiver of the reply to " + request
                    + " failed: " + e, e));
        }
    }

    private void parameterStatus(PgFrame frame, boolean duringRequest) {
        ByteBuf b = frame.body();
        int nameEnd = b.bytesBefore((byte) 0);
        if (nameEnd < 0) {
            return;
        }
        String name = b.toString(b.readerIndex(), nameEnd, StandardCharsets.UTF_8);
        int valueStart = b.readerIndex() + nameEnd + 1;
        int valueEnd = b.indexOf(valueStart, b.writerIndex(), (byte) 0);
        String value = b.toString(valueStart, Math.max(0, (valueEnd < 0 ? b.writerIndex() : valueEnd) - valueStart),
                StandardCharsets.UTF_8);
        String before = parameters.put(name, value);
        if (duringRequest && !value.equals(before)) {
            sessionTag = UNKNOWN_SESSION;
        }
    }

    private void endRequest() {
        sink = null; // the watchdog stays armed: it finds the connection idle and stops, or checks the next request
        lastUsedNanos = System.nanoTime();
        phase.compareAndSet(Phase.BUSY, Phase.READY);
    }

    private void armWatchdog(long delayNanos) {
        cancelWatchdog();
        watchdog = channel.eventLoop().schedule(this::checkProgress, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void cancelWatchdog() {
        if (watchdog != null) {
            watchdog.cancel(false);
            watchdog = null;
        }
    }

    private void checkProgress() {
        watchdog = null;
        Phase now = phase.get();
        if (now != Phase.BUSY && now != Phase.LOGIN) {
            return;
        }
        long timeout = settings.replyTimeout().toNanos();
        if (messages != messagesAtCheck) {
            messagesAtCheck = messages;
            lastProgress = System.nanoTime();
        }
        if (paused) {
            armWatchdog(timeout);
            return;
        }
        long idle = System.nanoTime() - lastProgress;
        if (idle < timeout) {
            armWatchdog(timeout - idle);
            return;
        }
        fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": no answer to " + request + " for "
                + millis(idle) + " ms (reply timeout " + settings.replyTimeout().toMillis() + " ms), "
                + millis(System.nanoTime() - requestStart) + " ms after it was sent, " + messages
                + " reply messages read; the connection is closed"));
    }

    private void fail(ProxyException error) {
        Phase before = phase.getAndSet(Phase.CLOSED);
        if (before == Phase.CLOSED) {
            return;
        }
        closedBy = error;
        if (before == Phase.LOGIN) {
            login.completeExceptionally(error);
        }
        if (channel != null) {
            channel.close();
            onLoop(() -> {
                cancelWatchdog();
                PgReplySink receiver = sink;
                sink = null;
                if (before == Phase.BUSY && receiver != null) {
                    receiver.failed(error);
                }
            });
        }
    }

    private void lost(String why, Throwable cause) {
        String during = switch (phase.get()) {
            case LOGIN -> "while logging in, " + millis(System.nanoTime() - createdNanos) + " ms after connecting";
            case BUSY -> "waiting for the reply to " + request + ", " + millis(System.nanoTime() - requestStart)
                    + " ms after it was sent, " + messages + " reply messages read";
            case READY, CLOSED -> "while idle";
        };
        fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": " + why + " " + during, cause));
    }

    private void onLoop(Runnable task) {
        if (channel.eventLoop().inEventLoop()) {
            task.run();
        } else {
            channel.eventLoop().execute(task);
        }
    }

    // ---- login

    private ByteBuf startupMessage(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer(256);
        out.writeInt(0).writeInt(PROTOCOL_3_0);
        cString(out, "user");
        cString(out, settings.user());
        cString(out, "database");
        cString(out, settings.database());
        cString(out, "client_encoding");
        cString(out, "UTF8");
        cString(out, "DateStyle");
        cString(out, "ISO");
        cString(out, "TimeZone");
        cString(out, settings.timeZone());
        cString(out, "extra_float_digits");
        cString(out, "3");
        if (!settings.applicationName().isEmpty()) {
            cString(out, "application_name");
            cString(out, settings.applicationName());
        }
        out.writeByte(0);
        out.setInt(0, out.readableBytes());
        return out;
    }

    private void loginMessage(PgFrame frame) {
        switch (frame.type()) {
            case 'R' -> authentication(frame.body());
            case 'S' -> parameterStatus(frame, false);
            case 'K' -> {
                ByteBuf b = frame.body();
                if (b.readableBytes() >= 8) {
                    processId = b.getInt(b.readerIndex());
                    secretKey = b.getInt(b.readerIndex() + 4);
                }
            }
            case 'N' -> { }
            case 'Z' -> {
                transactionStatus = frame.bodyLength() >= 1 ? (char) frame.body().getUnsignedByte(0) : 'I';
                cancelWatchdog();
                request = "none";
                lastUsedNanos = System.nanoTime();
                if (phase.compareAndSet(Phase.LOGIN, Phase.READY)) {
                    login.complete(this);
                }
            }
            case 'E' -> fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": login as '"
                    + settings.user() + "' to database '" + settings.database() + "' failed ("
                    + millis(System.nanoTime() - createdNanos) + " ms): " + PgServerError.parse(frame.body())));
            default -> fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": unexpected message '"
                    + PgFrameDecoder.printable(frame.type()) + "' while logging in"));
        }
    }

    private void authentication(ByteBuf b) {
        if (b.readableBytes() < 4) {
            fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": authentication request without its code"));
            return;
        }
        int code = b.getInt(b.readerIndex());
        ByteBuf data = b.slice(b.readerIndex() + 4, b.readableBytes() - 4);
        switch (code) {
            case 0 -> { } // AuthenticationOk: ParameterStatus, BackendKeyData and ReadyForQuery follow
            case 3 -> password(settings.password());
            case 5 -> {
                byte[] salt = new byte[4];
                data.getBytes(data.readerIndex(), salt);
                password(ScramClient.md5Password(settings.user(), settings.password(), salt));
            }
            case 10 -> {
                String mechanisms = data.toString(StandardCharsets.UTF_8);
                if (!java.util.Arrays.asList(mechanisms.split("\0")).contains(ScramClient.MECHANISM)) {
                    fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": the server offers SASL "
                            + mechanisms.replace('\0', ' ').trim() + ", not " + ScramClient.MECHANISM));
                    return;
                }
                scram = new ScramClient(settings.password());
                byte[] first = scram.clientFirst();
                byte[] mechanism = ScramClient.MECHANISM.getBytes(StandardCharsets.US_ASCII);
                ByteBuf out = channel.alloc().buffer(16 + mechanism.length + first.length);
                out.writeByte('p').writeInt(4 + mechanism.length + 1 + 4 + first.length)
                        .writeBytes(mechanism).writeByte(0).writeInt(first.length).writeBytes(first);
                channel.writeAndFlush(out, channel.voidPromise());
            }
            case 11 -> {
                byte[] serverFirst = new byte[data.readableBytes()];
                data.getBytes(data.readerIndex(), serverFirst);
                byte[] last;
                try {
                    last = scram.clientFinal(serverFirst);
                } catch (RuntimeException e) {
                    fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": SCRAM-SHA-256 failed: " + e.getMessage(), e));
                    return;
                }
                ByteBuf out = channel.alloc().buffer(5 + last.length);
                out.writeByte('p').writeInt(4 + last.length).writeBytes(last);
                channel.writeAndFlush(out, channel.voidPromise());
            }
            case 12 -> {
                byte[] serverFinal = new byte[data.readableBytes()];
                data.getBytes(data.readerIndex(), serverFinal);
                if (scram == null || !scram.serverFinalValid(serverFinal)) {
                    fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": the server's SCRAM-SHA-256"
                            + " signature is wrong: it does not know the password (a server in the middle?)"));
                }
            }
            default -> fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": user '" + settings.user()
                    + "' authenticates with method " + code + " (Kerberos, GSSAPI or SSPI), which the proxy's native connections"
                    + " do not support; use scram-sha-256, md5, password or trust in the shard's pg_hba.conf"));
        }
    }

    private void password(String password) {
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        ByteBuf out = channel.alloc().buffer(6 + p.length);
        out.writeByte('p').writeInt(4 + p.length + 1).writeBytes(p).writeByte(0);
        channel.writeAndFlush(out, channel.voidPromise());
    }

    private static void cString(ByteBuf out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8)).writeByte(0);
    }

    // ---- helpers

    private RuntimeException notReady(String name) {
        return switch (phase.get()) {
            case CLOSED -> closedError(name);
            case LOGIN -> new IllegalStateException(this + ": " + name + " before the login finished");
            case BUSY -> new IllegalStateException(this + ": " + name + " while " + request + " is still running");
            case READY -> new IllegalStateException(this + ": " + name + " raced with another request");
        };
    }

    private ProxyException closedError(String name) {
        ProxyException cause = closedBy;
        return new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": cannot send " + name
                + ": the connection is closed" + (cause == null ? "" : " (" + cause.getMessage() + ")"), cause);
    }

    static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** Notes that bytes arrived, before they are cut into messages: a large DataRow arriving slowly is progress. */
    private final class Progress extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            lastProgress = System.nanoTime();
            ctx.fireChannelRead(msg);
        }
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof PgFrame frame) {
                onFrame(frame);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            lost("connection lost", null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
            lost("connection failed (" + root.getMessage() + ")", root);
        }
    }
}

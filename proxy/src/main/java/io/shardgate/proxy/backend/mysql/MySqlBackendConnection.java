package io.shardgate.proxy.backend.mysql;

import io.shardgate.proxy.backend.BackendEventLoops;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.mysql.MySqlAuth;
import io.shardgate.proxy.mysql.codec.Capabilities;
import io.shardgate.proxy.mysql.codec.MySqlProtocolException;
import io.shardgate.proxy.mysql.codec.Wire;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One native connection to a MySQL/MariaDB shard: the client side of the protocol on Netty. {@link #connect} opens it
 * (greeting, handshake response, {@code mysql_native_password} including the auth-switch request, the database
 * selected in the handshake); then it runs one command at a time: {@link #send} writes a command packet as given
 * (the client's own bytes when relaying) and hands each reply packet, unmodified, to a {@link ReplySink} as it arrives,
 * saying what it is and where the reply ends.
 *
 * <p>Capabilities asked for: {@code PROTOCOL_41}, {@code SECURE_CONNECTION}, {@code PLUGIN_AUTH}, {@code LONG_PASSWORD}
 * (which tells MariaDB this is a MySQL-protocol client, so no MariaDB extended capabilities are in play),
 * {@code LONG_FLAG}, {@code TRANSACTIONS}, {@code MULTI_RESULTS} and {@code PS_MULTI_RESULTS} (a procedure's several
 * results), {@code CONNECT_WITH_DB} when there is a database, and as chosen in {@link BackendSettings}
 * {@code DEPRECATE_EOF}, {@code FOUND_ROWS} and {@code MULTI_STATEMENTS}. Never {@code LOCAL_FILES} (the server must
 * not ask the proxy for a file), {@code SSL}, compression, {@code SESSION_TRACK} or {@code CONNECT_ATTRS}.
 *
 * <p>Failures: a refused connection, a failed login, a connection lost or a server that sends nothing for the
 * reply timeout (a hung server) fail the pending login or command with {@code SHARD_UNAVAILABLE} naming the shard and
 * the time elapsed, and close the connection. A closed connection is never reused: {@link #isUsable()} is false.
 *
 * <p>Threads: {@link #send} may be called from any thread, one command at a time; the sink is called on the
 * connection's event loop.
 */
public final class MySqlBackendConnection {
    static final int COM_QUIT = 0x01;
    static final int COM_INIT_DB = 0x02;
    static final int COM_QUERY = 0x03;
    static final int COM_PING = 0x0E;
    static final int COM_STMT_PREPARE = 0x16;
    static final int COM_STMT_EXECUTE = 0x17;
    static final int COM_STMT_SEND_LONG_DATA = 0x18;
    static final int COM_STMT_CLOSE = 0x19;
    static final int COM_STMT_RESET = 0x1A;
    static final int COM_RESET_CONNECTION = 0x1F;

    private static final int REQUIRED = Capabilities.PROTOCOL_41 | Capabilities.SECURE_CONNECTION | Capabilities.PLUGIN_AUTH;
    private static final int MAX_PACKET = 1 << 30;

    private enum Phase { LOGIN, READY, BUSY, CLOSED }

    private final BackendSettings settings;
    private final CompletableFuture<MySqlBackendConnection> login = new CompletableFuture<>();
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.LOGIN);
    private final long createdNanos = System.nanoTime();
    private Channel channel;

    // login state (event loop)
    private long connectionId;
    private String serverVersion = "";
    private int capabilities;
    private boolean greeted;

    // command state (event loop)
    private ReplySink sink;
    private ReplyReader reader;
    private String command = "login";
    private long commandStart = createdNanos;
    private volatile long lastProgress = createdNanos;
    private long packets;
    private long packetsAtCheck;
    private boolean paused;
    private ScheduledFuture<?> watchdog;
    private volatile int status;
    private volatile ProxyException closedBy;
    private volatile long lastUsedNanos = createdNanos;
    private volatile String sessionTag = "";

    private MySqlBackendConnection(BackendSettings settings) {
        this.settings = settings;
    }

    /** Opens a connection; the future completes once logged in, or fails with {@code SHARD_UNAVAILABLE}. */
    public static CompletableFuture<MySqlBackendConnection> connect(BackendEventLoops loops, BackendSettings settings) {
        return connect(loops, settings, null);
    }

    /** As {@link #connect(BackendEventLoops, BackendSettings)}, on {@code loop} when it is one of {@code loops}. */
    public static CompletableFuture<MySqlBackendConnection> connect(BackendEventLoops loops, BackendSettings settings,
            io.netty.channel.EventLoop loop) {
        Objects.requireNonNull(settings, "settings");
        MySqlBackendConnection c = new MySqlBackendConnection(settings);
        ChannelFuture connecting = new Bootstrap()
                .group(loops.loopOf(loop))
                .channel(loops.channelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, settings.connectTimeout().toMillis()))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        c.channel = ch;
                        ch.pipeline().addLast(c.new Progress(), new PieceDecoder(), c.new Handler());
                    }
                })
                .connect(settings.host(), settings.port());
        connecting.addListener(f -> {
            if (f.isSuccess()) {
                c.lastProgress = System.nanoTime();
                c.armWatchdog(settings.replyTimeout().toNanos());
            } else {
                c.fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": cannot connect ("
                        + millis(System.nanoTime() - c.createdNanos) + " ms): " + f.cause(), f.cause()));
            }
        });
        return c.login;
    }

    // ---- commands

    /**
     * Sends one command packet and hands its reply to {@code sink}. {@code payload} is the command's payload (first
     * byte the command: COM_QUERY, COM_STMT_PREPARE, COM_STMT_EXECUTE, COM_PING, COM_RESET_CONNECTION, COM_INIT_DB,
     * COM_STMT_RESET), written as is with sequence ids from 0 (split into 16 MB pieces if larger); this takes
     * ownership of it. Commands without a reply go through {@link #sendWithoutReply}.
     *
     * @throws ProxyException        SHARD_UNAVAILABLE if the connection is closed
     * @throws IllegalStateException if another command is still running
     */
    /** The event loop this connection's I/O runs on; null before it is connected. */
    public io.netty.channel.EventLoop eventLoop() {
        Channel ch = channel;
        return ch == null ? null : ch.eventLoop();
    }

    public void send(ByteBuf payload, ReplySink sink) {
        Objects.requireNonNull(sink, "sink");
        ReplyReader.Grammar grammar;
        try {
            grammar = grammarOf(payload);
        } catch (RuntimeException e) {
            payload.release();
            throw e;
        }
        String name = commandName(payload.getUnsignedByte(payload.readerIndex()));
        if (!phase.compareAndSet(Phase.READY, Phase.BUSY)) {
            payload.release();
            throw notReady(name);
        }
        onLoop(() -> begin(payload, new ReplyReader(grammar, deprecateEof()), sink, name));
    }

    /** Sends a command that has no reply (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA); completes once written. */
    public CompletableFuture<Void> sendWithoutReply(ByteBuf payload) {
        int cmd = payload.readableBytes() == 0 ? -1 : payload.getUnsignedByte(payload.readerIndex());
        if (cmd != COM_STMT_CLOSE && cmd != COM_STMT_SEND_LONG_DATA) {
            payload.release();
            throw new IllegalArgumentException("command 0x" + Integer.toHexString(cmd) + " has a reply or is not supported here");
        }
        if (phase.get() != Phase.READY) {
            payload.release();
            throw notReady(commandName(cmd));
        }
        CompletableFuture<Void> written = new CompletableFuture<>();
        onLoop(() -> {
            writeFramed(payload);
            channel.flush();
            written.complete(null);
        });
        return written;
    }

    /** Runs a command and sums its reply up (the packets are released). */
    public CompletableFuture<BackendReply> run(ByteBuf payload) {
        CompletableFuture<BackendReply> result = new CompletableFuture<>();
        try {
            send(payload, BackendReply.collector(result, () -> status));
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    /** COM_QUERY with {@code sql} in UTF-8 (the proxy's own statements; relayed ones go through {@link #send}). */
    public CompletableFuture<BackendReply> query(String sql) {
        return run(commandPacket(COM_QUERY, sql.getBytes(StandardCharsets.UTF_8)));
    }

    public CompletableFuture<BackendReply> ping() {
        return run(commandPacket(COM_PING, new byte[0]));
    }

    /** COM_RESET_CONNECTION: ends the transaction, drops temporary tables, user variables, prepared statements. */
    public CompletableFuture<BackendReply> resetConnection() {
        return run(commandPacket(COM_RESET_CONNECTION, new byte[0]));
    }

    public CompletableFuture<BackendReply> initDb(String database) {
        return run(commandPacket(COM_INIT_DB, database.getBytes(StandardCharsets.UTF_8)));
    }

    /** A command payload: the command byte and the argument. */
    public static ByteBuf commandPacket(int command, byte[] argument) {
        return Unpooled.buffer(1 + argument.length).writeByte(command).writeBytes(argument);
    }

    /** Stops reading the server's reply (the sink cannot keep up); a few packets already read may still come. */
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

    /** Ends the session politely (COM_QUIT) if idle, and closes the connection. */
    public void quit() {
        if (phase.compareAndSet(Phase.READY, Phase.CLOSED)) {
            closedBy = new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": connection closed by the proxy");
            onLoop(() -> {
                writeFramed(commandPacket(COM_QUIT, new byte[0]));
                channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> channel.close());
            });
        } else {
            close();
        }
    }

    /** Closes the connection at once; a running command fails. */
    public void close() {
        fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": connection closed by the proxy"));
    }

    // ---- state

    /** Idle, logged in and open: a command can be sent. */
    public boolean isUsable() {
        return phase.get() == Phase.READY && channel != null && channel.isActive();
    }

    /** Whether result sets end with an OK packet and have no EOF after the columns (asked for and offered). */
    public boolean deprecateEof() {
        return (capabilities & Capabilities.DEPRECATE_EOF) != 0;
    }

    /** The capability flags in use (the handshake response's). */
    public int capabilities() {
        return capabilities;
    }

    /** The server status flags of the last OK or EOF. */
    public int status() {
        return status;
    }

    /** Whether the server said a transaction is open (SERVER_STATUS_IN_TRANS in the last OK or EOF). */
    public boolean inTransaction() {
        return (status & ReplyReader.SERVER_STATUS_IN_TRANS) != 0;
    }

    /** Whether the server's sql_mode has NO_BACKSLASH_ESCAPES (SERVER_STATUS_NO_BACKSLASH_ESCAPES in the last OK or EOF). */
    public boolean noBackslashEscapes() {
        return (status & 0x0200) != 0;
    }

    public String serverVersion() {
        return serverVersion;
    }

    /**
     * Runs {@code task} on the connection's event loop after what it is doing now (e.g. after the packets of the read
     * being processed): a sink that gathers packets hands them over once per read this way.
     */
    void later(Runnable task) {
        channel.eventLoop().execute(task);
    }

    /** The server's thread id (what {@code KILL QUERY} takes). */
    public long connectionId() {
        return connectionId;
    }

    public BackendSettings settings() {
        return settings;
    }

    public long createdNanos() {
        return createdNanos;
    }

    /** When the last command ended (or the login, if none ran). */
    public long lastUsedNanos() {
        return lastUsedNanos;
    }

    /**
     * What session state its user gave the connection beyond the pool's own (e.g. a client session's settings'
     * fingerprint); empty when none. Kept for the next borrower to compare; the pool clears it when it resets.
     */
    public String sessionTag() {
        return sessionTag;
    }

    public void sessionTag(String tag) {
        sessionTag = java.util.Objects.requireNonNull(tag, "tag");
    }

    // ---- server-side prepared statements of this connection (used by one borrower at a time, like the connection)

    /** How many prepared statements a connection keeps; the least recently used one is closed beyond that. */
    static final int PREPARED_CACHE = 256;

    /** Statement ids of this connection by the statement's bytes, least recently used first. */
    private final java.util.LinkedHashMap<java.nio.ByteBuffer, Integer> prepared = new java.util.LinkedHashMap<>(16, 0.75f, true);

    /** This connection's statement id for {@code sql} prepared here before, or -1. */
    public int preparedId(byte[] sql) {
        Integer id = prepared.get(java.nio.ByteBuffer.wrap(sql));
        return id == null ? -1 : id;
    }

    /** How many prepared statements the connection holds. */
    public int preparedCount() {
        return prepared.size();
    }

    /**
     * COM_STMT_PREPARE of {@code sql} (the client's bytes); completes with this connection's statement id, remembered
     * for {@link #preparedId}, or with the server's error. Beyond {@link #PREPARED_CACHE} statements the least
     * recently used is closed on the server.
     */
    public CompletableFuture<PrepareResult> prepare(byte[] sql) {
        CompletableFuture<PrepareResult> result = new CompletableFuture<>();
        ReplySink sink = new ReplySink() {
            private int id = -1;
            private ServerError error;

            @Override
            public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
                try {
                    if (!continuation && (kind == PacketKind.PREPARE_OK || kind == PacketKind.ERROR)) {
                        ByteBuf payload = packet.slice(packet.readerIndex() + PieceDecoder.HEADER,
                                packet.readableBytes() - PieceDecoder.HEADER);
                        if (kind == PacketKind.ERROR) {
                            error = ServerError.parse(payload);
                        } else {
                            id = payload.getIntLE(payload.readerIndex() + 1);
                        }
                    }
                } finally {
                    packet.release();
                }
                if (last) {
                    result.complete(new PrepareResult(id, error));
                }
            }

            @Override
            public void failed(ProxyException e) {
                result.completeExceptionally(e);
            }
        };
        try {
            send(commandPacket(COM_STMT_PREPARE, sql), sink);
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
        return result.thenApply(r -> {
            if (r.error() == null) {
                remember(sql.clone(), r.statementId());
            }
            return r;
        });
    }

    /** A prepare's outcome: this connection's statement id, or the server's error (then the id is -1). */
    public record PrepareResult(int statementId, ServerError error) {}

    private void remember(byte[] sql, int id) {
        prepared.put(java.nio.ByteBuffer.wrap(sql), id);
        if (prepared.size() > PREPARED_CACHE) {
            var eldest = prepared.entrySet().iterator();
            int old = eldest.next().getValue();
            eldest.remove();
            byte[] arg = new byte[4];
            arg[0] = (byte) old;
            arg[1] = (byte) (old >>> 8);
            arg[2] = (byte) (old >>> 16);
            arg[3] = (byte) (old >>> 24);
            sendWithoutReply(commandPacket(COM_STMT_CLOSE, arg));
        }
    }

    /** The server forgot this connection's prepared statements (COM_RESET_CONNECTION); so does the cache. */
    public void forgetPrepared() {
        prepared.clear();
    }

    /** Why the connection closed, or null while it is open. */
    public ProxyException closedBy() {
        return closedBy;
    }

    @Override
    public String toString() {
        return settings.describe() + " connection " + connectionId + " (" + phase.get() + ")";
    }

    // ---- event loop

    private void begin(ByteBuf payload, ReplyReader replyReader, ReplySink replySink, String name) {
        if (phase.get() != Phase.BUSY) {
            payload.release();
            replySink.failed(closedError(name));
            return;
        }
        sink = replySink;
        reader = replyReader;
        command = name;
        packets = 0;
        packetsAtCheck = 0;
        commandStart = System.nanoTime();
        lastProgress = commandStart;
        if (paused || !channel.config().isAutoRead()) {
            paused = false;
            channel.config().setAutoRead(true);
        }
        if (watchdog == null) {
            // armed once and kept across commands (see checkProgress): a schedule and cancel per command cost the hot path
            armWatchdog(settings.replyTimeout().toNanos());
        }
        writeFramed(payload);
        channel.flush();
    }

    /** Writes a payload as packets with sequence ids from 0, 16 MB pieces at most; releases it. */
    private void writeFramed(ByteBuf payload) {
        int sequence = 0;
        try {
            int length = payload.readableBytes();
            if (length < PieceDecoder.MAX_PIECE) {
                // one packet: header and payload in one I/O buffer (one write, no copy of a heap buffer at flush)
                ByteBuf frame = channel.alloc().ioBuffer(PieceDecoder.HEADER + length);
                frame.writeMediumLE(length).writeByte(0).writeBytes(payload);
                channel.write(frame, channel.voidPromise());
                return;
            }
            while (true) {
                int n = Math.min(PieceDecoder.MAX_PIECE, payload.readableBytes());
                ByteBuf header = channel.alloc().buffer(PieceDecoder.HEADER).writeMediumLE(n).writeByte(sequence++ & 0xFF);
                channel.write(header, channel.voidPromise());
                channel.write(payload.readRetainedSlice(n), channel.voidPromise());
                if (n < PieceDecoder.MAX_PIECE) {
                    return;
                }
            }
        } finally {
            payload.release();
        }
    }

    private void onPiece(PieceDecoder.Piece piece) {
        switch (phase.get()) {
            case LOGIN -> {
                try {
                    loginPacket(piece);
                } finally {
                    piece.bytes().release();
                }
            }
            case BUSY -> replyPiece(piece);
            case READY -> {
                String what = describePacket(piece);
                piece.bytes().release();
                fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": sent " + what
                        + " while no command was running; the connection is closed"));
            }
            case CLOSED -> piece.bytes().release();
        }
    }

    private void replyPiece(PieceDecoder.Piece piece) {
        packets++;
        PacketKind kind;
        try {
            kind = reader.read(piece.payload(), piece.continuation(), piece.continues());
        } catch (MySqlProtocolException e) {
            piece.bytes().release();
            fail(new ProxyException(e.code(), settings.describe() + ": " + e.getMessage() + "; " + command + " failed after "
                    + millis(System.nanoTime() - commandStart) + " ms and the connection is closed", e));
            return;
        }
        boolean last = reader.done() && !piece.continues();
        ReplySink receiver = sink;
        if (last) {
            if (reader.status() >= 0) {
                status = reader.status();
            }
            endCommand();
        }
        try {
            receiver.packet(piece.bytes(), kind, piece.continuation(), last);
        } catch (RuntimeException e) {
            fail(new ProxyException(ErrorCode.INTERNAL, settings.describe() + ": the receiver of the reply to " + command
                    + " failed: " + e, e));
        }
    }

    private void endCommand() {
        sink = null;
        reader = null;
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
            return; // idle: the next command arms it again
        }
        long timeout = settings.replyTimeout().toNanos();
        if (packets != packetsAtCheck) {
            // packets came since the last check: progress, even if a slow sink kept this event loop from stamping it
            packetsAtCheck = packets;
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
        fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": no answer to " + command + " for "
                + millis(idle) + " ms (reply timeout " + settings.replyTimeout().toMillis() + " ms), "
                + millis(System.nanoTime() - commandStart) + " ms after it was sent, " + packets
                + " reply packets read; the connection is closed"));
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
            // the sink and the watchdog belong to the event loop
            onLoop(() -> {
                cancelWatchdog();
                ReplySink receiver = sink;
                sink = null;
                reader = null;
                if (before == Phase.BUSY && receiver != null) {
                    receiver.failed(error);
                }
            });
        }
    }

    private void lost(String why, Throwable cause) {
        Phase now = phase.get();
        String during = switch (now) {
            case LOGIN -> "while logging in, " + millis(System.nanoTime() - createdNanos) + " ms after connecting";
            case BUSY -> "waiting for the reply to " + command + ", " + millis(System.nanoTime() - commandStart)
                    + " ms after it was sent, " + packets + " reply packets read";
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

    private void loginPacket(PieceDecoder.Piece piece) {
        ByteBuf p = piece.payload();
        try {
            if (!greeted) {
                greeting(p, piece.sequenceId());
            } else {
                authReply(p, piece.sequenceId());
            }
        } catch (MySqlProtocolException e) {
            fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": bad handshake from the server: "
                    + e.getMessage(), e));
        }
    }

    private void greeting(ByteBuf p, int sequenceId) {
        if (p.isReadable() && p.getUnsignedByte(p.readerIndex()) == 0xFF) {
            fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": the server refused the connection: "
                    + ServerError.parse(p)));
            return;
        }
        Wire.need(p, 1, "protocol version");
        int protocol = p.readUnsignedByte();
        if (protocol != 10) {
            throw new MySqlProtocolException(ErrorCode.SHARD_UNAVAILABLE, "protocol version " + protocol + ", expected 10");
        }
        String version = Wire.readNulString(p, "server version");
        Wire.need(p, 4 + 8 + 1 + 2, "greeting");
        long id = p.readUnsignedIntLE();
        byte[] part1 = Wire.readBytes(p, 8, "auth data part 1");
        p.skipBytes(1);
        int serverCaps = p.readUnsignedShortLE();
        if (p.readableBytes() >= 1 + 2 + 2 + 1 + 10) {
            p.skipBytes(1 + 2); // character set, status
            serverCaps |= p.readUnsignedShortLE() << 16;
            p.skipBytes(1 + 10); // auth data length, reserved
        }
        if ((serverCaps & REQUIRED) != REQUIRED) {
            fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": server " + version
                    + " lacks protocol 4.1 with plugin authentication (capabilities 0x" + Integer.toHexString(serverCaps) + ")"));
            return;
        }
        byte[] part2 = Wire.readBytes(p, Math.min(12, p.readableBytes()), "auth data part 2");
        byte[] nonce = Arrays.copyOf(part1, 8 + part2.length);
        System.arraycopy(part2, 0, nonce, 8, part2.length);
        connectionId = id;
        serverVersion = version;
        greeted = true;
        int wanted = REQUIRED | Capabilities.LONG_PASSWORD | Capabilities.LONG_FLAG | Capabilities.TRANSACTIONS
                | Capabilities.MULTI_RESULTS | Capabilities.PS_MULTI_RESULTS
                | (settings.database().isEmpty() ? 0 : Capabilities.CONNECT_WITH_DB)
                | (settings.deprecateEof() ? Capabilities.DEPRECATE_EOF : 0)
                | (settings.foundRows() ? Capabilities.FOUND_ROWS : 0)
                | (settings.multiStatements() ? Capabilities.MULTI_STATEMENTS : 0);
        capabilities = wanted & serverCaps;
        if ((wanted & ~serverCaps & (Capabilities.CONNECT_WITH_DB | Capabilities.FOUND_ROWS | Capabilities.MULTI_STATEMENTS)) != 0) {
            fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": server " + version
                    + " does not offer capabilities 0x" + Integer.toHexString(wanted & ~serverCaps) + " the connection needs"));
            return;
        }
        ByteBuf out = channel.alloc().buffer(128);
        out.writeIntLE(capabilities).writeIntLE(MAX_PACKET).writeByte(settings.collation()).writeZero(23);
        Wire.writeNulString(out, settings.user());
        byte[] auth = scramble(nonce);
        out.writeByte(auth.length).writeBytes(auth);
        if (!settings.database().isEmpty()) {
            Wire.writeNulString(out, settings.database());
        }
        Wire.writeNulString(out, MySqlAuth.NATIVE);
        writePacket(out, sequenceId + 1);
    }

    private void authReply(ByteBuf p, int sequenceId) {
        Wire.need(p, 1, "authentication reply");
        int first = p.getUnsignedByte(p.readerIndex());
        switch (first) {
            case 0x00 -> {
                status = ReplyReader.okStatus(p);
                cancelWatchdog();
                command = "none";
                lastUsedNanos = System.nanoTime();
                if (phase.compareAndSet(Phase.LOGIN, Phase.READY)) {
                    login.complete(this);
                }
            }
            case 0xFF -> fail(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": login as '"
                    + settings.user() + "' failed: " + ServerError.parse(p)));
            case 0xFE -> {
                p.skipBytes(1);
                String plugin = p.isReadable() ? Wire.readNulString(p, "auth plugin name") : "mysql_old_password";
                if (!MySqlAuth.NATIVE.equals(plugin)) {
                    fail(unsupportedPlugin(plugin));
                    return;
                }
                byte[] nonce = new byte[Math.max(0, p.readableBytes() - (endsWithNul(p) ? 1 : 0))];
                p.readBytes(nonce);
                ByteBuf out = channel.alloc().buffer(20);
                out.writeBytes(scramble(nonce));
                writePacket(out, sequenceId + 1);
            }
            case 0x01 -> fail(unsupportedPlugin("(the server asked for more authentication data, as caching_sha2_password"
                    + " and sha256_password do)"));
            default -> throw new MySqlProtocolException(ErrorCode.SHARD_UNAVAILABLE, "unexpected authentication reply 0x"
                    + Integer.toHexString(first));
        }
    }

    private ProxyException unsupportedPlugin(String plugin) {
        return new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": user '" + settings.user()
                + "' authenticates with " + plugin + ", which the proxy's native connections do not support; give the"
                + " shard user a mysql_native_password password (MariaDB: ALTER USER ... IDENTIFIED VIA mysql_native_password"
                + " USING PASSWORD('...'); MySQL: ALTER USER ... IDENTIFIED WITH mysql_native_password BY '...')");
    }

    private static boolean endsWithNul(ByteBuf p) {
        return p.isReadable() && p.getByte(p.writerIndex() - 1) == 0;
    }

    private byte[] scramble(byte[] nonce) {
        return settings.password().isEmpty() ? new byte[0] : MySqlAuth.nativeScramble(settings.password(), nonce);
    }

    private void writePacket(ByteBuf payload, int sequenceId) {
        ByteBuf header = channel.alloc().buffer(PieceDecoder.HEADER).writeMediumLE(payload.readableBytes()).writeByte(sequenceId & 0xFF);
        channel.write(header, channel.voidPromise());
        channel.writeAndFlush(payload, channel.voidPromise());
    }

    // ---- helpers

    private static ReplyReader.Grammar grammarOf(ByteBuf payload) {
        if (!payload.isReadable()) {
            throw new IllegalArgumentException("an empty command packet");
        }
        int cmd = payload.getUnsignedByte(payload.readerIndex());
        return switch (cmd) {
            case COM_QUERY -> ReplyReader.Grammar.RESULTS;
            case COM_STMT_EXECUTE -> {
                // flags byte after the statement id: a cursor changes the reply (rows come with COM_STMT_FETCH)
                if (payload.readableBytes() >= 6 && payload.getUnsignedByte(payload.readerIndex() + 5) != 0) {
                    throw new ProxyException(ErrorCode.UNSUPPORTED, "COM_STMT_EXECUTE with a cursor (flags 0x"
                            + Integer.toHexString(payload.getUnsignedByte(payload.readerIndex() + 5))
                            + ") is not supported on native backend connections");
                }
                yield ReplyReader.Grammar.RESULTS;
            }
            case COM_STMT_PREPARE -> ReplyReader.Grammar.PREPARE;
            case COM_PING, COM_RESET_CONNECTION, COM_INIT_DB, COM_STMT_RESET -> ReplyReader.Grammar.STATUS;
            default -> throw new IllegalArgumentException("command 0x" + Integer.toHexString(cmd)
                    + " has no reply, or is not supported on native backend connections");
        };
    }

    static String commandName(int cmd) {
        return switch (cmd) {
            case COM_QUIT -> "COM_QUIT";
            case COM_INIT_DB -> "COM_INIT_DB";
            case COM_QUERY -> "COM_QUERY";
            case COM_PING -> "COM_PING";
            case COM_STMT_PREPARE -> "COM_STMT_PREPARE";
            case COM_STMT_EXECUTE -> "COM_STMT_EXECUTE";
            case COM_STMT_SEND_LONG_DATA -> "COM_STMT_SEND_LONG_DATA";
            case COM_STMT_CLOSE -> "COM_STMT_CLOSE";
            case COM_STMT_RESET -> "COM_STMT_RESET";
            case COM_RESET_CONNECTION -> "COM_RESET_CONNECTION";
            default -> "command 0x" + Integer.toHexString(cmd);
        };
    }

    private RuntimeException notReady(String name) {
        return switch (phase.get()) {
            case CLOSED -> closedError(name);
            case LOGIN -> new IllegalStateException(this + ": " + name + " before the login finished");
            case BUSY -> new IllegalStateException(this + ": " + name + " while " + command + " is still running");
            case READY -> new IllegalStateException(this + ": " + name + " raced with another command");
        };
    }

    private ProxyException closedError(String name) {
        ProxyException cause = closedBy;
        return new ProxyException(ErrorCode.SHARD_UNAVAILABLE, settings.describe() + ": cannot send " + name
                + ": the connection is closed" + (cause == null ? "" : " (" + cause.getMessage() + ")"), cause);
    }

    private static String describePacket(PieceDecoder.Piece piece) {
        ByteBuf p = piece.payload();
        if (p.isReadable() && p.getUnsignedByte(p.readerIndex()) == 0xFF) {
            return "an error (" + ServerError.parse(p) + ")";
        }
        return "a packet of " + piece.payloadLength() + " bytes";
    }

    static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** Notes that bytes arrived, before they are cut into packets: a 16 MB piece arriving slowly is progress. */
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
            if (msg instanceof PieceDecoder.Piece piece) {
                onPiece(piece);
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ReplySink receiver = sink;
            if (receiver != null) {
                receiver.readComplete();
            }
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            lost("connection lost", null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            lost("connection failed (" + cause + ")", cause);
        }
    }
}

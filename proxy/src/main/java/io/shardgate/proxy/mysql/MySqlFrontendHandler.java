package io.shardgate.proxy.mysql;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.error.SqlError;
import io.shardgate.proxy.mysql.codec.Capabilities;
import io.shardgate.proxy.mysql.codec.ConnectionState;
import io.shardgate.proxy.mysql.codec.MySqlProtocolException;
import io.shardgate.proxy.mysql.message.ClientMessage;
import io.shardgate.proxy.mysql.message.ServerMessage;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.PreparedInfo;
import io.shardgate.proxy.session.SessionFactory;
import io.shardgate.proxy.session.SessionState;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.proxy.ClientAdmission;
import io.shardgate.router.MySqlLexer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MySQL client connection: the handshake and authentication on the event loop, then every
 * command on the connection's own virtual thread, in order, calling the protocol-neutral
 * {@link FrontendSession}. Protocol violations close this connection only.
 */
public final class MySqlFrontendHandler extends SimpleChannelInboundHandler<ClientMessage> {
    private static final Logger LOG = LoggerFactory.getLogger(MySqlFrontendHandler.class);
    static final int STATUS_IN_TRANS = 0x0001;
    static final int STATUS_AUTOCOMMIT = 0x0002;
    /** SERVER_MORE_RESULTS_EXISTS: another result of the same multi-statement message follows this one. */
    static final int STATUS_MORE_RESULTS = 0x0008;
    private static final int UTF8MB4_GENERAL_CI = 45;
    private static final String CONNECTOR_J = "MySQL Connector/J";
    private static final java.util.regex.Pattern VERSION = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)\\.(\\d+)");

    private final ConnectionState connection;
    private final SessionFactory sessions;
    private final int connectionId;
    private final String authPlugin;
    private final ClientAdmission admission;
    private final MySqlConnections connections;
    private final byte[] nonce = MySqlAuth.nonce();
    /** This connection's place among the listener's connections; null when it was refused one. */
    private ClientAdmission.Ticket ticket;
    private ScheduledFuture<?> handshakeTimer;
    private ExecutorService worker;
    private ClientMessage.HandshakeResponse pendingHandshake;
    private String pluginInUse;
    private volatile FrontendSession session;
    /** Which executable comments the shards run, for splitting multi-statement messages as they would. */
    private volatile MySqlLexer.Gate commentGate = MySqlLexer.Gate.DEFAULT;
    /** Writes streamed results with backpressure (see {@link io.shardgate.proxy.RowPump}). */
    private final io.shardgate.proxy.RowPump pump = new io.shardgate.proxy.RowPump();
    /** Set once an error has been sent that ends this connection; later messages are dropped. */
    private volatile boolean failed;
    /**
     * Commands handed to the session's thread and not finished, plus a statement relayed from the event loop that has
     * not ended: a command is relayed from the loop only when this is 0, so the session runs one command at a time.
     */
    private final java.util.concurrent.atomic.AtomicInteger outstanding = new java.util.concurrent.atomic.AtomicInteger();
    /** The statement relayed from the loop, until it ends: the session's thread waits for it before its next command. */
    private volatile java.util.concurrent.CompletableFuture<Void> fromLoop = java.util.concurrent.CompletableFuture.completedFuture(null);

    public MySqlFrontendHandler(ConnectionState connection, SessionFactory sessions, int connectionId, String authPlugin,
            ClientAdmission admission) {
        this(connection, sessions, connectionId, authPlugin, admission, new MySqlConnections());
    }

    MySqlFrontendHandler(ConnectionState connection, SessionFactory sessions, int connectionId, String authPlugin,
            ClientAdmission admission, MySqlConnections connections) {
        super(ClientMessage.class);
        this.connections = connections;
        this.connection = connection;
        this.sessions = sessions;
        this.connectionId = connectionId;
        this.authPlugin = authPlugin;
        this.admission = admission;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ticket = admission.admit();
        if (ticket == null) {
            fail(ctx, tooManyConnections("Too many connections still logging in: the proxy accepts at most "
                    + admission.maxUnauthenticatedConnections() + " (limits.max-unauthenticated-connections)"));
            return;
        }
        handshakeTimer = ctx.executor().schedule(() -> handshakeTimedOut(ctx), admission.handshakeTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        // the last resort: whatever escapes a command (a StackOverflowError, say) answers an error and ends the connection
        worker = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("mysql-session-" + connectionId)
                .uncaughtExceptionHandler((thread, e) -> lastResort(ctx, e)).factory());
        ctx.writeAndFlush(new ServerMessage.Handshake(connectionId, sessions.serverVersion(), nonce, authPlugin,
                Capabilities.SERVER, UTF8MB4_GENERAL_CI, STATUS_AUTOCOMMIT));
    }

    /** MySQL's connect_timeout: a client that is not logged in by now gets "Bad handshake" (1043) and is closed. */
    private void handshakeTimedOut(ChannelHandlerContext ctx) {
        if (ticket.isAuthenticated() || failed) {
            return;
        }
        LOG.info("connection {} from {}: not authenticated within {} ms; closing it", connectionId, remoteHost(ctx),
                admission.handshakeTimeout().toMillis());
        fail(ctx, new ProxyException(ErrorCode.HANDSHAKE_TIMEOUT, "Bad handshake: not authenticated within "
                + admission.handshakeTimeout().toMillis() + " ms (limits.handshake-timeout-ms)").error());
    }

    private void lastResort(ChannelHandlerContext ctx, Throwable e) {
        LOG.error("connection {}: {} escaped its command; answering an error and closing the connection", connectionId, e.toString(),
                e);
        fail(ctx, internal(e));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        if (ticket != null) {
            ticket.release();
        }
        if (worker != null) {
            connections.unregister(connectionId);
            FrontendSession s = session;
            if (s != null) {
                s.clientGone(); // a statement still running is cancelled on its shards, not left to run on
            }
            worker.execute(() -> {
                afterLoopRelay();
                closeSession();
            });
            worker.shutdown();
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientMessage msg) {
        if (failed) {
            return; // the connection was refused or broke the protocol; it is closing
        }
        switch (msg) {
            case ClientMessage.HandshakeResponse hr -> handshake(ctx, hr);
            case ClientMessage.SslRequest ssl -> fail(ctx, unsupported("TLS is not enabled on this proxy; connect without SSL"));
            case ClientMessage.AuthSwitchResponse asr -> authenticate(ctx, pendingHandshake, pluginInUse, asr.authResponse());
            default -> {
                if (!relayFromLoop(ctx, msg)) {
                    outstanding.incrementAndGet();
                    worker.execute(() -> {
                        try {
                            afterLoopRelay();
                            command(ctx, msg);
                        } finally {
                            outstanding.decrementAndGet();
                        }
                    });
                }
            }
        }
    }

    /**
     * The hot path without a thread hand-off: a text statement or prepared execute that the session can relay to one
     * shard without waiting for anything ({@link FrontendSession#relayFromLoop}) is started right here on the event
     * loop, when the session is idle; its reply reaches the client from the backend connection on the same loop. False:
     * nothing ran, the session's thread runs it as any command.
     */
    private boolean relayFromLoop(ChannelHandlerContext ctx, ClientMessage msg) {
        FrontendSession s = session;
        if (s == null || outstanding.get() != 0) {
            return false;
        }
        byte[] sql = null;
        int statementId = -1;
        List<Object> parameters = null;
        byte[] packet = null;
        switch (msg) {
            case ClientMessage.Query q -> {
                sql = q.sql();
                // what query() runs some other way: multi-statement messages, KILL, blank or comment-only text
                MySqlLexer.Latin1View text = new MySqlLexer.Latin1View(sql);
                int semicolon = indexOf(sql, (byte) ';');
                if ((connection.has(Capabilities.MULTI_STATEMENTS) && semicolon >= 0 && !onlyTerminators(text, semicolon))
                        || KillStatement.startsWithKill(text) || mayBeBlank(text)) {
                    return false;
                }
            }
            case ClientMessage.StmtExecute e -> {
                if (e.relayPacket() == null) {
                    return false;
                }
                statementId = e.statementId();
                parameters = e.parameters();
                packet = e.relayPacket();
            }
            default -> {
                return false;
            }
        }
        java.util.concurrent.CompletableFuture<Void> done;
        try {
            done = s.relayFromLoop(sql, statementId, parameters, packet, new io.shardgate.proxy.backend.mysql.RelayTarget(ctx.channel(),
                    connection.has(Capabilities.DEPRECATE_EOF), connection.has(Capabilities.FOUND_ROWS), connection.peekSequence()),
                    RARE_WAITS);
        } catch (RuntimeException e) {
            LOG.debug("connection {}: relaying from the event loop failed before anything ran; the session runs it", connectionId, e);
            return false;
        }
        if (done == null) {
            return false;
        }
        outstanding.incrementAndGet();
        fromLoop = done;
        done.whenComplete((ignored, failure) -> {
            if (failure != null) {
                answerError(ctx, s, msg, failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                        ? c.getCause() : failure);
            }
            outstanding.decrementAndGet();
        });
        return true;
    }

    /**
     * Where a statement relayed from the loop does the rare steps that may wait (settling a cancel's interrupts): a
     * virtual thread of their own. Not the session's thread: a command queued there waits for that statement to end.
     */
    private static final java.util.concurrent.Executor RARE_WAITS = work -> Thread.ofVirtual().name("shardgate-relay-end").start(work);

    /** Waits (on the session's thread) for a statement relayed from the loop to end: the session runs one at a time. */
    private void afterLoopRelay() {
        try {
            fromLoop.join();
        } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException ignored) {
            // answered where it failed
        }
    }

    private void handshake(ChannelHandlerContext ctx, ClientMessage.HandshakeResponse hr) {
        if (io.shardgate.proxy.session.ClientCharset.byCollationId(hr.collation()).isEmpty()) {
            // a set the proxy cannot lex or serve: refused before anything runs, rather than read as utf8mb4
            fail(ctx, unsupported("the client character set of collation id " + hr.collation() + " is not supported by"
                    + " Shardgate; connect with one of " + io.shardgate.proxy.session.ClientCharset.SUPPORTED));
            return;
        }
        connection.negotiated(hr.capabilities());
        pendingHandshake = hr;
        if (MySqlAuth.supported(hr.authPlugin())) {
            pluginInUse = hr.authPlugin();
            authenticate(ctx, hr, pluginInUse, hr.authResponse());
        } else {
            // the client offered another method (or none): ask for ours with the same nonce
            pluginInUse = authPlugin;
            connection.phase(ConnectionState.Phase.AUTH_SWITCH_RESPONSE);
            ctx.writeAndFlush(new ServerMessage.AuthSwitchRequest(authPlugin, nonce));
        }
    }

    private void authenticate(ChannelHandlerContext ctx, ClientMessage.HandshakeResponse hr, String plugin, byte[] response) {
        if (hr == null) {
            fail(ctx, protocolError("authentication data arrived before the handshake response"));
            return;
        }
        Optional<String> password = sessions.password(hr.user());
        String host = remoteHost(ctx);
        if (password.isEmpty() || !MySqlAuth.verify(plugin, password.get(), nonce, response)) {
            loginFailed(ctx, new SqlError(ErrorCode.ACCESS_DENIED.mysqlErrno(), ErrorCode.ACCESS_DENIED.mysqlSqlState(),
                    "Access denied for user '" + hr.user() + "'@'" + host + "' (using password: "
                            + (response.length > 0 ? "YES" : "NO") + ")", ErrorCode.ACCESS_DENIED), hr.user(), host);
            return;
        }
        admission.throttle().succeeded(host);
        handshakeTimer.cancel(false);
        if (!ticket.authenticate()) {
            fail(ctx, tooManyConnections("Too many connections: the proxy accepts at most " + admission.maxConnections()
                    + " (limits.max-connections)"));
            return;
        }
        if (MySqlAuth.CACHING_SHA2.equals(plugin) && sendsFastAuthResult(hr, password.get())) {
            ctx.write(new ServerMessage.AuthMoreData(new byte[] {0x03}));
        }
        connection.phase(ConnectionState.Phase.COMMAND);
        ClientInfo client = new ClientInfo(hr.user(), hr.database(), host, hr.attributes(), charset(hr), flags(hr), connectionId);
        ctx.channel().config().setAutoRead(false);
        worker.execute(() -> openSession(ctx, client));
    }

    /**
     * A wrong password: the error goes out after the address's throttle delay, scheduled on the event loop (no thread
     * waits); messages arriving meanwhile are dropped.
     */
    private void loginFailed(ChannelHandlerContext ctx, SqlError error, String user, String host) {
        Duration delay = admission.throttle().failed(host, user, "MySQL");
        if (delay.isZero()) {
            fail(ctx, error);
            return;
        }
        failed = true;
        handshakeTimer.cancel(false);
        ctx.executor().schedule(() -> fail(ctx, error), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static SqlError tooManyConnections(String message) {
        return new SqlError(ErrorCode.TOO_MANY_CONNECTIONS.mysqlErrno(), ErrorCode.TOO_MANY_CONNECTIONS.mysqlSqlState(), message,
                ErrorCode.TOO_MANY_CONNECTIONS);
    }

    /**
     * Whether caching_sha2_password's "fast auth succeeded" packet (0x01 0x03) goes before the OK.
     * A MySQL server sends it for a non-empty password only, and libmariadb needs it then (taking a
     * bare OK for a demand of full authentication). Connector/J finishes on the OK alone, and must:
     * for a server version below 5.5.16, which the MariaDB-style "5.5.5-" prefix reads as, it reads
     * the packet one byte early, sees 0x01 and fails with "Unknown server response after fast auth".
     */
    private boolean sendsFastAuthResult(ClientMessage.HandshakeResponse hr, String password) {
        if (password.isEmpty()) {
            return false;
        }
        boolean connectorJ = CONNECTOR_J.equals(hr.attributes().get("_client_name"));
        return !(connectorJ && versionBelow(sessions.serverVersion(), 5, 5, 16));
    }

    /** Compares the leading {@code major.minor.patch} of a version string, as drivers parse it. */
    static boolean versionBelow(String version, int major, int minor, int patch) {
        java.util.regex.Matcher m = VERSION.matcher(version);
        if (!m.find()) {
            return false;
        }
        int[] v = {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
        return java.util.Arrays.compare(v, new int[] {major, minor, patch}) < 0;
    }

    private void openSession(ChannelHandlerContext ctx, ClientInfo client) {
        try {
            if (sessions.dialect().filter(d -> d != io.shardgate.cluster.Dialect.MYSQL).isPresent()) {
                fail(ctx, unsupported("this Shardgate cluster is PostgreSQL: connect with a PostgreSQL client to the proxy's"
                        + " PostgreSQL port (listen.postgres-port)"));
                return;
            }
            session = sessions.open(client);
            connections.register(connectionId, new Killable(ctx, client.user()));
            commentGate = MySqlLexer.Gate.of(sessions.serverVersion());
            ctx.writeAndFlush(ok(session, 0, 0));
            ctx.channel().config().setAutoRead(true);
        } catch (ProxyException e) {
            fail(ctx, e.error());
        } catch (RuntimeException e) {
            LOG.error("connection {}: cannot open a session for {}", connectionId, client.user(), e);
            fail(ctx, internal(e));
        }
    }

    private void command(ChannelHandlerContext ctx, ClientMessage msg) {
        FrontendSession s = session;
        if (s == null) {
            return;
        }
        try {
            ServerMessage answer = answer(ctx, s, msg);
            if (answer != null) {
                ctx.writeAndFlush(answer);
            }
        } catch (RuntimeException e) {
            answerError(ctx, s, msg, e);
        } catch (StackOverflowError e) {
            // the router refuses statements past limits.max-statement-*; anything else that overflows ends here
            lastResort(ctx, e);
        }
    }

    /** Answers a command that failed with {@code e} (nothing of its answer was sent). */
    private void answerError(ChannelHandlerContext ctx, FrontendSession s, ClientMessage msg, Throwable e) {
        if (e instanceof ProxyException p) {
            sessions.errorSent(p.error());
            // a shard's error text is already as the server wrote it; the proxy's own is written as one would
            SqlError error = p.error();
            ctx.writeAndFlush(p.code() == null ? err(error)
                    : new ServerMessage.Err(error.mysqlErrno(), error.sqlState(), s.ownText(error.message())));
            return;
        }
        LOG.error("connection {}: {} failed", connectionId, msg.getClass().getSimpleName(), e);
        SqlError internal = internal(e);
        sessions.errorSent(internal);
        ctx.writeAndFlush(err(internal));
    }

    /** The reply to one command, or null for commands that have none. */
    private ServerMessage answer(ChannelHandlerContext ctx, FrontendSession s, ClientMessage msg) {
        return switch (msg) {
            case ClientMessage.Query q -> query(ctx, s, q.sql());
            case ClientMessage.StmtExecute e -> execute(ctx, s, e);
            case ClientMessage.StmtPrepare p -> prepare(s, p);
            case ClientMessage.StmtClose c -> {
                connection.forgetPrepared(c.statementId());
                s.closeStatement(c.statementId());
                yield null;
            }
            case ClientMessage.StmtReset r -> {
                connection.resetLongData(r.statementId());
                s.resetStatement(r.statementId());
                yield ok(s, 0, 0);
            }
            case ClientMessage.StmtSendLongData ignored -> null;
            case ClientMessage.InitDb db -> {
                s.initDb(db.schema());
                yield ok(s, 0, 0);
            }
            case ClientMessage.Ping ignored -> ok(s, 0, 0);
            case ClientMessage.Quit ignored -> {
                closeSession();
                ctx.close();
                yield null;
            }
            case ClientMessage.SetOption o -> setOption(s, o.option());
            case ClientMessage.ResetConnection ignored -> {
                // the schema survives a reset (as on a server); read it before the session is closed
                String schema = s.state().schema();
                closeSession();
                connection.clearPrepared();
                session = sessions.open(new ClientInfo(pendingHandshake.user(), schema, remoteHost(ctx),
                        pendingHandshake.attributes(), charset(pendingHandshake), flags(pendingHandshake), connectionId));
                yield ok(session, 0, 0);
            }
            case ClientMessage.FieldList f -> fieldList(s, f);
            case ClientMessage.ChangeUser cu -> err(unsupported("COM_CHANGE_USER is not supported; open a new connection as "
                    + cu.user()));
            case ClientMessage.Unknown u -> new ServerMessage.Err(ErrorCode.UNKNOWN_COMMAND.mysqlErrno(),
                    ErrorCode.UNKNOWN_COMMAND.mysqlSqlState(), "Unknown command 0x" + Integer.toHexString(u.command()));
            case ClientMessage.HandshakeResponse ignored -> err(protocolError("handshake response in the command phase"));
            case ClientMessage.SslRequest ignored -> err(protocolError("SSL request in the command phase"));
            case ClientMessage.AuthSwitchResponse ignored -> err(protocolError("auth data in the command phase"));
        };
    }

    /**
     * COM_QUERY. With multi-statements on (CLIENT_MULTI_STATEMENTS, or COM_SET_OPTION), the message's statements run one
     * after the other, each routed on its own, and each result goes out as it is ready, all but the last flagged
     * SERVER_MORE_RESULTS_EXISTS; the first error is the last thing sent, as on a server. Without, the text is one
     * statement (holding several, the router has a shard report the server's syntax error).
     */
    private ServerMessage query(ChannelHandlerContext ctx, FrontendSession s, byte[] sql) {
        // the client's bytes, one char each: no byte >= 0x80 is a quote, a semicolon or a backslash in the character
        // sets served, so offsets in the view are offsets in the bytes
        MySqlLexer.Latin1View text = new MySqlLexer.Latin1View(sql);
        int semicolon = indexOf(sql, (byte) ';');
        boolean multi = connection.has(Capabilities.MULTI_STATEMENTS) && semicolon >= 0 && !onlyTerminators(text, semicolon);
        if (!multi && KillStatement.startsWithKill(text)) {
            return kill(ctx, s, text);
        }
        if (!multi && !mayBeBlank(text)) {
            if (s.relay(sql, new io.shardgate.proxy.backend.mysql.RelayTarget(ctx.channel(),
                    connection.has(Capabilities.DEPRECATE_EOF), connection.has(Capabilities.FOUND_ROWS),
                    connection.peekSequence()))) {
                return null; // the shard's reply went to the client as it came
            }
            return result(ctx, s.query(sql), s, false, false);
        }
        List<MySqlLexer.Piece> pieces = switch (MySqlLexer.splitMulti(text, commentGate)) {
            case MySqlLexer.Refused r -> throw new ProxyException(ErrorCode.UNSUPPORTED,
                    "this multi-statement message cannot be run as one server would, so none of it ran: " + r.reason());
            case MySqlLexer.Run run -> run.pieces();
        };
        if (pieces.isEmpty()) {
            throw new ProxyException(ErrorCode.EMPTY_QUERY, "Query was empty");
        }
        if (!multi) {
            // only comments: an empty query that the server answers with an OK; anything else is one statement
            return pieces.getFirst() instanceof MySqlLexer.CommentOnly ? ok(s, 0, 0) : result(ctx, s.query(sql), s, false, false);
        }
        for (int i = 0; i < pieces.size() - 1; i++) {
            ServerMessage answer = piece(ctx, s, sql, pieces.get(i), true);
            if (answer != null) {
                ctx.writeAndFlush(answer);
            }
            if (!ctx.channel().isActive()) {
                return null; // the client went away: a server stops at the first result it cannot send
            }
        }
        return piece(ctx, s, sql, pieces.getLast(), false);
    }

    /**
     * {@code KILL [QUERY] <id>}, answered here as a server would (never forwarded: on a shard the id names another
     * connection): of a connection of this listener logged in as the same user (the proxy grants no SUPER), else 1095;
     * of an id no connection has, 1094. KILL QUERY cancels that session's running statement on its shards (it fails with
     * 1317); KILL closes that connection. Of this connection: 1317 for KILL QUERY, 1927 and closed for KILL.
     */
    private ServerMessage kill(ChannelHandlerContext ctx, FrontendSession s, CharSequence text) {
        KillStatement kill;
        try {
            kill = KillStatement.parse(text).orElseThrow();
        } catch (KillStatement.Unsupported e) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, e.getMessage());
        }
        MySqlConnections.Killable target = kill.connectionId() > Integer.MAX_VALUE ? null : connections.get(kill.connectionId());
        if (target == null) {
            throw new ProxyException(ErrorCode.NO_SUCH_THREAD, "Unknown thread id: " + kill.connectionId());
        }
        if (!target.user().equals(pendingHandshake.user())) {
            throw new ProxyException(ErrorCode.KILL_DENIED, "You are not owner of thread " + kill.connectionId());
        }
        if (kill.connectionId() == connectionId) {
            if (kill.queryOnly()) {
                throw new ProxyException(ErrorCode.QUERY_INTERRUPTED, "Query execution was interrupted");
            }
            failed = true;
            ctx.writeAndFlush(new ServerMessage.Err(CONNECTION_KILLED, "70100", "Connection was killed"))
                    .addListener(ChannelFutureListener.CLOSE);
            return null;
        }
        LOG.info("connection {} ({}): KILL {}{}", connectionId, pendingHandshake.user(), kill.queryOnly() ? "QUERY " : "",
                kill.connectionId());
        if (kill.queryOnly()) {
            target.killQuery();
        } else {
            target.killConnection();
        }
        return ok(s, 0, 0);
    }

    /** MariaDB's ER_CONNECTION_KILLED, sent to a connection that kills itself. */
    private static final int CONNECTION_KILLED = 1927;

    /** This connection as other connections' KILL sees it. */
    private final class Killable implements MySqlConnections.Killable {
        private final ChannelHandlerContext ctx;
        private final String user;

        Killable(ChannelHandlerContext ctx, String user) {
            this.ctx = ctx;
            this.user = user;
        }

        @Override
        public String user() {
            return user;
        }

        @Override
        public void killQuery() {
            FrontendSession s = session;
            if (s != null) {
                s.cancel();
            }
        }

        @Override
        public void killConnection() {
            // as a server does to a killed connection: it just closes (its client reads "Lost connection"); closing
            // cancels the running statement and rolls back the transaction (see channelInactive)
            ctx.close();
        }
    }

    private ServerMessage piece(ChannelHandlerContext ctx, FrontendSession s, byte[] sql, MySqlLexer.Piece piece, boolean more) {
        return switch (piece) {
            case MySqlLexer.Statement st -> result(ctx, s.query(java.util.Arrays.copyOfRange(sql, st.start(), st.end())), s, false,
                    more);
            case MySqlLexer.CommentOnly ignored ->
                    new ServerMessage.Ok(0, 0, status(s.state()) | (more ? STATUS_MORE_RESULTS : 0), 0, "");
        };
    }

    /** Semicolons and white space from {@code from} to the end: one statement with its terminator, read as it is. */
    private static int indexOf(byte[] sql, byte b) {
        for (int i = 0; i < sql.length; i++) {
            if (sql[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static boolean onlyTerminators(CharSequence sql, int from) {
        for (int i = from; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (c != ';' && !Character.isWhitespace(c)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a message may hold no statement: it starts with a comment, a semicolon or nothing (statements start with
     * a word or a parenthesis), so only such messages are read closely when multi-statements are off.
     */
    private static boolean mayBeBlank(CharSequence sql) {
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (!Character.isWhitespace(c)) {
                return c == ';' || c == '/' || c == '-' || c == '#';
            }
        }
        return true;
    }

    /** COM_SET_OPTION: multi-statement messages on (0) or off (1) for the rest of the connection; answered with an EOF. */
    private ServerMessage setOption(FrontendSession s, int option) {
        return switch (option) {
            case 0, 1 -> {
                connection.multiStatements(option == 0);
                yield new ServerMessage.Eof(status(s.state()), 0);
            }
            default -> new ServerMessage.Err(ErrorCode.UNKNOWN_COMMAND.mysqlErrno(), ErrorCode.UNKNOWN_COMMAND.mysqlSqlState(),
                    "Unknown command");
        };
    }

    /** The handshake's character set (checked in {@link #handshake}); a reset connection returns to it. */
    /** The client's flags that change the server's answers (each one the proxy offers, so the client's wish holds). */
    private static io.shardgate.proxy.session.ClientFlags flags(ClientMessage.HandshakeResponse hr) {
        int caps = hr.capabilities() & Capabilities.SERVER;
        return new io.shardgate.proxy.session.ClientFlags((caps & Capabilities.FOUND_ROWS) != 0,
                (caps & Capabilities.IGNORE_SPACE) != 0, (caps & Capabilities.INTERACTIVE) != 0);
    }

    private static io.shardgate.proxy.session.ClientCharset charset(ClientMessage.HandshakeResponse hr) {
        return io.shardgate.proxy.session.ClientCharset.byCollationId(hr.collation()).orElseThrow();
    }

    private ServerMessage execute(ChannelHandlerContext ctx, FrontendSession s, ClientMessage.StmtExecute e) {
        if (e.relayPacket() != null && s.relayExecute(e.statementId(), e.parameters(), e.relayPacket(),
                new io.shardgate.proxy.backend.mysql.RelayTarget(ctx.channel(), connection.has(Capabilities.DEPRECATE_EOF),
                        connection.has(Capabilities.FOUND_ROWS), connection.peekSequence()))) {
            return null; // the shard's reply went to the client as it came
        }
        return result(ctx, s.execute(e.statementId(), e.parameters()), s, true, false);
    }

    /**
     * COM_FIELD_LIST (the mysql/mariadb clients' tab completion): the table's columns, read as the
     * metadata of {@code SELECT * … LIMIT 0} through the session, so it is routed like any query.
     */
    private ServerMessage fieldList(FrontendSession s, ClientMessage.FieldList f) {
        String table = f.table();
        if (!table.matches("[A-Za-z0-9_$]{1,64}")) {
            return err(unsupported("COM_FIELD_LIST for table '" + table + "': only plain table names are supported"));
        }
        return switch (s.query("SELECT * FROM `" + table + "` LIMIT 0")) {
            case StatementResult.Rows rows -> new ServerMessage.FieldList(rows.columns(), status(s.state()));
            case StatementResult.Stream stream -> new ServerMessage.FieldList(stream.readAll().columns(), status(s.state()));
            case StatementResult.Update ignored -> err(protocolError("COM_FIELD_LIST for " + table + " returned no columns"));
        };
    }

    private ServerMessage prepare(FrontendSession s, ClientMessage.StmtPrepare p) {
        PreparedInfo info = s.prepare(p.sql());
        // registered before the answer is written: the client may execute as soon as it reads it
        connection.registerPrepared(info.statementId(), info.parameters().size());
        return new ServerMessage.PrepareOk(info.statementId(), info.parameters(), info.columns(), status(s.state()), 0);
    }

    /** The reply to a statement; a streamed result set is written here, as its rows come, and null returned. */
    private ServerMessage result(ChannelHandlerContext ctx, StatementResult result, FrontendSession s, boolean binary, boolean more) {
        int status = status(s.state()) | (more ? STATUS_MORE_RESULTS : 0);
        return switch (result) {
            case StatementResult.Update u -> new ServerMessage.Ok(u.affectedRows(), u.lastInsertId(), status | u.queryStatus(),
                    u.warnings(), u.info());
            case StatementResult.Rows r -> new ServerMessage.ResultSet(r.columns(), r.rows(), binary, status, r.warnings());
            case StatementResult.Stream st -> {
                stream(ctx, st, s, binary, more);
                yield null;
            }
        };
    }

    /**
     * Writes a streamed result set: the definitions, the rows as they come (see {@link io.shardgate.proxy.RowPump}), then
     * the closing packet with the statement's warnings. An error after some rows propagates to {@link #command}, which
     * sends it as the ERR packet that ends the result, as a server does. A client that went away stops the shards' reads.
     */
    private void stream(ChannelHandlerContext ctx, StatementResult.Stream st, FrontendSession s, boolean binary, boolean more) {
        List<io.shardgate.proxy.session.ColumnInfo> columns = st.columns();
        try {
            ctx.write(new ServerMessage.ResultSetHead(columns, status(s.state()) | (more ? STATUS_MORE_RESULTS : 0)));
            var pumped = pump.pump(ctx.channel(), st.rows(), 0, rows -> new ServerMessage.ResultRows(columns, rows, binary));
            if (pumped.ended()) {
                // the status after the rows: a read in a transaction may have just joined it
                ctx.writeAndFlush(new ServerMessage.ResultSetEnd(status(s.state()) | (more ? STATUS_MORE_RESULTS : 0),
                        st.rows().warnings()));
            }
        } finally {
            st.rows().close();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        pump.writabilityChanged();
        ctx.fireChannelWritabilityChanged();
    }

    private static ServerMessage ok(FrontendSession s, long affected, long lastId) {
        return new ServerMessage.Ok(affected, lastId, status(s.state()), 0, "");
    }

    static int status(SessionState state) {
        return (state.inTransaction() ? STATUS_IN_TRANS : 0) | (state.autocommit() ? STATUS_AUTOCOMMIT : 0) | state.modeStatus();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof MySqlProtocolException pe) {
            LOG.warn("connection {} from {}: {}; closing it", connectionId, remoteHost(ctx), pe.getMessage());
            fail(ctx, new SqlError(pe.code().mysqlErrno(), pe.code().mysqlSqlState(), pe.getMessage(), pe.code()));
        } else if (root instanceof java.io.IOException) {
            LOG.debug("connection {}: {}", connectionId, root.toString());
            ctx.close();
        } else {
            LOG.error("connection {}: unexpected failure; closing it", connectionId, root);
            fail(ctx, internal(root));
        }
    }

    private void closeSession() {
        FrontendSession s = session;
        session = null;
        if (s != null) {
            try {
                s.close();
            } catch (RuntimeException e) {
                LOG.warn("connection {}: closing its session failed", connectionId, e);
            }
        }
    }

    /** Sends an error and closes this connection (used where the protocol cannot continue). */
    private void fail(ChannelHandlerContext ctx, SqlError error) {
        failed = true;
        sessions.errorSent(error);
        ctx.writeAndFlush(err(error)).addListener(ChannelFutureListener.CLOSE);
    }

    private static ServerMessage.Err err(SqlError e) {
        return new ServerMessage.Err(e.mysqlErrno(), e.sqlState(), e.message());
    }

    private static SqlError unsupported(String message) {
        return new ProxyException(ErrorCode.UNSUPPORTED, message).error();
    }

    private static SqlError protocolError(String message) {
        return new ProxyException(ErrorCode.MALFORMED_PACKET, "malformed packet: " + message).error();
    }

    private SqlError internal(Throwable e) {
        return new ProxyException(ErrorCode.INTERNAL, "internal error in Shardgate (connection " + connectionId + "): "
                + e + "; see the proxy log").error();
    }

    private static String remoteHost(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
    }
}

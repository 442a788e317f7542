package io.shardgate.proxy.pg;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.shardgate.cluster.Dialect;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.error.SqlError;
import io.shardgate.proxy.exec.PgErrorFields;
import io.shardgate.proxy.ClientAdmission;
import io.shardgate.proxy.pg.codec.PgProtocolException;
import io.shardgate.proxy.pg.codec.PgTypes;
import io.shardgate.proxy.pg.message.PgClientMessage;
import io.shardgate.proxy.pg.message.PgServerMessage;
import io.shardgate.proxy.session.BackendNotice;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.PgClientEncoding;
import io.shardgate.proxy.session.PreparedInfo;
import io.shardgate.proxy.session.SessionFactory;
import io.shardgate.proxy.session.SqlPreparedStatement;
import io.shardgate.proxy.session.StatementResult;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL client connection. Every message runs on the connection's own virtual thread, in order: the startup
 * and authentication, then simple and extended queries against the protocol-neutral {@link FrontendSession}. The one
 * exception is the hot path: a one-statement Query, or one extended-protocol execution ([Parse] Bind [Describe] Execute
 * Sync), the session can relay without waiting for anything ({@link FrontendSession#relayPgOnLoop},
 * {@link FrontendSession#relayPgExtendedOnLoop}) is relayed from the event loop while that thread is idle, and what
 * arrives meanwhile goes to the thread, in order, once the relay has ended (issue 15: the hand-offs between threads cost
 * more than the relay's own work). Protocol violations close this connection only.
 *
 * <p>Decisions a client may notice:
 * <ul>
 *   <li>Parse only remembers the statement; it is analysed at Bind/Describe/Execute, so a syntax error is reported
 *       there (before the batch's ReadyForQuery, as with a server). When the execution is relayed, the answers to its
 *       Parse and Bind are the shard's, so their errors come where a server sends them.</li>
 *   <li>Describe of a portal runs the portal's statement (the result columns of a bound statement are known once it
 *       ran); Execute then sends the rows already read.</li>
 *   <li>After an error inside a transaction, statements other than COMMIT/ROLLBACK/ROLLBACK TO SAVEPOINT fail with
 *       25P02 until it ends, and COMMIT rolls back, as on a server.</li>
 *   <li>The statements of one simple-query message run in implicit transactions, as on a server: the first error
 *       stops the rest and rolls back the open implicit transaction; COMMIT ends one, BEGIN turns it into the client's
 *       own. When one of them is SET, SAVEPOINT, VACUUM, CREATE DATABASE or the like, each runs on its own instead
 *       (the first error still stops the rest).</li>
 *   <li>COPY … FROM STDIN (text or CSV, alone in its query message) inserts its rows with multi-row INSERTs, each row
 *       routed by its key, in one transaction; COPY TO, from a file and in binary format are refused with 0A000
 *       ({@link PgCopyStatement}). A CancelRequest with the process id and key of an open session cancels what its
 *       statement runs on the shards at that moment (the statement fails with the shard's 57014).</li>
 * </ul>
 */
public final class PgFrontendHandler extends SimpleChannelInboundHandler<PgClientMessage> {
    private static final Logger LOG = LoggerFactory.getLogger(PgFrontendHandler.class);
    private static final String FALLBACK_SERVER_VERSION = "15.0";
    /** character_not_in_repertoire: PostgreSQL's answer to bytes that are not valid in the client encoding. */
    private static final String INVALID_BYTE_SEQUENCE = "22021";
    /** Startup parameters that change how the backend prints values; replayed as session settings. */
    private static final List<String> REPLAYED_PARAMETERS = List.of("DateStyle", "TimeZone", "IntervalStyle", "extra_float_digits");

    private enum Phase { STARTUP, MD5, SASL_INITIAL, SASL_FINAL, READY }

    /**
     * A named statement: from Parse, or from SQL PREPARE ({@code sqlPrepared} set), which share one namespace as on a
     * server (a PREPARE of a name Parse used fails with 42P05, DEALLOCATE ALL drops both kinds).
     */
    private record Statement(String sql, List<Integer> parameterTypes, SqlPreparedStatement sqlPrepared, long parsedNanos) {
        Statement(String sql, List<Integer> parameterTypes) {
            this(sql, parameterTypes, null, System.nanoTime());
        }

        Statement(String sql, List<Integer> parameterTypes, SqlPreparedStatement sqlPrepared) {
            this(sql, parameterTypes, sqlPrepared, System.nanoTime());
        }
    }

    /**
     * A bound statement; its result once run, and how many of its rows were sent. A streamed result stays open while the
     * portal is suspended, and is closed when the portal goes (Close, a new Bind of its name, the end of its transaction).
     */
    private static final class Portal {
        final Statement statement;
        final List<Object> parameters;
        final List<Short> resultFormats;
        /** The client's Bind, as sent: what a relayed execution forwards. */
        final PgClientMessage.Bind bind;
        StatementResult result;
        int sent;

        Portal(Statement statement, List<Object> parameters, List<Short> resultFormats, PgClientMessage.Bind bind) {
            this.statement = statement;
            this.parameters = parameters;
            this.resultFormats = resultFormats;
            this.bind = bind;
        }

        void close() {
            if (result instanceof StatementResult.Stream st) {
                result = new StatementResult.Rows(st.columns(), List.of(), 0);
                st.rows().close();
            }
        }
    }

    /** Writes streamed results with backpressure (see {@link io.shardgate.proxy.RowPump}). */
    private final io.shardgate.proxy.RowPump pump = new io.shardgate.proxy.RowPump();

    private final SessionFactory sessions;
    private final String authMethod;
    private final ClientAdmission admission;
    /** This connection's place among the listener's connections; null when it was refused one. */
    private ClientAdmission.Ticket ticket;
    private ScheduledFuture<?> handshakeTimer;
    private final int processId;
    private final int secretKey;
    private final CancelKeys cancelKeys;
    private final PgTls tls;
    /** The client asked for TLS and got it: a TLS handler sits in front of the decoder. */
    private boolean encrypted;
    /** The COPY FROM STDIN under way, or null. */
    private PgCopyIn copyIn;
    /** The running COPY opened its own transaction (the client had none), which it commits or rolls back. */
    private boolean copyOwnsTransaction;
    private ExecutorService worker;
    private Phase phase = Phase.STARTUP;
    private Map<String, String> startup = Map.of();
    private String user;
    private byte[] md5Salt;
    private PgAuth.Scram scram;
    /** Read by a CancelRequest's thread. */
    private volatile FrontendSession session;
    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();
    /** Messages given to the worker and not handled yet: the event loop relays a query itself only when there are none. */
    private final java.util.concurrent.atomic.AtomicInteger inWorker = new java.util.concurrent.atomic.AtomicInteger();
    /**
     * While a query relayed from the event loop runs: what arrived meanwhile, given to the worker once it has ended
     * (event loop only); null otherwise.
     */
    private java.util.ArrayDeque<Runnable> afterLoopRelay;
    /** Extended-protocol messages held on the event loop until their Sync, to be relayed from there (event loop only). */
    private List<PgClientMessage> heldOnLoop;
    /** After an error in an extended-query batch, messages up to Sync are skipped. */
    private boolean skipUntilSync;
    /**
     * A Describe of the unnamed portal held back until the next message: when that is its Execute, both may be relayed
     * as one request ({@code backend.native}); anything else runs the Describe first, as it came.
     */
    private PgClientMessage.Describe pendingDescribe;
    /**
     * The answers to the client's Parse (of the statement named so; null: none) and Bind of the unnamed portal, held back
     * while the batch may still be relayed, so that the shard's own answers (or its error in their place: a column that
     * does not exist fails the Parse, a bad value the Bind) reach the client where a server sends them. Written as soon as
     * anything else is to be answered ({@link #writeHeldAnswers}).
     */
    private String heldParse;
    private boolean heldBind;
    /** An error happened inside the open transaction. */
    private boolean failedTransaction;
    private String statementText;
    private int statementOffset;
    private volatile boolean failed;

    PgFrontendHandler(SessionFactory sessions, String authMethod, ClientAdmission admission, int processId,
            CancelKeys cancelKeys, PgTls tls) {
        super(PgClientMessage.class);
        if (!PgAuth.supported(authMethod)) {
            throw new IllegalArgumentException("PostgreSQL auth method must be scram-sha-256, md5 or trust, was " + authMethod);
        }
        this.sessions = sessions;
        this.authMethod = authMethod;
        this.admission = admission;
        this.processId = processId;
        this.cancelKeys = cancelKeys;
        this.tls = tls;
        this.secretKey = java.nio.ByteBuffer.wrap(PgAuth.random(4)).getInt();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ticket = admission.admit();
        if (ticket == null) {
            fatal(ctx, ErrorCode.TOO_MANY_CONNECTIONS.pgSqlState(), "sorry, too many clients still logging in: the proxy accepts"
                    + " at most " + admission.maxUnauthenticatedConnections() + " (limits.max-unauthenticated-connections)");
            return;
        }
        handshakeTimer = ctx.executor().schedule(() -> handshakeTimedOut(ctx), admission.handshakeTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        // the last resort: whatever escapes a message's handling answers an error and ends the connection
        worker = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("pg-session-" + processId)
                .uncaughtExceptionHandler((thread, e) -> lastResort(ctx, e)).factory());
    }

    /** PostgreSQL's authentication_timeout: a client that is not logged in by now is closed. */
    private void handshakeTimedOut(ChannelHandlerContext ctx) {
        if (ticket.isAuthenticated() || failed) {
            return;
        }
        LOG.info("pg connection {} from {}: not authenticated within {} ms; closing it", processId, remoteHost(ctx),
                admission.handshakeTimeout().toMillis());
        fatal(ctx, ErrorCode.HANDSHAKE_TIMEOUT.pgSqlState(), "canceling authentication due to timeout: not authenticated within "
                + admission.handshakeTimeout().toMillis() + " ms (limits.handshake-timeout-ms)");
    }

    private void lastResort(ChannelHandlerContext ctx, Throwable e) {
        LOG.error("pg connection {}: {} escaped its message; answering an error and closing the connection", processId,
                e.toString(), e);
        fatal(ctx, ErrorCode.INTERNAL.pgSqlState(), "internal error in Shardgate (connection " + processId + "): " + e
                + "; see the proxy log");
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        pump.writabilityChanged();
        ctx.fireChannelWritabilityChanged();
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
            cancelKeys.unregister(processId);
            FrontendSession s = session;
            if (s != null) {
                s.clientGone(); // a statement still running is cancelled on its shards, not left to run on
            }
            Runnable close = () -> {
                worker.execute(this::closeSession);
                worker.shutdown();
            };
            heldOnLoop = null; // the client is gone: its unanswered messages with it
            if (afterLoopRelay != null) {
                afterLoopRelay.add(close); // after the relay from the event loop has ended
            } else {
                close.run();
            }
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, PgClientMessage msg) {
        if (failed || worker == null) {
            return;
        }
        if (afterLoopRelay != null) {
            afterLoopRelay.add(() -> toWorker(ctx, msg));
        } else if (heldOnLoop != null) {
            holdOnLoop(ctx, msg);
        } else if (msg instanceof PgClientMessage.Query q && inWorker.get() == 0 && relayedOnLoop(ctx, q.sql())) {
            return;
        } else if ((msg instanceof PgClientMessage.Parse || msg instanceof PgClientMessage.Bind) && inWorker.get() == 0
                && mayRelayOnLoop()) {
            heldOnLoop = new ArrayList<>(5);
            holdOnLoop(ctx, msg);
        } else {
            toWorker(ctx, msg);
        }
    }

    /**
     * Holds an extended-protocol message on the event loop while the batch so far has the shape the loop relays
     * ({@link #loopBatchShape}); runs the batch at its Sync. Anything else gives the held messages, in order, to the worker.
     */
    private void holdOnLoop(ChannelHandlerContext ctx, PgClientMessage msg) {
        List<PgClientMessage> batch = heldOnLoop;
        batch.add(msg);
        int shape = loopBatchShape(batch);
        if (shape == 0) {
            return;
        }
        heldOnLoop = null;
        if (shape < 0 || !extendedOnLoop(ctx, batch)) {
            batch.forEach(m -> toWorker(ctx, m));
        }
    }

    /**
     * Whether {@code batch} is (-1: is not, 0: may become, 1: is) one execution the event loop may relay:
     * [Parse] Bind [Describe of the portal] Execute of all rows, Sync, all of the unnamed portal, as libpq
     * (PQexecParams, PQexecPrepared) and pgJDBC send one statement.
     */
    static int loopBatchShape(List<PgClientMessage> batch) {
        int n = batch.size();
        int i = batch.getFirst() instanceof PgClientMessage.Parse ? 1 : 0;
        if (i == n) {
            return 0;
        }
        if (!(batch.get(i++) instanceof PgClientMessage.Bind b && b.portal().isEmpty())) {
            return -1;
        }
        if (i < n && batch.get(i) instanceof PgClientMessage.Describe d) {
            if (d.kind() != 'P' || !d.name().isEmpty()) {
                return -1;
            }
            i++;
        }
        if (i == n) {
            return 0;
        }
        if (!(batch.get(i++) instanceof PgClientMessage.Execute e && e.portal().isEmpty() && e.maxRows() == 0)) {
            return -1;
        }
        if (i == n) {
            return 0;
        }
        return batch.get(i) instanceof PgClientMessage.Sync && i + 1 == n ? 1 : -1;
    }

    /** The session is idle in a state where a relay from the event loop may answer its next messages. */
    private boolean mayRelayOnLoop() {
        return phase == Phase.READY && copyIn == null && !skipUntilSync && pendingDescribe == null && heldParse == null
                && !heldBind && !failedTransaction
                && session != null && session.relaysPg() && !session.state().inTransaction();
    }

    /**
     * Relays one extended-protocol execution ({@link #loopBatchShape}) from the event loop, as {@link #relayedOnLoop}
     * relays a Query: the shard's reply, written as it comes, answers the client's Parse, Bind, Describe and Execute
     * (with the shard's errors where a server sends them: a bad parameter value fails the Bind), and the Sync is answered
     * once it has ended. False: nothing ran and no state changed; the worker runs the messages as usual (which also
     * reports any error of theirs).
     */
    private boolean extendedOnLoop(ChannelHandlerContext ctx, List<PgClientMessage> batch) {
        if (!mayRelayOnLoop()) {
            return false;
        }
        PgClientMessage.Parse parse = batch.getFirst() instanceof PgClientMessage.Parse p ? p : null;
        PgClientMessage.Bind bind = (PgClientMessage.Bind) batch.get(parse == null ? 0 : 1);
        boolean describe = batch.stream().anyMatch(m -> m instanceof PgClientMessage.Describe);
        Statement statement;
        if (parse != null) {
            if (!parse.name().equals(bind.statement()) || PgClientEncoding.invalidUtf8(parse.sql()).isPresent()
                    || (!parse.name().isEmpty() && statements.containsKey(parse.name()))) {
                return false;
            }
            statement = new Statement(parse.sql(), parse.parameterTypes());
        } else {
            statement = statements.get(bind.statement());
        }
        if (statement == null || !relayable(statement)) {
            return false;
        }
        List<Object> parameters;
        try {
            parameters = boundValues(statement, bind, false);
        } catch (ProxyException e) {
            return false;
        }
        if (parameters == null) {
            return false;
        }
        // the shard's reply answers the client's Parse and Bind too (a ParseComplete of the proxy's where the shard's
        // connection had the statement already), so an error there comes where a server sends it
        io.shardgate.proxy.backend.pg.PgExtendedRequest request = request(statement, bind, describe, true, parse != null);
        Statement replacedStatement = parse == null ? null : statements.put(parse.name(), statement);
        afterLoopRelay = new java.util.ArrayDeque<>();
        boolean began;
        try {
            began = session.relayPgExtendedOnLoop(statement.sql(), parameters, request, ctx.channel(),
                    (outcome, error) -> {
                        if (outcome == io.shardgate.proxy.session.RelayOutcome.PARSE_FAILED) {
                            statements.remove(parse.name()); // as on a server, the statement the shard refused is not there
                        }
                        extendedOnLoopDone(ctx, statement.sql(), parse != null, error);
                    });
        } catch (RuntimeException e) {
            LOG.warn("pg connection {}: relaying from the event loop failed before anything ran; the usual way runs it", processId, e);
            began = false;
        }
        if (!began) {
            afterLoopRelay = null;
            if (parse != null && replacedStatement != null) {
                statements.put(parse.name(), replacedStatement);
            } else if (parse != null) {
                statements.remove(parse.name());
            }
            return false;
        }
        Portal replaced = portals.remove("");
        if (replaced != null) {
            replaced.close();
        }
        return true;
    }

    /**
     * The end of an extended-protocol relay from the event loop: the error if nothing had reached the client (after the
     * answers to the client's Parse, when {@code parsed}, and Bind), the batch's Sync answered (an error skipped the rest of the batch, which was only the Sync), then what arrived meanwhile.
     */
    private void extendedOnLoopDone(ChannelHandlerContext ctx, String sql, boolean parsed, ProxyException error) {
        try {
            if (error != null) {
                // nothing of the shard's reached the client: its Parse and Bind had succeeded here, the execution failed
                if (parsed) {
                    write(new PgServerMessage.ParseComplete());
                }
                write(new PgServerMessage.BindComplete());
                runningStatement(sql, 0);
                error(ctx, error);
            }
            readyForQuery(ctx);
        } catch (RuntimeException e) {
            lastResort(ctx, e);
        } finally {
            java.util.ArrayDeque<Runnable> waiting = afterLoopRelay;
            afterLoopRelay = null;
            if (waiting != null) {
                waiting.forEach(Runnable::run);
            }
        }
    }

    private void toWorker(ChannelHandlerContext ctx, PgClientMessage msg) {
        inWorker.incrementAndGet();
        worker.execute(() -> {
            try {
                handle(ctx, msg);
            } finally {
                inWorker.decrementAndGet();
            }
        });
    }

    /**
     * A one-statement query message relayed from the event loop (the session's thread is idle and stays so until the
     * reply has ended; see {@link FrontendSession#relayPgOnLoop}): the same statements as {@link #relayed}, when the
     * session can relay them without waiting for anything. False: nothing ran, the worker runs the message as usual.
     * Reads the session's state on the loop: the worker has finished every message before (the counter's decrement
     * publishes what it wrote), and is given none until the relay ends.
     */
    private boolean relayedOnLoop(ChannelHandlerContext ctx, String sql) {
        if (phase != Phase.READY || copyIn != null || skipUntilSync || pendingDescribe != null || failedTransaction
                || session == null || !session.relaysPg() || session.state().inTransaction()
                || PgClientEncoding.invalidUtf8(sql).isPresent()) {
            return false;
        }
        List<String> parts = PgStatements.split(sql);
        if (parts.size() != 1) {
            return false;
        }
        String statement = parts.getFirst();
        if (PgStatements.firstWordIs(statement, "COPY") || PgStatements.implicitTransactions(parts)
                || sqlPrepareCommand(statement).isPresent()) {
            return false;
        }
        afterLoopRelay = new java.util.ArrayDeque<>();
        boolean began;
        try {
            began = session.relayPgOnLoop(statement, sql, ctx.channel(), (outcome, error) -> loopRelayDone(ctx, statement, error));
        } catch (RuntimeException e) {
            LOG.warn("pg connection {}: relaying from the event loop failed before anything ran; the usual way runs it", processId, e);
            began = false;
        }
        if (!began) {
            afterLoopRelay = null;
        }
        return began;
    }

    /** The end of a relay from the event loop: the error if nothing had reached the client, then what arrived meanwhile. */
    private void loopRelayDone(ChannelHandlerContext ctx, String statement, ProxyException error) {
        try {
            if (error != null) {
                runningStatement(statement, 0);
                error(ctx, error);
                readyForQuery(ctx);
            } else {
                // the shard's ReadyForQuery said 'I', as readyForQuery would for this idle session
                portals.remove("");
            }
        } catch (RuntimeException e) {
            lastResort(ctx, e);
        } finally {
            java.util.ArrayDeque<Runnable> waiting = afterLoopRelay;
            afterLoopRelay = null;
            if (waiting != null) {
                waiting.forEach(Runnable::run);
            }
        }
    }

    private void handle(ChannelHandlerContext ctx, PgClientMessage msg) {
        if (failed) {
            return;
        }
        try {
            switch (phase) {
                case STARTUP -> startupPhase(ctx, msg);
                case MD5, SASL_INITIAL, SASL_FINAL -> authPhase(ctx, msg);
                case READY -> command(ctx, msg);
            }
        } catch (RuntimeException e) {
            LOG.error("pg connection {}: {} failed", processId, msg.getClass().getSimpleName(), e);
            fatal(ctx, ErrorCode.INTERNAL.pgSqlState(), "internal error in Shardgate (connection " + processId + "): " + e
                    + "; see the proxy log");
        } catch (StackOverflowError e) {
            // the router refuses statements past limits.max-statement-*; anything else that overflows ends here
            lastResort(ctx, e);
        }
    }

    // ---- startup and authentication

    private void startupPhase(ChannelHandlerContext ctx, PgClientMessage msg) {
        switch (msg) {
            case PgClientMessage.SslRequest ignored -> {
                if (tls.enabled() && !encrypted) {
                    // The TLS handler goes in front of the decoder before the 'S' leaves, in one event-loop task, so
                    // the client's ClientHello (sent once it has the 'S') cannot reach the decoder as plain bytes.
                    // The 'S' is written from the TLS handler's own context, which passes it by in the clear.
                    encrypted = true;
                    ctx.channel().eventLoop().execute(() -> {
                        ctx.pipeline().addFirst("tls", tls.newHandler(ctx.alloc()));
                        ctx.pipeline().context("tls").writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {'S'}));
                    });
                } else {
                    ctx.writeAndFlush(new PgServerMessage.EncryptionRefused());
                }
            }
            case PgClientMessage.GssEncRequest ignored -> ctx.writeAndFlush(new PgServerMessage.EncryptionRefused());
            case PgClientMessage.CancelRequest c -> {
                // the connection carries nothing else; no answer either way, as from a server
                if (!cancelKeys.cancel(c.processId(), c.secretKey())) {
                    LOG.debug("pg connection {}: CancelRequest for unknown session {} or wrong key", processId, c.processId());
                }
                ctx.close();
            }
            case PgClientMessage.Startup s -> startup(ctx, s);
            default -> protocolViolation(ctx, "expected a startup message, got " + msg.getClass().getSimpleName());
        }
    }

    private void startup(ChannelHandlerContext ctx, PgClientMessage.Startup s) {
        if (tls.require() && !encrypted) {
            fatal(ctx, "28000", "this Shardgate listener requires TLS (tls.require is true): connect with sslmode=require");
            return;
        }
        startup = s.parameters();
        user = startup.get("user");
        if (user == null || user.isEmpty()) {
            fatal(ctx, "28000", "no PostgreSQL user name specified in startup packet");
            return;
        }
        Optional<Dialect> dialect = sessions.dialect();
        if (dialect.isPresent() && dialect.get() != Dialect.POSTGRES) {
            fatal(ctx, ErrorCode.UNSUPPORTED.pgSqlState(), "this Shardgate cluster is " + dialect.get()
                    + "-family: connect with a MySQL client to the proxy's MySQL port (listen.mysql-port)");
            return;
        }
        Optional<String> password = sessions.password(user);
        switch (authMethod) {
            case PgAuth.TRUST -> {
                if (password.isEmpty()) {
                    fatal(ctx, ErrorCode.ACCESS_DENIED.pgSqlState(), "role \"" + user + "\" does not exist");
                    return;
                }
                authenticated(ctx);
            }
            case PgAuth.MD5 -> {
                md5Salt = PgAuth.random(4);
                phase = Phase.MD5;
                ctx.writeAndFlush(new PgServerMessage.AuthenticationMd5(md5Salt));
            }
            default -> {
                // an unknown user goes through the same exchange and fails at its end, as on a server
                scram = new PgAuth.Scram(password.orElseGet(() -> java.util.HexFormat.of().formatHex(PgAuth.random(16))));
                phase = Phase.SASL_INITIAL;
                ctx.writeAndFlush(new PgServerMessage.AuthenticationSasl(List.of(PgAuth.SCRAM_MECHANISM)));
            }
        }
    }

    private void authPhase(ChannelHandlerContext ctx, PgClientMessage msg) {
        if (!(msg instanceof PgClientMessage.AuthData auth)) {
            protocolViolation(ctx, "expected a password message, got " + msg.getClass().getSimpleName());
            return;
        }
        Optional<String> password = sessions.password(user);
        switch (phase) {
            case MD5 -> {
                if (password.isPresent() && PgAuth.verifyMd5(user, password.get(), md5Salt, auth.data())) {
                    authenticated(ctx);
                } else {
                    passwordFailed(ctx);
                }
            }
            case SASL_INITIAL -> {
                Optional<byte[]> first = scram.serverFirst(auth.data());
                if (first.isEmpty()) {
                    fatal(ctx, "08P01", "malformed SCRAM-SHA-256 initial response (or channel binding asked for; it is not offered)");
                    return;
                }
                phase = Phase.SASL_FINAL;
                ctx.writeAndFlush(new PgServerMessage.AuthenticationSaslContinue(first.get()));
            }
            case SASL_FINAL -> {
                Optional<byte[]> last = scram.serverFinal(auth.data());
                if (last.isEmpty() || password.isEmpty()) {
                    passwordFailed(ctx);
                    return;
                }
                ctx.write(new PgServerMessage.AuthenticationSaslFinal(last.get()));
                authenticated(ctx);
            }
            case STARTUP, READY -> protocolViolation(ctx, "password message outside authentication");
        }
    }

    /**
     * A wrong password: the FATAL goes out after the address's throttle delay, scheduled on the event loop (neither it
     * nor this session's thread waits); messages arriving meanwhile are dropped.
     */
    private void passwordFailed(ChannelHandlerContext ctx) {
        String message = "password authentication failed for user \"" + user + "\"";
        java.time.Duration delay = admission.throttle().failed(remoteHost(ctx), user, "PostgreSQL");
        if (delay.isZero()) {
            fatal(ctx, ErrorCode.ACCESS_DENIED.pgSqlState(), message);
            return;
        }
        failed = true;
        handshakeTimer.cancel(false);
        ctx.executor().schedule(() -> fatal(ctx, ErrorCode.ACCESS_DENIED.pgSqlState(), message), delay.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void authenticated(ChannelHandlerContext ctx) {
        admission.throttle().succeeded(remoteHost(ctx));
        handshakeTimer.cancel(false);
        if (!ticket.authenticate()) {
            fatal(ctx, ErrorCode.TOO_MANY_CONNECTIONS.pgSqlState(), "sorry, too many clients already: the proxy accepts at most "
                    + admission.maxConnections() + " (limits.max-connections)");
            return;
        }
        String database = startup.getOrDefault("database", user);
        String requested = startup.getOrDefault("client_encoding", "UTF8");
        Optional<String> encoding = PgClientEncoding.served(requested);
        if (encoding.isEmpty()) {
            // the shards talk UTF8 to the proxy: any conversion would be the proxy's, and a silent one is worse than none
            fatal(ctx, ErrorCode.UNSUPPORTED.pgSqlState(), "client_encoding \"" + requested + "\" is not supported by Shardgate;"
                    + " connect with client_encoding " + PgClientEncoding.SUPPORTED);
            return;
        }
        try {
            // the session's id is the pid of BackendKeyData, which SELECT pg_backend_pid() answers
            session = sessions.open(new ClientInfo(user, database, remoteHost(ctx), startup,
                    io.shardgate.proxy.session.ClientCharset.UTF8MB4, io.shardgate.proxy.session.ClientFlags.DEFAULT, processId));
            for (String name : REPLAYED_PARAMETERS) {
                String value = startup.get(name);
                if (value != null && !value.isEmpty()) {
                    session.query("SET " + name + " = '" + value.replace("'", "''") + "'");
                }
            }
        } catch (ProxyException e) {
            SqlError error = e.error();
            String message = e.code() == ErrorCode.UNKNOWN_DATABASE ? "database \"" + database + "\" does not exist" : error.message();
            closeSession();
            fatal(ctx, sqlState(error), message);
            return;
        }
        phase = Phase.READY;
        ctx.write(new PgServerMessage.AuthenticationOk());
        String version = sessions.serverVersion();
        parameter(ctx, "server_version", version.isEmpty() || !Character.isDigit(version.charAt(0)) ? FALLBACK_SERVER_VERSION : version);
        parameter(ctx, "server_encoding", "UTF8");
        parameter(ctx, "client_encoding", encoding.get());
        parameter(ctx, "DateStyle", startup.getOrDefault("DateStyle", "ISO, MDY"));
        parameter(ctx, "TimeZone", startup.getOrDefault("TimeZone", "UTC"));
        parameter(ctx, "IntervalStyle", startup.getOrDefault("IntervalStyle", "postgres"));
        parameter(ctx, "integer_datetimes", "on");
        parameter(ctx, "standard_conforming_strings", "on");
        parameter(ctx, "is_superuser", "off");
        parameter(ctx, "session_authorization", user);
        parameter(ctx, "application_name", startup.getOrDefault("application_name", ""));
        ctx.write(new PgServerMessage.BackendKeyData(processId, secretKey));
        cancelKeys.register(processId, secretKey, this::cancelRunningStatement);
        readyForQuery(ctx);
    }

    private static void parameter(ChannelHandlerContext ctx, String name, String value) {
        ctx.write(new PgServerMessage.ParameterStatus(name, value));
    }

    // ---- commands

    private void command(ChannelHandlerContext ctx, PgClientMessage msg) {
        if (copyIn != null) {
            copyMessage(ctx, msg);
            return;
        }
        if (skipUntilSync && !(msg instanceof PgClientMessage.Sync) && !(msg instanceof PgClientMessage.Terminate)) {
            return;
        }
        if (!keepsHeldAnswers(msg)) {
            writeHeldAnswers();
        }
        if (pendingDescribe != null && !(msg instanceof PgClientMessage.Execute e && e.portal().isEmpty())) {
            PgClientMessage.Describe d = pendingDescribe;
            pendingDescribe = null;
            extended(ctx, () -> describe(ctx, d));
            if (skipUntilSync && !(msg instanceof PgClientMessage.Sync) && !(msg instanceof PgClientMessage.Terminate)) {
                return;
            }
        }
        switch (msg) {
            case PgClientMessage.Query q -> simpleQuery(ctx, q.sql());
            case PgClientMessage.Parse p -> extended(ctx, () -> parse(p));
            case PgClientMessage.Bind b -> extended(ctx, () -> bind(b));
            case PgClientMessage.Describe d -> extended(ctx, () -> {
                if (relayCandidate(d.kind() == 'P' ? portals.get(d.name()) : null, d.name(), 0)) {
                    pendingDescribe = d;
                } else {
                    writeHeldAnswers();
                    describe(ctx, d);
                }
            });
            case PgClientMessage.Execute e -> extended(ctx, () -> {
                PgClientMessage.Describe d = pendingDescribe;
                pendingDescribe = null;
                if (!relayedExecute(ctx, e, d != null)) {
                    writeHeldAnswers();
                    if (d != null) {
                        describe(ctx, d);
                    }
                    execute(ctx, e);
                }
            });
            case PgClientMessage.Close c -> extended(ctx, () -> close(c));
            case PgClientMessage.Sync ignored -> {
                skipUntilSync = false;
                readyForQuery(ctx);
            }
            case PgClientMessage.Flush ignored -> ctx.flush();
            case PgClientMessage.Terminate ignored -> {
                closeSession();
                ctx.close();
            }
            // outside a COPY (after one failed, say) they are dropped, as by a server
            case PgClientMessage.CopyData ignored -> { }
            case PgClientMessage.CopyDone ignored -> { }
            case PgClientMessage.CopyFail ignored -> { }
            case PgClientMessage.FunctionCall ignored -> {
                // answered like a simple query: the error, then ReadyForQuery; the connection goes on
                error(ctx, new ProxyException(ErrorCode.UNSUPPORTED, "the function-call message (fastpath) is not supported by"
                        + " Shardgate: call the function with SELECT").error());
                readyForQuery(ctx);
            }
            case PgClientMessage.Unknown u -> protocolViolation(ctx, "invalid frontend message type " + (int) u.type());
            case PgClientMessage.AuthData ignored -> protocolViolation(ctx, "password message after authentication");
            case PgClientMessage.SslRequest ignored -> protocolViolation(ctx, "SSLRequest after startup");
            case PgClientMessage.GssEncRequest ignored -> protocolViolation(ctx, "GSSENCRequest after startup");
            case PgClientMessage.Startup ignored -> protocolViolation(ctx, "startup message after startup");
            case PgClientMessage.CancelRequest ignored -> protocolViolation(ctx, "CancelRequest after startup");
        }
    }

    private void simpleQuery(ChannelHandlerContext ctx, String sql) {
        Optional<String> invalid = PgClientEncoding.invalidUtf8(sql);
        if (invalid.isPresent()) {
            error(ctx, pgError(INVALID_BYTE_SEQUENCE, invalid.get()));
            readyForQuery(ctx);
            return;
        }
        List<String> parts = PgStatements.split(sql);
        if (parts.stream().anyMatch(s -> PgStatements.firstWordIs(s, "COPY"))) {
            if (parts.size() == 1) {
                startCopy(ctx, parts.getFirst());
            } else {
                error(ctx, PgCopyStatement.refused("COPY must be the only statement of its query message through Shardgate"));
                readyForQuery(ctx);
            }
            return;
        }
        if (parts.isEmpty()) {
            ctx.write(new PgServerMessage.EmptyQueryResponse());
        } else if (parts.size() == 1 && relayed(ctx, sql, parts.getFirst())) {
            return;
        }
        // A server runs the statements of one message in an implicit transaction: it starts before a statement run
        // outside a transaction, commits at the end of the message or at a COMMIT, becomes a regular transaction at a
        // BEGIN, and the first error rolls it back.
        boolean implicitTransactions = PgStatements.implicitTransactions(parts);
        boolean implicitOpen = false;
        int searchFrom = 0;
        runningStatement(null, 0);
        try {
            for (String statement : parts) {
                int at = sql.indexOf(statement, searchFrom);
                searchFrom = at < 0 ? searchFrom : at + statement.length();
                runningStatement(at < 0 ? null : statement, at < 0 ? 0 : sql.codePointCount(0, at));
                PgStatements.TransactionRole role = implicitTransactions ? PgStatements.transactionRole(statement)
                        : PgStatements.TransactionRole.OTHER;
                StatementResult result;
                if (implicitTransactions && implicitOpen && role != PgStatements.TransactionRole.OTHER) {
                    implicitOpen = false;
                    if (role == PgStatements.TransactionRole.BEGIN) {
                        result = StatementResult.Update.of(0);   // the open transaction goes on as the client's own
                    } else {
                        // a server warns that it ends an implicit transaction, not one the client began
                        write(new PgServerMessage.ErrorResponse(true, "WARNING", "25P01", "there is no transaction in progress"));
                        result = run(statement, List.of());
                    }
                } else {
                    if (implicitTransactions && role == PgStatements.TransactionRole.OTHER && !session.state().inTransaction()) {
                        session.query("BEGIN");
                        implicitOpen = true;
                    }
                    result = run(statement, List.of());
                }
                if (result instanceof StatementResult.Stream st) {
                    List<Short> text = Collections.nCopies(st.columns().size(), (short) 0);
                    io.shardgate.proxy.RowPump.Pumped pumped;
                    try {
                        ctx.write(new PgServerMessage.RowDescription(st.columns(), text));
                        pumped = pumpRows(st, text, 0);
                    } finally {
                        st.rows().close();
                    }
                    if (!pumped.ended()) {
                        return; // the client went away
                    }
                    ctx.write(new PgServerMessage.CommandComplete(tag(statement, sentRows(pumped.rows()))));
                    continue;
                }
                if (result instanceof StatementResult.Rows r) {
                    List<Short> text = Collections.nCopies(r.columns().size(), (short) 0);
                    ctx.write(new PgServerMessage.RowDescription(r.columns(), text));
                    ctx.write(new PgServerMessage.DataRows(r.columns(), text, r.rows()));
                }
                ctx.write(new PgServerMessage.CommandComplete(tag(statement, result)));
            }
            if (implicitOpen) {
                implicitOpen = false;
                session.query("COMMIT");
            }
        } catch (ProxyException e) {
            error(ctx, e);
        }
        if (implicitOpen && session.state().inTransaction()) {
            // the first error ends the message and undoes what the implicit transaction did, as on a server
            try {
                session.query("ROLLBACK");
            } catch (ProxyException e) {
                LOG.warn("pg connection {}: rolling back a multi-statement query failed: {}", processId, e.getMessage());
            }
            failedTransaction = false;
        }
        readyForQuery(ctx);
    }

    /**
     * A one-statement query message of an idle session relayed to its shard ({@code backend.native}, see
     * {@link FrontendSession#relayPg}): the shard's reply, ReadyForQuery included, went to the client as it came. The
     * client's whole text goes out (its own bytes: comments and the final semicolon too), so an error's POSITION is the
     * server's for the client's text.
     */
    private boolean relayed(ChannelHandlerContext ctx, String sql, String statement) {
        if (failedTransaction || session.state().inTransaction() || PgStatements.implicitTransactions(List.of(statement))
                || sqlPrepareCommand(statement).isPresent()) {
            return false;
        }
        runningStatement(statement, 0);
        try {
            if (!session.relayPg(statement, sql, ctx.channel())) {
                return false;
            }
        } catch (ProxyException e) {
            error(ctx, e);   // nothing reached the client (or its connection is closed already)
            readyForQuery(ctx);
            return true;
        }
        // the shard's ReadyForQuery said 'I', as readyForQuery would for this idle session
        portals.remove("");
        return true;
    }

    /**
     * Whether the portal {@code name} might be relayed when executed ({@code backend.native}; the session decides): the
     * unnamed portal, not run yet, all rows at once, outside a transaction block. Its statement, unnamed or named, must
     * be one the shard can take as it is ({@link #relayable}); a named one is kept prepared on each shard connection
     * that ran it (see {@code PgPreparedStatements}), so the shard plans it once per connection, as a server would once
     * per session.
     */
    private boolean relayCandidate(Portal portal, String name, int maxRows) {
        return portal != null && name.isEmpty() && maxRows == 0 && portal.result == null && portal.bind != null
                && session.relaysPg() && !failedTransaction && !session.state().inTransaction() && relayable(portal.statement);
    }

    /** A statement of the extended protocol the shard can be given as the client wrote it: one statement, no SQL PREPARE. */
    private static boolean relayable(Statement statement) {
        return statement.sqlPrepared() == null && !PgStatements.isBlank(statement.sql())
                && sqlPrepareCommand(statement.sql()).isEmpty() && PgStatements.split(statement.sql()).size() == 1;
    }

    /**
     * An Execute of the unnamed portal relayed to its shard with the client's Parse and Bind (and its Describe, held
     * back): the shard's RowDescription or NoData, DataRows and CommandComplete or ErrorResponse went to the client. An
     * error skips the batch to its Sync, as any error does here; the portal has run (its rows are gone).
     */
    private boolean relayedExecute(ChannelHandlerContext ctx, PgClientMessage.Execute e, boolean describe) {
        Portal portal = portals.get(e.portal());
        if (!relayCandidate(portal, e.portal(), e.maxRows())) {
            return false;
        }
        io.shardgate.proxy.backend.pg.PgExtendedRequest request = request(portal.statement, portal.bind, describe, heldBind,
                heldParse != null);
        runningStatement(portal.statement.sql(), 0);
        io.shardgate.proxy.session.RelayOutcome outcome = session.relayPgExtended(portal.statement.sql(), portal.parameters,
                request, ctx.channel());
        switch (outcome) {
            case NOT_RELAYED -> {
                return false;
            }
            case ANSWERED -> heldAnswersRelayed();
            case FAILED -> {
                heldAnswersRelayed();
                skipUntilSync = true;
            }
            case PARSE_FAILED -> {
                statements.remove(heldParse);
                heldAnswersRelayed();
                skipUntilSync = true;
            }
        }
        portals.remove(e.portal());
        return true;
    }

    /**
     * The shard's request for an execution of {@code statement} bound by {@code b}; its reply answers the client's Bind
     * ({@code answersBind}) and Parse ({@code answersParse}) when their answers were held back.
     */
    private static io.shardgate.proxy.backend.pg.PgExtendedRequest request(Statement statement, PgClientMessage.Bind b,
            boolean describe, boolean answersBind, boolean answersParse) {
        return new io.shardgate.proxy.backend.pg.PgExtendedRequest(statement.sql(), statement.parameterTypes(),
                b.parameterFormats(), b.values(), b.resultFormats(), describe, !b.statement().isEmpty(), answersBind,
                answersBind && answersParse, statement.parsedNanos());
    }

    // ---- COPY FROM STDIN

    /**
     * Answers a COPY FROM STDIN with CopyInResponse; the rows then arrive as CopyData and go in as INSERTs
     * ({@link PgCopyIn}), inside the client's transaction or one opened for the COPY, so that an error leaves nothing.
     */
    private void startCopy(ChannelHandlerContext ctx, String sql) {
        try {
            if (failedTransaction && session.state().inTransaction()) {
                throw pgError("25P02", "current transaction is aborted, commands ignored until end of transaction block");
            }
            PgCopyStatement copy = PgCopyStatement.parse(sql);
            List<String> columns = copy.columns().isEmpty() ? tableColumns(copy.table()) : copy.columns();
            boolean own = !session.state().inTransaction();
            if (own) {
                session.query("BEGIN");
            }
            copyIn = new PgCopyIn(copy, columns, session);
            copyOwnsTransaction = own;
            ctx.writeAndFlush(new PgServerMessage.CopyInResponse(columns.size()));
        } catch (ProxyException e) {
            error(ctx, e);
            readyForQuery(ctx);
        }
    }

    /** The table's columns in order, as the shards describe them (a query that reads no row), quoted where needed. */
    private List<String> tableColumns(String table) {
        StatementResult result = StatementResult.whole(session.query("SELECT * FROM " + table + " WHERE false"));
        if (!(result instanceof StatementResult.Rows r)) {
            throw PgCopyStatement.refused("cannot read the columns of " + table + " for COPY");
        }
        List<String> names = new ArrayList<>(r.columns().size());
        for (ColumnInfo c : r.columns()) {
            names.add(c.name().matches("[a-z_][a-z0-9_$]*") ? c.name() : "\"" + c.name().replace("\"", "\"\"") + "\"");
        }
        return names;
    }

    private void copyMessage(ChannelHandlerContext ctx, PgClientMessage msg) {
        switch (msg) {
            case PgClientMessage.CopyData d -> {
                try {
                    copyIn.data(d.data());
                } catch (ProxyException e) {
                    endCopy(ctx, e);
                }
            }
            case PgClientMessage.CopyDone ignored -> {
                long rows;
                try {
                    rows = copyIn.finish();
                    copyIn = null;
                    if (copyOwnsTransaction) {
                        session.query("COMMIT");
                    }
                } catch (ProxyException e) {
                    endCopy(ctx, e);
                    return;
                }
                for (BackendNotice n : session.takeNotices()) {
                    write(new PgServerMessage.ErrorResponse(true, n.severity(), n.sqlState(), n.message()));
                }
                ctx.write(new PgServerMessage.CommandComplete("COPY " + rows));
                readyForQuery(ctx);
            }
            case PgClientMessage.CopyFail f -> endCopy(ctx, pgError("57014", "COPY from stdin failed: " + f.reason()));
            case PgClientMessage.Flush ignored -> { }   // ignored during copy-in, as by a server
            case PgClientMessage.Sync ignored -> { }
            case PgClientMessage.Terminate ignored -> {
                copyIn = null;
                closeSession();
                ctx.close();
            }
            default -> endCopy(ctx, pgError("08P01", "unexpected message " + msg.getClass().getSimpleName() + " during COPY from stdin"));
        }
    }

    /** The COPY failed: nothing of it stays (the transaction opened for it is rolled back), the error, ReadyForQuery. */
    private void endCopy(ChannelHandlerContext ctx, ProxyException e) {
        copyIn = null;
        if (copyOwnsTransaction && session.state().inTransaction()) {
            try {
                session.query("ROLLBACK");
            } catch (ProxyException rollback) {
                LOG.warn("pg connection {}: rolling back a failed COPY failed: {}", processId, rollback.getMessage());
            }
        }
        error(ctx, e);
        readyForQuery(ctx);
    }

    /** Runs one statement through the session, keeping PostgreSQL's rules for a failed transaction. */
    private StatementResult run(String sql, List<Object> parameters) {
        List<String> words = PgStatements.words(sql, 3);
        String first = words.isEmpty() ? "" : words.getFirst();
        if (first.equals("COPY")) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "COPY … FROM STDIN is supported by Shardgate in a simple-query"
                    + " message only (as psql, pgbench and pgJDBC's CopyManager send it), not through Parse/Bind/Execute");
        }
        boolean ends = first.equals("COMMIT") || first.equals("END") || first.equals("ROLLBACK") || first.equals("ABORT");
        boolean toSavepoint = first.equals("ROLLBACK") && words.contains("TO");
        if (failedTransaction && session.state().inTransaction()) {
            if (!ends) {
                throw pgError("25P02", "current transaction is aborted, commands ignored until end of transaction block");
            }
            if (!toSavepoint) {
                session.query("ROLLBACK");
                failedTransaction = false;
                return StatementResult.Update.of(0);
            }
        }
        Optional<PgPrepareStatement> prepared = sqlPrepareCommand(sql);
        if (prepared.isPresent() && !parameters.isEmpty()) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, first + " with bound parameters ($n) is not supported by Shardgate;"
                    + " write the values into the statement");
        }
        StatementResult result;
        try {
            result = prepared.isPresent() ? sqlPrepared(prepared.get())
                    : parameters.isEmpty() ? session.query(sql) : session.query(sql, parameters);
        } finally {
            // before the statement's rows, CommandComplete or error, as a server sends them while it runs
            for (BackendNotice n : session.takeNotices()) {
                write(new PgServerMessage.ErrorResponse(true, n.severity(), n.sqlState(), n.message()));
            }
        }
        if (toSavepoint) {
            failedTransaction = false;
        }
        if (first.equals("DISCARD") && words.size() > 1 && words.get(1).equals("ALL")) {
            // DISCARD ALL deallocates every prepared statement, as on a server (the session dropped the rest of its state)
            statements.clear();
        }
        return result;
    }

    /**
     * SQL PREPARE, EXECUTE and DEALLOCATE: the names live here, beside the extended protocol's; the session checks a
     * PREPARE's statement and runs an EXECUTE's (see {@link FrontendSession#prepareSql}).
     */
    private StatementResult sqlPrepared(PgPrepareStatement command) {
        switch (command) {
            case PgPrepareStatement.Prepare p -> {
                if (statements.containsKey(p.name())) {
                    throw pgError("42P05", "prepared statement \"" + p.name() + "\" already exists");
                }
                statements.put(p.name(), new Statement(p.body(), List.of(), session.prepareSql(p.body(), p.types())));
                return StatementResult.Update.of(0);
            }
            case PgPrepareStatement.Execute e -> {
                return session.executeSql(e.name(), executed(e), e.arguments());
            }
            case PgPrepareStatement.Deallocate d -> {
                if (d.name().isEmpty()) {
                    statements.clear();
                } else if (statements.remove(d.name().get()) == null) {
                    throw pgError("26000", "prepared statement \"" + d.name().get() + "\" does not exist");
                }
                return StatementResult.Update.of(0);
            }
        }
    }

    /** The statement an EXECUTE names, which SQL PREPARE must have made. */
    private SqlPreparedStatement executed(PgPrepareStatement.Execute e) {
        Statement statement = statement(e.name());
        if (statement.sqlPrepared() == null) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "EXECUTE of \"" + e.name() + "\", which the extended protocol's"
                    + " Parse prepared, is not supported by Shardgate; prepare it with SQL PREPARE, or bind and execute it");
        }
        return statement.sqlPrepared();
    }

    /** {@code sql} as SQL PREPARE, EXECUTE or DEALLOCATE, when it is one. */
    private static Optional<PgPrepareStatement> sqlPrepareCommand(String sql) {
        return PgStatements.firstWordIs(sql, "PREPARE") || PgStatements.firstWordIs(sql, "EXECUTE")
                || PgStatements.firstWordIs(sql, "DEALLOCATE") ? PgPrepareStatement.parse(sql) : Optional.empty();
    }

    /** The tag of {@code sql}; an EXECUTE answers with its statement's tag ({@code SELECT 1}, {@code INSERT 0 1}), as a server does. */
    private String tag(String sql, StatementResult result) {
        if (PgStatements.firstWordIs(sql, "EXECUTE")) {
            Optional<PgPrepareStatement> command = sqlPrepareCommand(sql);
            if (command.isPresent() && command.get() instanceof PgPrepareStatement.Execute e && statements.containsKey(e.name())) {
                return PgStatements.tag(statements.get(e.name()).sql(), result);
            }
        }
        return PgStatements.tag(sql, result);
    }

    /** Runs one extended-protocol step; an error is reported and the rest of the batch skipped. */
    private void extended(ChannelHandlerContext ctx, Runnable step) {
        runningStatement(null, 0);
        try {
            step.run();
        } catch (ProxyException e) {
            writeHeldAnswers(); // the client's Parse and Bind had succeeded: their answers come before the error
            error(ctx, e);
            skipUntilSync = true;
        }
    }

    /**
     * Whether {@code msg} leaves the held answers held: a Bind of the held Parse's statement to the unnamed portal, a
     * Describe of that portal, its Execute (which may relay them all).
     */
    private boolean keepsHeldAnswers(PgClientMessage msg) {
        return switch (msg) {
            case PgClientMessage.Bind b -> heldParse != null && !heldBind && b.portal().isEmpty() && b.statement().equals(heldParse);
            case PgClientMessage.Describe d -> heldBind && d.kind() == 'P' && d.name().isEmpty();
            case PgClientMessage.Execute e -> heldBind && e.portal().isEmpty();
            default -> heldParse == null && !heldBind;
        };
    }

    /** Writes the held ParseComplete and BindComplete, in that order. */
    private void writeHeldAnswers() {
        if (heldParse != null) {
            heldParse = null;
            write(new PgServerMessage.ParseComplete());
        }
        if (heldBind) {
            heldBind = false;
            write(new PgServerMessage.BindComplete());
        }
    }

    /** The held answers went to the client from the shard (a relay answered the client's Parse and Bind). */
    private void heldAnswersRelayed() {
        heldParse = null;
        heldBind = false;
    }

    private void parse(PgClientMessage.Parse p) {
        Optional<String> invalid = PgClientEncoding.invalidUtf8(p.sql());
        if (invalid.isPresent()) {
            throw pgError(INVALID_BYTE_SEQUENCE, invalid.get());
        }
        if (!p.name().isEmpty() && statements.containsKey(p.name())) {
            throw pgError("42P05", "prepared statement \"" + p.name() + "\" already exists");
        }
        Statement statement = new Statement(p.sql(), p.parameterTypes());
        statements.put(p.name(), statement);
        if (heldParse == null && !heldBind && session.relaysPg() && !failedTransaction && !session.state().inTransaction()
                && relayable(statement)) {
            heldParse = p.name(); // a relay of its execution may let the shard answer it
        } else {
            write(new PgServerMessage.ParseComplete());
        }
    }

    private void bind(PgClientMessage.Bind b) {
        Statement statement = protocolStatement(b.statement());
        if (!b.portal().isEmpty() && portals.containsKey(b.portal())) {
            throw pgError("42P03", "cursor \"" + b.portal() + "\" already exists");
        }
        List<Object> parameters = boundValues(statement, b, true);
        Portal portal = new Portal(statement, parameters, b.resultFormats(), b);
        Portal replaced = portals.put(b.portal(), portal);
        if (replaced != null) {
            replaced.close();
        }
        if (relayCandidate(portal, b.portal(), 0)) {
            heldBind = true; // a relay of its Execute may let the shard answer it
        } else {
            writeHeldAnswers();
            write(new PgServerMessage.BindComplete());
        }
    }

    /**
     * The values of {@code b} for {@code statement}, decoded (for routing and the JDBC path). A binary value of a type the
     * client left unspecified needs the server's inference ({@link #inferredTypes}): with {@code mayAsk} false (an event
     * loop, which must not wait), null then.
     */
    private List<Object> boundValues(Statement statement, PgClientMessage.Bind b, boolean mayAsk) {
        int n = b.values().size();
        if (b.parameterFormats().size() > 1 && b.parameterFormats().size() != n) {
            throw pgError("08P01", "bind message has " + b.parameterFormats().size() + " parameter formats but " + n + " parameters");
        }
        List<Object> parameters = new ArrayList<>(n);
        List<Integer> types = statement.parameterTypes();
        for (int i = 0; i < n; i++) {
            byte[] v = b.values().get(i);
            short format = b.parameterFormats().isEmpty() ? 0 : b.parameterFormats().get(b.parameterFormats().size() == 1 ? 0 : i);
            if (v != null && format == 1 && (i >= types.size() || types.get(i) == 0) && types == statement.parameterTypes()) {
                if (!mayAsk) {
                    return null;
                }
                types = inferredTypes(statement);
            }
            if (v == null) {
                parameters.add(null);
            } else if (format == 0) {
                String text = ClientCharset.UTF8MB4.decode(v);
                Optional<String> invalid = PgClientEncoding.invalidUtf8(text);
                if (invalid.isPresent()) {
                    throw pgError(INVALID_BYTE_SEQUENCE, invalid.get());
                }
                parameters.add(text);
            } else {
                int type = i < types.size() ? types.get(i) : 0;
                parameters.add(PgTypes.fromBinary(type, v));
            }
        }
        return parameters;
    }

    /**
     * The parameter types of {@code statement} as a server infers those the client left unspecified (OID 0), which a
     * binary value needs to be read: node-postgres sends a Buffer in binary with type 0, and the server reads it as the
     * type the statement gives its {@code $n} (bytea for a bytea column). Asked of a shard by preparing the statement there
     * with the client's declared types ({@link FrontendSession#prepareSql}), so the inference, and its errors, are the
     * server's; one round trip per Bind that needs it. A declared type the proxy cannot name leaves the types as sent
     * (and the binary value refused).
     */
    private List<Integer> inferredTypes(Statement statement) {
        List<String> declared = new ArrayList<>();
        for (int oid : statement.parameterTypes()) {
            Optional<String> name = PgTypes.sqlName(oid);
            if (name.isEmpty()) {
                return statement.parameterTypes();
            }
            declared.add(name.get());
        }
        SqlPreparedStatement described = session.prepareSql(statement.sql(), declared);
        List<Integer> types = new ArrayList<>();
        for (String typname : described.driverTypes()) {
            types.add(PgTypes.oidOf(typname));
        }
        return types;
    }

    private void describe(ChannelHandlerContext ctx, PgClientMessage.Describe d) {
        if (d.kind() == 'S') {
            Statement statement = protocolStatement(d.name());
            if (PgStatements.isBlank(statement.sql())) {
                write(new PgServerMessage.ParameterDescription(statement.parameterTypes()));
                write(new PgServerMessage.NoData());
                return;
            }
            Optional<PgPrepareStatement> command = sqlPrepareCommand(statement.sql());
            if (command.isPresent()) {
                // PREPARE and DEALLOCATE return no rows; EXECUTE the columns of its statement, described at PREPARE
                List<ColumnInfo> columns = command.get() instanceof PgPrepareStatement.Execute e ? executed(e).columns() : List.of();
                write(new PgServerMessage.ParameterDescription(statement.parameterTypes()));
                write(columns.isEmpty() ? new PgServerMessage.NoData()
                        : new PgServerMessage.RowDescription(columns, Collections.nCopies(columns.size(), (short) 0)));
                return;
            }
            runningStatement(statement.sql(), 0);
            // a server's own answer: the parameter types it infers where the client sent none, its result columns
            byte[] described = session.describePgStatement(statement.sql(), statement.parameterTypes(), statement.parsedNanos());
            if (described != null) {
                context.write(Unpooled.wrappedBuffer(described));
                return;
            }
            PreparedInfo info = session.prepare(statement.sql());
            session.closeStatement(info.statementId());
            List<Integer> types = new ArrayList<>(info.parameters().size());
            for (int i = 0; i < Math.max(info.parameters().size(), statement.parameterTypes().size()); i++) {
                int declared = i < statement.parameterTypes().size() ? statement.parameterTypes().get(i) : 0;
                types.add(declared != 0 ? declared : PgTypes.TEXT);
            }
            write(new PgServerMessage.ParameterDescription(types));
            write(info.columns().isEmpty() ? new PgServerMessage.NoData()
                    : new PgServerMessage.RowDescription(info.columns(), Collections.nCopies(info.columns().size(), (short) 0)));
            return;
        }
        Portal portal = portal(d.name());
        StatementResult result = result(portal);
        List<ColumnInfo> resultColumns = switch (result) {
            case StatementResult.Rows r -> r.columns();
            case StatementResult.Stream st -> st.columns();
            case StatementResult.Update u -> List.of();
        };
        if (!(result instanceof StatementResult.Update) && resultColumns.size() > 0) {
            write(new PgServerMessage.RowDescription(resultColumns, formats(portal, resultColumns)));
        } else {
            write(new PgServerMessage.NoData());
        }
    }

    private void execute(ChannelHandlerContext ctx, PgClientMessage.Execute e) {
        Portal portal = portal(e.portal());
        if (PgStatements.isBlank(portal.statement.sql())) {
            write(new PgServerMessage.EmptyQueryResponse());
            return;
        }
        StatementResult result = result(portal);
        if (result instanceof StatementResult.Stream st) {
            executeStream(portal, st, e.maxRows());
            return;
        }
        if (result instanceof StatementResult.Rows r) {
            int total = r.rows().size();
            int end = e.maxRows() > 0 ? Math.min(total, portal.sent + e.maxRows()) : total;
            List<byte[][]> batch = r.rows().subList(portal.sent, end);
            write(new PgServerMessage.DataRows(r.columns(), formats(portal, r.columns()), batch));
            int sentNow = end - portal.sent;
            portal.sent = end;
            if (end < total) {
                write(new PgServerMessage.PortalSuspended());
                return;
            }
            write(new PgServerMessage.CommandComplete(tag(portal.statement.sql(), new StatementResult.Rows(List.of(),
                    Collections.nCopies(sentNow, new byte[0][]), 0))));
            return;
        }
        write(new PgServerMessage.CommandComplete(tag(portal.statement.sql(), result)));
    }

    /**
     * Execute of a portal whose rows stream: up to {@code maxRows} rows (0: all) as they come. Like a server, a portal that
     * gave exactly {@code maxRows} rows is suspended without looking for more; the next Execute then completes it, with
     * {@code SELECT 0} if nothing was left. An error mid-result propagates (ErrorResponse after the DataRows sent).
     */
    private void executeStream(Portal portal, StatementResult.Stream st, int maxRows) {
        io.shardgate.proxy.RowPump.Pumped pumped;
        try {
            pumped = pumpRows(st, formats(portal, st.columns()), maxRows);
        } catch (RuntimeException e) {
            portal.close();
            throw e;
        }
        portal.sent += (int) Math.min(Integer.MAX_VALUE, pumped.rows());
        if (pumped.ended()) {
            portal.close();
            write(new PgServerMessage.CommandComplete(tag(portal.statement.sql(), sentRows(pumped.rows()))));
        } else if (maxRows > 0 && pumped.rows() == maxRows && context.channel().isActive()) {
            write(new PgServerMessage.PortalSuspended());
        } else {
            portal.close(); // the client went away
        }
    }

    /**
     * Writes a stream's rows as DataRow messages with backpressure; the stream is left open (its owner closes it). The
     * notices its shards sent while the rows came (they pass them at the end of their rows) go out after the rows, before
     * the CommandComplete or error, as a server sends them while the statement runs.
     */
    private io.shardgate.proxy.RowPump.Pumped pumpRows(StatementResult.Stream st, List<Short> formats, long max) {
        List<ColumnInfo> columns = st.columns();
        try {
            return pump.pump(context.channel(), st.rows(), max, rows -> new PgServerMessage.DataRows(columns, formats, rows));
        } finally {
            for (BackendNotice n : session.takeNotices()) {
                write(new PgServerMessage.ErrorResponse(true, n.severity(), n.sqlState(), n.message()));
            }
        }
    }

    /** A stand-in result of {@code n} rows, for the CommandComplete tag of rows that were streamed. */
    private static StatementResult sentRows(long n) {
        return new StatementResult.Rows(List.of(), Collections.nCopies((int) Math.min(Integer.MAX_VALUE, n), new byte[0][]), 0);
    }

    private void close(PgClientMessage.Close c) {
        if (c.kind() == 'S') {
            statements.remove(c.name());
        } else {
            Portal p = portals.remove(c.name());
            if (p != null) {
                p.close();
            }
        }
        write(new PgServerMessage.CloseComplete());
    }

    /** The portal's result, running its statement the first time. */
    private StatementResult result(Portal portal) {
        if (portal.result == null) {
            runningStatement(portal.statement.sql(), 0);
            portal.result = run(portal.statement.sql(), portal.parameters);
            if (portal.result instanceof StatementResult.Rows r) {
                checkFormats(formats(portal, r.columns()), r.columns());
            } else if (portal.result instanceof StatementResult.Stream st) {
                try {
                    checkFormats(formats(portal, st.columns()), st.columns());
                } catch (RuntimeException e) {
                    portal.close();
                    throw e;
                }
            }
        }
        return portal.result;
    }

    private static List<Short> formats(Portal portal, List<ColumnInfo> columns) {
        List<Short> requested = portal.resultFormats;
        if (requested.isEmpty()) {
            return Collections.nCopies(columns.size(), (short) 0);
        }
        if (requested.size() == 1) {
            return Collections.nCopies(columns.size(), requested.getFirst());
        }
        if (requested.size() != columns.size()) {
            throw pgError("08P01", "bind message has " + requested.size() + " result formats but query has " + columns.size()
                    + " columns");
        }
        return requested;
    }

    private static void checkFormats(List<Short> formats, List<ColumnInfo> columns) {
        for (int i = 0; i < columns.size(); i++) {
            int oid = PgTypes.oid(columns.get(i));
            if (formats.get(i) == 1 && !PgTypes.binarySupported(oid)) {
                throw new ProxyException(ErrorCode.UNSUPPORTED, "binary format of column \"" + columns.get(i).name() + "\" (type OID "
                        + oid + ") is not supported by Shardgate; ask for text format");
            }
        }
    }

    private Statement statement(String name) {
        Statement s = statements.get(name);
        if (s == null) {
            throw pgError("26000", name.isEmpty() ? "unnamed prepared statement does not exist"
                    : "prepared statement \"" + name + "\" does not exist");
        }
        return s;
    }

    /**
     * A statement to bind or describe: one SQL PREPARE made is refused (a server would bind it with its declared types,
     * which Bind does not carry through the proxy).
     */
    private Statement protocolStatement(String name) {
        Statement s = statement(name);
        if (s.sqlPrepared() != null) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "binding or describing \"" + name + "\", which SQL PREPARE prepared, is"
                    + " not supported by Shardgate; run it with EXECUTE");
        }
        return s;
    }

    private Portal portal(String name) {
        Portal p = portals.get(name);
        if (p == null) {
            throw pgError("34000", name.isEmpty() ? "unnamed portal does not exist" : "portal \"" + name + "\" does not exist");
        }
        return p;
    }

    // ---- replies

    private ChannelHandlerContext context;

    private void write(PgServerMessage message) {
        context.write(message);
    }

    private void readyForQuery(ChannelHandlerContext ctx) {
        boolean inTransaction = session != null && session.state().inTransaction();
        if (!inTransaction) {
            failedTransaction = false;
            // a transaction's end ends its portals on a server: streamed ones stop reading their shards now
            portals.values().removeIf(p -> {
                boolean streaming = p.result instanceof StatementResult.Stream;
                p.close();
                return streaming;
            });
            Portal unnamed = portals.remove("");
            if (unnamed != null) {
                unnamed.close();
            }
        }
        ctx.writeAndFlush(new PgServerMessage.ReadyForQuery(!inTransaction ? 'I' : failedTransaction ? 'E' : 'T'));
    }

    private void error(ChannelHandlerContext ctx, SqlError error) {
        error(ctx, error, PgServerMessage.ErrorResponse.error(sqlState(error), error.message()));
    }

    /**
     * The client's text of the statement running now (null: unknown) and the characters before it in its query message,
     * against which a shard error's POSITION is mapped (see {@link PgErrorFields}).
     */
    private void runningStatement(String text, int offset) {
        statementText = text;
        statementOffset = offset;
    }

    /**
     * A failed statement: a shard's error keeps its fields (DETAIL, HINT, constraint names, …, and POSITION where it
     * points into the client's own text), as pgJDBC read them.
     */
    private void error(ChannelHandlerContext ctx, ProxyException e) {
        SqlError error = e.error();
        PgServerMessage.ErrorResponse response = PgServerMessage.ErrorResponse.error(sqlState(error), error.message());
        if (error.fromBackend() && e.getCause() instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null) {
            response = response.withFields(PgErrorFields.of(p, statementText, statementOffset));
        }
        statementText = null;
        error(ctx, error, response);
    }

    private void error(ChannelHandlerContext ctx, SqlError error, PgServerMessage.ErrorResponse response) {
        sessions.errorSent(error);
        if (session != null && session.state().inTransaction()) {
            failedTransaction = true;
        }
        ctx.write(response);
    }

    /** A catalogue error's PostgreSQL SQLSTATE; a backend's own SQLSTATE unchanged. */
    static String sqlState(SqlError error) {
        return error.code() != null ? error.code().pgSqlState() : error.sqlState();
    }

    /** An error with a PostgreSQL SQLSTATE of its own (not in the catalogue, which is shared with MySQL). */
    private static ProxyException pgError(String sqlState, String message) {
        return ProxyException.backend(0, sqlState, message, null);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        context = ctx;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof PgProtocolException pe) {
            LOG.warn("pg connection {} from {}: {}; closing it", processId, remoteHost(ctx), pe.getMessage());
            fatal(ctx, pe.code().pgSqlState(), pe.getMessage());
        } else if (root instanceof java.io.IOException) {
            LOG.debug("pg connection {}: {}", processId, root.toString());
            ctx.close();
        } else {
            LOG.error("pg connection {}: unexpected failure; closing it", processId, root);
            fatal(ctx, ErrorCode.INTERNAL.pgSqlState(), "internal error in Shardgate: " + root);
        }
    }

    private void protocolViolation(ChannelHandlerContext ctx, String message) {
        fatal(ctx, ErrorCode.MALFORMED_PACKET.pgSqlState(), message);
    }

    /** Sends a FATAL error and closes this connection. */
    private void fatal(ChannelHandlerContext ctx, String sqlState, String message) {
        failed = true;
        ctx.writeAndFlush(PgServerMessage.ErrorResponse.fatal(sqlState, message)).addListener(ChannelFutureListener.CLOSE);
    }

    /** From a CancelRequest's connection: cancels what the session runs now, if anything. */
    private void cancelRunningStatement() {
        FrontendSession s = session;
        if (s != null) {
            s.cancel();
        }
    }

    private void closeSession() {
        portals.values().forEach(Portal::close);
        portals.clear();
        FrontendSession s = session;
        session = null;
        if (s != null) {
            try {
                s.close();
            } catch (RuntimeException e) {
                LOG.warn("pg connection {}: closing its session failed", processId, e);
            }
        }
    }

    private static String remoteHost(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "unknown";
    }
}

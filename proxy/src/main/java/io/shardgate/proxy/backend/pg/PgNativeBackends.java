package io.shardgate.proxy.backend.pg;

import io.shardgate.proxy.backend.BackendEventLoops;

import io.netty.buffer.ByteBuf;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendUrl;
import io.shardgate.proxy.exec.SessionSettings;
import io.shardgate.proxy.exec.ShardBudget;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's native PostgreSQL connections (configuration key {@code backend.native}, the switch of the MySQL side's
 * {@code NativeBackends}): a {@link PgPool} per shard, and {@link #relay}, the hot path that forwards a client's Query
 * message and relays the reply.
 *
 * <p>A relayed statement takes a place in the shard's {@link ShardBudget} first, the budget the JDBC pool (which still
 * serves everything that is not relayed) lends from too: at most {@code pool-size} connections of a shard are in use at
 * once whichever path lends them, and a statement that finds them all in use waits up to {@code limits.pool-wait-ms}
 * and fails with SHARD_BUSY, as on the JDBC path. A shard whose definition changes gets a new pool; the old one closes.
 * The event loops start with the first pool, so a MySQL cluster never has them.
 */
public final class PgNativeBackends implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgNativeBackends.class);
    /** How long a relayed statement may go without the shard sending anything before it is declared hung. */
    public static final Duration REPLY_TIMEOUT = Duration.ofMinutes(10);
    /** What the proxy's pgJDBC connections call themselves (see {@code BackendUrl}); the native ones say the same. */
    static final String APPLICATION_NAME = "shardgate";

    private record Entry(ShardDefinition definition, PgPool pool) {}

    private final int ioThreads;
    private final Duration connectTimeout;
    private final Duration poolWait;
    private final int minIdle;
    private final Consumer<PgPool> onNewPool;
    private final Function<String, ShardBudget> budgets;
    private final Map<String, Entry> pools = new ConcurrentHashMap<>();
    private BackendEventLoops loops;
    private boolean closed;

    /** @param budgets each shard's connection budget, shared with the JDBC pools (by shard name) */
    public PgNativeBackends(int ioThreads, Duration connectTimeout, Duration poolWait, Consumer<PgPool> onNewPool,
            Function<String, ShardBudget> budgets) {
        this(null, ioThreads, connectTimeout, poolWait, 0, onNewPool, budgets);
    }

    /**
     * On {@code loops} (the proxy's, shared with its front ends: see {@link BackendEventLoops}), each pool keeping
     * {@code minIdle} idle connections ready (capped by the shard's pool size; {@code backend.native-min-idle}).
     */
    public PgNativeBackends(BackendEventLoops loops, Duration connectTimeout, Duration poolWait, int minIdle,
            Consumer<PgPool> onNewPool, Function<String, ShardBudget> budgets) {
        this(java.util.Objects.requireNonNull(loops, "loops"), 1, connectTimeout, poolWait, minIdle, onNewPool, budgets);
    }

    private PgNativeBackends(BackendEventLoops loops, int ioThreads, Duration connectTimeout, Duration poolWait, int minIdle,
            Consumer<PgPool> onNewPool, Function<String, ShardBudget> budgets) {
        this.loops = loops;
        this.ioThreads = ioThreads;
        this.connectTimeout = connectTimeout;
        this.poolWait = poolWait;
        this.minIdle = minIdle;
        this.onNewPool = onNewPool;
        this.budgets = budgets;
    }

    /**
     * Sends {@code sql} (the client's Query text, UTF-8) to {@code shard} as a Query message on a pooled native
     * connection that carries the session's {@code settings} (their statements run first on a connection that lacks
     * them; one carrying other settings is reset first), and relays the reply to the client as it comes, ReadyForQuery
     * included. Returns once the reply's last message is written; null when the connection could not be given the
     * settings (nothing reached the client: run it another way).
     *
     * @throws ProxyException when nothing reached the client (the caller answers with the error); when part of the
     *                        reply had, the client's connection is closed (as when a server dies mid-result) and the
     *                        error is thrown too
     */
    public PgRelaySink.Outcome relay(ShardDefinition shard, byte[] sql, SessionSettings settings, PgRelayTarget target) {
        PgPool pool = pool(shard);
        ShardBudget budget = budgets.apply(shard.name());
        long start = System.nanoTime();
        if (!budget.acquireNative(start + poolWait.toNanos())) {
            throw budget.busy(pool.describe(), PgBackendConnection.millis(System.nanoTime() - start), poolWait.toMillis(), 0);
        }
        try {
            return relayOn(pool, settings, target, c -> Sending.query(sql));
        } finally {
            budget.releaseNative();
        }
    }

    /**
     * Runs a client's extended-protocol execution ({@code request}: its unnamed statement, bound values and result formats)
     * on {@code shard} as {@link #relay} runs a Query: the reply's RowDescription or NoData (when the client described the
     * portal), DataRows and CommandComplete or ErrorResponse go to the client as they come; the ReadyForQuery does not
     * (the front end answers the client's Sync), nor do ParseComplete and BindComplete unless the request says they answer
     * the client's own Parse and Bind ({@link PgExtendedRequest#answersClient}). A client's named statement is
     * bound to the connection's own prepared statement, parsed in the same request the first time
     * ({@link PgPreparedStatements}). Null when nothing reached the client.
     */
    public PgRelaySink.Outcome relayExtended(ShardDefinition shard, PgExtendedRequest request, SessionSettings settings,
            PgRelayTarget target) {
        PgPool pool = pool(shard);
        ShardBudget budget = budgets.apply(shard.name());
        long start = System.nanoTime();
        if (!budget.acquireNative(start + poolWait.toNanos())) {
            throw budget.busy(pool.describe(), PgBackendConnection.millis(System.nanoTime() - start), poolWait.toMillis(), 0);
        }
        try {
            return relayOn(pool, settings, target, c -> Sending.of(request, c));
        } finally {
            budget.releaseNative();
        }
    }

    /**
     * A server's answer to a client's Describe of a statement: its ParameterDescription and its RowDescription or NoData,
     * whole messages as the shard sent them (the RowDescription's table OIDs zeroed unless {@code keepTableOids}). Null
     * when the shard refused the statement or the connection could not carry the session's settings (the caller then
     * describes it the usual way, which reports the error).
     */
    public byte[] describeStatement(ShardDefinition shard, String sql, List<Integer> parameterTypes, long clientParsedNanos,
            SessionSettings settings, boolean keepTableOids) {
        PgPool pool = pool(shard);
        ShardBudget budget = budgets.apply(shard.name());
        long start = System.nanoTime();
        if (!budget.acquireNative(start + poolWait.toNanos())) {
            throw budget.busy(pool.describe(), PgBackendConnection.millis(System.nanoTime() - start), poolWait.toMillis(), 0);
        }
        try {
            PgBackendConnection c = pool.borrow(null);
            pool.statementDescribed();
            if (!carry(pool, c, settings)) {
                pool.discard(c);
                return null;
            }
            // the connection's own statement for it, parsed once and kept: a relayed execution of it binds it then
            PgPreparedStatements.Use use = c.preparedStatements().use(sql, parameterTypes, c.sessionTag(), clientParsedNanos);
            StatementDescription reply = new StatementDescription(keepTableOids);
            try {
                c.send(PgExtendedRequest.describeStatement(sql, parameterTypes, use), "Describe", reply);
                reply.done.get(REPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                c.close();
                pool.release(c, false);
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                throw cause instanceof ProxyException p ? p
                        : new ProxyException(ErrorCode.SHARD_UNAVAILABLE, pool.describe() + ": describe failed: " + cause, cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                c.close();
                pool.release(c, false);
                throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, pool.describe() + ": interrupted while describing", e);
            }
            c.preparedStatements().settle(use, reply.parsed, reply.error);
            if (use.parse() && reply.parsed) {
                pool.statementPrepared();
            }
            pool.release(c, false);
            return reply.error != null || reply.parameters == null || reply.result == null ? null : reply.bytes();
        } finally {
            budget.releaseNative();
        }
    }

    /** Collects the reply to a Describe of a statement: ParameterDescription, RowDescription or NoData, or the error. */
    private static final class StatementDescription implements PgReplySink {
        final java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        private final boolean keepTableOids;
        byte[] parameters;
        byte[] result;
        boolean parsed;
        PgServerError error;

        StatementDescription(boolean keepTableOids) {
            this.keepTableOids = keepTableOids;
        }

        @Override
        public void message(PgFrame frame, boolean last) {
            try {
                switch (frame.type()) {
                    case '1' -> parsed = true;
                    case 't' -> parameters = io.netty.buffer.ByteBufUtil.getBytes(frame.bytes());
                    case 'T' -> {
                        if (!keepTableOids) {
                            PgRelaySink.clearTableOids(frame.bytes());
                        }
                        result = io.netty.buffer.ByteBufUtil.getBytes(frame.bytes());
                    }
                    case 'n' -> result = io.netty.buffer.ByteBufUtil.getBytes(frame.bytes());
                    case 'E' -> {
                        if (error == null) {
                            error = PgServerError.parse(frame.body());
                        }
                    }
                    default -> { }
                }
            } finally {
                frame.release();
            }
            if (last) {
                done.complete(null);
            }
        }

        @Override
        public void failed(ProxyException e) {
            done.completeExceptionally(e);
        }

        byte[] bytes() {
            byte[] out = java.util.Arrays.copyOf(parameters, parameters.length + result.length);
            System.arraycopy(result, 0, out, parameters.length, result.length);
            return out;
        }
    }

    /**
     * A connection of {@code shard} taken for a relay from the client's event loop {@code loop}, without waiting: an idle
     * one living on that loop that carries the session's {@code settings} already, with a place in the shard's budget.
     * Null when that is not to be had at once (the caller takes the usual way, which may wait).
     */
    public LoopLease tryLease(ShardDefinition shard, io.netty.channel.EventLoop loop, SessionSettings settings) {
        PgPool pool = pool(shard);
        ShardBudget budget = budgets.apply(shard.name());
        if (!budget.acquireNative(System.nanoTime())) {
            return null;
        }
        PgBackendConnection c = pool.tryBorrow(loop, settings.fingerprint());
        if (c == null) {
            budget.releaseNative();
            return null;
        }
        return new LoopLease(pool, budget, c);
    }

    /**
     * A relay run from the client's event loop ({@link #tryLease}): the connection lives on that loop, so the reply is
     * read and written to the client there, and {@link #start}'s future completes there. Exactly one of
     * {@link #giveBack} (nothing was sent) or {@link #start} then {@link #finish}.
     */
    public static final class LoopLease {
        private final PgPool pool;
        private final ShardBudget budget;
        private final PgBackendConnection connection;
        private io.shardgate.proxy.exec.ShardWork.Tracked tracked;

        private LoopLease(PgPool pool, ShardBudget budget, PgBackendConnection connection) {
            this.pool = pool;
            this.budget = budget;
            this.connection = connection;
        }

        /** Nothing was sent: the connection and the budget's place go back. */
        public void giveBack() {
            pool.release(connection, false);
            budget.releaseNative();
        }

        /**
         * Sends the Query message of {@code sql} (the client's text, UTF-8) and relays the reply to the client as
         * {@link #relay} does; the future completes on the connection's (the client's) event loop with the outcome, or
         * with the failure ({@link #failure} reads it).
         */
        public java.util.concurrent.CompletableFuture<PgRelaySink.Outcome> start(byte[] sql, PgRelayTarget target) {
            return start(Sending.query(sql), target);
        }

        /** As {@link #start(byte[], PgRelayTarget)} for an extended-protocol execution, as {@link #relayExtended} sends it. */
        public java.util.concurrent.CompletableFuture<PgRelaySink.Outcome> start(PgExtendedRequest request, PgRelayTarget target) {
            return start(Sending.of(request, connection), target);
        }

        private java.util.concurrent.CompletableFuture<PgRelaySink.Outcome> start(Sending sending, PgRelayTarget target) {
            PgRelaySink sink = sending.sink(target, connection);
            tracked = target.tracker().track(new PgWork(pool, connection));
            connection.send(sending.request(), sending.name(), sink);
            return sending.use() == null ? sink.done : sink.done.thenApply(o -> sending.settle(pool, connection, o));
        }

        /**
         * Gives the connection back once the reply ended (or broke off). Waits only when an interrupt of the statement
         * is still in flight: call it on a thread that may wait when the statement was cancelled.
         */
        public void finish() {
            try {
                if (!tracked.close()) {
                    connection.close(); // a cancel still in flight would reach the connection's next statement
                }
                pool.release(connection, false); // closed or broken: discarded
            } finally {
                budget.releaseNative();
            }
        }

        public String describe() {
            return pool.describe();
        }

        /**
         * The error of a relay whose future failed with {@code failure}; when part of the reply had reached the client,
         * its connection is closed (as when a server dies mid-result).
         */
        public ProxyException failure(Throwable failure, PgRelayTarget target) {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (cause instanceof PgRelaySink.Broken broken) {
                if (broken.started) {
                    target.client().close();
                }
                return broken.error;
            }
            if (cause instanceof ProxyException p) {
                return p;
            }
            return new ProxyException(ErrorCode.INTERNAL, pool.describe() + ": relay failed: " + cause, cause);
        }
    }

    /**
     * What goes to a connection: a Query message, or an extended-protocol request ({@code extended}) and, when it binds a
     * statement the connection keeps prepared, how it used them ({@code use}, settled once the reply has ended).
     */
    private record Sending(ByteBuf request, boolean extended, PgPreparedStatements.Use use, PgRelaySink.Answers answers) {
        static Sending query(byte[] sql) {
            return new Sending(PgBackendConnection.queryMessage(sql), false, null, PgRelaySink.Answers.NONE);
        }

        static Sending of(PgExtendedRequest request, PgBackendConnection c) {
            if (!request.named()) {
                return new Sending(request.encode(), true, null, request.answers(true));
            }
            PgPreparedStatements.Use use = c.preparedStatements().use(request.sql(), request.parameterTypes(), c.sessionTag(),
                    request.parsedNanos());
            return new Sending(request.encode(use), true, use, request.answers(use.parse()));
        }

        PgRelaySink sink(PgRelayTarget target, PgBackendConnection c) {
            return new PgRelaySink(target, c, extended, answers);
        }

        String name() {
            return !extended ? "Query" : use == null || use.parse() ? "Parse/Bind/Execute/Sync" : "Bind/Execute/Sync";
        }

        PgRelaySink.Outcome settle(PgPool pool, PgBackendConnection c, PgRelaySink.Outcome outcome) {
            if (use != null) {
                c.preparedStatements().settle(use, outcome.parsed(), outcome.error());
                if (use.parse() && outcome.parsed()) {
                    pool.statementPrepared();
                }
            }
            return outcome;
        }
    }

    private static PgRelaySink.Outcome relayOn(PgPool pool, SessionSettings settings, PgRelayTarget target,
            Function<PgBackendConnection, Sending> request) {
        PgBackendConnection c = pool.borrow(target.client().eventLoop());
        if (!carry(pool, c, settings)) {
            pool.discard(c);
            return null;
        }
        Sending sending = request.apply(c);
        PgRelaySink sink = sending.sink(target, c);
        io.shardgate.proxy.exec.ShardWork.Tracked tracked = target.tracker().track(new PgWork(pool, c));
        return relayOn(pool, c, tracked, sink, target, sending);
    }

    /**
     * Gives {@code c} back once its tracking has ended, never before: a CancelRequest sent meanwhile would reach whatever
     * statement runs on it next, another session's. One still in flight: closed, never reused.
     */
    private static void giveBack(PgPool pool, PgBackendConnection c, io.shardgate.proxy.exec.ShardWork.Tracked tracked) {
        if (!tracked.close()) {
            c.close();
        }
        pool.release(c, false); // a closed one is discarded
    }

    /** A relayed statement's work on {@code connection}: a CancelRequest for it, or closing it. */
    private record PgWork(PgPool pool, PgBackendConnection connection) implements io.shardgate.proxy.exec.ShardWork {
        @Override
        public String shard() {
            return pool.describe();
        }

        @Override
        public void interrupt() throws Exception {
            connection.cancelRequest().get(5, TimeUnit.SECONDS);
        }

        @Override
        public void abort() {
            connection.close();
        }
    }

    private static PgRelaySink.Outcome relayOn(PgPool pool, PgBackendConnection c, io.shardgate.proxy.exec.ShardWork.Tracked tracked,
            PgRelaySink sink, PgRelayTarget target,
            Sending sending) {
        try {
            c.send(sending.request(), sending.name(), sink);
            PgRelaySink.Outcome outcome = sending.settle(pool, c, sink.done.get());
            giveBack(pool, c, tracked);
            return outcome;
        } catch (ExecutionException e) {
            giveBack(pool, c, tracked); // closed by the failure: discarded
            if (e.getCause() instanceof PgRelaySink.Broken broken) {
                if (broken.started) {
                    target.client().close();
                }
                throw broken.error;
            }
            throw new ProxyException(ErrorCode.INTERNAL, pool.describe() + ": relay failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            giveBack(pool, c, tracked);
            target.client().close();
            throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, pool.describe() + ": interrupted while relaying", e);
        } catch (RuntimeException e) {
            giveBack(pool, c, tracked);
            throw e;
        }
    }

    /**
     * Brings {@code c} to the session's settings, as ConnectionStates does for JDBC connections (a connection carrying
     * other settings is reset first, then the session's SET statements run); false if that failed.
     */
    private static boolean carry(PgPool pool, PgBackendConnection c, SessionSettings settings) {
        String wanted = settings.fingerprint();
        if (wanted.equals(c.sessionTag())) {
            return true;
        }
        if (!c.sessionTag().isEmpty() && !pool.resetSession(c)) {
            return false;
        }
        c.sessionTag(PgBackendConnection.UNKNOWN_SESSION);
        try {
            for (String statement : settings.statements()) {
                PgReply r = c.query(statement).get(REPLY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (!r.ok() || r.status() != 'I') {
                    return false;
                }
            }
        } catch (ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        c.sessionTag(wanted);
        return true;
    }

    private PgPool pool(ShardDefinition shard) {
        Entry e = pools.get(shard.name());
        if (e != null && e.definition().equals(shard)) {
            return e.pool();
        }
        synchronized (this) {
            e = pools.get(shard.name());
            if (e != null && e.definition().equals(shard)) {
                return e.pool();
            }
            if (closed) {
                throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, "shard " + shard.name() + ": the proxy is shutting down");
            }
            if (loops == null) {
                loops = new BackendEventLoops(ioThreads);
            }
            PgPool pool = new PgPool(loops, settings(shard),
                    PgPool.Settings.defaults(Math.max(1, shard.poolSize())).withPoolWait(poolWait).withMinIdle(minIdle));
            pools.put(shard.name(), new Entry(shard, pool));
            LOG.info("{}: native PostgreSQL pool {} (max {} connections)", shard.name(), e == null ? "created" : "replaced",
                    Math.max(1, shard.poolSize()));
            if (e != null) {
                e.pool().close();
            } else {
                onNewPool.accept(pool);
            }
            return pool;
        }
    }

    private PgBackendSettings settings(ShardDefinition shard) {
        BackendUrl url = BackendUrl.parse(shard.jdbcUrl());
        String hostPort = url.hostPort();
        int colon = hostPort.lastIndexOf(':');
        boolean bracketed = hostPort.startsWith("[");
        String host = colon < 0 || (bracketed && colon < hostPort.indexOf(']')) ? hostPort : hostPort.substring(0, colon);
        int port = colon < 0 || (bracketed && colon < hostPort.indexOf(']')) ? 5432 : Integer.parseInt(hostPort.substring(colon + 1));
        if (bracketed) {
            host = host.substring(1, host.length() - 1);
        }
        String database = url.database().isEmpty() ? shard.user() : url.database();
        return new PgBackendSettings(shard.name(), host, port, shard.user(), shard.password(), database, APPLICATION_NAME,
                PgBackendSettings.jdbcTimeZone(), connectTimeout, REPLY_TIMEOUT);
    }

    @Override
    public synchronized void close() {
        closed = true;
        pools.values().forEach(e -> e.pool().close());
        pools.clear();
        if (loops != null) {
            loops.close();
        }
    }
}

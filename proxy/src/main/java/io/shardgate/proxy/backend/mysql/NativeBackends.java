package io.shardgate.proxy.backend.mysql;

import io.shardgate.proxy.backend.BackendEventLoops;

import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendUrl;
import io.shardgate.proxy.exec.ShardBudget;
import io.shardgate.proxy.exec.ShardWork;
import io.shardgate.proxy.exec.SessionSettings;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The proxy's native MySQL connections (configuration key {@code backend.native}): a {@link NativePool} per shard and
 * per {@code DEPRECATE_EOF} and {@code CLIENT_FOUND_ROWS} flag, so that a relayed reply is exactly what the shard sends a client with the
 * same capabilities, and {@link #relay}, the hot path that forwards a client's statement and relays the reply.
 *
 * <p>A relayed statement takes a place in the shard's {@link ShardBudget} first, the budget the JDBC pool (which still
 * serves everything that is not relayed) lends from too: at most {@code pool-size} connections of a shard are in use at
 * once whichever path lends them, and a statement that finds them all in use waits up to {@code limits.pool-wait-ms}
 * and fails with SHARD_BUSY (7106), as on the JDBC path. Idle connections are not budgeted: each pool keeps up to
 * {@code pool-size} open. A shard whose definition changes gets new pools; the old ones close.
 */
public final class NativeBackends implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NativeBackends.class);
    /** How long a relayed statement may go without the shard sending anything before it is declared hung. */
    public static final Duration REPLY_TIMEOUT = Duration.ofMinutes(10);

    private record Key(String shard, boolean deprecateEof, boolean foundRows) {}

    private record Entry(ShardDefinition definition, NativePool pool) {}

    private final BackendEventLoops loops;
    private final Duration connectTimeout;
    private final Duration poolWait;
    private final int minIdle;
    private final Consumer<NativePool> onNewPool;
    private final Function<String, ShardBudget> budgets;
    private final Map<Key, Entry> pools = new ConcurrentHashMap<>();

    /** @param budgets each shard's connection budget, shared with the JDBC pools (by shard name) */
    public NativeBackends(int ioThreads, Duration connectTimeout, Duration poolWait, Consumer<NativePool> onNewPool,
            Function<String, ShardBudget> budgets) {
        this(new BackendEventLoops(ioThreads), connectTimeout, poolWait, 0, onNewPool, budgets);
    }

    /**
     * On {@code loops} (the proxy's, shared with its front ends: a relayed statement borrows a connection on its client's
     * loop when one is idle, see {@link NativePool#borrow(io.netty.channel.EventLoop)}), each pool keeping {@code minIdle}
     * idle connections ready (capped by the shard's pool size; {@code backend.native-min-idle}).
     */
    public NativeBackends(BackendEventLoops loops, Duration connectTimeout, Duration poolWait, int minIdle,
            Consumer<NativePool> onNewPool, Function<String, ShardBudget> budgets) {
        this.loops = java.util.Objects.requireNonNull(loops, "loops");
        this.budgets = budgets;
        this.connectTimeout = connectTimeout;
        this.poolWait = poolWait;
        this.minIdle = minIdle;
        this.onNewPool = onNewPool;
    }

    /** The database a shard's URL names (what its native connections select). */
    public static String database(ShardDefinition shard) {
        // asked per relayed statement: parsing the URL each time cost ~2 % of the proxy's CPU on point selects
        return DATABASES.computeIfAbsent(shard.jdbcUrl(), url -> BackendUrl.parse(url).database());
    }

    /** Databases by shard URL; bounded by the URLs the cluster ever had (a few per shard). */
    private static final Map<String, String> DATABASES = new ConcurrentHashMap<>();

    /**
     * Sends {@code sql} (a COM_QUERY's bytes) to {@code shard} on a pooled native connection that carries the session's
     * {@code settings} (their statements run first on a connection that lacks them; one carrying other settings is
     * reset first), and relays the reply to the client as it comes. Returns once the reply's last packet is written;
     * null when the connection could not be given the settings (nothing reached the client: run it another way).
     *
     * @throws ProxyException when nothing reached the client (the caller answers with the error); when part of the
     *                        reply had, the client's connection is closed (as when a server dies mid-result) and the
     *                        error is thrown too
     */
    public RelaySink.Outcome relay(ShardDefinition shard, byte[] sql, SessionSettings settings, RelayTarget target) {
        return relay(shard, sql, settings, target, ShardWork.Tracker.NONE);
    }

    /**
     * As {@link #relay(ShardDefinition, byte[], SessionSettings, RelayTarget)}, with the connection's work tracked by
     * {@code tracker} while the statement runs, so the session's deadline or a {@code KILL QUERY} can stop it there.
     */
    public RelaySink.Outcome relay(ShardDefinition shard, byte[] sql, SessionSettings settings, RelayTarget target,
            ShardWork.Tracker tracker) {
        return relay(shard, sql, settings, target, tracker, UnaryOperator.identity());
    }

    /**
     * As {@link #relay(ShardDefinition, byte[], SessionSettings, RelayTarget, ShardWork.Tracker)}, with the reply passing
     * through {@code around} (given the relay's sink, it returns the sink the reply goes to; see {@link WriteReply}).
     */
    public RelaySink.Outcome relay(ShardDefinition shard, byte[] sql, SessionSettings settings, RelayTarget target,
            ShardWork.Tracker tracker, UnaryOperator<ReplySink> around) {
        return relay(shard, settings, target, tracker,
                c -> MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, sql), around);
    }

    /**
     * Runs a client's COM_STMT_EXECUTE for the statement {@code sql} (the bytes the client prepared) as {@link #relay}
     * runs a query: on a connection that has the statement prepared (prepared there on first use, kept per pooled
     * connection until it is reset or closed), {@code execute} (the client's packet with its parameter types bound,
     * see {@code ClientMessage.StmtExecute#relayPacket}) goes out with the statement id replaced by the connection's
     * own, and the reply (binary rows) is relayed unmodified. Null when nothing reached the client: the connection
     * could not take the settings, or the shard refused the prepare (the usual path reports that error).
     */
    public RelaySink.Outcome relayExecute(ShardDefinition shard, byte[] sql, byte[] execute, SessionSettings settings,
            RelayTarget target) {
        return relayExecute(shard, sql, execute, settings, target, ShardWork.Tracker.NONE);
    }

    /** As {@link #relayExecute(ShardDefinition, byte[], byte[], SessionSettings, RelayTarget)}, tracked (see {@link #relay}). */
    public RelaySink.Outcome relayExecute(ShardDefinition shard, byte[] sql, byte[] execute, SessionSettings settings,
            RelayTarget target, ShardWork.Tracker tracker) {
        return relayExecute(shard, sql, execute, settings, target, tracker, UnaryOperator.identity());
    }

    /** As {@link #relayExecute(ShardDefinition, byte[], byte[], SessionSettings, RelayTarget, ShardWork.Tracker)}, the reply passing through {@code around}. */
    public RelaySink.Outcome relayExecute(ShardDefinition shard, byte[] sql, byte[] execute, SessionSettings settings,
            RelayTarget target, ShardWork.Tracker tracker, UnaryOperator<ReplySink> around) {
        return relay(shard, settings, target, tracker, c -> {
            int id = c.preparedId(sql);
            if (id < 0) {
                id = prepareOn(c, sql);
                if (id < 0) {
                    return null;
                }
            }
            return io.netty.buffer.Unpooled.wrappedBuffer(withStatementId(execute, id));
        }, around);
    }

    /**
     * {@link #relay} for a caller on the client's event loop, which must not wait: starts the statement only if it can
     * start now (a place in the shard's budget and a ready idle connection, on the client's loop if one is, that carries
     * the session's {@code settings}); else returns null and nothing ran (the caller runs it the usual way). The future
     * completes, on an event loop, as {@link #relay} returns or throws; the rare steps that may wait (settling an
     * interrupt sent to the connection) run on {@code blocking}.
     */
    public java.util.concurrent.CompletableFuture<RelaySink.Outcome> relayFromLoop(ShardDefinition shard, byte[] sql,
            SessionSettings settings, RelayTarget target, ShardWork.Tracker tracker, java.util.concurrent.Executor blocking) {
        return relayFromLoop(shard, settings, target, tracker, blocking, c -> true,
                c -> MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, sql));
    }

    /**
     * {@link #relayExecute} from the client's event loop, as {@link #relayFromLoop}: null (nothing ran) also when the
     * connection lent has not prepared {@code sql} yet (preparing waits; the usual path does it).
     */
    public java.util.concurrent.CompletableFuture<RelaySink.Outcome> relayExecuteFromLoop(ShardDefinition shard, byte[] sql,
            byte[] execute, SessionSettings settings, RelayTarget target, ShardWork.Tracker tracker,
            java.util.concurrent.Executor blocking) {
        StatementKey key = new StatementKey(sql); // hashed once for every idle connection considered
        return relayFromLoop(shard, settings, target, tracker, blocking, c -> c.preparedId(key) >= 0,
                c -> io.netty.buffer.Unpooled.wrappedBuffer(withStatementId(execute, c.preparedId(key))));
    }

    private static byte[] withStatementId(byte[] execute, int id) {
        byte[] packet = execute.clone();
        packet[1] = (byte) id;
        packet[2] = (byte) (id >>> 8);
        packet[3] = (byte) (id >>> 16);
        packet[4] = (byte) (id >>> 24);
        return packet;
    }

    private java.util.concurrent.CompletableFuture<RelaySink.Outcome> relayFromLoop(ShardDefinition shard, SessionSettings settings,
            RelayTarget target, ShardWork.Tracker tracker, java.util.concurrent.Executor blocking,
            java.util.function.Predicate<MySqlBackendConnection> fits, Function<MySqlBackendConnection, io.netty.buffer.ByteBuf> command) {
        NativePool pool = pool(shard, target.deprecateEof(), target.foundRows());
        ShardBudget budget = budgets.apply(shard.name());
        if (!budget.tryAcquireNative()) {
            return null;
        }
        String wanted = settings.fingerprint();
        MySqlBackendConnection c = pool.borrowReady(target.client().eventLoop(), x -> wanted.equals(x.sessionTag()) && fits.test(x));
        if (c == null) {
            budget.releaseNative();
            return null;
        }
        io.netty.buffer.ByteBuf packet = null;
        try {
            packet = command.apply(c);
        } finally {
            if (packet == null) {
                pool.release(c, false); // untouched: it goes back as it came
                budget.releaseNative();
            }
        }
        if (packet == null) {
            return null;
        }
        var result = new java.util.concurrent.CompletableFuture<RelaySink.Outcome>();
        ShardWork.Tracked tracked = tracker.track(new NativeWork(shard, pool, c));
        RelaySink sink = new RelaySink(target.client(), c, target.firstSequence(), target.deprecateEof(), tracker::overridingError);
        sink.done.whenComplete((outcome, failure) -> {
            if (failure == null && outcome.warnings() > 0) {
                // listed now, on the same connection, as relay does; without waiting: the listing's reply completes it
                listWarnings(c).whenComplete((rows, ignored) ->
                        endFromLoop(pool, budget, c, tracked, target, outcome.withWarningRows(rows), null, result, blocking));
            } else {
                endFromLoop(pool, budget, c, tracked, target, outcome, failure, result, blocking);
            }
        });
        try {
            c.send(packet, sink);
        } catch (RuntimeException e) {
            sink.done.completeExceptionally(new RelaySink.Broken(e instanceof io.shardgate.proxy.error.ProxyException p ? p
                    : new io.shardgate.proxy.error.ProxyException(ErrorCode.INTERNAL, pool.describe() + ": relay failed: " + e, e),
                    false));
        }
        return result;
    }

    /** The rows of {@code SHOW WARNINGS} on {@code c} when its reply comes; null rows if they could not be read. */
    private static java.util.concurrent.CompletableFuture<java.util.List<byte[][]>> listWarnings(MySqlBackendConnection c) {
        WarningsSink sink = new WarningsSink();
        try {
            c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY,
                    "SHOW WARNINGS".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), sink);
        } catch (RuntimeException e) {
            sink.done.completeExceptionally(e);
        }
        return sink.done.handle((rows, e) -> {
            if (e != null) {
                LOG.warn("{}: reading a relayed statement's warnings failed: {}", c, e.toString());
                return null;
            }
            return rows;
        });
    }

    /** The end of a statement relayed from the loop: as {@link #relay}'s, then the future completes. */
    private static void endFromLoop(NativePool pool, ShardBudget budget, MySqlBackendConnection c, ShardWork.Tracked tracked,
            RelayTarget target, RelaySink.Outcome outcome, Throwable failure,
            java.util.concurrent.CompletableFuture<RelaySink.Outcome> result, java.util.concurrent.Executor blocking) {
        Runnable end = () -> {
            try {
                if (!tracked.close()) {
                    c.close(); // a cancel still in flight would reach the connection's next statement: never reused
                }
                pool.release(c, false); // closed by a failure: discarded
            } finally {
                budget.releaseNative();
            }
            if (failure == null) {
                result.complete(outcome);
                return;
            }
            Throwable cause = failure instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null
                    ? ce.getCause() : failure;
            if (cause instanceof RelaySink.Broken broken) {
                if (broken.started) {
                    target.client().close();
                }
                result.completeExceptionally(broken.error);
            } else {
                result.completeExceptionally(new io.shardgate.proxy.error.ProxyException(ErrorCode.INTERNAL,
                        pool.describe() + ": relay failed: " + cause, cause));
            }
        };
        if (tracked.closeIfUntouched()) {
            end.run(); // its close() below returns at once
        } else {
            blocking.execute(end); // settling the interrupt may wait
        }
    }

    private static int prepareOn(MySqlBackendConnection c, byte[] sql) {
        try {
            MySqlBackendConnection.PrepareResult r = c.prepare(sql).get(REPLY_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            return r.error() == null ? r.statementId() : -1;
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            c.close();
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            return -1;
        }
    }

    private RelaySink.Outcome relay(ShardDefinition shard, SessionSettings settings, RelayTarget target, ShardWork.Tracker tracker,
            Function<MySqlBackendConnection, io.netty.buffer.ByteBuf> command, UnaryOperator<ReplySink> around) {
        NativePool pool = pool(shard, target.deprecateEof(), target.foundRows());
        ShardBudget budget = budgets.apply(shard.name());
        long start = System.nanoTime();
        if (!budget.acquireNative(start + poolWait.toNanos())) {
            throw budget.busy(pool.describe(), MySqlBackendConnection.millis(System.nanoTime() - start), poolWait.toMillis(), 0);
        }
        try {
            return relayOn(shard, pool, settings, target, tracker, command, around);
        } finally {
            budget.releaseNative();
        }
    }

    private static RelaySink.Outcome relayOn(ShardDefinition shard, NativePool pool, SessionSettings settings, RelayTarget target,
            ShardWork.Tracker tracker, Function<MySqlBackendConnection, io.netty.buffer.ByteBuf> command,
            UnaryOperator<ReplySink> around) {
        MySqlBackendConnection c = pool.borrow(target.client().eventLoop());
        ShardWork.Tracked tracked = tracker.track(new NativeWork(shard, pool, c));
        return relayOn(pool, c, tracked, settings, target, tracker, command, around);
    }

    /**
     * Gives {@code c} back once its tracking has ended, never before: an interrupt sent meanwhile would reach whatever
     * statement runs on it next, another session's. One still in flight: closed, never reused.
     */
    private static void giveBack(NativePool pool, MySqlBackendConnection c, ShardWork.Tracked tracked) {
        if (!tracked.close()) {
            c.close();
        }
        pool.release(c, false); // a closed one is discarded
    }

    /** A relayed statement's work on {@code connection}: {@code KILL QUERY} of its thread id, or closing it. */
    record NativeWork(ShardDefinition definition, NativePool pool, MySqlBackendConnection connection) implements ShardWork {
        @Override
        public String shard() {
            return pool.describe();
        }

        @Override
        public void interrupt() throws java.sql.SQLException {
            io.shardgate.proxy.exec.MySqlKill.query(definition, connection.connectionId());
        }

        @Override
        public void abort() {
            connection.close();
        }
    }

    private static RelaySink.Outcome relayOn(NativePool pool, MySqlBackendConnection c, ShardWork.Tracked tracked,
            SessionSettings settings, RelayTarget target,
            ShardWork.Tracker tracker, Function<MySqlBackendConnection, io.netty.buffer.ByteBuf> command,
            UnaryOperator<ReplySink> around) {
        if (!carry(pool, c, settings)) {
            tracked.close();
            pool.discard(c);
            return null;
        }
        io.netty.buffer.ByteBuf packet;
        try {
            packet = command.apply(c);
        } catch (RuntimeException e) {
            giveBack(pool, c, tracked);
            throw e;
        }
        if (packet == null) {
            giveBack(pool, c, tracked); // a failed prepare leaves the connection as it was; a broken one is discarded
            return null;
        }
        RelaySink sink = new RelaySink(target.client(), c, target.firstSequence(), target.deprecateEof(), tracker::overridingError);
        try {
            c.send(packet, around.apply(sink));
            RelaySink.Outcome outcome = sink.done.get();
            if (outcome.warnings() > 0) {
                // listed now, on the same connection: once it is back in the pool, another statement replaces them
                outcome = outcome.withWarningRows(warnings(c));
            }
            giveBack(pool, c, tracked);
            return outcome;
        } catch (ExecutionException e) {
            giveBack(pool, c, tracked); // closed by the failure: discarded
            if (e.getCause() instanceof RelaySink.Broken broken) {
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

    /** What a streamed read's owner learns as its rows end: the warnings the shard listed (see {@link NativeRows}). */
    public interface ReadWarnings {
        /** {@code count} warnings, listed as {@code rows} (Level, Code, Message as the server's bytes; null if unreadable). */
        void listed(int count, java.util.List<byte[][]> rows);
    }

    /**
     * Starts a read of {@code sql} (a text statement's bytes, utf8mb4) on {@code shard} with its rows left to come
     * ({@link io.shardgate.proxy.execute.RowSource}, see {@link NativeRows}): a place in the shard's budget and a pooled
     * connection carrying the session's {@code settings} are taken, and given back when the source ends or is closed;
     * the connection's work is tracked by {@code tracker} meanwhile (deadline, KILL QUERY). The column definitions are
     * the shard's own, the schema named {@code logicalDatabase}.
     *
     * @throws io.shardgate.proxy.execute.BackendError the server's error, or SHARD_BUSY / SHARD_UNAVAILABLE naming the shard
     */
    public io.shardgate.proxy.execute.RowSource.Opened openRead(ShardDefinition shard, byte[] sql, SessionSettings settings,
            boolean foundRows, ShardWork.Tracker tracker, String logicalDatabase, ReadWarnings warnings)
            throws io.shardgate.proxy.execute.BackendError {
        NativePool pool = pool(shard, true, foundRows);
        ShardBudget budget = budgets.apply(shard.name());
        long start = System.nanoTime();
        if (!budget.acquireNative(start + poolWait.toNanos())) {
            throw new io.shardgate.proxy.execute.BackendError(budget.busy(pool.describe(),
                    MySqlBackendConnection.millis(System.nanoTime() - start), poolWait.toMillis(), 0), 0, null);
        }
        MySqlBackendConnection c;
        try {
            c = pool.borrow();
        } catch (ProxyException e) {
            budget.releaseNative();
            throw new io.shardgate.proxy.execute.BackendError(e, 0, null);
        } catch (RuntimeException | Error e) {
            budget.releaseNative();
            throw e;
        }
        ShardWork.Tracked tracked = tracker.track(new NativeWork(shard, pool, c));
        NativeRows.Ending ending = new NativeRows.Ending() {
            private boolean ended;

            @Override
            public void warnings(int count, java.util.List<byte[][]> rows) {
                warnings.listed(count, rows);
            }

            @Override
            public void ended(boolean idle, boolean killQuery) {
                if (ended) {
                    return;
                }
                ended = true;
                try {
                    if (!tracked.close() || !idle) {
                        c.close(); // a cancel still in flight would reach the connection's next statement: never reused
                    }
                    if (killQuery) {
                        long thread = c.connectionId();
                        Thread.ofVirtual().name("shardgate-kill").start(() -> {
                            try {
                                io.shardgate.proxy.exec.MySqlKill.query(shard, thread);
                            } catch (Exception e) {
                                LOG.debug("{}: KILL QUERY {} after an early end: {}", pool.describe(), thread, e.toString());
                            }
                        });
                    }
                    pool.release(c, false); // a closed one is discarded
                } finally {
                    budget.releaseNative();
                }
            }
        };
        boolean carried;
        try {
            carried = carry(pool, c, settings);
        } catch (RuntimeException | Error e) {
            ending.ended(false, false);
            throw e;
        }
        if (!carried) {
            ending.ended(false, false);
            throw new io.shardgate.proxy.execute.BackendError(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, pool.describe()
                    + ": a native connection could not be given the session's settings " + settings.keys()
                    + "; the connection is closed"), 0, null);
        }
        return new NativeRows(c, logicalDatabase, ending).open(sql);
    }

    /**
     * Lends a native connection of {@code shard} carrying the session's {@code settings} for a statement run through the
     * executor or for a transaction (see {@link LentConnection}): a place in the shard's budget first (waiting up to
     * the pool wait), then a pooled connection with the {@code DEPRECATE_EOF} capability.
     *
     * @throws ProxyException SHARD_BUSY naming the shard, the wait and the budget; SHARD_UNAVAILABLE when the shard cannot
     *                        be reached or the connection cannot take the settings
     */
    public LentConnection lend(ShardDefinition shard, SessionSettings settings, boolean foundRows) {
        NativePool pool = pool(shard, true, foundRows);
        ShardBudget budget = budgets.apply(shard.name());
        long start = System.nanoTime();
        if (!budget.acquireNative(start + poolWait.toNanos())) {
            throw budget.busy(pool.describe(), MySqlBackendConnection.millis(System.nanoTime() - start), poolWait.toMillis(), 0);
        }
        MySqlBackendConnection c;
        try {
            c = pool.borrow();
        } catch (RuntimeException | Error e) {
            budget.releaseNative();
            throw e;
        }
        LentConnection lent = new LentConnection(shard, pool, c, budget);
        boolean carried = false;
        try {
            carried = lent.carry(settings);
        } finally {
            if (!carried) {
                lent.discard();
            }
        }
        if (!carried) {
            throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, pool.describe() + ": a native connection could not be given the"
                    + " session's settings " + settings.keys() + "; the connection is closed");
        }
        return lent;
    }

    /** The rows of {@code SHOW WARNINGS} on {@code c}, or null if they could not be read (the session then refuses to list them). */
    private static java.util.List<byte[][]> warnings(MySqlBackendConnection c) throws InterruptedException {
        WarningsSink sink = new WarningsSink();
        c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY,
                "SHOW WARNINGS".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), sink);
        try {
            return sink.done.get(REPLY_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("{}: reading a relayed statement's warnings failed: {}", c, e.toString());
            return null;
        }
    }

    /** Brings {@code c} to the session's settings, as ConnectionStates does for JDBC connections; false if that failed. */
    static boolean carry(NativePool pool, MySqlBackendConnection c, SessionSettings settings) {
        String wanted = settings.fingerprint();
        if (wanted.equals(c.sessionTag())) {
            return true;
        }
        if (!c.sessionTag().isEmpty() && !pool.resetSession(c)) {
            return false;
        }
        c.sessionTag("/* unknown */");
        try {
            for (String statement : settings.statements()) {
                BackendReply r = c.query(statement).get(REPLY_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                if (!r.ok()) {
                    return false;
                }
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        c.sessionTag(wanted);
        return true;
    }

    private NativePool pool(ShardDefinition shard, boolean deprecateEof, boolean foundRows) {
        Key key = new Key(shard.name(), deprecateEof, foundRows);
        Entry e = pools.get(key);
        if (e != null && e.definition().equals(shard)) {
            return e.pool();
        }
        synchronized (this) {
            e = pools.get(key);
            if (e != null && e.definition().equals(shard)) {
                return e.pool();
            }
            NativePool pool = new NativePool(loops, settings(shard, deprecateEof, foundRows),
                    NativePool.Settings.defaults(Math.max(1, shard.poolSize())).withPoolWait(poolWait).withMinIdle(minIdle));
            pools.put(key, new Entry(shard, pool));
            LOG.info("{}: native pool {} (max {} connections, {})", shard.name(), e == null ? "created" : "replaced",
                    Math.max(1, shard.poolSize()), (deprecateEof ? "DEPRECATE_EOF" : "EOF packets")
                    + (foundRows ? ", FOUND_ROWS" : ", changed rows"));
            if (e != null) {
                e.pool().close();
            } else {
                onNewPool.accept(pool);
            }
            return pool;
        }
    }

    private BackendSettings settings(ShardDefinition shard, boolean deprecateEof, boolean foundRows) {
        BackendUrl url = BackendUrl.parse(shard.jdbcUrl());
        String hostPort = url.hostPort();
        int colon = hostPort.lastIndexOf(':');
        String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
        int port = colon < 0 ? 3306 : Integer.parseInt(hostPort.substring(colon + 1));
        return new BackendSettings(shard.name(), host, port, shard.user(), shard.password(), url.database(),
                BackendSettings.UTF8MB4_GENERAL_CI, deprecateEof, foundRows, false, connectTimeout, REPLY_TIMEOUT);
    }

    @Override
    public synchronized void close() {
        pools.values().forEach(e -> e.pool().close());
        pools.clear();
        loops.close();
    }
}

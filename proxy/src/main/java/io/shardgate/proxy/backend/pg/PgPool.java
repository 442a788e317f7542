package io.shardgate.proxy.backend.pg;

import io.shardgate.proxy.backend.BackendEventLoops;
import io.shardgate.proxy.backend.IdleFloor;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.concurrent.ScheduledFuture;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.ShardPool;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native connections this proxy keeps to one PostgreSQL shard, lent to one statement (or one pinned session) at a
 * time; the design of the MySQL side's {@code NativePool}, with PostgreSQL's validation and reset.
 * <ul>
 *   <li>At most {@link Settings#maxSize} connections, opened on demand; besides, at least {@link Settings#minIdle} idle
 *       ones are kept ready ({@link IdleFloor}): opened in the background at start and again whenever a borrow, a
 *       discarded, cut or expired connection or the housekeeper leaves fewer, so that a statement (each shard's part of
 *       a scatter read above all) does not connect on its way to the first row. A borrower waits for a free one up to
 *       {@link Settings#poolWait} and then fails with {@code SHARD_BUSY} (7106) naming the size, the wait and the
 *       sessions waiting; a shard that cannot be reached fails the borrow with {@code SHARD_UNAVAILABLE} at once.</li>
 *   <li>Idle connections are lent newest first (warm ones); one idle longer than {@link Settings#validateAfter} is
 *       validated (an empty Query: EmptyQueryResponse and ReadyForQuery) before it is lent, and dropped if that fails.</li>
 *   <li>A housekeeper closes connections idle longer than {@link Settings#idleTimeout} (down to
 *       {@link Settings#minIdle}) and, when idle, those older than {@link Settings#maxLifetime}; a borrowed one past
 *       its lifetime is closed when it comes back.</li>
 *   <li>{@link #release} with {@code dirty} (the borrower changed session state on it) resets the connection first:
 *       {@code RESET ALL} when only run-time parameters were set (a session's SET statements, known from its
 *       {@linkplain PgBackendConnection#sessionTag() session tag}), {@code DISCARD ALL} when a statement changed the
 *       session in a way the pool does not know. A connection that is closed, failed, or not idle (a transaction block
 *       open or failed: ReadyForQuery status other than 'I') is {@linkplain #discard discarded}, never lent again.</li>
 * </ul>
 * {@link #stats()} has the shape of {@link ShardPool#stats()}; {@link #counters()} adds what happened since start.
 */
public final class PgPool implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PgPool.class);

    /**
     * How the pool behaves.
     *
     * @param maxSize         most connections open at once (lent, idle or being opened)
     * @param poolWait        how long a borrower waits while all {@code maxSize} are lent
     * @param idleTimeout     an idle connection is closed after this long
     * @param maxLifetime     a connection is closed once this old (when next idle)
     * @param validateAfter   an idle connection unused this long is pinged before it is lent
     * @param housekeeping    how often idle connections are checked for idle timeout and lifetime
     * @param minIdle         idle connections kept ready, 0 (opened on demand only)..{@code maxSize}
     */
    public record Settings(int maxSize, Duration poolWait, Duration idleTimeout, Duration maxLifetime, Duration validateAfter,
            Duration housekeeping, int minIdle) {
        public Settings {
            if (maxSize < 1) {
                throw new IllegalArgumentException("maxSize must be at least 1, was " + maxSize);
            }
            if (minIdle < 0 || minIdle > maxSize) {
                throw new IllegalArgumentException("minIdle must be 0.." + maxSize + " (maxSize), was " + minIdle);
            }
            for (Duration d : List.of(poolWait, idleTimeout, maxLifetime, validateAfter, housekeeping)) {
                if (d.isNegative()) {
                    throw new IllegalArgumentException("pool durations must not be negative: " + this);
                }
            }
            if (housekeeping.isZero()) {
                throw new IllegalArgumentException("housekeeping interval must be positive");
            }
        }

        /** Connections opened on demand only (no idle floor). */
        public Settings(int maxSize, Duration poolWait, Duration idleTimeout, Duration maxLifetime, Duration validateAfter,
                Duration housekeeping) {
            this(maxSize, poolWait, idleTimeout, maxLifetime, validateAfter, housekeeping, 0);
        }

        public Settings withPoolWait(Duration wait) {
            return new Settings(maxSize, wait, idleTimeout, maxLifetime, validateAfter, housekeeping, minIdle);
        }

        /** These settings keeping {@code min} idle connections ready, capped by the pool's size. */
        public Settings withMinIdle(int min) {
            return new Settings(maxSize, poolWait, idleTimeout, maxLifetime, validateAfter, housekeeping, Math.min(min, maxSize));
        }

        public static Settings defaults(int maxSize) {
            return new Settings(maxSize, Duration.ofSeconds(5), Duration.ofMinutes(10), Duration.ofMinutes(30),
                    Duration.ofMillis(500), Duration.ofSeconds(30));
        }
    }

    /**
     * What happened since the pool started; {@code borrowedOnLoop} of the {@code borrowed} were lent to a relay run from
     * the client's event loop ({@link #tryBorrow}), {@code statementsPrepared} counts the proxy's named statements
     * the shard parsed on the pool's connections ({@link PgPreparedStatements}), {@code warmed} of those opened were
     * opened for the idle floor, and {@code statementsDescribed} of the {@code borrowed} were lent to answer a client's
     * Describe of a statement, not to run one.
     */
    public record Counters(long opened, long openFailures, long borrowed, long waited, long busyTimeouts, long resets,
            long validationFailures, long discardedBroken, long closedIdle, long closedLifetime, long borrowedOnLoop,
            long statementsPrepared, long warmed, long statementsDescribed) {}

    private final BackendEventLoops loops;
    private final PgBackendSettings connection;
    private final Settings settings;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition available = lock.newCondition();
    private final Deque<PgBackendConnection> idle = new ArrayDeque<>();
    private int total;
    private int lent;
    private int waiting;
    private boolean closed;
    private final ScheduledFuture<?> housekeeper;
    private final IdleFloor<PgBackendConnection> floor;

    private final LongAdder opened = new LongAdder();
    private final LongAdder openFailures = new LongAdder();
    private final LongAdder borrowed = new LongAdder();
    private final LongAdder waited = new LongAdder();
    private final LongAdder busyTimeouts = new LongAdder();
    private final LongAdder resets = new LongAdder();
    private final LongAdder validationFailures = new LongAdder();
    private final LongAdder discardedBroken = new LongAdder();
    private final LongAdder closedIdle = new LongAdder();
    private final LongAdder closedLifetime = new LongAdder();
    private final LongAdder borrowedOnLoop = new LongAdder();
    private final LongAdder statementsPrepared = new LongAdder();
    private final LongAdder statementsDescribed = new LongAdder();

    public PgPool(BackendEventLoops loops, PgBackendSettings connection, Settings settings) {
        this.loops = Objects.requireNonNull(loops, "loops");
        this.connection = Objects.requireNonNull(connection, "connection");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.floor = new IdleFloor<>(settings.minIdle(), lock, new FloorSide(), () -> PgBackendConnection.connect(loops, connection),
                connection.connectTimeout().plus(connection.replyTimeout()), PgBackendConnection::quit, connection.describe());
        long every = settings.housekeeping().toNanos();
        this.housekeeper = loops.group().next().scheduleAtFixedRate(this::housekeeping, every, every, TimeUnit.NANOSECONDS);
        floor.fill(); // at start, in the background
    }

    /**
     * A connection for one statement or session; give it back with {@link #release} or {@link #discard}.
     *
     * @throws ProxyException SHARD_BUSY after the pool wait with every connection lent; SHARD_UNAVAILABLE if the shard
     *                        cannot be reached or logged into
     */
    public PgBackendConnection borrow() {
        return borrow(null);
    }

    /**
     * As {@link #borrow()}, preferring a connection that lives on {@code loop} (the client's event loop, when the relay
     * writes the shard's reply to that client): an idle one there first, else a new one opened there while the pool is
     * below its size, else any idle one. The reply is then read and written to the client on one thread.
     */
    public PgBackendConnection borrow(io.netty.channel.EventLoop loop) {
        long start = System.nanoTime();
        long deadline = start + settings.poolWait().toNanos();
        boolean counted = false;
        while (true) {
            PgBackendConnection candidate = null;
            boolean open = false;
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, connection.describe() + ": the pool is closed");
                    }
                    candidate = loop == null ? idle.pollFirst() : takeIdleOn(loop);
                    if (candidate != null) {
                        lent++;
                        break;
                    }
                    if (total < settings.maxSize()) {
                        total++;
                        lent++;
                        open = true;
                        break;
                    }
                    candidate = idle.pollFirst();
                    if (candidate != null) {
                        lent++;
                        break;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        busyTimeouts.increment();
                        throw busy(start);
                    }
                    if (!counted) {
                        waited.increment();
                        counted = true;
                    }
                    waiting++;
                    try {
                        available.awaitNanos(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, connection.describe()
                                + ": interrupted while waiting for a connection", e);
                    } finally {
                        waiting--;
                    }
                }
            } finally {
                lock.unlock();
            }
            if (!open) {
                floor.fill(); // behind the idle one taken
            }
            PgBackendConnection c = open ? openOne(start, loop) : candidate;
            if (open || usable(c)) {
                borrowed.increment();
                return c;
            }
        }
    }

    /**
     * An idle connection on {@code loop} carrying the session state {@code sessionTag} that can be lent without waiting
     * for anything (no ping due), or null: the caller, which must not block (an event loop), takes the usual way instead.
     */
    public PgBackendConnection tryBorrow(io.netty.channel.EventLoop loop, String sessionTag) {
        long now = System.nanoTime();
        PgBackendConnection found = null;
        lock.lock();
        try {
            if (closed) {
                return null;
            }
            for (Iterator<PgBackendConnection> it = idle.iterator(); it.hasNext(); ) {
                PgBackendConnection c = it.next();
                if (c.eventLoop() == loop && sessionTag.equals(c.sessionTag())) {
                    if (c.isUsable() && !expired(c, now) && now - c.lastUsedNanos() < settings.validateAfter().toNanos()) {
                        it.remove();
                        lent++;
                        found = c;
                    }
                    break; // newest first; an older one due a ping is for a borrower that may wait
                }
            }
        } finally {
            lock.unlock();
        }
        if (found != null) {
            floor.fill();
            borrowed.increment();
            borrowedOnLoop.increment();
        }
        return found;
    }

    /**
     * Gives a connection back. {@code dirty}: the borrower changed session state on it, so it is reset before it is
     * lent again.
     */
    public void release(PgBackendConnection c, boolean dirty) {
        if (!c.isUsable() || c.transactionStatus() != 'I') {
            discard(c);
            return;
        }
        if (expired(c, System.nanoTime())) {
            closedLifetime.increment();
            retire(c);
            return;
        }
        if (!dirty) {
            giveBack(c);
            return;
        }
        resets.increment();
        reset(c).whenComplete((ok, error) -> {
            if (error == null && c.isUsable()) {
                giveBack(c);
            } else {
                LOG.warn("{}: reset failed, connection discarded: {}", connection.describe(), error == null ? "unusable" : error.toString());
                discard(c);
            }
        });
    }

    /** Takes a lent connection out of service for good (its state is unknown): closed, never lent again. */
    public void discard(PgBackendConnection c) {
        discardedBroken.increment();
        retire(c);
    }

    /** Connections now: lent, idle, borrowers waiting, and the most the pool keeps. */
    public ShardPool.Stats stats() {
        lock.lock();
        try {
            return new ShardPool.Stats(lent, idle.size(), waiting, settings.maxSize());
        } finally {
            lock.unlock();
        }
    }

    public Counters counters() {
        return new Counters(opened.sum() + floor.warmed(), openFailures.sum() + floor.failed(), borrowed.sum(), waited.sum(),
                busyTimeouts.sum(), resets.sum(), validationFailures.sum(), discardedBroken.sum(), closedIdle.sum(),
                closedLifetime.sum(), borrowedOnLoop.sum(), statementsPrepared.sum(), floor.warmed(), statementsDescribed.sum());
    }

    /** The shard parsed one of the proxy's named statements on a connection of this pool. */
    void statementPrepared() {
        statementsPrepared.increment();
    }

    /** A connection of this pool was lent to answer a client's Describe of a statement. */
    void statementDescribed() {
        statementsDescribed.increment();
    }

    /**
     * Registers the pool's meters: gauges {@code shardgate.native.pool.connections} by shard and state (active, idle,
     * waiting, max: the states of today's {@code shardgate.pool.connections}; and min_idle, the idle floor) and counters
     * {@code shardgate.native.pool.events} by shard and event (the fields of {@link Counters}), the meters of the MySQL
     * side's pools, tagged {@code eof=postgres} (the tag those carry) so one query shows both.
     */
    public void register(MeterRegistry registry) {
        String shard = connection.shard();
        String eof = "postgres";
        Map<String, java.util.function.ToDoubleFunction<PgPool>> gauges = Map.of(
                "active", p -> p.stats().active(), "idle", p -> p.stats().idle(), "waiting", p -> p.stats().waiting(),
                "max", p -> p.stats().max(), "min_idle", p -> p.settings.minIdle());
        gauges.forEach((state, f) -> Gauge.builder("shardgate.native.pool.connections", this, f)
                .description("Native backend connections of this proxy, by shard and state").tags("shard", shard, "state", state, "eof", eof)
                .register(registry));
        Map<String, java.util.function.ToDoubleFunction<Counters>> events = Map.ofEntries(Map.entry("opened", Counters::opened),
                Map.entry("open_failed", Counters::openFailures), Map.entry("borrowed", Counters::borrowed),
                Map.entry("waited", Counters::waited), Map.entry("busy_timeout", Counters::busyTimeouts), Map.entry("reset", Counters::resets),
                Map.entry("validation_failed", Counters::validationFailures), Map.entry("discarded", Counters::discardedBroken),
                Map.entry("closed_idle", Counters::closedIdle), Map.entry("closed_lifetime", Counters::closedLifetime),
                Map.entry("borrowed_on_loop", Counters::borrowedOnLoop), Map.entry("statement_prepared", Counters::statementsPrepared),
                Map.entry("warmed", Counters::warmed), Map.entry("statement_described", Counters::statementsDescribed));
        events.forEach((event, f) -> FunctionCounter.builder("shardgate.native.pool.events", this, p -> f.applyAsDouble(p.counters()))
                .description("What happened to native backend connections, by shard and event").tags("shard", shard, "event", event, "eof", eof)
                .register(registry));
    }

    /** {@code shard s0 (host:port)}. */
    public String describe() {
        return connection.describe();
    }

    public PgBackendSettings connectionSettings() {
        return connection;
    }

    @Override
    public void close() {
        List<PgBackendConnection> toClose;
        lock.lock();
        try {
            closed = true;
            toClose = new ArrayList<>(idle);
            total -= idle.size();
            idle.clear();
            available.signalAll();
        } finally {
            lock.unlock();
        }
        housekeeper.cancel(false);
        toClose.forEach(PgBackendConnection::quit);
    }

    // ---- internals

    /** The pool as its idle floor sees it; under the lock. */
    private final class FloorSide implements IdleFloor.Pool<PgBackendConnection> {
        @Override
        public int room() {
            return closed ? 0 : settings.maxSize() - total;
        }

        @Override
        public int idle() {
            return idle.size();
        }

        @Override
        public void reserve(int n) {
            total += n;
        }

        @Override
        public boolean add(PgBackendConnection c) {
            if (closed) {
                total--;
                return false;
            }
            idle.addFirst(c);
            available.signal();
            return true;
        }

        @Override
        public void free() {
            total--;
            available.signal();
        }
    }

    /** The newest idle connection living on {@code loop}, taken out of the idle list; null if none (under the lock). */
    private PgBackendConnection takeIdleOn(io.netty.channel.EventLoop loop) {
        for (Iterator<PgBackendConnection> it = idle.iterator(); it.hasNext(); ) {
            PgBackendConnection c = it.next();
            if (c.eventLoop() == loop) {
                it.remove();
                return c;
            }
        }
        return null;
    }

    private PgBackendConnection openOne(long start, io.netty.channel.EventLoop loop) {
        Duration limit = connection.connectTimeout().plus(connection.replyTimeout());
        CompletableFuture<PgBackendConnection> connecting = PgBackendConnection.connect(loops, connection, loop);
        try {
            PgBackendConnection c = connecting.get(limit.toNanos(), TimeUnit.NANOSECONDS);
            opened.increment();
            return c;
        } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            connecting.thenAccept(PgBackendConnection::close);
            openFailures.increment();
            lock.lock();
            try {
                total--;
                lent--;
                available.signal();
            } finally {
                lock.unlock();
            }
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            String why = cause instanceof ProxyException p ? p.getMessage() : connection.describe() + ": " + cause;
            throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, why + " (new connection after "
                    + PgBackendConnection.millis(System.nanoTime() - start) + " ms; " + counts() + ")", cause);
        }
    }

    /** Whether an idle connection taken from the pool may be lent; if not, it is retired and the borrower goes on. */
    private boolean usable(PgBackendConnection c) {
        long now = System.nanoTime();
        if (!c.isUsable()) {
            discardedBroken.increment();
            retire(c);
            return false;
        }
        if (expired(c, now)) {
            closedLifetime.increment();
            retire(c);
            return false;
        }
        if (now - c.lastUsedNanos() < settings.validateAfter().toNanos() && !PgBackendConnection.UNKNOWN_SESSION.equals(c.sessionTag())) {
            return true;
        }
        try {
            PgReply pong = c.query("").get(connection.replyTimeout().toNanos() + TimeUnit.MILLISECONDS.toNanos(100),
                    TimeUnit.NANOSECONDS);
            if (pong.ok() && c.isUsable()) {
                return true;
            }
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.debug("{}: idle connection failed its ping: {}", connection.describe(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        validationFailures.increment();
        retire(c);
        return false;
    }

    private boolean expired(PgBackendConnection c, long now) {
        return now - c.createdNanos() >= settings.maxLifetime().toNanos();
    }

    /**
     * Resets a lent connection to the pool's session now (as {@link #release} with {@code dirty} does before lending it
     * again); false if that failed, and the caller discards it.
     */
    public boolean resetSession(PgBackendConnection c) {
        resets.increment();
        try {
            reset(c).get(2 * connection.replyTimeout().toNanos(), TimeUnit.NANOSECONDS);
            return c.isUsable();
        } catch (ExecutionException | TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private CompletableFuture<Void> reset(PgBackendConnection c) {
        // RESET ALL brings run-time parameters back to the connection's start (its StartupMessage's values); anything
        // else a statement may have left is what DISCARD ALL also drops
        String how = PgBackendConnection.UNKNOWN_SESSION.equals(c.sessionTag()) ? "DISCARD ALL" : "RESET ALL";
        // the reset's own ParameterStatus messages mark the session changed: it is clean once the reset is done
        return c.query(how).thenCompose(r -> checked(r, how)).thenRun(() -> {
            if (how.equals("DISCARD ALL")) {
                c.preparedStatements().clear(); // DISCARD ALL deallocated them on the server
            }
            c.sessionTag("");
        });
    }

    private CompletableFuture<Void> checked(PgReply r, String what) {
        return r.ok() && r.status() == 'I' ? CompletableFuture.completedFuture(null)
                : CompletableFuture.failedFuture(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, connection.describe() + ": "
                        + what + " failed: " + (r.ok() ? "transaction status " + r.status() : r.error())));
    }

    private void giveBack(PgBackendConnection c) {
        lock.lock();
        try {
            lent--;
            if (!closed) {
                idle.addFirst(c);
                available.signal();
                return;
            }
            total--;
        } finally {
            lock.unlock();
        }
        c.quit();
    }

    /** Closes a lent connection and frees its place. */
    private void retire(PgBackendConnection c) {
        lock.lock();
        try {
            lent--;
            total--;
            available.signal();
        } finally {
            lock.unlock();
        }
        c.quit();
        floor.fill();
    }

    private void housekeeping() {
        long now = System.nanoTime();
        List<PgBackendConnection> retired = new ArrayList<>();
        lock.lock();
        try {
            for (Iterator<PgBackendConnection> it = idle.iterator(); it.hasNext(); ) {
                PgBackendConnection c = it.next();
                boolean old = expired(c, now);
                boolean unused = now - c.lastUsedNanos() >= settings.idleTimeout().toNanos() && idle.size() > settings.minIdle();
                if (old || unused || !c.isUsable()) {
                    it.remove();
                    total--;
                    retired.add(c);
                    (old ? closedLifetime : unused ? closedIdle : discardedBroken).increment();
                }
            }
            if (!retired.isEmpty()) {
                available.signalAll();
            }
        } finally {
            lock.unlock();
        }
        retired.forEach(PgBackendConnection::quit);
        floor.fill();
    }

    private String counts() {
        lock.lock();
        try {
            return "pool lent=" + lent + ", idle=" + idle.size() + ", waiting=" + waiting + ", max=" + settings.maxSize();
        } finally {
            lock.unlock();
        }
    }

    private ProxyException busy(long start) {
        long millis = PgBackendConnection.millis(System.nanoTime() - start);
        return new ProxyException(ErrorCode.SHARD_BUSY, connection.describe() + ": no connection free after " + millis
                + " ms (pool wait " + settings.poolWait().toMillis() + " ms): all " + settings.maxSize()
                + " connections this proxy keeps to it (shards[].pool-size) are in use by other sessions' statements and"
                + " transactions, " + waiting + " more sessions waiting; raise shards[].pool-size (pool-size x proxies must"
                + " stay within the shard's max_connections), raise limits.pool-wait-ms, or keep transactions shorter");
    }
}

package io.shardgate.proxy.backend;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The least idle connections a native pool keeps ready ({@code backend.native-min-idle}), as HikariCP's
 * {@code minimumIdle} does for the JDBC pools: a statement, above all each shard's part of a scatter read, then borrows a
 * logged-in connection instead of connecting on its way to the first row. The pool calls {@link #fill} whenever its
 * idle connections may have become fewer (at start, after lending an idle one, after a connection was discarded, cut or
 * expired, after housekeeping); the missing ones are opened in the background, each taking its place in the pool's
 * count at once (never more than the pool's size are open or being opened), and lent like any idle connection once
 * they land. A borrower never waits for them: one that finds nothing idle while the pool is below its size opens its
 * own as before.
 *
 * <p>A failed open is not retried at once (a shard that is down would be hammered): the next {@link #fill} does, at
 * the latest the pool's housekeeping.
 *
 * @param <C> the pool's connection type
 */
public final class IdleFloor<C> {
    private static final Logger LOG = LoggerFactory.getLogger(IdleFloor.class);

    /** What the floor needs of its pool; every method runs under the pool's lock. */
    public interface Pool<C> {
        /** Connections the pool may still open: its size less those open or being opened; 0 once it is closed. */
        int room();

        /** Idle connections now. */
        int idle();

        /** Counts {@code n} more connections as open (they are being opened). */
        void reserve(int n);

        /** A connection opened for the floor, now idle in the pool; false when the pool closed meanwhile (not kept). */
        boolean add(C c);

        /** A reserved open failed: its place is free again. */
        void free();
    }

    private final int minIdle;
    private final ReentrantLock lock;
    private final Pool<C> pool;
    private final Supplier<CompletableFuture<C>> connect;
    private final Duration limit;
    private final Consumer<C> close;
    private final String describe;
    private final LongAdder warmed = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private int opening;

    /**
     * @param minIdle  idle connections to keep, 0 (none: the pool opens on demand only)..the pool's size
     * @param lock     the pool's lock, held around every call to {@code pool}
     * @param connect  opens one connection (logged in, at the pool's database and settings)
     * @param limit    an open not done by then has failed; the connection, should it come later, is closed
     * @param close    closes a connection the pool does not keep
     * @param describe the shard, for log lines
     */
    public IdleFloor(int minIdle, ReentrantLock lock, Pool<C> pool, Supplier<CompletableFuture<C>> connect, Duration limit,
            Consumer<C> close, String describe) {
        if (minIdle < 0) {
            throw new IllegalArgumentException("minIdle must not be negative, was " + minIdle);
        }
        this.minIdle = minIdle;
        this.lock = Objects.requireNonNull(lock, "lock");
        this.pool = Objects.requireNonNull(pool, "pool");
        this.connect = Objects.requireNonNull(connect, "connect");
        this.limit = Objects.requireNonNull(limit, "limit");
        this.close = Objects.requireNonNull(close, "close");
        this.describe = Objects.requireNonNull(describe, "describe");
    }

    /** Connections opened for the floor that the pool kept. */
    public long warmed() {
        return warmed.sum();
    }

    /** Opens for the floor that failed. */
    public long failed() {
        return failed.sum();
    }

    /**
     * Starts opening the connections the floor lacks (idle and being opened short of {@code minIdle}, within the
     * pool's room); returns at once. Call it without holding the pool's lock.
     */
    public void fill() {
        if (minIdle == 0) {
            return;
        }
        int n;
        lock.lock();
        try {
            n = Math.min(minIdle - pool.idle() - opening, pool.room());
            if (n <= 0) {
                return;
            }
            opening += n;
            pool.reserve(n);
        } finally {
            lock.unlock();
        }
        for (int i = 0; i < n; i++) {
            open();
        }
    }

    private void open() {
        CompletableFuture<C> connecting;
        try {
            connecting = connect.get();
        } catch (RuntimeException e) {
            landed(null, e);
            return;
        }
        // the timeout on a copy: the connection's own future stays as it is, so a late one can still be closed
        connecting.copy().orTimeout(limit.toNanos(), TimeUnit.NANOSECONDS).whenComplete((c, error) -> {
            if (error != null) {
                connecting.thenAccept(close);
            }
            landed(error == null ? c : null, error);
        });
    }

    /** An open ended: {@code c}, or null and its {@code error}. */
    private void landed(C c, Throwable error) {
        boolean kept = false;
        lock.lock();
        try {
            opening--;
            if (c != null) {
                kept = pool.add(c);
            } else {
                pool.free();
            }
        } finally {
            lock.unlock();
        }
        if (kept) {
            warmed.increment();
        } else if (c != null) {
            close.accept(c); // the pool closed meanwhile
        } else {
            failed.increment();
            LOG.debug("{}: opening an idle connection failed (tried again at the next borrow, discard or housekeeping): {}",
                    describe, error.toString());
        }
    }
}

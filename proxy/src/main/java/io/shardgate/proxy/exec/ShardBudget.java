package io.shardgate.proxy.exec;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * How many connections to one shard this proxy may have in use at once ({@code shards[].pool-size}), whichever path
 * lends them: the JDBC pool ({@link ShardPool}) or the native pools of {@code backend.native}. Without it each path
 * would lend up to pool-size on its own, and a proxy could run twice (three times, with a native pool per EOF flag)
 * as many statements and transactions on a shard as its operator allowed.
 *
 * <p>The JDBC side is counted by asking the JDBC pool how many connections it has lent ({@code jdbcInUse}); the native
 * side takes a place here with {@link #acquireNative} and gives it back with {@link #releaseNative}. A JDBC borrower
 * checks {@link #admitsJdbc} after the JDBC pool lent it a connection (so its own is counted) and, when the budget is
 * spent, gives the connection back and {@linkplain #awaitFree waits}. Both checks run under one lock, so the sum never
 * exceeds the budget. A JDBC connection coming back does not signal here, so waiters poll every few milliseconds.
 */
public final class ShardBudget {
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private final String shard;
    private final int max;
    private final IntSupplier jdbcInUse;
    private final java.util.List<IntSupplier> others = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    private int nativeInUse;
    private int waiting;

    public ShardBudget(String shard, int max, IntSupplier jdbcInUse) {
        if (max < 1) {
            throw new IllegalArgumentException("a shard's connection budget must be at least 1, was " + max);
        }
        this.shard = Objects.requireNonNull(shard, "shard");
        this.max = max;
        this.jdbcInUse = Objects.requireNonNull(jdbcInUse, "jdbcInUse");
    }

    public int max() {
        return max;
    }

    /**
     * Counts the connections another JDBC pool of the same shard has lent (the pool of clients without
     * {@code CLIENT_FOUND_ROWS}, see {@link ShardPools#pool(String, boolean)}): one budget per shard, however many pools.
     */
    void countAlso(IntSupplier moreJdbcInUse) {
        others.add(Objects.requireNonNull(moreJdbcInUse, "moreJdbcInUse"));
    }

    private int jdbcInUse() {
        int n = jdbcInUse.getAsInt();
        for (IntSupplier other : others) {
            n += other.getAsInt();
        }
        return n;
    }

    /** Sessions waiting for a place now (native borrowers and JDBC borrowers turned back). */
    public int waiting() {
        lock.lock();
        try {
            return waiting;
        } finally {
            lock.unlock();
        }
    }

    /** Native connections in use now. */
    public int nativeInUse() {
        lock.lock();
        try {
            return nativeInUse;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes a place for a native connection, waiting until {@code deadlineNanos} ({@link System#nanoTime} scale), and no
     * longer than the running statement's deadline ({@link StatementDeadline}), while the budget is spent; false when
     * the time is up.
     */
    public boolean acquireNative(long deadlineNanos) {
        long statementLeft = StatementDeadline.leftNanos();
        if (statementLeft != Long.MAX_VALUE && statementLeft < deadlineNanos - System.nanoTime()) {
            deadlineNanos = System.nanoTime() + Math.max(0, statementLeft);
        }
        lock.lock();
        try {
            boolean counted = false;
            try {
                while (nativeInUse + jdbcInUse() >= max) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    if (!counted) {
                        waiting++;
                        counted = true;
                    }
                    freed.awaitNanos(Math.min(left, POLL_NANOS));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, "shard " + shard
                        + ": interrupted while waiting for a connection", e);
            } finally {
                if (counted) {
                    waiting--;
                }
            }
            nativeInUse++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes a place for a native connection if one is free now and nobody waits for one (they go first); never waits:
     * for work on an event loop.
     */
    public boolean tryAcquireNative() {
        lock.lock();
        try {
            if (waiting > 0 || nativeInUse + jdbcInUse() >= max) {
                return false;
            }
            nativeInUse++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    public void releaseNative() {
        lock.lock();
        try {
            if (nativeInUse <= 0) {
                throw new IllegalStateException("shard " + shard + ": native connection released twice");
            }
            nativeInUse--;
            freed.signal();
        } finally {
            lock.unlock();
        }
    }

    /** Whether a connection the JDBC pool has just lent (and counts as in use) fits the budget. */
    public boolean admitsJdbc() {
        lock.lock();
        try {
            return nativeInUse + jdbcInUse() <= max;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A JDBC borrower turned back by {@link #admitsJdbc} waits here until a place may have come free or
     * {@code deadlineNanos}; false when the time is up.
     */
    public boolean awaitFree(long deadlineNanos) {
        lock.lock();
        waiting++;
        try {
            while (nativeInUse + jdbcInUse() >= max) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                freed.awaitNanos(Math.min(left, POLL_NANOS));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, "shard " + shard + ": interrupted while waiting for a connection", e);
        } finally {
            waiting--;
            lock.unlock();
        }
    }

    /**
     * SHARD_BUSY after a borrower waited {@code millis} (pool wait {@code poolWaitMillis}), with the sessions waiting:
     * the one text for both paths.
     */
    public ProxyException busy(String describe, long millis, long poolWaitMillis, int alsoWaiting) {
        return new ProxyException(ErrorCode.SHARD_BUSY, describe + ": no connection free after " + millis + " ms (pool wait "
                + poolWaitMillis + " ms): all " + max + " connections this proxy keeps to it (shards[].pool-size)"
                + " are in use by other sessions' statements and transactions, " + (waiting() + alsoWaiting)
                + " more sessions waiting; raise shards[].pool-size (pool-size x proxies must stay within the shard's"
                + " max_connections), raise limits.pool-wait-ms, or keep transactions shorter");
    }
}

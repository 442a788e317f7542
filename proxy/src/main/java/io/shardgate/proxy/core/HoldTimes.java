package io.shardgate.proxy.core;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;

/** How long writes to slots in cutover were held by this proxy: count, total and longest. Thread-safe. */
public final class HoldTimes {
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong totalNanos = new AtomicLong();
    private final LongAccumulator maxNanos = new LongAccumulator(Math::max, 0);

    void record(long nanos) {
        count.incrementAndGet();
        totalNanos.addAndGet(nanos);
        maxNanos.accumulate(nanos);
    }

    /** Writes held so far. */
    public long count() {
        return count.get();
    }

    public long totalMillis() {
        return TimeUnit.NANOSECONDS.toMillis(totalNanos.get());
    }

    public long maxMillis() {
        return TimeUnit.NANOSECONDS.toMillis(maxNanos.get());
    }
}

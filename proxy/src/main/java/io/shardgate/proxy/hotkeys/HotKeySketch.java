package io.shardgate.proxy.hotkeys;

import io.shardgate.state.HotKeyReport.KeyRate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Counts writes per (table, shard-key value) and tells the hottest keys with their recent rate.
 * Thread-safe and meant for the write path of every session.
 *
 * <h2>Striping</h2>
 * Keys are spread over a fixed number of stripes by hash; each stripe is a pair of
 * {@link SpaceSaving} summaries behind its own lock, held only for one counter update. A key always
 * lands in the same stripe, so stripes never count the same key twice and their top lists merge by
 * sorting. Each stripe keeps {@code capacity} counters per window, so the error bounds are those of a
 * single {@code capacity}-counter summary over that stripe's share of the writes, never worse than
 * one summary over all of them; with at most {@code capacity} distinct keys the counts are exact.
 *
 * <h2>Windows</h2>
 * Time is cut into windows of fixed length counted from the sketch's creation. A stripe counts into
 * its current window and keeps the previous one; when a write or a read finds that a window
 * boundary has passed, the current window becomes the previous one (or both are dropped when more
 * than one window passed). {@link #top} adds the two windows and divides by the time they cover:
 * one full window plus the elapsed part of the current one (at least one second, so a report right
 * after start does not divide by almost nothing). A key monitored in only one window is charged the
 * other window's smallest count as both count and error, which keeps
 * {@code count - error <= true <= count}.
 */
public final class HotKeySketch {
    public static final int DEFAULT_CAPACITY = 256;
    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
    private static final long MIN_SPAN_NANOS = 1_000_000_000L;

    private final Stripe[] stripes;
    private final int stripeMask;
    private final long windowNanos;
    private final LongSupplier nanoClock;
    private final long startNanos;

    /** Counts taken by a {@link #top} call: the span they cover and the hottest keys, hottest first. */
    public record Top(double windowSeconds, List<KeyRate> keys) {
        public Top {
            keys = List.copyOf(keys);
        }
    }

    private static final class Stripe {
        final ReentrantLock lock = new ReentrantLock();
        SpaceSaving current;
        SpaceSaving previous;
        long window; // index of the window `current` counts

        Stripe(int capacity) {
            current = new SpaceSaving(capacity);
            previous = new SpaceSaving(capacity);
        }

        /** Makes {@code current} the summary of window {@code now}; call with the lock held. */
        void rotateTo(long now) {
            if (now <= window) {
                return;
            }
            SpaceSaving recycled = previous;
            recycled.clear();
            if (now > window + 1) {
                current.clear(); // more than one window passed: nothing recent is left
            }
            previous = current;
            current = recycled;
            window = now;
        }
    }

    /** {@link #DEFAULT_CAPACITY} counters per stripe, {@link #DEFAULT_WINDOW} windows, stripes for this machine's cores. */
    public static HotKeySketch withDefaults() {
        return new HotKeySketch(DEFAULT_CAPACITY, DEFAULT_WINDOW, defaultStripes(), System::nanoTime);
    }

    /**
     * @param capacity  counters per stripe and window
     * @param window    length of one window
     * @param stripes   lock stripes, a power of two
     * @param nanoClock monotonic time in nanoseconds ({@link System#nanoTime} outside tests)
     */
    public HotKeySketch(int capacity, Duration window, int stripes, LongSupplier nanoClock) {
        Objects.requireNonNull(window, "window");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        if (stripes < 1 || Integer.bitCount(stripes) != 1) {
            throw new IllegalArgumentException("stripes must be a power of two, was " + stripes);
        }
        if (window.toMillis() < 1) {
            throw new IllegalArgumentException("window must be at least 1 ms, was " + window);
        }
        this.windowNanos = window.toNanos();
        this.stripes = new Stripe[stripes];
        for (int i = 0; i < stripes; i++) {
            this.stripes[i] = new Stripe(capacity);
        }
        this.stripeMask = stripes - 1;
        this.startNanos = nanoClock.getAsLong();
    }

    /** Enough stripes that sessions on all cores rarely meet on one lock: 4 per core, rounded up to a power of two. */
    static int defaultStripes() {
        int wanted = Math.min(64, 4 * Runtime.getRuntime().availableProcessors());
        return Integer.highestOneBit(Math.max(1, wanted - 1)) << 1;
    }

    /** Counts one write of {@code key} in {@code table}. */
    public void record(String table, String key) {
        HotKey hotKey = new HotKey(table, key);
        Stripe stripe = stripes[stripeOf(hotKey)];
        long window = windowOf(nanoClock.getAsLong());
        stripe.lock.lock();
        try {
            stripe.rotateTo(window);
            stripe.current.add(hotKey);
        } finally {
            stripe.lock.unlock();
        }
    }

    /** The {@code limit} hottest keys over the current and the previous window. */
    public Top top(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, was " + limit);
        }
        long now = nanoClock.getAsLong();
        long window = windowOf(now);
        long windowStart = startNanos + window * windowNanos;
        long span = Math.max(MIN_SPAN_NANOS, now - windowStart + (window > 0 ? windowNanos : 0));
        double seconds = span / 1e9;
        List<KeyRate> all = new ArrayList<>();
        for (Stripe stripe : stripes) {
            stripe.lock.lock();
            try {
                stripe.rotateTo(window);
                collect(stripe, seconds, all);
            } finally {
                stripe.lock.unlock();
            }
        }
        all.sort(Comparator.comparingLong(KeyRate::count).reversed()
                .thenComparing(KeyRate::table).thenComparing(KeyRate::key));
        return new Top(seconds, all.subList(0, Math.min(limit, all.size())));
    }

    private static void collect(Stripe stripe, double seconds, List<KeyRate> out) {
        SpaceSaving current = stripe.current;
        SpaceSaving previous = stripe.previous;
        long currentMin = current.minCount();
        long previousMin = previous.minCount();
        current.forEach(c -> {
            SpaceSaving.Counter before = previous.counter(c.key());
            long count = c.count() + (before == null ? previousMin : before.count());
            long error = c.error() + (before == null ? previousMin : before.error());
            out.add(rate(c.key(), count, error, seconds));
        });
        previous.forEach(p -> {
            if (current.counter(p.key()) == null) {
                out.add(rate(p.key(), p.count() + currentMin, p.error() + currentMin, seconds));
            }
        });
    }

    private static KeyRate rate(HotKey key, long count, long error, double seconds) {
        return new KeyRate(key.table(), key.key(), count / seconds, count, error);
    }

    private long windowOf(long nanos) {
        return Math.max(0, (nanos - startNanos) / windowNanos);
    }

    private int stripeOf(HotKey key) {
        int h = key.hashCode();
        return (h ^ (h >>> 16)) & stripeMask;
    }
}

package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The backend connections this proxy's sessions have pinned for their session state, counted per shard and per reason
 * (the kind of state that pinned them first), and the limit per shard. A pinned connection is out of its shard's pool
 * until its session lets it go, so without a limit a few hundred sessions holding temporary tables would starve every
 * other session of that shard; the statement that would pin one more is refused before it runs.
 */
final class PinnedConnections {
    private final int limitPerShard;
    private final Map<String, AtomicInteger> byShard = new ConcurrentHashMap<>();
    private final Map<String, Map<String, AtomicInteger>> byReason = new ConcurrentHashMap<>();
    private final Gauges gauges;

    /** Publishes a new (shard, reason) count, e.g. as a metrics gauge. */
    @FunctionalInterface
    interface Gauges {
        void register(String shard, String reason, AtomicInteger count);
    }

    PinnedConnections(int limitPerShard, Gauges gauges) {
        this.gauges = gauges;
        if (limitPerShard < 1) {
            throw new IllegalArgumentException("the limit of pinned connections per shard must be >= 1, was " + limitPerShard);
        }
        this.limitPerShard = limitPerShard;
    }

    int limitPerShard() {
        return limitPerShard;
    }

    /** Counts one more pinned connection of {@code shard}, or refuses (TOO_MANY_PINNED) when the limit is reached. */
    void acquire(String shard, String reason) {
        AtomicInteger count = byShard.computeIfAbsent(shard, s -> new AtomicInteger());
        int now;
        do {
            now = count.get();
            if (now >= limitPerShard) {
                throw new ProxyException(ErrorCode.TOO_MANY_PINNED, "Shardgate refuses this statement before running it: it keeps"
                        + " session state (" + reason + ") on shard " + shard + ", which needs a backend connection pinned to this"
                        + " session, and this proxy already has " + now + " connections of " + shard + " pinned, its limit"
                        + " (limits.max-pinned-per-shard = " + limitPerShard + "); drop the temporary tables, release the locks or"
                        + " end sessions that no longer need their state, or raise the limit");
            }
        } while (!count.compareAndSet(now, now + 1));
        byReason.computeIfAbsent(shard, s -> new ConcurrentHashMap<>()).computeIfAbsent(reason, r -> {
            AtomicInteger n = new AtomicInteger();
            gauges.register(shard, r, n);
            return n;
        }).incrementAndGet();
    }

    void release(String shard, String reason) {
        AtomicInteger count = byShard.get(shard);
        if (count != null) {
            count.decrementAndGet();
        }
        Map<String, AtomicInteger> reasons = byReason.get(shard);
        if (reasons != null && reasons.get(reason) != null) {
            reasons.get(reason).decrementAndGet();
        }
    }

    /** Pinned connections of {@code shard} now. */
    int pinned(String shard) {
        AtomicInteger count = byShard.get(shard);
        return count == null ? 0 : count.get();
    }

    /** Pinned connections of {@code shard} now by the reason that pinned them (reasons with none left are omitted). */
    Map<String, Integer> reasons(String shard) {
        Map<String, Integer> out = new TreeMap<>();
        Map<String, AtomicInteger> reasons = byReason.get(shard);
        if (reasons != null) {
            reasons.forEach((reason, n) -> {
                if (n.get() > 0) {
                    out.put(reason, n.get());
                }
            });
        }
        return out;
    }
}

package io.shardgate.state;

import java.util.List;
import java.util.Objects;

/**
 * The hottest keys one proxy has seen written recently, as it publishes them (an ephemeral node per
 * proxy, so the report of a proxy that dies disappears with its session).
 *
 * @param proxyId       the proxy that counted
 * @param takenAtMillis wall-clock time the counts were read
 * @param windowSeconds the span the counts cover (up to two rotating windows); rates are counts over it
 * @param keys          hottest first
 */
public record HotKeyReport(String proxyId, long takenAtMillis, double windowSeconds, List<KeyRate> keys) {
    public HotKeyReport {
        Objects.requireNonNull(proxyId, "proxyId");
        keys = List.copyOf(keys);
        if (!(windowSeconds > 0)) {
            throw new IllegalArgumentException("windowSeconds must be positive, was " + windowSeconds);
        }
    }

    /**
     * One key's writes as a heavy-hitter sketch estimates them: the true count lies in
     * {@code [count - error, count]}.
     *
     * @param table           table name, lower-case
     * @param key             normalised shard-key value
     * @param writesPerSecond {@code count / windowSeconds}
     * @param count           estimated writes in the window (an upper bound)
     * @param error           how much {@code count} may overestimate
     */
    public record KeyRate(String table, String key, double writesPerSecond, long count, long error) {
        public KeyRate {
            Objects.requireNonNull(table, "table");
            Objects.requireNonNull(key, "key");
            if (count < 0 || error < 0 || error > count) {
                throw new IllegalArgumentException("need 0 <= error <= count, were error " + error + " and count " + count
                        + " for " + table + " key " + key);
            }
        }
    }
}

package io.shardgate.migrator;

import io.shardgate.slot.SplitKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The automatic hot-key policy, off unless configured: split a key whose writes/s (summed over every
 * proxy) stay at or above {@code splitAbove} for {@code splitAfter}; merge a split key whose writes/s
 * stay below {@code mergeBelow} for {@code mergeAfter}. {@code mergeBelow} must be well under
 * {@code splitAbove} (hysteresis), so a key near the threshold does not flap; a key that dips or
 * spikes for less than the hold time starts its clock again.
 *
 * <p>Pure: it is fed the rates and the current split keys with a clock reading, and answers what to
 * do; the worker carries the decisions out with {@link HotKeyOperator}.
 */
public final class HotKeyPolicy {

    /** Thresholds; see the class comment. */
    public record Settings(double splitAbove, Duration splitAfter, double mergeBelow, Duration mergeAfter, int k) {
        public Settings {
            if (!(splitAbove > 0)) {
                throw new IllegalArgumentException("the split threshold must be positive, was " + splitAbove);
            }
            if (!(mergeBelow >= 0 && mergeBelow < splitAbove / 2)) {
                throw new IllegalArgumentException("the merge threshold (" + mergeBelow + " writes/s) must be under half the split"
                        + " threshold (" + splitAbove + " writes/s), so that keys do not flap");
            }
            Objects.requireNonNull(splitAfter, "splitAfter");
            Objects.requireNonNull(mergeAfter, "mergeAfter");
            if (k < 2 || k > SplitKey.MAX_K) {
                throw new IllegalArgumentException("k must be in 2.." + SplitKey.MAX_K + ", was " + k);
            }
        }
    }

    /** What to do with one key now. */
    public sealed interface Decision {
        SplitKey.Id key();

        record Split(SplitKey.Id key, int k, double writesPerSecond) implements Decision {}

        record Merge(SplitKey.Id key, double writesPerSecond) implements Decision {}
    }

    private final Settings settings;
    /** Since when (millis) a key has been on the far side of its threshold. */
    private final Map<SplitKey.Id, Long> since = new HashMap<>();

    public HotKeyPolicy(Settings settings) {
        this.settings = settings;
    }

    /**
     * @param rates         writes/s per key over the last window, summed over the proxies; a key absent
     *                      here has no writes worth reporting (0)
     * @param split         keys split now
     * @param eligibleTables tables that declare a hot-key mode
     * @param nowMillis     the clock
     */
    public List<Decision> decide(Map<SplitKey.Id, Double> rates, Set<SplitKey.Id> split, Set<String> eligibleTables, long nowMillis) {
        List<Decision> out = new ArrayList<>();
        Map<SplitKey.Id, Long> still = new HashMap<>();
        for (var e : rates.entrySet()) {
            SplitKey.Id key = e.getKey();
            double rate = e.getValue();
            if (split.contains(key) || !eligibleTables.contains(key.table()) || rate < settings.splitAbove()) {
                continue;
            }
            long start = since.getOrDefault(key, nowMillis);
            if (nowMillis - start >= settings.splitAfter().toMillis()) {
                out.add(new Decision.Split(key, settings.k(), rate));
            } else {
                still.put(key, start);
            }
        }
        for (SplitKey.Id key : split) {
            double rate = rates.getOrDefault(key, 0.0);
            if (rate >= settings.mergeBelow()) {
                continue;
            }
            long start = since.getOrDefault(key, nowMillis);
            if (nowMillis - start >= settings.mergeAfter().toMillis()) {
                out.add(new Decision.Merge(key, rate));
            } else {
                still.put(key, start);
            }
        }
        since.clear();
        since.putAll(still);
        return out;
    }
}

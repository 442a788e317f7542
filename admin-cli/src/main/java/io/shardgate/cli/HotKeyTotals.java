package io.shardgate.cli;

import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.HotKeyReport;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster-wide view of the proxies' hot-key reports: writes/s, counts and error bounds of each
 * (table, key) summed over every proxy that reports it, hottest first, with its split state.
 * A proxy counts only the writes it routed, so the sum over proxies is the key's whole write rate,
 * as far as each proxy's top list reaches (a key below one proxy's top list is missing from its sum).
 */
final class HotKeyTotals {

    /** One key over all proxies; {@code split} is null when the key is not split. */
    record Total(String table, String key, double writesPerSecond, long count, long error, int proxies, Split split) {}

    /** How a split key is placed now. */
    record Split(int k, SplitKey.State state) {}

    private HotKeyTotals() {}

    static List<Total> of(List<HotKeyReport> reports, SlotMap slotMap, int limit) {
        Map<SplitKey.Id, Total> byKey = new LinkedHashMap<>();
        for (HotKeyReport report : reports) {
            for (HotKeyReport.KeyRate k : report.keys()) {
                byKey.merge(new SplitKey.Id(k.table(), k.key()),
                        new Total(k.table(), k.key(), k.writesPerSecond(), k.count(), k.error(), 1, null),
                        (a, b) -> new Total(a.table(), a.key(), a.writesPerSecond() + b.writesPerSecond(), a.count() + b.count(),
                                a.error() + b.error(), a.proxies() + b.proxies(), null));
            }
        }
        List<Total> totals = new ArrayList<>();
        for (Total t : byKey.values()) {
            Split split = slotMap.splitKey(t.table(), t.key()).map(s -> new Split(s.k(), s.state())).orElse(null);
            totals.add(new Total(t.table(), t.key(), t.writesPerSecond(), t.count(), t.error(), t.proxies(), split));
        }
        totals.sort(Comparator.comparingDouble(Total::writesPerSecond).reversed()
                .thenComparing(Total::table).thenComparing(Total::key));
        return List.copyOf(totals.subList(0, Math.min(limit, totals.size())));
    }
}

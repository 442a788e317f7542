package io.shardgate.cluster;

import java.util.List;
import java.util.Objects;

/**
 * How a sharded table's rows behave when one of its key values is split over k sub-keys
 * (DESIGN.md, "Hot keys"). Parsed and validated now; acted upon by the hot-key feature.
 */
public sealed interface HotKeyMode {

    /** The table's keys are never split. */
    record None() implements HotKeyMode {}

    /** New rows of a split key go to sub-key {@code hash(splitBy) mod k}; reads by key fan out and merge. */
    record Append(String splitBy) implements HotKeyMode {
        public Append {
            Objects.requireNonNull(splitBy, "splitBy");
        }
    }

    /** One sub-row per distinct shard; {@code c = c + ?} on a counter column goes to one sub-row, reads sum. */
    record Counter(List<String> counterColumns) implements HotKeyMode {
        public Counter {
            counterColumns = List.copyOf(counterColumns);
        }
    }

    HotKeyMode NONE = new None();
}

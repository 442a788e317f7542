package io.shardgate.slot;

import java.util.Locale;
import java.util.Objects;

/**
 * A hot key spread over {@code k} sub-keys: sub-key i lives on the owner of
 * {@code SlotFunction.slot(key, i, k, SLOTS)}.
 *
 * @param table table whose key is split, lower-case
 * @param key   normalised key value
 * @param k     number of sub-keys, at least 2
 * @param state whether statements on the key run ({@link State#SPLIT}) or wait while rows are moved
 */
public record SplitKey(String table, String key, int k, State state) {
    public static final int MAX_K = 256;

    /**
     * Where a split stands. While {@link #SPLITTING} or {@link #MERGING}, every statement that touches
     * the key (and every scatter statement on its table) is held: the hot-key operator is creating
     * sub-rows or moving rows between shards, and nobody may see them half-way. Other keys never wait.
     */
    public enum State {
        /** Sub-rows are being created (counter) or rows moved to their sub-keys (append); hold. */
        SPLITTING,
        /** Split: statements route over the sub-keys. */
        SPLIT,
        /** Sub-rows are being folded into home (counter) or rows moved back home (append); hold. */
        MERGING;

        public boolean holds() {
            return this != SPLIT;
        }
    }

    public SplitKey(String table, String key, int k) {
        this(table, key, k, State.SPLIT);
    }

    public SplitKey {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(state, "state");
        table = table.toLowerCase(Locale.ROOT);
        if (k < 2 || k > MAX_K) {
            throw new IllegalArgumentException("k must be in 2.." + MAX_K + ", was " + k);
        }
    }

    /** The (table, key) pair that identifies this split. */
    /** Slot of sub-key {@code i} (0 = home). */
    public int slot(int i, int slotCount) {
        return SlotFunction.slot(key, i, k, slotCount);
    }

    /** The slots of sub-keys 0..k-1, in sub-key order (may repeat). */
    public java.util.List<Integer> slots(int slotCount) {
        return java.util.stream.IntStream.range(0, k).mapToObj(i -> slot(i, slotCount)).toList();
    }

    public SplitKey withState(State next) {
        return new SplitKey(table, key, k, next);
    }

    public Id id() {
        return new Id(table, key);
    }

    public record Id(String table, String key) {
        public Id {
            table = table.toLowerCase(Locale.ROOT);
        }
    }
}

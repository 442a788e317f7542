package io.shardgate.slot;

import java.util.Locale;
import java.util.Objects;

/**
 * A hot key spread over {@code k} sub-keys: sub-key i lives on the owner of
 * {@code SlotFunction.slot(key, i, SLOTS)}.
 *
 * @param table table whose key is split, lower-case
 * @param key   normalised key value
 * @param k     number of sub-keys, at least 2
 */
public record SplitKey(String table, String key, int k) {
    public static final int MAX_K = 256;

    public SplitKey {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(key, "key");
        table = table.toLowerCase(Locale.ROOT);
        if (k < 2 || k > MAX_K) {
            throw new IllegalArgumentException("k must be in 2.." + MAX_K + ", was " + k);
        }
    }

    /** The (table, key) pair that identifies this split. */
    public Id id() {
        return new Id(table, key);
    }

    public record Id(String table, String key) {
        public Id {
            table = table.toLowerCase(Locale.ROOT);
        }
    }
}

package io.shardgate.migrator;

import io.shardgate.slot.KeyNormalizationException;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotFunction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * Decides in Java whether a row belongs to the moving slots: the slot of a row is the slot of its
 * normalised shard key, exactly as the proxy routes it. A row whose key does not normalise (NULL,
 * not an integer) has no slot, the proxy cannot reach it, and it stays where it is.
 */
record SlotFilter(Set<Integer> slots, int slotCount) {
    SlotFilter {
        slots = Set.copyOf(slots);
    }

    boolean moving(TableShape shape, Row row) {
        Object value = row.value(shape.shardKey());
        if (value == null) {
            return false;
        }
        String text = value instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : (String) value;
        try {
            return slots.contains(SlotFunction.slot(ShardKeys.normalize(shape.keyType(), text), slotCount));
        } catch (KeyNormalizationException unroutable) {
            return false;
        }
    }

    /**
     * A condition the shard can evaluate to skip most rows of other slots while scanning, for an integer
     * shard key stored in an integer column: MariaDB's {@code CRC32C} of an integer hashes its decimal text,
     * which is exactly the key's normalised form. Empty for other keys (a string's bytes depend on the
     * column's character set; PostgreSQL has no CRC32C). Only a pre-filter: rows are still checked with {@link #moving(TableShape, Row)}.
     */
    java.util.Optional<String> sqlCondition(TableShape shape) {
        TableShape.Column key = shape.columns().get(shape.shardKey());
        if (shape.keyType() != io.shardgate.cluster.KeyType.INT || !key.integer() || slots.isEmpty() || shape.sql() != ShardSql.MYSQL) {
            return java.util.Optional.empty();
        }
        String slot = "CRC32C(" + shape.quote(key.name()) + ") % " + slotCount;
        List<Integer> sorted = slots.stream().sorted().toList();
        List<String> ranges = new java.util.ArrayList<>();
        int from = sorted.getFirst();
        int prev = from;
        for (int i = 1; i <= sorted.size(); i++) {
            if (i == sorted.size() || sorted.get(i) != prev + 1) {
                ranges.add(from == prev ? slot + " = " + from : slot + " BETWEEN " + from + " AND " + prev);
                if (i < sorted.size()) {
                    from = sorted.get(i);
                }
            }
            if (i < sorted.size()) {
                prev = sorted.get(i);
            }
        }
        return java.util.Optional.of("(" + String.join(" OR ", ranges) + ")");
    }

    List<Row> moving(TableShape shape, List<Row> rows) {
        return rows.stream().filter(r -> moving(shape, r)).toList();
    }
}

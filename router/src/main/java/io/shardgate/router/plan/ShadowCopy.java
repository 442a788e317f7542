package io.shardgate.router.plan;

import io.shardgate.cluster.KeyType;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.ShardKeys;
import java.util.List;
import java.util.Objects;

/**
 * After a write on {@code authoritativeShard}, and inside that shard's transaction (so the rows stay
 * locked), copy the current image of each affected key of {@code table} to {@code shadowShard}:
 * delete the key's rows there and insert the authoritative rows (DESIGN.md, "Moving slots online").
 * The write itself is never replayed on the shadow.
 */
public record ShadowCopy(String authoritativeShard, String shadowShard, String migrationId, MigrationPhase phase,
        String table, String keyColumn, KeySource keys) {
    public ShadowCopy {
        Objects.requireNonNull(authoritativeShard, "authoritativeShard");
        Objects.requireNonNull(shadowShard, "shadowShard");
        Objects.requireNonNull(migrationId, "migrationId");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(keyColumn, "keyColumn");
        Objects.requireNonNull(keys, "keys");
    }

    /** Where the affected keys come from. */
    public sealed interface KeySource {}

    /**
     * The statement names its keys. Values are typed for binding: {@code Long} for an integer key,
     * {@code String} for a string key.
     */
    public record KnownKeys(List<Object> keys) implements KeySource {
        public KnownKeys {
            keys = List.copyOf(keys);
        }
    }

    /**
     * The statement does not name its keys: run {@code sql} ({@code SELECT key … WHERE <same predicate>
     * FOR UPDATE}) on the authoritative shard <em>before</em> the write, and copy only the keys whose
     * slot is one of {@code slots} (the moving ones).
     */
    public record LookupKeys(String sql, List<Integer> parameters, KeyType keyType, int slotCount, List<Integer> slots)
            implements KeySource {
        public LookupKeys {
            Objects.requireNonNull(sql, "sql");
            Objects.requireNonNull(keyType, "keyType");
            parameters = List.copyOf(parameters);
            slots = List.copyOf(slots);
        }

        /** Whether a key found by the lookup lies in a moving slot and must be copied. */
        public boolean copies(Object key) {
            return slots.contains(SlotFunction.slot(ShardKeys.normalize(keyType, key), slotCount));
        }
    }
}

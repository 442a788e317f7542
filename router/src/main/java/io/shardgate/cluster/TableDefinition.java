package io.shardgate.cluster;

import java.util.Locale;
import java.util.Objects;

/**
 * A table the cluster knows. Names are kept lower-case: routing compares table and column names
 * case-insensitively, as MySQL does for columns and as PostgreSQL does for unquoted identifiers.
 *
 * @param name     table name, lower-case
 * @param kind     placement kind
 * @param shardKey shard key column, lower-case (sharded tables only, else null)
 * @param keyType  type of the shard key (sharded tables only, else null)
 * @param shard    owning shard (single tables only, else null)
 * @param hotKey   behaviour of the table's rows when a key is split (sharded tables only)
 * @param sequence the auto-increment / serial / identity column that the proxy fills from the table's cluster
 *                 sequence, lower-case (sharded tables only; null when the table has none)
 */
public record TableDefinition(String name, TableKind kind, String shardKey, KeyType keyType, String shard, HotKeyMode hotKey,
        String sequence) {
    public TableDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        name = name.toLowerCase(Locale.ROOT);
        shardKey = shardKey == null ? null : shardKey.toLowerCase(Locale.ROOT);
        hotKey = hotKey == null ? HotKeyMode.NONE : hotKey;
        sequence = sequence == null ? null : sequence.toLowerCase(Locale.ROOT);
        if (sequence != null && kind != TableKind.SHARDED) {
            throw new IllegalArgumentException("only a sharded table has a cluster sequence; " + name + " is " + kind);
        }
        switch (kind) {
            case SHARDED -> {
                Objects.requireNonNull(shardKey, "sharded table " + name + " needs a shard key");
                Objects.requireNonNull(keyType, "sharded table " + name + " needs a key type");
            }
            case SINGLE -> Objects.requireNonNull(shard, "single table " + name + " needs a shard");
            case BROADCAST -> { }
        }
    }

    public TableDefinition(String name, TableKind kind, String shardKey, KeyType keyType, String shard, HotKeyMode hotKey) {
        this(name, kind, shardKey, keyType, shard, hotKey, null);
    }

    /** This table with {@code column} filled from its cluster sequence (null: none). */
    public TableDefinition withSequence(String column) {
        return new TableDefinition(name, kind, shardKey, keyType, shard, hotKey, column);
    }

    public static TableDefinition sharded(String name, String shardKey, KeyType keyType) {
        return new TableDefinition(name, TableKind.SHARDED, shardKey, keyType, null, HotKeyMode.NONE);
    }

    public static TableDefinition broadcast(String name) {
        return new TableDefinition(name, TableKind.BROADCAST, null, null, null, HotKeyMode.NONE);
    }

    public static TableDefinition single(String name, String shard) {
        return new TableDefinition(name, TableKind.SINGLE, null, null, shard, HotKeyMode.NONE);
    }
}

package io.shardgate.cluster;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The static description of a cluster: its dialect, slot count, shards and tables. It changes
 * rarely (adding a shard or a table) and only through the cluster store; placement of slots is in
 * the {@link io.shardgate.slot.SlotMap}.
 *
 * @param dialect           SQL family of the shards and the front end
 * @param slots             number of slots, fixed at creation and never changed
 * @param shards            shards in declaration order
 * @param tables            declared tables by lower-case name
 * @param defaultShard      shard that holds undeclared tables (and answers table-less statements)
 * @param unknownTables     what to do with a table that is not declared
 */
public record ClusterDefinition(
        Dialect dialect,
        int slots,
        List<ShardDefinition> shards,
        Map<String, TableDefinition> tables,
        String defaultShard,
        UnknownTablePolicy unknownTables) {

    public static final int MIN_SLOTS = 1;
    public static final int MAX_SLOTS = 65536;

    public ClusterDefinition {
        Objects.requireNonNull(dialect, "dialect");
        Objects.requireNonNull(defaultShard, "defaultShard");
        Objects.requireNonNull(unknownTables, "unknownTables");
        shards = List.copyOf(shards);
        tables = Map.copyOf(tables);
        if (slots < MIN_SLOTS || slots > MAX_SLOTS) {
            throw new IllegalArgumentException("slots must be in " + MIN_SLOTS + ".." + MAX_SLOTS + ", was " + slots);
        }
        if (shard(defaultShard, shards).isEmpty()) {
            throw new IllegalArgumentException("default shard " + defaultShard + " is not one of the shards");
        }
    }

    public Optional<ShardDefinition> shard(String name) {
        return shard(name, shards);
    }

    public Optional<TableDefinition> table(String name) {
        return Optional.ofNullable(tables.get(name.toLowerCase(Locale.ROOT)));
    }

    public List<String> shardNames() {
        return shards.stream().map(ShardDefinition::name).toList();
    }

    /** Shards that receive slots when the cluster is created. */
    public List<String> activeShardNames() {
        return shards.stream().filter(s -> !s.spare()).map(ShardDefinition::name).toList();
    }

    public ClusterDefinition withShard(ShardDefinition shard) {
        if (shard(shard.name()).isPresent()) {
            throw new IllegalArgumentException("shard " + shard.name() + " already exists");
        }
        var list = new java.util.ArrayList<>(shards);
        list.add(shard);
        return new ClusterDefinition(dialect, slots, list, tables, defaultShard, unknownTables);
    }

    public ClusterDefinition withTable(TableDefinition table) {
        var map = new LinkedHashMap<>(tables);
        map.put(table.name(), table);
        return new ClusterDefinition(dialect, slots, shards, map, defaultShard, unknownTables);
    }

    private static Optional<ShardDefinition> shard(String name, List<ShardDefinition> shards) {
        for (ShardDefinition s : shards) { // asked per routed statement: no stream
            if (s.name().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}

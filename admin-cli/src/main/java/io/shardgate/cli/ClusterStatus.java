package io.shardgate.cli;

import io.shardgate.cli.reshard.MigrationView;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.config.ConfigNode;
import io.shardgate.migrator.Migrations;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SlotRange;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.ProxyInfo;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * What {@code shardgate status} shows, as plain values: the text view and the {@code --json}
 * document are both rendered from it, so they always state the same facts. The record component
 * names are the JSON field names; keep them stable.
 */
record ClusterStatus(String cluster, String zookeeper, String dialect, int slots, long epoch, String defaultShard,
        String unknownTables, List<Shard> shards, List<Table> tables, List<Moving> movingSlots, List<SplitKey> splitKeys,
        List<Proxy> proxies, List<Migration> migrations) {

    ClusterStatus {
        Objects.requireNonNull(cluster, "cluster");
        shards = List.copyOf(shards);
        tables = List.copyOf(tables);
        movingSlots = List.copyOf(movingSlots);
        splitKeys = List.copyOf(splitKeys);
        proxies = List.copyOf(proxies);
        migrations = List.copyOf(migrations);
    }

    /**
     * A shard; {@code ranges} are compact ("0-2047"), {@code slotCount} is 0 for a spare; {@code health} is this
     * command's own probe of it (connect and {@code SELECT 1}), null when not probed.
     */
    record Shard(String name, String url, String user, int poolSize, boolean spare, int slotCount, List<String> ranges,
            Health health) {}

    /** One probe of a shard: up or down, the time it took in milliseconds, the reason when down. */
    record Health(boolean up, double latencyMillis, String error) {}

    /** A table; key and keyType for sharded tables, shard for single ones, hotKey only when declared. */
    /** {@code sequence}: the column the proxies fill from the table's cluster sequence, and its next unreserved id. */
    record Table(String name, String kind, String key, String keyType, String shard, HotKey hotKey, Sequence sequence) {}

    record Sequence(String column, Long next) {}

    record HotKey(String mode, String splitBy, List<String> counters) {}

    /** Slots in flight: {@code from..to} of migration {@code migration} in {@code phase}, {@code source} → {@code target}. */
    record Moving(int from, int to, String migration, String phase, String source, String target) {}

    record SplitKey(String table, String key, int k) {}

    record Proxy(String id, String address, long appliedEpoch, long startedAtMillis) {}

    /** A migration; {@code progress} is one phrase from the worker's reports ("copied 24.7% (…), 1,234 rows/s, ETA 3m20s"). */
    record Migration(String id, String phase, String source, String target, int slotCount, long updatedAtMillis, String progress) {}

    /** Reads everything from the store and probes every shard (in parallel); the caller has checked that the cluster exists. */
    static ClusterStatus read(ClusterStore store, String connectString) {
        ClusterDefinition def = store.readDefinition().value();
        SlotMap map = store.readSlotMap().value();
        return of(store.clusterName(), connectString, def, map, store.liveProxies(), store.listMigrations(), probe(def.shards()),
                store.sequences());
    }

    static ClusterStatus of(String cluster, String zookeeper, ClusterDefinition def, SlotMap map, List<ProxyInfo> proxies,
            List<MigrationRecord> migrations) {
        return of(cluster, zookeeper, def, map, proxies, migrations, java.util.Map.of(), java.util.Map.of());
    }

    /** {@code sequences}: each table's next unreserved id ({@link ClusterStore#sequences()}). */
    static ClusterStatus of(String cluster, String zookeeper, ClusterDefinition def, SlotMap map, List<ProxyInfo> proxies,
            List<MigrationRecord> migrations, java.util.Map<String, Health> health, java.util.Map<String, Long> sequences) {
        List<SlotRange> ranges = map.ranges();
        List<Shard> shards = def.shards().stream().map(s -> shard(s, map, ranges, health.get(s.name()))).toList();
        List<Table> tables = def.tables().values().stream()
                .sorted(Comparator.comparing(TableDefinition::name))
                .map(t -> table(t, sequences))
                .toList();
        List<Moving> moving = SlotRun.of(map).stream()
                .filter(r -> r.moving().isPresent())
                .map(r -> {
                    var m = r.moving().orElseThrow();
                    return new Moving(r.from(), r.to(), m.migrationId(), ConfigNode.spell(m.phase()), m.source(), m.target());
                })
                .toList();
        List<SplitKey> splits = map.splitKeys().stream().map(k -> new SplitKey(k.table(), k.key(), k.k())).toList();
        List<Proxy> live = proxies.stream()
                .map(p -> new Proxy(p.id(), p.address(), p.appliedEpoch(), p.startedAtMillis()))
                .toList();
        List<Migration> migs = migrations.stream()
                .sorted(Migrations.RUN_ORDER)
                .map(m -> new Migration(m.id(), m.phase(), m.source(), m.target(), m.slots().size(), m.updatedAtMillis(),
                        MigrationView.of(m).summary()))
                .toList();
        return new ClusterStatus(cluster, zookeeper, ConfigNode.spell(def.dialect()), def.slots(), map.epoch(), def.defaultShard(),
                ConfigNode.spell(def.unknownTables()), shards, tables, moving, splits, live, migs);
    }

    /** Connects to every shard and runs {@code SELECT 1}, each on its own thread (a dead shard costs its connect timeout once). */
    static java.util.Map<String, Health> probe(List<ShardDefinition> shards) {
        java.util.Map<String, java.util.concurrent.Future<Health>> running = new java.util.LinkedHashMap<>();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (ShardDefinition shard : shards) {
                running.put(shard.name(), threads.submit(() -> probe(shard)));
            }
            java.util.Map<String, Health> out = new java.util.LinkedHashMap<>();
            for (var e : running.entrySet()) {
                try {
                    out.put(e.getKey(), e.getValue().get());
                } catch (java.util.concurrent.ExecutionException ex) {
                    out.put(e.getKey(), new Health(false, 0, String.valueOf(ex.getCause())));
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return out;
                }
            }
            return out;
        }
    }

    private static Health probe(ShardDefinition shard) {
        long start = System.nanoTime();
        try (ShardDatabase db = ShardDatabase.connect(shard)) {
            db.ping();
            return new Health(true, Math.round((System.nanoTime() - start) / 1e4) / 100.0, null);
        } catch (java.sql.SQLException e) {
            return new Health(false, Math.round((System.nanoTime() - start) / 1e4) / 100.0, ShardDatabase.reason(e));
        }
    }

    private static Shard shard(ShardDefinition s, SlotMap map, List<SlotRange> ranges, Health health) {
        List<String> own = ranges.stream()
                .filter(r -> r.shard().equals(s.name()))
                .map(r -> SlotRun.format(r.from(), r.to()))
                .toList();
        return new Shard(s.name(), s.jdbcUrl(), s.user(), s.poolSize(), s.spare(), map.slotCounts().getOrDefault(s.name(), 0), own,
                health);
    }

    private static Table table(TableDefinition t, java.util.Map<String, Long> sequences) {
        HotKey hotKey = switch (t.hotKey()) {
            case HotKeyMode.None none -> null;
            case HotKeyMode.Append a -> new HotKey("append", a.splitBy(), List.of());
            case HotKeyMode.Counter c -> new HotKey("counter", null, c.counterColumns());
        };
        return new Table(t.name(), ConfigNode.spell(t.kind()), t.shardKey(),
                t.keyType() == null ? null : ConfigNode.spell(t.keyType()), t.shard(), hotKey,
                t.sequence() == null ? null : new Sequence(t.sequence(), sequences.get(t.name())));
    }
}

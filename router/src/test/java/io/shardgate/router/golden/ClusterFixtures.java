package io.shardgate.router.golden;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.cluster.UnknownTablePolicy;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.slot.TableSharding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Test cluster fixtures: small YAML files in {@code golden/clusters}, one routing snapshot each. A
 * fixture may name a {@code base} fixture whose top-level keys it overrides. Parsed here, on purpose
 * independent of the production configuration loader.
 */
final class ClusterFixtures {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private final Path directory;
    private final Map<String, RoutingSnapshot> snapshots = new ConcurrentHashMap<>();

    ClusterFixtures(Path directory) {
        this.directory = directory;
    }

    RoutingSnapshot snapshot(String name) {
        return snapshots.computeIfAbsent(name, n -> build(document(n)));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> document(String name) {
        Path file = directory.resolve(name + ".yaml");
        try {
            Map<String, Object> doc = new LinkedHashMap<>(YAML.readValue(Files.readAllBytes(file), Map.class));
            Object base = doc.remove("base");
            if (base == null) {
                return doc;
            }
            Map<String, Object> merged = new LinkedHashMap<>(document((String) base));
            merged.putAll(doc);
            return merged;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read cluster fixture " + file, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static RoutingSnapshot build(Map<String, Object> doc) {
        int slots = (Integer) doc.get("slots");
        List<String> active = (List<String>) doc.get("shards");
        List<String> spare = (List<String>) doc.getOrDefault("spare", List.of());
        List<ShardDefinition> shards = new ArrayList<>();
        active.forEach(s -> shards.add(shard(s, false)));
        spare.forEach(s -> shards.add(shard(s, true)));
        Map<String, TableDefinition> tables = new LinkedHashMap<>();
        ((Map<String, Map<String, Object>>) doc.get("tables")).forEach((name, t) -> tables.put(name, table(name, t)));
        ClusterDefinition cluster = new ClusterDefinition(
                Dialect.valueOf(((String) doc.get("dialect")).toUpperCase(Locale.ROOT)), slots, shards, tables,
                (String) doc.get("defaultShard"),
                UnknownTablePolicy.valueOf(((String) doc.get("unknownTables")).toUpperCase(Locale.ROOT)));
        SlotMap map = SlotMap.initial(slots, active);
        for (Map<String, Object> m : (List<Map<String, Object>>) doc.getOrDefault("moving", List.of())) {
            MovingSlot move = new MovingSlot((String) m.get("migration"), MigrationPhase.valueOf((String) m.get("phase")),
                    (String) m.get("source"), (String) m.get("target"));
            map = map.withMoving(map.epoch(), (List<Integer>) m.get("slots"), move);
        }
        for (Map<String, Object> s : (List<Map<String, Object>>) doc.getOrDefault("splitKeys", List.of())) {
            map = map.withSplitKey(map.epoch(), new SplitKey((String) s.get("table"), (String) s.get("key"), (Integer) s.get("k"),
                    SplitKey.State.valueOf((String) s.getOrDefault("state", "SPLIT"))));
        }
        for (Map<String, Object> t : (List<Map<String, Object>>) doc.getOrDefault("tableShardings", List.of())) {
            String home = (String) t.get("home");
            Map<Integer, MovingSlot> moving = new LinkedHashMap<>();
            for (Map<String, Object> m : (List<Map<String, Object>>) t.getOrDefault("moving", List.of())) {
                for (int slot : (List<Integer>) m.get("slots")) {
                    moving.put(slot, new MovingSlot((String) m.get("migration"), MigrationPhase.valueOf((String) m.get("phase")),
                            home, map.owner(slot)));
                }
            }
            map = map.withTableSharding(map.epoch(), new TableSharding((List<String>) t.get("tables"), home,
                    new java.util.HashSet<>((List<Integer>) t.getOrDefault("atHome", List.of())), moving));
        }
        return new RoutingSnapshot(cluster, map.withEpoch(((Number) doc.getOrDefault("epoch", 1)).longValue()));
    }

    private static ShardDefinition shard(String name, boolean spare) {
        return new ShardDefinition(name, "jdbc:mysql://localhost/" + name, "root", "", 4, spare);
    }

    @SuppressWarnings("unchecked")
    private static TableDefinition table(String name, Map<String, Object> t) {
        TableKind kind = TableKind.valueOf(((String) t.get("kind")).toUpperCase(Locale.ROOT));
        HotKeyMode hotKey = t.containsKey("append") ? new HotKeyMode.Append((String) t.get("append"))
                : t.containsKey("counter") ? new HotKeyMode.Counter((List<String>) t.get("counter")) : HotKeyMode.NONE;
        KeyType keyType = t.containsKey("type") ? KeyType.valueOf(((String) t.get("type")).toUpperCase(Locale.ROOT)) : null;
        return new TableDefinition(name, kind, (String) t.get("key"), keyType, (String) t.get("shard"), hotKey, (String) t.get("sequence"));
    }
}

package io.shardgate.state;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.slot.SlotMap;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** Cluster definitions, slot maps and records for state tests, plus a polling wait. */
public final class StateFixtures {
    private StateFixtures() {}

    /** A mysql cluster with {@code slots} slots over shards {@code s0..s<n-1>}, two tables. */
    public static ClusterDefinition definition(int slots, int shards) {
        StringBuilder yaml = new StringBuilder("dialect: mysql\nslots: " + slots + "\nshards:\n");
        for (int i = 0; i < shards; i++) {
            yaml.append("  - {name: s").append(i).append(", url: 'jdbc:mysql://127.0.0.1:").append(3306 + i)
                    .append("/app', user: app, password: secret}\n");
        }
        yaml.append("tables:\n  - {name: users, kind: sharded, key: id, key-type: int}\n")
                .append("  - {name: countries, kind: broadcast}\n");
        return ClusterDefinitionCodec.parseYaml(yaml.toString(), "test");
    }

    public static ClusterDefinition definition() {
        return definition(64, 2);
    }

    public static SlotMap initialMap(ClusterDefinition definition) {
        return SlotMap.initial(definition.slots(), definition.activeShardNames());
    }

    public static MigrationRecord migration(String id, String phase) {
        return new MigrationRecord(id, List.of(1, 2, 3), "s0", "s1", phase, Map.of("users", "42"),
                Map.of("rowsCopied", "7"), 1_700_000_000_000L);
    }

    public static ProxyInfo proxy(String id, long epoch) {
        return new ProxyInfo(id, "127.0.0.1:" + (4000 + Math.abs(id.hashCode() % 1000)), epoch, 1_700_000_000_000L);
    }

    /** A report of {@code proxyId} with one key per {@code keyAndCount} pair ("key", count, "key", count, …) of table t. */
    public static HotKeyReport hotKeys(String proxyId, Object... keyAndCount) {
        java.util.List<HotKeyReport.KeyRate> keys = new java.util.ArrayList<>();
        for (int i = 0; i < keyAndCount.length; i += 2) {
            long count = ((Number) keyAndCount[i + 1]).longValue();
            keys.add(new HotKeyReport.KeyRate("t", (String) keyAndCount[i], count / 10.0, count, count / 100));
        }
        return new HotKeyReport(proxyId, 1_700_000_000_000L, 10.0, keys);
    }

    /** Polls {@code condition} every 20 ms; fails naming {@code what} if it stays false for {@code timeout}. */
    public static void await(Duration timeout, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}

package io.shardgate.proxy.core;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.KeyType;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.RoutingSnapshotWatcher;
import io.shardgate.state.memory.InMemoryClusterStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Test support: two real MariaDB shards (database {@code shardgate}) plus a reference database holding
 * every row on the first server, a cluster definition in an in-memory store, and a watcher over it.
 */
final class ShardedCluster implements AutoCloseable {
    static final String DB = "shardgate";
    static final String REFERENCE_DB = "reference";
    static final int SLOTS = 64;

    final LocalMariaDb s0;
    final LocalMariaDb s1;
    final ClusterDefinition definition;
    final SlotMap slotMap;
    final InMemoryClusterStore store;
    final RoutingSnapshotWatcher watcher;

    ShardedCluster() throws Exception {
        var first = CompletableFuture.supplyAsync(LocalMariaDb::temporary);
        var second = CompletableFuture.supplyAsync(LocalMariaDb::temporary);
        s0 = first.join();
        s1 = second.join();
        s0.createDatabase(DB);
        s1.createDatabase(DB);
        s0.createDatabase(REFERENCE_DB);
        definition = ClusterDefinitionCodec.parseYaml("""
                dialect: mysql
                slots: %d
                shards:
                  - {name: s0, url: "%s", user: root, password: "", pool-size: 4}
                  - {name: s1, url: "%s", user: root, password: "", pool-size: 4}
                tables:
                  - {name: orders, kind: sharded, key: customer_id, key-type: int}
                  - {name: countries, kind: broadcast}
                """.formatted(SLOTS, s0.jdbcUrl(DB), s1.jdbcUrl(DB)), "test");
        slotMap = SlotMap.initial(SLOTS, definition.activeShardNames());
        store = new InMemoryClusterStore("test");
        store.createCluster(definition, slotMap, false);
        watcher = RoutingSnapshotWatcher.start(store, "proxy-1", "127.0.0.1:3306");
        watcher.awaitSnapshot(0, Duration.ofSeconds(10));
    }

    /** The shard that owns an integer key. */
    String owner(long key) {
        return slotMap.owner(SlotFunction.slot(ShardKeys.normalize(KeyType.INT, key), SLOTS));
    }

    /** The first key at or after {@code from} owned by {@code shard}. */
    long keyOn(String shard, long from) {
        long k = from;
        while (!owner(k).equals(shard)) {
            k++;
        }
        return k;
    }

    LocalMariaDb server(String shard) {
        return shard.equals("s0") ? s0 : s1;
    }

    Connection direct(String shard) throws SQLException {
        return DriverManager.getConnection(server(shard).jdbcUrl(DB), "root", "");
    }

    Connection reference() throws SQLException {
        return DriverManager.getConnection(s0.jdbcUrl(REFERENCE_DB), "root", "");
    }

    /** Rows of a query as text, by plain JDBC. */
    static List<List<String>> rows(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<List<String>> out = new ArrayList<>();
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    byte[] b = rs.getBytes(i);
                    row.add(b == null ? null : new String(b, java.nio.charset.StandardCharsets.UTF_8));
                }
                out.add(row);
            }
            return out;
        }
    }

    static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    @Override
    public void close() {
        watcher.close();
        store.close();
        s0.close();
        s1.close();
    }
}

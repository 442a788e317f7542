package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.ProxyServer;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Cluster-wide ids (DESIGN.md, "Generated ids"): a sharded table created through the proxy with
 * {@code id BIGINT AUTO_INCREMENT PRIMARY KEY} (the id is the shard key) gets its ids from the cluster
 * sequence, through two proxies and after a restart: never a duplicate across shards, increasing per proxy,
 * each row on its id's slot's shard, and getGeneratedKeys, the OK packet's id and {@code LAST_INSERT_ID()}
 * behaving statement by statement as on a single MariaDB server (the reference, which runs the same statements).
 */
class SequenceIT {
    private static final String CREATE = "CREATE TABLE events (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,"
            + " via VARCHAR(4) NOT NULL)";
    private static final int ROWS = 200;

    /** What a client sees of one INSERT, with ids relative to its first key so that proxy and reference compare. */
    record Outcome(String form, int affected, List<Long> keysFromFirst, boolean okIdIsFirstKey, boolean lastInsertIdIsFirstKey) {}

    /** One INSERT's rows and the keys the client was told. */
    record Inserted(String via, List<String> names, List<Long> keys) {}

    @Test
    void idsAreUniqueAcrossShardsAndProxiesIncreasePerProxyAndAnswerAsOneServer() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, """
                tables:
                  - {name: events, kind: sharded, key: id, key-type: int}
                """)) {
            ProxyServer a = cluster.proxy();
            ProxyServer b = cluster.startProxy();
            try (Connection ref = cluster.referenceConnection("");
                    Connection viaA = cluster.proxyConnection(a, "");
                    Connection viaB = cluster.proxyConnection(b, "useServerPrepStmts=true")) {
                Sql.update(viaA, CREATE);
                Sql.update(ref, CREATE);
                assertThat(cluster.store().readDefinition().value().table("events").orElseThrow().sequence()).isEqualTo("id");
                assertThat(cluster.store().readSequence("events")).isPresent();

                List<Inserted> inserted = new ArrayList<>();
                List<Outcome> viaProxy = new ArrayList<>();
                List<Outcome> onReference = new ArrayList<>();
                int rows = 0;
                for (int i = 0; rows < ROWS; i++) {
                    boolean first = i % 2 == 0;
                    Connection proxy = first ? viaA : viaB;
                    String via = first ? "a" : "b";
                    Map.Entry<Outcome, Inserted> p = insert(proxy, i, via);
                    viaProxy.add(p.getKey());
                    inserted.add(p.getValue());
                    onReference.add(insert(ref, i, via).getKey());
                    rows += p.getValue().names().size();
                }
                assertThat(viaProxy).as("what each INSERT tells the client, proxy vs reference").isEqualTo(onReference);

                // explicit ids: accepted as the server would; the sequence moves past a larger one (as AUTO_INCREMENT does)
                List<Outcome> explicitProxy = explicitIds(viaA);
                List<Outcome> explicitRef = explicitIds(ref);
                assertThat(explicitProxy).isEqualTo(explicitRef);
                long afterExplicit = firstKey(viaA, "INSERT INTO events (name, via) VALUES ('after-explicit', 'a')");
                long afterExplicitRef = firstKey(ref, "INSERT INTO events (name, via) VALUES ('after-explicit', 'a')");
                assertThat(afterExplicit).isGreaterThan(900_000);
                assertThat(afterExplicitRef).isGreaterThan(900_000);

                // no column list: the proxy reads the columns and fills the NULL id like any other
                List<Outcome> noListProxy = List.of(text(viaA, "no column list", "INSERT INTO events VALUES (NULL, 'nolist', 'a')",
                        List.of("nolist"), "a").getKey());
                List<Outcome> noListRef = List.of(text(ref, "no column list", "INSERT INTO events VALUES (NULL, 'nolist', 'a')",
                        List.of("nolist"), "a").getKey());
                assertThat(noListProxy).isEqualTo(noListRef);
                assertThat(Sql.query(viaA, "SELECT COUNT(*) FROM events WHERE name = 'nolist' AND id > 900002")).containsExactly(List.of("1"));

                // NO_AUTO_VALUE_ON_ZERO: 0 is stored as 0, as on the server
                for (Connection c : List.of(viaB, ref)) {
                    Sql.update(c, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')");
                    Sql.update(c, "INSERT INTO events (id, name, via) VALUES (0, 'zero', 'b')");
                    assertThat(Sql.query(c, "SELECT id FROM events WHERE id = 0")).containsExactly(List.of("0"));
                }

                checkIncreasingPerProxy(inserted);
                checkKeysNameTheirRows(viaA, inserted);
            }

            // a restarted proxy starts above every id handed out before
            long before = maxId(cluster);
            b.close();
            ProxyServer c = cluster.startProxy();
            List<Long> afterRestart = new ArrayList<>();
            try (Connection viaC = cluster.proxyConnection(c, "")) {
                for (int i = 0; i < 20; i++) {
                    afterRestart.add(firstKey(viaC, "INSERT INTO events (name, via) VALUES ('restart-" + i + "', 'c')"));
                }
            }
            assertThat(afterRestart).isSorted().doesNotHaveDuplicates().allSatisfy(id -> assertThat(id).isGreaterThan(before));

            checkUniqueAndPlaced(cluster);
            measure(cluster);
        }
    }

    /** Prints single-row INSERTs per second through one proxy with the id filled by the proxy and given by the client. */
    private static void measure(ShardedCluster cluster) throws SQLException {
        try (Connection c = cluster.proxyConnection(cluster.proxy(), "useServerPrepStmts=true")) {
            int n = 2000;
            long filled = timed(c, "INSERT INTO events (name, via) VALUES (?, 'm')", n, false);
            long explicit = timed(c, "INSERT INTO events (id, name, via) VALUES (?, ?, 'm')", n, true);
            System.out.printf("SequenceIT: %d single-row INSERTs through one proxy: id filled from the cluster sequence %.0f/s,"
                    + " id given by the client %.0f/s%n", n, n * 1e9 / filled, n * 1e9 / explicit);
        }
    }

    private static long timed(Connection c, String sql, int n, boolean explicit) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (explicit) {
                    ps.setLong(1, 2_000_000 + i);
                    ps.setString(2, "m" + i);
                } else {
                    ps.setString(1, "m" + i);
                }
                ps.executeUpdate();
            }
            return System.nanoTime() - start;
        }
    }

    @Test
    void tablesCreatedElsewhereAreRefusedUntilTheCliDeclaresTheirSequenceAboveTheirRows() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, """
                tables:
                  - {name: events, kind: sharded, key: id, key-type: int}
                """)) {
            for (int i = 0; i < cluster.shardCount(); i++) {
                try (Connection s = cluster.shardConnection(i)) {
                    Sql.update(s, CREATE); // created on the shards directly: no sequence
                    Sql.update(s, "CREATE TABLE tickets (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL)");
                }
            }
            try (Connection s1 = cluster.shardConnection(1)) {
                Sql.update(s1, "INSERT INTO events (id, name, via) VALUES (4711, 'old', 'x')"); // placement does not matter here
            }
            try (Connection viaProxy = cluster.proxyConnection("")) {
                org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> Sql.update(viaProxy, "INSERT INTO events (name, via) VALUES ('x', 'a')"))
                        .isInstanceOf(SQLException.class).hasMessageContaining("shardgate sequence add events --column id");
            }

            ShardgateProcess.Result add = cli(cluster, "sequence", "add", "events");
            assertThat(add.exitCode()).as(add.toString()).isZero();
            assertThat(add.stdout()).contains("cluster sequence of events.id: next id 4712").contains("every live proxy fills id");
            ShardgateProcess.Result tickets = cli(cluster, "table", "add", "tickets", "--kind", "sharded", "--key", "user_id",
                    "--key-type", "int");
            assertThat(tickets.exitCode()).as(tickets.toString()).isZero();
            assertThat(tickets.stdout()).contains("tickets (sharded by user_id, int; id from the cluster sequence)")
                    .contains("cluster sequence of tickets.id: next id 1");

            try (Connection viaProxy = cluster.proxyConnection("")) {
                assertThat(firstKey(viaProxy, "INSERT INTO events (name, via) VALUES ('new', 'a')")).isEqualTo(4712);
                assertThat(firstKey(viaProxy, "INSERT INTO tickets (user_id) VALUES (7)")).isEqualTo(1);
                assertThat(Sql.query(viaProxy, "SELECT id, user_id FROM tickets WHERE user_id = 7")).containsExactly(List.of("1", "7"));
            }
            ShardgateProcess.Result show = cli(cluster, "sequence", "show");
            assertThat(show.exitCode()).as(show.toString()).isZero();
            assertThat(show.stdout()).containsPattern("events\\s+id\\s+5712").containsPattern("tickets\\s+id\\s+1001");
            ShardgateProcess.Result table = cli(cluster, "table", "show", "events");
            assertThat(table.exitCode()).as(table.toString()).isZero();
            assertThat(table.stdout()).contains("events (sharded by id, int; id from the cluster sequence); next id of its cluster"
                    + " sequence 5712");
            ShardgateProcess.Result status = cli(cluster, "status");
            assertThat(status.exitCode()).as(status.toString()).isZero();
            assertThat(status.stdout()).contains("key id (int), id from the cluster sequence (next 5712)");
            ShardgateProcess.Result refused = cli(cluster, "sequence", "add", "events", "--column", "name");
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.stderr()).contains("already has a cluster sequence on column id");
        }
    }

    private static ShardgateProcess.Result cli(ShardedCluster cluster, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        return ShardgateProcess.run(java.time.Duration.ofSeconds(60), all.toArray(String[]::new));
    }

    /** Runs form {@code i % 6} of the INSERTs, with names unique to the statement. */
    private static Map.Entry<Outcome, Inserted> insert(Connection c, int i, String via) throws SQLException {
        String n = "r" + i;
        return switch (i % 6) {
            case 0 -> prepared(c, "omitted, prepared", "INSERT INTO events (name, via) VALUES (?, ?)", List.of(n), via,
                    List.of(n, via));
            case 1 -> text(c, "NULL", "INSERT INTO events (id, name, via) VALUES (NULL, '" + n + "', '" + via + "')", List.of(n), via);
            case 2 -> text(c, "zero", "INSERT INTO events (id, name, via) VALUES (0, '" + n + "', '" + via + "')", List.of(n), via);
            case 3 -> text(c, "DEFAULT", "INSERT INTO events (id, name, via) VALUES (DEFAULT, '" + n + "', '" + via + "')", List.of(n),
                    via);
            case 4 -> text(c, "three rows omitted", "INSERT INTO events (name, via) VALUES ('" + n + "-1', '" + via + "'), ('" + n
                    + "-2', '" + via + "'), ('" + n + "-3', '" + via + "')", List.of(n + "-1", n + "-2", n + "-3"), via);
            default -> prepared(c, "two rows, NULL and 0 bound", "INSERT INTO events (id, name, via) VALUES (?, ?, ?), (?, ?, ?)",
                    List.of(n + "-1", n + "-2"), via, java.util.Arrays.<Object>asList(null, n + "-1", via, 0, n + "-2", via));
        };
    }

    private static Map.Entry<Outcome, Inserted> text(Connection c, String form, String sql, List<String> names, String via)
            throws SQLException {
        try (Statement st = c.createStatement()) {
            int affected = st.executeUpdate(sql, Statement.RETURN_GENERATED_KEYS);
            return outcome(c, st, form, affected, names, via);
        }
    }

    private static Map.Entry<Outcome, Inserted> prepared(Connection c, String form, String sql, List<String> names, String via,
            List<Object> params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS)) {
            for (int i = 0; i < params.size(); i++) {
                ps.setObject(i + 1, params.get(i));
            }
            int affected = ps.executeUpdate();
            return outcome(c, ps, form, affected, names, via);
        }
    }

    private static Map.Entry<Outcome, Inserted> outcome(Connection c, Statement st, String form, int affected, List<String> names,
            String via) throws SQLException {
        List<Long> keys = new ArrayList<>();
        try (ResultSet rs = st.getGeneratedKeys()) {
            while (rs.next()) {
                keys.add(rs.getLong(1));
            }
        }
        long okId = st.unwrap(com.mysql.cj.jdbc.StatementImpl.class).getLastInsertID();
        long lastInsertId = Long.parseLong(Sql.query(c, "SELECT LAST_INSERT_ID()").getFirst().getFirst());
        long first = keys.isEmpty() ? 0 : keys.getFirst();
        Outcome o = new Outcome(form, affected, keys.stream().map(k -> k - first).toList(), okId == first, lastInsertId == first);
        return Map.entry(o, new Inserted(via, names, keys));
    }

    /** Explicit ids: keys and LAST_INSERT_ID() as the client sees them (LAST_INSERT_ID() keeps the last generated id). */
    private static List<Outcome> explicitIds(Connection c) throws SQLException {
        long generatedBefore = Long.parseLong(Sql.query(c, "SELECT LAST_INSERT_ID()").getFirst().getFirst());
        List<Outcome> out = new ArrayList<>();
        for (String sql : List.of("INSERT INTO events (id, name, via) VALUES (900000, 'explicit-1', 'a')",
                "INSERT INTO events (id, name, via) VALUES (900001, 'explicit-2', 'a'), (900002, 'explicit-3', 'a')")) {
            try (Statement st = c.createStatement()) {
                int affected = st.executeUpdate(sql, Statement.RETURN_GENERATED_KEYS);
                List<Long> keys = new ArrayList<>();
                try (ResultSet rs = st.getGeneratedKeys()) {
                    while (rs.next()) {
                        keys.add(rs.getLong(1));
                    }
                }
                long okId = st.unwrap(com.mysql.cj.jdbc.StatementImpl.class).getLastInsertID();
                long lastInsertId = Long.parseLong(Sql.query(c, "SELECT LAST_INSERT_ID()").getFirst().getFirst());
                out.add(new Outcome(sql + " ok id " + okId, affected, keys, false, lastInsertId == generatedBefore));
            }
        }
        return out;
    }

    private static long firstKey(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.executeUpdate(sql, Statement.RETURN_GENERATED_KEYS);
            try (ResultSet rs = st.getGeneratedKeys()) {
                assertThat(rs.next()).isTrue();
                return rs.getLong(1);
            }
        }
    }

    private static void checkIncreasingPerProxy(List<Inserted> inserted) {
        Map<String, List<Long>> byProxy = new LinkedHashMap<>();
        inserted.forEach(i -> byProxy.computeIfAbsent(i.via(), v -> new ArrayList<>()).addAll(i.keys()));
        assertThat(byProxy).containsOnlyKeys("a", "b");
        byProxy.forEach((via, keys) -> assertThat(keys).as("ids through proxy " + via).isSorted().doesNotHaveDuplicates());
        Set<Long> a = new HashSet<>(byProxy.get("a"));
        assertThat(byProxy.get("b")).as("ids of proxy b that proxy a also handed out").noneMatch(a::contains);
    }

    /** The keys the client was told name the rows it inserted (getGeneratedKeys agrees with the stored rows). */
    private static void checkKeysNameTheirRows(Connection c, List<Inserted> inserted) throws SQLException {
        for (Inserted i : inserted) {
            assertThat(i.keys()).hasSameSizeAs(i.names());
            for (int k = 0; k < i.keys().size(); k++) {
                assertThat(Sql.query(c, "SELECT name, via FROM events WHERE id = ?", i.keys().get(k)))
                        .containsExactly(List.of(i.names().get(k), i.via()));
            }
        }
    }

    private static long maxId(ShardedCluster cluster) throws SQLException {
        long max = 0;
        for (int s = 0; s < cluster.shardCount(); s++) {
            try (Connection shard = cluster.shardConnection(s)) {
                max = Math.max(max, Sql.count(shard, "SELECT COALESCE(MAX(id), 0) FROM events"));
            }
        }
        return max;
    }

    /** Every id once in the whole cluster, and each row on the shard that owns its id's slot. */
    private static void checkUniqueAndPlaced(ShardedCluster cluster) throws SQLException {
        SlotMap map = cluster.store().readSlotMap().value();
        Map<Long, String> where = new HashMap<>();
        List<String> duplicates = new ArrayList<>();
        List<String> misplaced = new ArrayList<>();
        int total = 0;
        for (int s = 0; s < cluster.shardCount(); s++) {
            String shard = "s" + s;
            try (Connection c = cluster.shardConnection(s)) {
                for (List<String> row : Sql.query(c, "SELECT id FROM events")) {
                    long id = Long.parseLong(row.getFirst());
                    total++;
                    if (where.put(id, shard) != null) {
                        duplicates.add(id + " on " + where.get(id) + " and " + shard);
                    }
                    String owner = map.owner(SlotFunction.slot(Long.toString(id), map.slotCount()));
                    if (!owner.equals(shard)) {
                        misplaced.add(id + " on " + shard + ", owner " + owner);
                    }
                }
            }
        }
        assertThat(duplicates).isEmpty();
        assertThat(misplaced).isEmpty();
        assertThat(total).isGreaterThan(ROWS);
        assertThat(where.values()).as("rows on both shards").contains("s0", "s1");
    }
}

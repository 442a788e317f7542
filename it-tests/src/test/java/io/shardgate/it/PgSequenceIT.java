package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Cluster-wide ids on PostgreSQL: a sharded table created through the proxy with {@code id bigserial PRIMARY KEY}
 * (the shard key) takes its ids from the cluster sequence when the column is omitted, DEFAULT or
 * {@code nextval('events_id_seq')}; {@code RETURNING id} and pgJDBC's getGeneratedKeys give the stored ids, unique
 * across shards, increasing per proxy and above everything after a restart, statement by statement as on one server.
 */
class PgSequenceIT {
    private static final String CREATE = "CREATE TABLE events (id bigserial PRIMARY KEY, name text NOT NULL, via text NOT NULL)";
    private static final int ROWS = 200;

    /** What a client sees of one INSERT: the rows it affected and its returned ids relative to the smallest one. */
    record Outcome(String form, int affected, List<Long> keysFromFirst) {}

    @Test
    void serialIdsAreUniqueAcrossShardsIncreasePerProxyAndComeBackAsOnOneServer() throws Exception {
        try (PgShardedCluster cluster = PgShardedCluster.start(2, """
                tables:
                  - {name: events, kind: sharded, key: id, key-type: int}
                """, "md5")) {
            ProxyServer a = cluster.proxy();
            ProxyServer b = cluster.startProxy();
            Map<Long, String> names = new HashMap<>();
            Map<String, List<Long>> byProxy = new LinkedHashMap<>();
            try (Connection ref = cluster.referenceConnection("");
                    Connection viaA = cluster.proxyConnection(a, "");
                    Connection viaB = cluster.proxyConnection(b, "prepareThreshold=1")) {
                Sql.update(viaA, CREATE);
                Sql.update(ref, CREATE);
                assertThat(cluster.store().readDefinition().value().table("events").orElseThrow().sequence()).isEqualTo("id");

                List<Outcome> viaProxy = new ArrayList<>();
                List<Outcome> onReference = new ArrayList<>();
                int rows = 0;
                for (int i = 0; rows < ROWS; i++) {
                    String via = i % 2 == 0 ? "a" : "b";
                    Connection proxy = i % 2 == 0 ? viaA : viaB;
                    List<Long> keys = new ArrayList<>();
                    List<String> inserted = new ArrayList<>();
                    viaProxy.add(insert(proxy, i, via, keys, inserted));
                    onReference.add(insert(ref, i, via, new ArrayList<>(), new ArrayList<>()));
                    for (int k = 0; k < keys.size(); k++) {
                        names.put(keys.get(k), inserted.get(k));
                    }
                    byProxy.computeIfAbsent(via, v -> new ArrayList<>()).addAll(keys);
                    rows += keys.size();
                }
                assertThat(viaProxy).as("what each INSERT returns, proxy vs reference").isEqualTo(onReference);

                // a bare nextval() of a sharded table's sequence would come from one shard's own counter: refused
                assertThatThrownBy(() -> Sql.query(viaA, "SELECT nextval('events_id_seq')")).isInstanceOf(SQLException.class)
                        .hasMessageContaining("cluster sequence");

                for (Map.Entry<Long, String> e : names.entrySet()) {
                    assertThat(Sql.query(viaA, "SELECT name FROM events WHERE id = " + e.getKey())).containsExactly(List.of(e.getValue()));
                }
            }
            byProxy.forEach((via, keys) -> assertThat(keys).as("ids through proxy " + via).doesNotHaveDuplicates());
            assertThat(byProxy.get("a")).noneMatch(byProxy.get("b")::contains);

            long before = names.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
            b.close();
            ProxyServer c = cluster.startProxy();
            try (Connection viaC = cluster.proxyConnection(c, "")) {
                for (int i = 0; i < 10; i++) {
                    List<List<String>> id = Sql.query(viaC, "INSERT INTO events (name, via) VALUES ('restart-" + i + "', 'c') RETURNING id");
                    assertThat(Long.parseLong(id.getFirst().getFirst())).isGreaterThan(before);
                }
            }
            checkUniqueAndPlaced(cluster);
        }
    }

    /** Form {@code i % 5}; the ids it returns go to {@code keys}, the names it inserted (in VALUES order) to {@code names}. */
    private static Outcome insert(Connection c, int i, String via, List<Long> keys, List<String> names) throws SQLException {
        String n = "r" + i;
        return switch (i % 5) {
            case 0 -> {
                names.add(n);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (name, via) VALUES (?, ?)",
                        Statement.RETURN_GENERATED_KEYS)) {
                    ps.setString(1, n);
                    ps.setString(2, via);
                    int affected = ps.executeUpdate();
                    yield outcome("getGeneratedKeys", affected, ps, keys);
                }
            }
            case 1 -> returning(c, "DEFAULT", "INSERT INTO events (id, name, via) VALUES (DEFAULT, '" + n + "', '" + via + "') RETURNING id",
                    keys, names, List.of(n));
            case 2 -> returning(c, "nextval", "INSERT INTO events (id, name, via) VALUES (nextval('events_id_seq'), '" + n + "', '" + via
                    + "') RETURNING id", keys, names, List.of(n));
            case 3 -> returning(c, "omitted, RETURNING", "INSERT INTO events (name, via) VALUES ('" + n + "', '" + via + "') RETURNING id",
                    keys, names, List.of(n));
            default -> {
                names.addAll(List.of(n + "-1", n + "-2", n + "-3"));
                try (Statement st = c.createStatement()) {
                    int affected = st.executeUpdate("INSERT INTO events (name, via) VALUES ('" + n + "-1', '" + via + "'), ('" + n
                            + "-2', '" + via + "'), ('" + n + "-3', '" + via + "')", new String[] {"id"});
                    yield outcome("three rows, getGeneratedKeys", affected, st, keys);
                }
            }
        };
    }

    private static Outcome returning(Connection c, String form, String sql, List<Long> keys, List<String> names, List<String> inserted)
            throws SQLException {
        names.addAll(inserted);
        for (List<String> row : Sql.query(c, sql)) {
            keys.add(Long.parseLong(row.getFirst()));
        }
        return new Outcome(form, keys.size(), relative(keys));
    }

    private static Outcome outcome(String form, int affected, Statement st, List<Long> keys) throws SQLException {
        try (ResultSet rs = st.getGeneratedKeys()) {
            while (rs.next()) {
                keys.add(rs.getLong(1));
            }
        }
        // a multi-row INSERT split over shards returns its rows shard by shard, not in VALUES order: compare the set
        List<Long> sorted = keys.stream().sorted().toList();
        keys.clear();
        keys.addAll(sorted);
        return new Outcome(form, affected, relative(sorted));
    }

    private static List<Long> relative(List<Long> keys) {
        long first = keys.isEmpty() ? 0 : keys.getFirst();
        return keys.stream().map(k -> k - first).toList();
    }

    private static void checkUniqueAndPlaced(PgShardedCluster cluster) throws SQLException {
        SlotMap map = cluster.store().readSlotMap().value();
        Map<Long, String> where = new HashMap<>();
        List<String> wrong = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            String shard = "s" + s;
            try (Connection c = cluster.shardConnection(s)) {
                for (List<String> row : Sql.query(c, "SELECT id FROM events")) {
                    long id = Long.parseLong(row.getFirst());
                    if (where.put(id, shard) != null) {
                        wrong.add("duplicate " + id);
                    }
                    String owner = map.owner(SlotFunction.slot(Long.toString(id), map.slotCount()));
                    if (!owner.equals(shard)) {
                        wrong.add(id + " on " + shard + ", owner " + owner);
                    }
                }
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(where.size()).isGreaterThan(ROWS);
        assertThat(where.values()).contains("s0", "s1");
    }
}

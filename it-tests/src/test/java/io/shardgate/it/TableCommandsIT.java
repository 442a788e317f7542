package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.KeyType;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code shardgate table add | list | show | drop} as processes against real shards and a running proxy:
 * a declaration is live on the proxy when the command returns, and a declaration that would hide
 * existing rows is refused with the reason.
 */
class TableCommandsIT {

    @Test
    void declarationsTakeEffectOnTheRunningProxyAndNeverHideRows() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(3, "tables: []\n")) {
            try (Connection c = cluster.proxyConnection(""); Statement st = c.createStatement()) {
                // an undeclared table lives on the default shard, as an adopted database's tables do
                st.execute("CREATE TABLE notes (id BIGINT PRIMARY KEY, body VARCHAR(32))");
                st.execute("INSERT INTO notes VALUES (1, 'a'), (2, 'b'), (3, 'c')");
            }

            ShardgateProcess.Result refused = table(cluster, "add", "notes", "--kind", "sharded", "--key", "id", "--key-type", "int");
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(1);
            assertThat(refused.stderr()).contains("table notes already has rows (s0 3 rows)").contains("would not find");
            ShardgateProcess.Result single = table(cluster, "add", "notes", "--kind", "single", "--shard", "s0");
            assertThat(single.exitCode()).as(single.toString()).isZero();
            assertThat(single.stdout()).contains("declared table notes (single on s0)").contains("every live proxy routes with it");

            ShardgateProcess.Result events = table(cluster, "add", "events", "--kind", "sharded", "--key", "user_id",
                    "--key-type", "int", "--counters", "clicks");
            assertThat(events.exitCode()).as(events.toString()).isZero();
            // no restart: the running proxy already routes events by user_id
            try (Connection c = cluster.proxyConnection(""); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE events (user_id BIGINT PRIMARY KEY, clicks BIGINT NOT NULL)");
                for (int user = 1; user <= 60; user++) {
                    st.execute("INSERT INTO events VALUES (" + user + ", " + user + ")");
                }
                assertThat(Sql.query(c, "SELECT COUNT(*), SUM(clicks) FROM events")).containsExactly(List.of("60", "1830"));
                assertThat(Sql.query(c, "SELECT COUNT(*) FROM notes")).containsExactly(List.of("3"));
            }
            SlotMap map = cluster.store().readSlotMap().value();
            long placed = 0;
            for (int i = 0; i < cluster.shardCount(); i++) {
                try (Connection c = cluster.shardConnection(i)) {
                    for (List<String> row : Sql.query(c, "SELECT user_id FROM events")) {
                        String owner = map.owner(SlotFunction.slot(ShardKeys.normalize(KeyType.INT, row.getFirst()), map.slotCount()));
                        assertThat(owner).as("shard of user %s", row.getFirst()).isEqualTo("s" + i);
                        placed++;
                    }
                }
            }
            assertThat(placed).isEqualTo(60);

            ShardgateProcess.Result list = table(cluster, "list");
            assertThat(list.stdout()).containsPattern("events\\s+sharded\\s+user_id\\s+int\\s+-\\s+counter clicks")
                    .containsPattern("notes\\s+single\\s+-\\s+-\\s+s0");
            ShardgateProcess.Result show = table(cluster, "show", "events", "--json");
            assertThat(show.exitCode()).as(show.toString()).isZero();
            assertThat(show.stdout()).contains("\"placement\" : \"events (sharded by user_id, int; hot keys counter clicks)\"");

            ShardgateProcess.Result dropRefused = table(cluster, "drop", "events");
            assertThat(dropRefused.exitCode()).isEqualTo(1);
            assertThat(dropRefused.stderr()).contains("table events has rows");
            try (Connection c = cluster.proxyConnection(""); Statement st = c.createStatement()) {
                st.execute("DELETE FROM events");
            }
            ShardgateProcess.Result dropped = table(cluster, "drop", "events");
            assertThat(dropped.exitCode()).as(dropped.toString()).isZero();
            assertThat(cluster.store().readDefinition().value().table("events")).isEmpty();
            ShardgateProcess.Result again = table(cluster, "add", "notes", "--kind", "broadcast");
            assertThat(again.exitCode()).isEqualTo(1);
            assertThat(again.stderr()).contains("table notes is already declared");
        }
    }

    /**
     * A table created through the proxy before it was declared lives on the default shard only; declaring it sharded (or
     * broadcast) creates it on the other shards as the default shard defines it, so its rows can go anywhere at once.
     */
    @Test
    void declaringATableCreatedEarlierCreatesItOnTheShardsThatLackIt() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(3, "tables: []\n")) {
            try (Connection c = cluster.proxyConnection(""); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE visits (user_id BIGINT NOT NULL, n INT NOT NULL DEFAULT 0, note VARCHAR(20)"
                        + " CHARACTER SET latin1, PRIMARY KEY (user_id), KEY by_n (n))");
                st.execute("CREATE TABLE regions (code CHAR(2) PRIMARY KEY, name VARCHAR(40))");
            }
            assertThat(existsOn(cluster, "visits")).containsExactly(true, false, false);

            ShardgateProcess.Result sharded = table(cluster, "add", "visits", "--kind", "sharded", "--key", "user_id", "--key-type", "int");
            assertThat(sharded.exitCode()).as(sharded.toString()).isZero();
            assertThat(sharded.stdout()).contains("created on s1, s2 as s0 defines it");
            ShardgateProcess.Result broadcast = table(cluster, "add", "regions", "--kind", "broadcast");
            assertThat(broadcast.exitCode()).as(broadcast.toString()).isZero();
            assertThat(broadcast.stdout()).contains("created on s1, s2 as s0 defines it");
            for (String t : List.of("visits", "regions")) {
                assertThat(existsOn(cluster, t)).as(t).containsExactly(true, true, true);
                List<List<String>> s0 = showCreate(cluster, 0, t);
                assertThat(showCreate(cluster, 1, t)).as(t).isEqualTo(s0);
                assertThat(showCreate(cluster, 2, t)).as(t).isEqualTo(s0);
            }

            try (Connection c = cluster.proxyConnection(""); Statement st = c.createStatement()) {
                for (int user = 1; user <= 30; user++) {
                    st.execute("INSERT INTO visits (user_id, n) VALUES (" + user + ", " + user + ")");
                }
                st.execute("INSERT INTO regions VALUES ('eu', 'Europe')");
                assertThat(Sql.query(c, "SELECT COUNT(*), SUM(n) FROM visits")).containsExactly(List.of("30", "465"));
                assertThat(Sql.query(c, "SELECT name FROM regions WHERE code = 'eu'")).containsExactly(List.of("Europe"));
            }
            for (int i = 0; i < cluster.shardCount(); i++) {
                try (Connection c = cluster.shardConnection(i)) {
                    assertThat(Sql.query(c, "SELECT COUNT(*) FROM visits").getFirst().getFirst()).as("rows on s%d", i).isNotEqualTo("0");
                    assertThat(Sql.query(c, "SELECT COUNT(*) FROM regions")).as("regions on s%d", i).containsExactly(List.of("1"));
                }
            }
        }
    }

    private static List<Boolean> existsOn(ShardedCluster cluster, String table) throws Exception {
        List<Boolean> out = new ArrayList<>();
        for (int i = 0; i < cluster.shardCount(); i++) {
            try (Connection c = cluster.shardConnection(i)) {
                out.add(!Sql.query(c, "SHOW TABLES LIKE '" + table + "'").isEmpty());
            }
        }
        return out;
    }

    private static List<List<String>> showCreate(ShardedCluster cluster, int shard, String table) throws Exception {
        try (Connection c = cluster.shardConnection(shard)) {
            return Sql.query(c, "SHOW CREATE TABLE " + table);
        }
    }

    private static ShardgateProcess.Result table(ShardedCluster cluster, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("table"));
        all.addAll(List.of(args));
        all.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        return ShardgateProcess.run(Duration.ofSeconds(60), all.toArray(String[]::new));
    }
}

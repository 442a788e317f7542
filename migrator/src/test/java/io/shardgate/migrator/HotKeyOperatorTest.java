package io.shardgate.migrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.KeyType;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.ProxyInfo;
import io.shardgate.state.Versioned;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Split and merge on a real MariaDB (two databases as two shards) and the in-memory store, without proxies. */
class HotKeyOperatorTest {
    private static final String TABLES = """
              - {name: likes, kind: sharded, key: post_id, key-type: int, hot-key: {mode: append, split-by: user_id}}
              - {name: post_metrics, kind: sharded, key: post_id, key-type: int, hot-key: {mode: counter, counters: [like_count, view_count]}}
              - {name: plain, kind: sharded, key: id, key-type: int}
            """;
    private static final int K = 4;

    private final List<String> log = new ArrayList<>();

    @Test
    void counterSplitCreatesZeroedSubRowsAndMergeFoldsTheirCountsIntoHome() throws Exception {
        try (TestCluster c = cluster()) {
            long key = keyOverBothShards(c, "post_metrics");
            String home = homeDb(c, key);
            String other = home.equals(c.db0) ? c.db1 : c.db0;
            c.exec(home, "INSERT INTO post_metrics VALUES (" + key + ", 'viral', 10, 3), (" + (key + 100000) + ", 'other', 1, 1)");

            HotKeyOperator.Result split = operator(c).split("post_metrics", Long.toString(key), K);

            assertThat(split.shards()).hasSize(2);
            assertThat(c.store.readSlotMap().value().splitKey("post_metrics", Long.toString(key)))
                    .contains(new SplitKey("post_metrics", Long.toString(key), K, SplitKey.State.SPLIT));
            assertThat(rows(c, other, "SELECT post_id, title, like_count, view_count FROM post_metrics"))
                    .containsExactly(key + ",viral,0,0");
            // increments that proxies would have spread over the sub-rows
            c.exec(other, "UPDATE post_metrics SET like_count = like_count + 7, view_count = view_count + 2 WHERE post_id = " + key);
            c.exec(home, "UPDATE post_metrics SET like_count = like_count + 1 WHERE post_id = " + key);

            HotKeyOperator.Result merged = operator(c).merge("post_metrics", Long.toString(key));

            assertThat(merged.rowsMoved()).isEqualTo(1);
            assertThat(rows(c, home, "SELECT post_id, title, like_count, view_count FROM post_metrics WHERE post_id = " + key))
                    .containsExactly(key + ",viral,18,5");
            assertThat(rows(c, other, "SELECT post_id FROM post_metrics")).isEmpty();
            assertThat(c.store.readSlotMap().value().splitKeys()).isEmpty();
            assertThat(c.store.readOperation(foldName("post_metrics", key))).isEmpty();
            assertThat(log).anyMatch(l -> l.startsWith("merged key " + key));
        }
    }

    @Test
    void aMergeThatStoppedAfterUpdatingHomeResumesFromItsPlanWithoutCountingTwice() throws Exception {
        try (TestCluster c = cluster()) {
            long key = keyOverBothShards(c, "post_metrics");
            String home = homeDb(c, key);
            String other = home.equals(c.db0) ? c.db1 : c.db0;
            c.exec(home, "INSERT INTO post_metrics VALUES (" + key + ", 'viral', 10, 3)");
            operator(c).split("post_metrics", Long.toString(key), K);
            c.exec(other, "UPDATE post_metrics SET like_count = like_count + 5 WHERE post_id = " + key);
            // the state a crash leaves: key held as MERGING, plan written, home already set to the totals
            Versioned<SlotMap> map = c.store.readSlotMap();
            SplitKey split = map.value().splitKey("post_metrics", Long.toString(key)).orElseThrow();
            c.store.casSlotMap(map.value().withSplitKey(map.value().epoch() + 1, split.withState(SplitKey.State.MERGING)), map.version());
            List<String> shards = map.value().shardsOf(split);
            c.store.writeOperation(foldName("post_metrics", key), ("{\"table\":\"post_metrics\",\"key\":\"" + key + "\",\"shards\":[\""
                    + shards.get(0) + "\",\"" + shards.get(1) + "\"],\"homeExists\":true,\"totals\":{\"like_count\":\"15\",\"view_count\":\"3\"}}")
                    .getBytes(StandardCharsets.UTF_8), -1);
            c.exec(home, "UPDATE post_metrics SET like_count = 15 WHERE post_id = " + key);

            operator(c).merge("post_metrics", Long.toString(key));

            assertThat(rows(c, home, "SELECT like_count, view_count FROM post_metrics WHERE post_id = " + key)).containsExactly("15,3");
            assertThat(rows(c, other, "SELECT post_id FROM post_metrics")).isEmpty();
            assertThat(c.store.readSlotMap().value().splitKeys()).isEmpty();
        }
    }

    @Test
    void appendSplitMovesEachRowToItsSubKeyShardAndMergeBringsThemAllHome() throws Exception {
        try (TestCluster c = cluster()) {
            long key = keyOverBothShards(c, "likes");
            String home = homeDb(c, key);
            StringBuilder insert = new StringBuilder("INSERT INTO likes VALUES ");
            for (int user = 1; user <= 300; user++) {
                insert.append(user > 1 ? ", " : "").append("(").append(key).append(", ").append(user).append(", 'u").append(user).append("')");
            }
            c.exec(home, insert.toString(), "INSERT INTO likes VALUES (" + (key + 100000) + ", 1, 'another post')");
            TreeSet<String> before = new TreeSet<>(likesOf(c, key));

            HotKeyOperator.Result split = operator(c).split("likes", Long.toString(key), K);

            SlotMap map = c.store.readSlotMap().value();
            SplitKey splitKey = map.splitKey("likes", Long.toString(key)).orElseThrow();
            assertThat(new TreeSet<>(likesOf(c, key))).isEqualTo(before);
            assertThat(likesOf(c, key)).hasSize(300);
            assertThat(split.rowsMoved()).isPositive().isLessThan(300);
            for (String db : List.of(c.db0, c.db1)) {
                String shard = db.equals(c.db0) ? "s0" : "s1";
                for (String row : rows(c, db, "SELECT user_id FROM likes WHERE post_id = " + key)) {
                    int subKey = io.shardgate.slot.SlotFunction.slot(row, K);
                    assertThat(map.owner(splitKey.slot(subKey, map.slotCount()))).as("user %s on %s", row, shard).isEqualTo(shard);
                }
            }

            HotKeyOperator.Result merged = operator(c).merge("likes", Long.toString(key));

            assertThat(merged.rowsMoved()).isEqualTo(split.rowsMoved());
            assertThat(rows(c, home, "SELECT post_id, user_id, note FROM likes WHERE post_id = " + key)).hasSize(300);
            assertThat(new TreeSet<>(likesOf(c, key))).isEqualTo(before);
            assertThat(c.store.readSlotMap().value().splitKeys()).isEmpty();
        }
    }

    @Test
    void aHoldThatAProxyCannotAcknowledgeIsUndoneAndNothingMoves() throws Exception {
        try (TestCluster c = cluster()) {
            long key = keyOverBothShards(c, "post_metrics");
            String home = homeDb(c, key);
            c.exec(home, "INSERT INTO post_metrics VALUES (" + key + ", 'viral', 10, 3)");
            c.store.registerProxy(new ProxyInfo("p-stuck", "127.0.0.1:1", 0, 1L));
            HotKeyOperator slow = new HotKeyOperator(c.store, new HotKeyOperator.Settings(Duration.ofMillis(300), Duration.ofSeconds(5),
                    Duration.ofSeconds(5), 100, Duration.ofSeconds(10)), log::add);

            assertThatThrownBy(() -> slow.split("post_metrics", Long.toString(key), K))
                    .isInstanceOf(HotKeyOperator.HotKeyException.class)
                    .hasMessageContaining("undone").hasMessageContaining("300 ms");

            assertThat(c.store.readSlotMap().value().splitKeys()).isEmpty();
            assertThat(rows(c, c.db0, "SELECT post_id FROM post_metrics WHERE post_id = " + key).size()
                    + rows(c, c.db1, "SELECT post_id FROM post_metrics WHERE post_id = " + key).size()).isEqualTo(1);
        }
    }

    @Test
    void refusesKeysThatCannotBeSplitWithReasons() throws Exception {
        try (TestCluster c = cluster()) {
            long key = keyOverBothShards(c, "post_metrics");
            HotKeyOperator op = operator(c);
            assertThatThrownBy(() -> op.split("plain", "1", K)).hasMessageContaining("declares no hot-key mode");
            assertThatThrownBy(() -> op.split("countries", "1", K)).hasMessageContaining("only sharded tables");
            assertThatThrownBy(() -> op.split("nope", "1", K)).hasMessageContaining("not declared");
            assertThatThrownBy(() -> op.split("post_metrics", "abc", K)).hasMessageContaining("not a valid int key");
            assertThatThrownBy(() -> op.merge("post_metrics", Long.toString(key))).hasMessageContaining("is not split");

            Versioned<SlotMap> map = c.store.readSlotMap();
            int home = new SplitKey("post_metrics", Long.toString(key), K).slot(0, map.value().slotCount());
            c.store.casSlotMap(map.value().withMoving(map.value().epoch() + 1, List.of(home),
                    new MovingSlot("m9", MigrationPhase.BACKFILL, map.value().owner(home), "s9")), map.version());
            assertThatThrownBy(() -> op.split("post_metrics", Long.toString(key), K)).hasMessageContaining("is moving in migration m9");
            assertThat(c.store.readSlotMap().value().splitKeys()).isEmpty();
        }
    }

    @Test
    void aSlotMoveThatTouchesASplitKeyMergesItFirstAndSplitsItAgainAfter() throws Exception {
        try (TestCluster c = cluster()) {
            SlotMap initial = c.store.readSlotMap().value();
            long key = 1;
            while (!touchesMoving(initial, key) || initial.shardsOf(new SplitKey("post_metrics", Long.toString(key), K)).size() < 2) {
                key++;
            }
            String home = homeDb(c, key);
            c.exec(home, "INSERT INTO post_metrics VALUES (" + key + ", 'viral', 10, 3)");
            operator(c).split("post_metrics", Long.toString(key), K);
            for (String db : List.of(c.db0, c.db1)) {
                c.exec(db, "UPDATE post_metrics SET like_count = like_count + 4 WHERE post_id = " + key);
            }
            c.newMigration("m1", Map.of());

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("m1", Migrations.Status.DONE, Duration.ofSeconds(60));
            }

            SlotMap after = c.store.readSlotMap().value();
            SplitKey split = after.splitKey("post_metrics", Long.toString(key)).orElseThrow();
            assertThat(split.state()).isEqualTo(SplitKey.State.SPLIT);
            assertThat(split.k()).isEqualTo(K);
            assertThat(c.record("m1").details()).doesNotContainKeys(Migrations.RESPLIT_ERRORS, Migrations.SPLIT_KEYS_MERGED);
            long likes = 0;
            List<String> holders = new ArrayList<>();
            for (String db : List.of(c.db0, c.db1)) {
                List<String> sub = rows(c, db, "SELECT like_count FROM post_metrics WHERE post_id = " + key);
                for (String v : sub) {
                    likes += Long.parseLong(v);
                    holders.add(db.equals(c.db0) ? "s0" : "s1");
                }
            }
            assertThat(likes).isEqualTo(18);
            assertThat(holders).containsExactlyInAnyOrderElementsOf(after.shardsOf(split));
        }
    }

    @Test
    void theAutomaticPolicySplitsAKeyThatStaysHotAndMergesItWhenItCools() throws Exception {
        try (TestCluster c = cluster()) {
            long key = keyOverBothShards(c, "post_metrics");
            c.exec(homeDb(c, key), "INSERT INTO post_metrics VALUES (" + key + ", 'viral', 10, 3)");
            HotKeyPolicy.Settings policy = new HotKeyPolicy.Settings(1000, Duration.ZERO, 50, Duration.ofMillis(500), 4);
            c.store.publishHotKeys(report("p1", key, 700));
            c.store.publishHotKeys(report("p2", key, 600));

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1").withHotKeyPolicy(policy))) {
                TestCluster.await(Duration.ofSeconds(30), () -> "automatic split of " + key,
                        () -> c.store.readSlotMap().value().splitKey("post_metrics", Long.toString(key))
                                .filter(k -> k.state() == SplitKey.State.SPLIT && k.k() == 4).isPresent());
                c.store.publishHotKeys(report("p1", key, 10));
                c.store.publishHotKeys(report("p2", key, 10));
                TestCluster.await(Duration.ofSeconds(30), () -> "automatic merge of " + key,
                        () -> c.store.readSlotMap().value().splitKeys().isEmpty());
            }
            assertThat(rows(c, homeDb(c, key), "SELECT like_count FROM post_metrics WHERE post_id = " + key)).containsExactly("10");
        }
    }

    // ---- helpers

    private static io.shardgate.state.HotKeyReport report(String proxy, long key, double writesPerSecond) {
        return new io.shardgate.state.HotKeyReport(proxy, System.currentTimeMillis(), 10, List.of(
                new io.shardgate.state.HotKeyReport.KeyRate("post_metrics", Long.toString(key), writesPerSecond,
                        (long) (writesPerSecond * 10), 0)));
    }

    private static boolean touchesMoving(SlotMap map, long key) {
        return new SplitKey("post_metrics", Long.toString(key), K).slots(map.slotCount()).stream().anyMatch(TestCluster.MOVING::contains);
    }

    private HotKeyOperator operator(TestCluster c) {
        return new HotKeyOperator(c.store, HotKeyOperator.Settings.defaults(), log::add);
    }

    private static TestCluster cluster() throws SQLException {
        TestCluster c = TestCluster.seeded(TABLES);
        for (String db : List.of(c.db0, c.db1)) {
            c.exec(db, "CREATE TABLE likes (post_id BIGINT NOT NULL, user_id BIGINT NOT NULL, note VARCHAR(32),"
                    + " PRIMARY KEY (post_id, user_id))");
            c.exec(db, "CREATE TABLE post_metrics (post_id BIGINT PRIMARY KEY, title VARCHAR(32), like_count BIGINT NOT NULL,"
                    + " view_count BIGINT NOT NULL)");
        }
        return c;
    }

    /** A key whose k sub-keys land on both shards. */
    private static long keyOverBothShards(TestCluster c, String table) {
        SlotMap map = c.store.readSlotMap().value();
        for (long key = 1; ; key++) {
            if (map.shardsOf(new SplitKey(table, Long.toString(key), K)).size() == 2) {
                return key;
            }
        }
    }

    private static String homeDb(TestCluster c, long key) {
        return TestCluster.slot(KeyType.INT, Long.toString(key)) < TestCluster.SLOTS / 2 ? c.db0 : c.db1;
    }

    private static String foldName(String table, long key) {
        return "fold." + table + "." + HexFormat.of().formatHex(Long.toString(key).getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> likesOf(TestCluster c, long key) throws SQLException {
        List<String> all = new ArrayList<>();
        for (String db : List.of(c.db0, c.db1)) {
            all.addAll(rows(c, db, "SELECT post_id, user_id, note FROM likes WHERE post_id = " + key));
        }
        return all;
    }

    private static List<String> rows(TestCluster c, String db, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection conn = c.connect(db); Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> values = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    values.add(rs.getString(i));
                }
                out.add(String.join(",", values));
            }
        }
        return out;
    }
}

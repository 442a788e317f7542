package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A hot counter key split by hand, as the hot-key operator would (DESIGN.md, "Hot keys"): publish the key
 * SPLITTING (statements on it wait), create its zeroed sub-rows on the other shards, publish it SPLIT. Then
 * increments through Connector/J, text and server-prepared, spread over the sub-rows and the summed read
 * stays exact; an absolute SET, a DELETE and an INSERT keep the logical row whole.
 */
class HotCounterIT {
    private static final int SLOTS = 4096;
    private static final int K = 4;
    private static final String TABLES = """
            tables:
              - {name: post_metrics, kind: sharded, key: post_id, key-type: int, hot-key: {mode: counter, counters: [like_count, view_count]}}
            """;
    private static final String READ = "SELECT post_id, title, like_count, view_count FROM post_metrics WHERE post_id = ?";

    @Test
    void incrementsSpreadOverSubRowsAndReadsSumThem() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(3, TABLES);
                Connection text = cluster.proxyConnection("");
                Connection prepared = cluster.proxyConnection("useServerPrepStmts=true")) {
            Sql.update(text, "CREATE TABLE post_metrics (post_id BIGINT PRIMARY KEY, title VARCHAR(100) NOT NULL DEFAULT '',"
                    + " like_count BIGINT NOT NULL DEFAULT 0, view_count BIGINT NOT NULL DEFAULT 0)");
            SlotMap initial = cluster.store().readSlotMap().value();
            long key = keyOverAllShards(initial);
            List<Integer> shards = subRowShards(initial, key);
            int home = shards.getFirst();
            Sql.update(text, "INSERT INTO post_metrics (post_id, title, like_count, view_count) VALUES (?, 'hot', 10, 0)", key);

            // split: hold the key, create the zeroed sub-rows, release it
            publish(cluster, new SplitKey("post_metrics", Long.toString(key), K, SplitKey.State.SPLITTING));
            CompletableFuture<List<List<String>>> heldRead = CompletableFuture.supplyAsync(() -> {
                try (Connection c = cluster.proxyConnection("")) {
                    return Sql.query(c, READ, key);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(400);
            assertThat(heldRead).as("a read of a key being split waits").isNotDone();
            for (int s : shards.subList(1, shards.size())) {
                try (Connection c = cluster.shardConnection(s)) {
                    Sql.update(c, "INSERT INTO post_metrics (post_id, title, like_count, view_count) VALUES (?, 'hot', 0, 0)", key);
                }
            }
            publish(cluster, new SplitKey("post_metrics", Long.toString(key), K, SplitKey.State.SPLIT));
            assertThat(heldRead.get(20, TimeUnit.SECONDS)).containsExactly(row(key, "hot", 10, 0));

            // increments: text protocol, server-prepared, and inside client transactions
            for (int i = 0; i < 30; i++) {
                assertThat(Sql.update(text, "UPDATE post_metrics SET like_count = like_count + 1 WHERE post_id = " + key)).isEqualTo(1);
                assertThat(Sql.update(prepared, "UPDATE post_metrics SET like_count = like_count + ?, view_count = view_count + ?"
                        + " WHERE post_id = ?", 1, 2, key)).isEqualTo(1);
            }
            prepared.setAutoCommit(false);
            for (int i = 0; i < 5; i++) {
                Sql.update(prepared, "UPDATE post_metrics SET like_count = like_count + ? WHERE post_id = ?", 1, key);
            }
            prepared.commit();
            Sql.update(prepared, "UPDATE post_metrics SET like_count = like_count + ? WHERE post_id = ?", 1000, key);
            prepared.rollback();
            prepared.setAutoCommit(true);

            List<Long> likes = new ArrayList<>();
            for (int s : shards) {
                try (Connection c = cluster.shardConnection(s)) {
                    likes.add(Long.parseLong(Sql.query(c, "SELECT like_count FROM post_metrics WHERE post_id = ?", key).getFirst().get(0)));
                }
            }
            assertThat(likes.stream().filter(n -> n > 0).count()).as("sub-rows that took increments: %s", likes).isEqualTo(shards.size());
            assertThat(likes.stream().mapToLong(Long::longValue).sum()).isEqualTo(10 + 30 + 30 + 5);
            assertThat(Sql.query(text, READ, key)).containsExactly(row(key, "hot", 75, 60));
            assertThat(Sql.query(prepared, READ, key)).containsExactly(row(key, "hot", 75, 60));

            // an absolute SET: home takes it, the other sub-rows are zeroed; one logical row affected
            assertThat(Sql.update(prepared, "UPDATE post_metrics SET like_count = ?, title = ? WHERE post_id = ?", 7, "reset", key))
                    .isEqualTo(1);
            assertThat(Sql.query(text, READ, key)).containsExactly(row(key, "reset", 7, 60));
            for (int s : shards.subList(1, shards.size())) {
                try (Connection c = cluster.shardConnection(s)) {
                    assertThat(Sql.query(c, "SELECT title, like_count FROM post_metrics WHERE post_id = ?", key))
                            .containsExactly(List.of("reset", "0"));
                }
            }

            // DELETE removes every sub-row; INSERT creates them all again; an upsert increments one row
            assertThat(Sql.update(text, "DELETE FROM post_metrics WHERE post_id = " + key)).isEqualTo(1);
            assertThat(Sql.query(prepared, READ, key)).isEmpty();
            assertThat(subRowCount(cluster, shards, key)).isZero();
            assertThat(Sql.update(prepared, "INSERT INTO post_metrics (post_id, title, like_count, view_count) VALUES (?, ?, ?, ?)",
                    key, "again", 3, 4)).isEqualTo(1);
            assertThat(subRowCount(cluster, shards, key)).isEqualTo(shards.size());
            Sql.update(text, "INSERT INTO post_metrics (post_id, like_count) VALUES (" + key + ", 1)"
                    + " ON DUPLICATE KEY UPDATE like_count = like_count + 1");
            assertThat(Sql.query(text, READ, key)).containsExactly(row(key, "again", 4, 4));
            try (Connection c = cluster.shardConnection(home)) {
                assertThat(Sql.query(c, "SELECT like_count FROM post_metrics WHERE post_id = ?", key)).containsExactly(List.of("4"));
            }
        }
    }

    /** A key whose sub-keys' slots are owned by every shard, so increments can reach all of them. */
    private static long keyOverAllShards(SlotMap map) {
        for (long key = 1; ; key++) {
            if (subRowShards(map, key).size() == map.slotCounts().size()) {
                return key;
            }
        }
    }

    /** Shard indexes holding the key's sub-rows, home first, in sub-key order. */
    private static List<Integer> subRowShards(SlotMap map, long key) {
        LinkedHashSet<Integer> shards = new LinkedHashSet<>();
        for (int i = 0; i < K; i++) {
            shards.add(Integer.parseInt(map.owner(SlotFunction.slot(Long.toString(key), i, K, SLOTS)).substring(1)));
        }
        return List.copyOf(shards);
    }

    private static long subRowCount(ShardedCluster cluster, List<Integer> shards, long key) throws SQLException {
        long n = 0;
        for (int s : shards) {
            try (Connection c = cluster.shardConnection(s)) {
                n += Sql.count(c, "SELECT COUNT(*) FROM post_metrics WHERE post_id = " + key);
            }
        }
        return n;
    }

    private static List<String> row(long key, String title, long likes, long views) {
        return List.of(Long.toString(key), title, Long.toString(likes), Long.toString(views));
    }

    private static void publish(ShardedCluster cluster, SplitKey split) throws InterruptedException {
        var current = cluster.store().readSlotMap();
        long epoch = current.value().epoch() + 1;
        cluster.store().casSlotMap(current.value().withSplitKey(epoch, split), current.version());
        cluster.store().awaitEpoch(epoch, Duration.ofSeconds(30));
    }
}

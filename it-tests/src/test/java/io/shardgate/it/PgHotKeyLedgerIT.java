package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link HotKeyLedgerIT} on a PostgreSQL cluster: a hot post's counter row and its likes are split over 8 sub-keys with
 * {@code shardgate hotkey split}, merged back and split again while clients increment, like and unlike through the
 * proxy's PostgreSQL port (half with server-prepared statements); nothing is lost or doubled, the counter never goes
 * down for a reader, and the rows on the shards add up to the ledger.
 */
class PgHotKeyLedgerIT {

    @Test
    void splitMergeAndSplitAgainUnderLoadLoseAndDoubleNothing() throws Exception {
        try (PgShardedCluster cluster = PgShardedCluster.start(3, HotKeyLedgerIT.TABLES, "md5")) {
            long post = HotKeyLedgerIT.postOverSeveralShards(cluster.store().readSlotMap().value());
            try (Connection c = cluster.proxyConnection(""); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE likes (post_id BIGINT NOT NULL, user_id BIGINT NOT NULL, note VARCHAR(16),"
                        + " PRIMARY KEY (post_id, user_id))");
                st.execute("CREATE TABLE post_metrics (post_id BIGINT PRIMARY KEY, title VARCHAR(32), like_count BIGINT NOT NULL,"
                        + " view_count BIGINT NOT NULL)");
                st.execute("INSERT INTO post_metrics VALUES (" + post + ", 'viral', 0, 0)");
                st.execute("INSERT INTO post_metrics VALUES (" + (post + 1) + ", 'calm', 0, 0)");
                for (int user = 1; user <= 50; user++) {
                    st.execute("INSERT INTO likes VALUES (" + post + ", " + user + ", 'seed')");
                }
            }
            HotKeyLedgerIT.Load load = new HotKeyLedgerIT.Load(post, 1,
                    (index, prepared) -> cluster.proxyConnection(prepared ? "prepareThreshold=1" : "prepareThreshold=0"));
            load.start();
            try {
                Thread.sleep(1500);
                hotkey(cluster, "split", "post_metrics", post, HotKeyLedgerIT.K);
                hotkey(cluster, "split", "likes", post, HotKeyLedgerIT.K);
                Thread.sleep(2000);
                assertThat(holders(cluster, "SELECT COUNT(*) FROM post_metrics WHERE post_id = " + post))
                        .as("counter sub-rows while split").hasSizeGreaterThan(1);
                assertThat(holders(cluster, "SELECT COUNT(*) FROM likes WHERE post_id = " + post))
                        .as("shards holding likes while split").hasSizeGreaterThan(1);
                hotkey(cluster, "merge", "post_metrics", post, 0);
                hotkey(cluster, "merge", "likes", post, 0);
                Thread.sleep(1500);
                assertThat(holders(cluster, "SELECT COUNT(*) FROM post_metrics WHERE post_id = " + post)).hasSize(1);
                assertThat(holders(cluster, "SELECT COUNT(*) FROM likes WHERE post_id = " + post)).hasSize(1);
                hotkey(cluster, "split", "post_metrics", post, HotKeyLedgerIT.K);
                hotkey(cluster, "split", "likes", post, HotKeyLedgerIT.K);
                Thread.sleep(1500);
            } finally {
                load.stop();
            }

            assertThat(load.errors).as("client errors").isEmpty();
            assertThat(load.anomalies).as("reader anomalies").isEmpty();
            assertThat(load.increments.get()).as("increments done").isGreaterThan(100);
            assertThat(load.reads.get()).as("reads done").isGreaterThan(50);
            try (Connection c = cluster.proxyConnection("")) {
                assertThat(Sql.query(c, "SELECT like_count FROM post_metrics WHERE post_id = " + post))
                        .containsExactly(List.of(Long.toString(load.increments.get())));
                List<String> users = Sql.query(c, "SELECT user_id FROM likes WHERE post_id = " + post).stream().map(List::getFirst).toList();
                assertThat(users).doesNotHaveDuplicates();
                assertThat(new HashSet<>(users)).isEqualTo(load.expectedLikes());
            }
            long stored = 0;
            for (int i = 0; i < 3; i++) {
                try (Connection c = cluster.shardConnection(i)) {
                    stored += Sql.count(c, "SELECT COUNT(*) FROM likes WHERE post_id = " + post);
                }
            }
            assertThat(stored).as("like rows on all shards").isEqualTo(load.expectedLikes().size());
            System.out.printf("PgHotKeyLedgerIT: %d increments, %d likes inserted, %d deleted, %d reads%n", load.increments.get(),
                    load.inserted.get(), load.deleted.get(), load.reads.get());
        }
    }

    private static void hotkey(PgShardedCluster cluster, String verb, String table, long key, int k) throws Exception {
        List<String> args = new ArrayList<>(List.of("hotkey", verb, "--table", table, "--key", Long.toString(key)));
        if (k > 0) {
            args.addAll(List.of("--k", Integer.toString(k)));
        }
        args.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", PgShardedCluster.CLUSTER));
        ShardgateProcess.Result r = ShardgateProcess.run(Duration.ofSeconds(60), args.toArray(String[]::new));
        assertThat(r.exitCode()).as("shardgate %s: %s%s", String.join(" ", args), r.stdout(), r.stderr()).isZero();
    }

    private static List<Integer> holders(PgShardedCluster cluster, String countSql) throws SQLException {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (Connection c = cluster.shardConnection(i)) {
                if (Sql.count(c, countSql) > 0) {
                    out.add(i);
                }
            }
        }
        return out;
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Hot-key split and merge under load, through two proxies, driven by the CLI: clients increment one
 * counter and insert and delete likes of one post (half of them with server-side prepared statements,
 * half with the text protocol) while the key is split, merged and split again. A ledger of what was
 * acknowledged is compared with the database at the end, and a reader checks throughout that the
 * counter never goes down and that no like is seen twice.
 */
class HotKeyLedgerIT {
    static final String TABLES = """
            tables:
              - {name: likes, kind: sharded, key: post_id, key-type: int, hot-key: {mode: append, split-by: user_id}}
              - {name: post_metrics, kind: sharded, key: post_id, key-type: int, hot-key: {mode: counter, counters: [like_count, view_count]}}
            """;
    static final int K = 8;
    private static final int CLIENTS = 6;

    @Test
    void splitMergeAndSplitAgainUnderLoadLoseAndDoubleNothing() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(3, TABLES)) {
            cluster.startProxy();
            long post = postOverSeveralShards(cluster.store().readSlotMap().value());
            splitMergeAndSplitAgain(post, cluster.proxies().size(),
                    (index, prepared) -> cluster.proxyConnection(cluster.proxies().get(index % cluster.proxies().size()),
                            prepared ? "useServerPrepStmts=true" : ""),
                    (verb, table, key, k) -> hotkey(cluster, verb, table, key, k),
                    countSql -> holders(cluster, countSql),
                    sql -> {
                        long sum = 0;
                        for (int i = 0; i < cluster.shardCount(); i++) {
                            try (Connection c = cluster.shardConnection(i)) {
                                sum += Sql.count(c, sql);
                            }
                        }
                        return sum;
                    });
        }
    }

    /** The command line's {@code hotkey VERB --table T --key K [--k N]} against the cluster. */
    interface HotKeyCli {
        void run(String verb, String table, long key, int k) throws Exception;
    }

    /** Runs a query on each shard: the shards whose count is not zero, or the sum of the counts. */
    interface OnShards<T> {
        T query(String countSql) throws SQLException;
    }

    /**
     * The scenario, for a MySQL or PostgreSQL cluster: create and seed the tables through the proxy, then split both
     * tables' hot key, merge it, split it again under load, and compare everything with the ledger.
     */
    static void splitMergeAndSplitAgain(long post, int proxies, Connector connector, HotKeyCli hotkey,
            OnShards<List<Integer>> holders, OnShards<Long> sumOverShards) throws Exception {
        try (Connection c = connector.open(0, false); Statement st = c.createStatement()) {
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
        Load load = new Load(post, proxies, connector);
        load.start();
        double beforeSplit;
        double afterMerge;
        double whileSplit;
        try {
            Thread.sleep(500); // connections open, statements warm
            beforeSplit = load.incrementRate(Duration.ofMillis(2000));
            hotkey.run("split", "post_metrics", post, K);
            hotkey.run("split", "likes", post, K);
            whileSplit = load.incrementRate(Duration.ofMillis(2000));
            assertThat(holders.query("SELECT COUNT(*) FROM post_metrics WHERE post_id = " + post))
                    .as("counter sub-rows while split").hasSizeGreaterThan(1);
            assertThat(holders.query("SELECT COUNT(*) FROM likes WHERE post_id = " + post))
                    .as("shards holding likes while split").hasSizeGreaterThan(1);
            hotkey.run("merge", "post_metrics", post, 0);
            hotkey.run("merge", "likes", post, 0);
            afterMerge = load.incrementRate(Duration.ofMillis(2000));
            assertThat(holders.query("SELECT COUNT(*) FROM post_metrics WHERE post_id = " + post)).hasSize(1);
            assertThat(holders.query("SELECT COUNT(*) FROM likes WHERE post_id = " + post)).hasSize(1);
            hotkey.run("split", "post_metrics", post, K);
            hotkey.run("split", "likes", post, K);
            Thread.sleep(1500);
        } finally {
            load.stop();
        }

        assertThat(load.errors).as("client errors").isEmpty();
        assertThat(load.anomalies).as("reader anomalies").isEmpty();
        assertThat(load.increments.get()).as("increments done").isGreaterThan(100);
        assertThat(load.reads.get()).as("reads done").isGreaterThan(50);
        try (Connection c = connector.open(0, false)) {
            assertThat(Sql.query(c, "SELECT like_count FROM post_metrics WHERE post_id = " + post))
                    .containsExactly(List.of(Long.toString(load.increments.get())));
            List<String> users = Sql.query(c, "SELECT user_id FROM likes WHERE post_id = " + post).stream().map(List::getFirst).toList();
            assertThat(users).doesNotHaveDuplicates();
            assertThat(new HashSet<>(users)).isEqualTo(load.expectedLikes());
        }
        assertThat(sumOverShards.query("SELECT COUNT(*) FROM likes WHERE post_id = " + post)).as("like rows on all shards")
                .isEqualTo(load.expectedLikes().size());
        System.out.printf("hot-key ledger: %d increments, %d likes inserted, %d deleted, %d reads; increments/s before the split"
                + " %.0f, while split %.0f, after the merge %.0f%n", load.increments.get(), load.inserted.get(), load.deleted.get(),
                load.reads.get(), beforeSplit, whileSplit, afterMerge);
        // a merged key is an ordinary key again: nothing of the split (a hold, a sub-row, a cached route) may slow it down
        assertThat(afterMerge).as("increments/s after the merge against before the split (%.0f)", beforeSplit)
                .isGreaterThanOrEqualTo(beforeSplit * 0.5);
    }

    static long postOverSeveralShards(SlotMap map) {
        for (long post = 1000; ; post++) {
            if (map.shardsOf(new SplitKey("likes", Long.toString(post), K)).size() >= 3) {
                return post;
            }
        }
    }

    private static void hotkey(ShardedCluster cluster, String verb, String table, long key, int k) throws Exception {
        List<String> args = new ArrayList<>(List.of("hotkey", verb, "--table", table, "--key", Long.toString(key)));
        if (k > 0) {
            args.addAll(List.of("--k", Integer.toString(k)));
        }
        args.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        ShardgateProcess.Result r = ShardgateProcess.run(Duration.ofSeconds(60), args.toArray(String[]::new));
        assertThat(r.exitCode()).as("shardgate %s: %s%s", String.join(" ", args), r.stdout(), r.stderr()).isZero();
    }

    /** Shards that hold at least one row for the count query. */
    private static List<Integer> holders(ShardedCluster cluster, String countSql) throws SQLException {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < cluster.shardCount(); i++) {
            try (Connection c = cluster.shardConnection(i)) {
                if (Long.parseLong(Sql.query(c, countSql).getFirst().getFirst()) > 0) {
                    out.add(i);
                }
            }
        }
        return out;
    }

    /** Opens client {@code index}'s connection to a proxy (clients and readers alternate proxies by index). */
    interface Connector {
        Connection open(int index, boolean prepared) throws SQLException;
    }

    /**
     * The clients and the reader, with the ledger of what the proxies acknowledged. Half the clients use prepared
     * statements; the SQL is the same for MySQL and PostgreSQL clusters ({@code PgHotKeyLedgerIT}).
     */
    static final class Load {
        final Connector connector;
        final int proxies;
        final long post;
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong increments = new AtomicLong();
        final AtomicLong inserted = new AtomicLong();
        final AtomicLong deleted = new AtomicLong();
        final AtomicLong reads = new AtomicLong();
        final List<String> errors = new CopyOnWriteArrayList<>();
        final List<String> anomalies = new CopyOnWriteArrayList<>();
        final Set<Long> likes = ConcurrentHashMap.newKeySet();
        final List<Thread> threads = new ArrayList<>();

        Load(long post, int proxies, Connector connector) {
            this.connector = connector;
            this.proxies = proxies;
            this.post = post;
            for (long user = 1; user <= 50; user++) {
                likes.add(user);
            }
        }

        /** Increments per second the clients complete over the next {@code window}. */
        double incrementRate(Duration window) throws InterruptedException {
            long before = increments.get();
            long started = System.nanoTime();
            Thread.sleep(window.toMillis());
            return (increments.get() - before) * 1e9 / (System.nanoTime() - started);
        }

        Set<String> expectedLikes() {
            Set<String> out = new HashSet<>();
            likes.forEach(u -> out.add(Long.toString(u)));
            return out;
        }

        void start() {
            for (int t = 0; t < CLIENTS; t++) {
                int id = t;
                threads.add(Thread.ofPlatform().name("hot-client-" + t).start(() -> client(id)));
            }
            threads.add(Thread.ofPlatform().name("hot-reader").start(this::reader));
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(60_000);
            }
        }

        private void client(int id) {
            boolean prepared = id % 2 == 0;
            Random random = new Random(id);
            List<Long> mine = new ArrayList<>();
            long next = (id + 1) * 10_000_000L;
            try (Connection c = connector.open(id, prepared)) {
                while (running.get()) {
                    int dice = random.nextInt(100);
                    if (dice < 55) {
                        if (update(c, prepared, "UPDATE post_metrics SET like_count = like_count + ? WHERE post_id = ?", 1, post) != 1) {
                            anomalies.add("an increment changed no row");
                        }
                        increments.incrementAndGet();
                    } else if (dice < 85 || mine.isEmpty()) {
                        long user = next++;
                        update(c, prepared, "INSERT INTO likes (post_id, user_id, note) VALUES (?, ?, 'client')", post, user);
                        likes.add(user);
                        mine.add(user);
                        inserted.incrementAndGet();
                    } else {
                        long user = mine.remove(random.nextInt(mine.size()));
                        if (update(c, prepared, "DELETE FROM likes WHERE post_id = ? AND user_id = ?", post, user) != 1) {
                            anomalies.add("deleting like of user " + user + " changed no row");
                        }
                        likes.remove(user);
                        deleted.incrementAndGet();
                    }
                }
            } catch (SQLException e) {
                errors.add("client " + id + ": " + e.getErrorCode() + " " + e.getMessage());
            }
        }

        private static int update(Connection c, boolean prepared, String sql, Object... params) throws SQLException {
            if (prepared) {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    for (int i = 0; i < params.length; i++) {
                        ps.setObject(i + 1, params[i]);
                    }
                    return ps.executeUpdate();
                }
            }
            String text = sql;
            for (Object p : params) {
                text = text.replaceFirst("\\?", p.toString());
            }
            try (Statement st = c.createStatement()) {
                return st.executeUpdate(text);
            }
        }

        /** Alternates proxies: the counter must never go down and no like may show twice. */
        private void reader() {
            long last = -1;
            int turn = 0;
            List<Connection> connections = new ArrayList<>();
            try {
                for (int p = 0; p < proxies; p++) {
                    connections.add(connector.open(p, false));
                }
                while (running.get()) {
                    Connection c = connections.get(turn++ % connections.size());
                    try (Statement st = c.createStatement()) {
                        try (ResultSet rs = st.executeQuery("SELECT like_count FROM post_metrics WHERE post_id = " + post)) {
                            if (!rs.next()) {
                                anomalies.add("the counter row vanished");
                                continue;
                            }
                            long now = rs.getLong(1);
                            if (now < last) {
                                anomalies.add("counter went down from " + last + " to " + now);
                            }
                            last = now;
                        }
                        Set<Long> seen = new HashSet<>();
                        try (ResultSet rs = st.executeQuery("SELECT user_id FROM likes WHERE post_id = " + post)) {
                            while (rs.next()) {
                                if (!seen.add(rs.getLong(1))) {
                                    anomalies.add("like of user " + rs.getLong(1) + " seen twice");
                                }
                            }
                        }
                    }
                    reads.incrementAndGet();
                }
            } catch (SQLException e) {
                errors.add("reader: " + e.getErrorCode() + " " + e.getMessage());
            } finally {
                for (Connection c : connections) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // closing is best effort
                    }
                }
            }
        }
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.TableKind;
import io.shardgate.migrator.MigrationWorker;
import io.shardgate.migrator.WorkerSettings;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The main path of a new user: one MariaDB database with three tables and rows, created directly (not through
 * Shardgate), adopted as shard s0; two more shards added and the slots spread over the three; then the co-located
 * tables accounts and items sharded online with {@code table shard} while ledger clients on two proxies move money
 * inside transactions, insert and delete items and increment counters (counters stays single on s0), and a reader
 * checks the scatter totals of accounts. At the end the ledgers match row for row, every row of accounts and items
 * lives on the owner of its slot, and a set of queries through the proxy answers as the same queries do on a single
 * server holding the same rows.
 */
class TableShardIT {

    @Test
    void anAdoptedDatabaseHasTwoCoLocatedTablesShardedOnlineUnderLoadWithNothingLostOrDoubled() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.startWithoutCluster(3)) {
            Ledger ledger = new Ledger(cluster);
            try (Connection s0 = cluster.shardConnection(0)) {
                ledger.load(s0, 3);
            }
            ShardgateProcess.Result adopted = cli(cluster, "cluster", "adopt", "--url", cluster.shard(0).jdbcUrl(ShardedCluster.DATABASE),
                    "--user", "root");
            assertThat(adopted.exitCode()).as(adopted.toString()).isZero();
            cluster.startProxy();
            cluster.startProxy();
            for (int i = 1; i <= 2; i++) {
                ShardgateProcess.Result added = cli(cluster, "shard", "add", "s" + i, "--url",
                        cluster.shard(i).jdbcUrl(ShardedCluster.DATABASE), "--user", "root");
                assertThat(added.exitCode()).as(added.toString()).isZero();
            }
            ShardgateProcess.Result sharded;
            long shardMillis;
            try (MigrationWorker worker = MigrationWorker.start(cluster.store(), WorkerSettings.defaults("table-shard-it")
                    .withPollInterval(Duration.ofMillis(200)))) {
                // no table is sharded yet: spreading the slots moves no row, and the single tables stay on s0
                ShardgateProcess.Result spread = cli(cluster, "reshard", "start", "--rebalance", "--auto-complete", "--wait");
                assertThat(spread.exitCode()).as(spread.toString()).isZero();
                assertThat(cluster.store().readSlotMap().value().slotCounts()).containsOnlyKeys("s0", "s1", "s2");

                ledger.start(3, 20261122L);
                Thread.sleep(1_000);
                long started = System.nanoTime();
                sharded = cli(cluster, "table", "shard", "accounts", "items", "--key", "user_id",
                        "--chunk-rows", "100", "--rows-per-second", "1000", "--wait");
                shardMillis = (System.nanoTime() - started) / 1_000_000;
                Thread.sleep(1_000);
                ledger.stop();
                assertThat(sharded.exitCode()).as(sharded.toString()).isZero();
                assertThat(sharded.stdout()).contains("declared accounts, items sharded by user_id (int)")
                        .contains("2 migrations").contains("accounts, items are sharded over s0, s1, s2");
            }
            System.out.println("table shard: " + ledger.operations.get() + " ledger operations, " + ledger.retries.get() + " retried, "
                    + ledger.totalsRead.get() + " scatter totals read; the command took " + shardMillis + " ms\n" + sharded.stdout());
            assertThat(ledger.operations.get()).as("ledger operations during the sharding").isGreaterThan(200);
            assertThat(ledger.totalsRead.get()).as("scatter totals read during the sharding").isGreaterThan(10);
            ledger.assertMatches();

            SlotMap map = cluster.store().readSlotMap().value();
            assertThat(map.tableShardings()).as("the table sharding ended").isEmpty();
            var definition = cluster.store().readDefinition().value();
            assertThat(definition.table("accounts").orElseThrow().kind()).isEqualTo(TableKind.SHARDED);
            assertThat(definition.table("items").orElseThrow().shardKey()).isEqualTo("user_id");
            assertThat(definition.table("counters").orElseThrow().kind()).isEqualTo(TableKind.SINGLE);
            for (int i = 0; i < 3; i++) {
                String shard = "s" + i;
                try (Connection c = cluster.shardConnection(i)) {
                    for (String table : List.of("accounts", "items")) {
                        List<List<String>> keys = Sql.query(c, "SELECT DISTINCT user_id FROM " + table);
                        assertThat(keys).as("%s has rows of %s", shard, table).isNotEmpty();
                        for (List<String> k : keys) {
                            assertThat(map.owner(SlotFunction.slot(k.getFirst(), map.slotCount())))
                                    .as("owner of %s user %s found on %s", table, k.getFirst(), shard).isEqualTo(shard);
                        }
                    }
                    long counters = Sql.query(c, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'shardgate'"
                            + " AND table_name = 'counters'").size() == 1 ? Sql.count(c, "SELECT COUNT(*) FROM counters") : 0;
                    assertThat(counters).as("counters rows on %s", shard).isEqualTo(i == 0 ? Ledger.COUNTERS : 0);
                }
            }

            copyToReference(cluster);
            List<String> queries = List.of(
                    "SELECT user_id, acct, balance FROM accounts ORDER BY balance DESC, user_id, acct LIMIT 25",
                    "SELECT COUNT(*), SUM(balance), MIN(balance), MAX(balance) FROM accounts",
                    "SELECT acct, COUNT(*), SUM(balance) FROM accounts GROUP BY acct ORDER BY acct",
                    "SELECT a.user_id, a.balance, COUNT(i.item_id) FROM accounts a LEFT JOIN items i ON i.user_id = a.user_id"
                            + " WHERE a.user_id IN (3, 77, 301, 599) AND a.acct = 0 GROUP BY a.user_id, a.balance ORDER BY a.user_id",
                    "SELECT note, COUNT(*) FROM items GROUP BY note ORDER BY note",
                    "SELECT * FROM items WHERE user_id = 42 ORDER BY item_id",
                    "SELECT name, n FROM counters ORDER BY n DESC, name LIMIT 10");
            try (Connection proxy = cluster.proxyConnection(""); Connection ref = cluster.referenceConnection("")) {
                for (String q : queries) {
                    assertThat(Sql.query(proxy, q)).as(q).isEqualTo(Sql.query(ref, q));
                }
            }
        }
    }

    /**
     * A {@code table shard} cut off after its first step (the table sharding published, the table still single) is
     * resumed by running the command again, and a string key is moved by the migrator's slot function exactly as the
     * proxy routes it.
     */
    @Test
    void aTableShardCutOffAfterItsFirstStepIsResumedByRunningItAgain() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, "tables:\n  - {name: notes, kind: single, shard: s0}\n")) {
            try (Connection s0 = cluster.shardConnection(0)) {
                Sql.update(s0, "CREATE TABLE notes (tag VARCHAR(32) NOT NULL, seq INT NOT NULL, body VARCHAR(40),"
                        + " PRIMARY KEY (tag, seq)) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_bin");
                for (int i = 0; i < 300; i++) {
                    Sql.update(s0, "INSERT INTO notes VALUES (?, ?, ?)", "tag-" + (i % 100) + (i % 9 == 0 ? "-ü" : ""), i, "note " + i);
                }
            }
            List<List<String>> before;
            try (Connection proxy = cluster.proxyConnection("")) {
                before = Sql.query(proxy, "SELECT tag, seq, body FROM notes ORDER BY tag, seq");
            }
            var stored = cluster.store().readSlotMap();
            java.util.Set<Integer> atHome = new java.util.TreeSet<>();
            for (int slot = 0; slot < stored.value().slotCount(); slot++) {
                if (stored.value().owner(slot).equals("s1")) {
                    atHome.add(slot);
                }
            }
            cluster.store().casSlotMap(stored.value().withTableSharding(stored.value().epoch() + 1,
                    new io.shardgate.slot.TableSharding(List.of("notes"), "s0", atHome, java.util.Map.of())), stored.version());

            ShardgateProcess.Result resumed;
            try (MigrationWorker worker = MigrationWorker.start(cluster.store(), WorkerSettings.defaults("table-shard-resume")
                    .withPollInterval(Duration.ofMillis(200)))) {
                resumed = cli(cluster, "table", "shard", "notes", "--key", "tag", "--wait");
            }
            assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
            assertThat(resumed.stdout()).contains("resuming the sharding of notes from s0")
                    .contains("declared notes sharded by tag (string)").contains("notes is sharded over s0, s1");
            SlotMap map = cluster.store().readSlotMap().value();
            int onS1 = 0;
            for (int i = 0; i < 2; i++) {
                try (Connection c = cluster.shardConnection(i)) {
                    for (List<String> row : Sql.query(c, "SELECT tag FROM notes")) {
                        assertThat(map.owner(SlotFunction.slot(row.getFirst(), map.slotCount()))).as("owner of %s", row).isEqualTo("s" + i);
                        onS1 += i;
                    }
                }
            }
            assertThat(onS1).as("rows moved to s1").isGreaterThan(50);
            try (Connection proxy = cluster.proxyConnection("")) {
                assertThat(Sql.query(proxy, "SELECT tag, seq, body FROM notes ORDER BY tag, seq")).isEqualTo(before);
                assertThat(Sql.query(proxy, "SELECT body FROM notes WHERE tag = 'tag-9-ü' ORDER BY seq")).isNotEmpty()
                        .isEqualTo(before.stream().filter(r -> r.getFirst().equals("tag-9-ü")).map(r -> List.of(r.get(2))).toList());
            }
        }
    }

    /** Puts the rows the proxy returns (checked against the ledgers above) on the reference server, a plain single database. */
    private static void copyToReference(ShardedCluster cluster) throws Exception {
        try (Connection proxy = cluster.proxyConnection(""); Connection ref = cluster.referenceConnection("rewriteBatchedStatements=true")) {
            Sql.update(ref, "CREATE TABLE accounts (user_id BIGINT NOT NULL, acct INT NOT NULL, balance BIGINT NOT NULL,"
                    + " PRIMARY KEY (user_id, acct))");
            Sql.update(ref, "CREATE TABLE items (user_id BIGINT NOT NULL, item_id BIGINT NOT NULL, note VARCHAR(40),"
                    + " PRIMARY KEY (user_id, item_id))");
            Sql.update(ref, "CREATE TABLE counters (name VARCHAR(32) NOT NULL PRIMARY KEY, n BIGINT NOT NULL)"
                    + " DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_bin");
            copy(proxy, ref, "SELECT user_id, acct, balance FROM accounts", "INSERT INTO accounts VALUES (?, ?, ?)");
            copy(proxy, ref, "SELECT user_id, item_id, note FROM items", "INSERT INTO items VALUES (?, ?, ?)");
            copy(proxy, ref, "SELECT name, n FROM counters", "INSERT INTO counters VALUES (?, ?)");
        }
    }

    private static void copy(Connection from, Connection to, String select, String insert) throws Exception {
        try (PreparedStatement st = to.prepareStatement(insert)) {
            for (List<String> row : Sql.query(from, select)) {
                for (int i = 0; i < row.size(); i++) {
                    st.setString(i + 1, row.get(i));
                }
                st.addBatch();
            }
            st.executeBatch();
        }
    }

    private static ShardgateProcess.Result cli(ShardedCluster cluster, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        return ShardgateProcess.run(Duration.ofSeconds(180), all.toArray(String[]::new));
    }
}

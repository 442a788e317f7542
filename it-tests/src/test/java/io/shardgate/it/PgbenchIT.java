package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * pgbench through the PostgreSQL front end on two PostgreSQL shards whose pgbench tables are sharded by account,
 * teller and branch id. {@code pgbench -i} loads with COPY, which the proxy refuses (it cannot route the rows yet), so
 * the tables are created through the proxy, branches and tellers inserted through it, and the accounts copied
 * straight to their shards; then {@code -S} (select only) and the
 * default TPC-B-like script run in each {@code -M} mode with several clients, and must finish without a single failed
 * transaction, after which the balances must add up: every script run adds the same delta to one account, one teller
 * and one branch, and logs it in the history.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgbenchIT {
    private static final int BRANCHES = 2;
    /** pgbench picks accounts from 100,000 per branch (its scale is the number of branches). */
    private static final int ACCOUNTS = 100_000 * BRANCHES;
    private static final String TABLES = """
            tables:
              - {name: pgbench_accounts, kind: sharded, key: aid, key-type: int}
              - {name: pgbench_tellers, kind: sharded, key: tid, key-type: int}
              - {name: pgbench_branches, kind: sharded, key: bid, key-type: int}
              - {name: pgbench_history, kind: sharded, key: aid, key-type: int}
            """;

    private PgShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(2, TABLES, "md5");
        try (Connection p = cluster.proxyConnection("")) {
            Sql.update(p, "CREATE TABLE pgbench_branches (bid INT NOT NULL PRIMARY KEY, bbalance INT, filler CHAR(88))");
            Sql.update(p, "CREATE TABLE pgbench_tellers (tid INT NOT NULL PRIMARY KEY, bid INT, tbalance INT, filler CHAR(84))");
            Sql.update(p, "CREATE TABLE pgbench_accounts (aid INT NOT NULL PRIMARY KEY, bid INT, abalance INT, filler CHAR(84))");
            Sql.update(p, "CREATE TABLE pgbench_history (tid INT, bid INT, aid INT, delta INT, mtime TIMESTAMP, filler CHAR(22))");
            for (int b = 1; b <= BRANCHES; b++) {
                Sql.update(p, "INSERT INTO pgbench_branches (bid, bbalance) VALUES (" + b + ", 0)");
            }
            StringBuilder tellers = new StringBuilder("INSERT INTO pgbench_tellers (tid, bid, tbalance) VALUES ");
            for (int t = 1; t <= 10 * BRANCHES; t++) {
                tellers.append(t > 1 ? "," : "").append('(').append(t).append(',').append((t - 1) / 10 + 1).append(",0)");
            }
            Sql.update(p, tellers.toString());
            loadAccountsOnTheirShards();
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM pgbench_accounts")).isEqualTo(ACCOUNTS);
            // found through the proxy's routing, so each row sits on its slot's shard
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM pgbench_accounts WHERE aid IN (1, 777, 100001, " + ACCOUNTS + ")")).isEqualTo(4);
        }
    }

    /**
     * The 200,000 accounts go straight to the shards with COPY, each row to the owner of its key's slot (the proxy's slot
     * function and the cluster's initial slot map): loading them through the proxy as INSERTs takes minutes here.
     */
    private void loadAccountsOnTheirShards() throws Exception {
        SlotMap slots = SlotMap.initial(4096, List.of("s0", "s1"));
        StringBuilder[] rows = {new StringBuilder(), new StringBuilder()};
        for (int a = 1; a <= ACCOUNTS; a++) {
            String owner = slots.owner(SlotFunction.slot(Integer.toString(a), 4096));
            rows[owner.equals("s0") ? 0 : 1].append(a).append('\t').append((a - 1) / (ACCOUNTS / BRANCHES) + 1).append("\t0\t\n");
        }
        for (int i = 0; i < 2; i++) {
            try (Connection shard = cluster.shardConnection(i)) {
                new CopyManager(shard.unwrap(BaseConnection.class)).copyIn(
                        "COPY pgbench_accounts (aid, bid, abalance, filler) FROM STDIN", new StringReader(rows[i].toString()));
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @ParameterizedTest(name = "-M {0}")
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void selectOnlyRunsWithoutErrors(String mode) throws Exception {
        String out = pgbench("-S", "-M", mode, "-c", "4", "-j", "2", "-t", "200");
        assertThat(processed(out)).as(out).isEqualTo(4 * 200);
        assertThat(failed(out)).as(out).isZero();
    }

    @ParameterizedTest(name = "-M {0}")
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void tpcbLikeScriptRunsWithoutErrorsAndBalancesAddUp(String mode) throws Exception {
        String out = pgbench("-M", mode, "-c", "4", "-j", "2", "-t", "100");
        assertThat(processed(out)).as(out).isEqualTo(4 * 100);
        assertThat(failed(out)).as(out).isZero();
        try (Connection p = cluster.proxyConnection("")) {
            long history = Sql.count(p, "SELECT SUM(delta) FROM pgbench_history");
            assertThat(Sql.count(p, "SELECT SUM(abalance) FROM pgbench_accounts")).isEqualTo(history);
            assertThat(Sql.count(p, "SELECT SUM(tbalance) FROM pgbench_tellers")).isEqualTo(history);
            assertThat(Sql.count(p, "SELECT SUM(bbalance) FROM pgbench_branches")).isEqualTo(history);
        }
    }

    private String pgbench(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("pgbench", "-n", "-h", "127.0.0.1", "-p", Integer.toString(cluster.proxyPort()),
                "-U", PgShardedCluster.USER));
        command.addAll(List.of(args));
        command.add(PgShardedCluster.DATABASE);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PGPASSWORD", PgShardedCluster.PASSWORD);
        pb.environment().put("PGSSLMODE", "prefer");
        pb.redirectErrorStream(true);
        Process process = pb.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("pgbench output:\n%s", out).isZero();
        return out;
    }

    private static long processed(String out) {
        Matcher m = Pattern.compile("number of transactions actually processed: (\\d+)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static long failed(String out) {
        Matcher m = Pattern.compile("number of failed transactions: (\\d+)").matcher(out);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}

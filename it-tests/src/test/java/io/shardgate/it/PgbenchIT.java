package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.io.IOException;
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

/**
 * pgbench through the PostgreSQL front end on two PostgreSQL shards whose pgbench tables are sharded by account,
 * teller and branch id. {@code pgbench -i} initialises them through the proxy (its COPY of the accounts routed row by
 * row), after which every account must sit on its slot's shard; then {@code -S} (select only) and the
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
        // pgbench -i through the proxy: drops and creates the tables (DDL on every shard), inserts branches and tellers,
        // COPYs the accounts (each row routed by aid), vacuums and adds the primary keys
        String out = pgbench("-i", "-s", Integer.toString(BRANCHES));
        assertThat(out).contains("done in");
        try (Connection p = cluster.proxyConnection("")) {
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM pgbench_accounts")).isEqualTo(ACCOUNTS);
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM pgbench_tellers")).isEqualTo(10L * BRANCHES);
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM pgbench_branches")).isEqualTo(BRANCHES);
            // found through the proxy's routing, so each row sits on its slot's shard
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM pgbench_accounts WHERE aid IN (1, 777, 100001, " + ACCOUNTS + ")")).isEqualTo(4);
        }
        // and every account is on exactly the shard that owns its slot, none twice
        SlotMap slots = SlotMap.initial(4096, List.of("s0", "s1"));
        long expectedOnS0 = java.util.stream.IntStream.rangeClosed(1, ACCOUNTS)
                .filter(a -> slots.owner(SlotFunction.slot(Integer.toString(a), 4096)).equals("s0")).count();
        for (int i = 0; i < 2; i++) {
            try (Connection shard = cluster.shardConnection(i)) {
                long rows = Sql.count(shard, "SELECT COUNT(*) FROM pgbench_accounts");
                assertThat(rows).as("accounts on s%d", i).isEqualTo(i == 0 ? expectedOnS0 : ACCOUNTS - expectedOnS0);
                assertThat(Sql.count(shard, "SELECT COUNT(DISTINCT aid) FROM pgbench_accounts")).isEqualTo(rows);
                // the primary keys pgbench adds last reached every shard
                assertThat(Sql.count(shard, "SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                        + " WHERE c.relname LIKE 'pgbench_%' AND i.indisprimary")).isEqualTo(3);
            }
        }
        long misplaced = 0;
        for (int i = 0; i < 2; i++) {
            try (Connection shard = cluster.shardConnection(i); var st = shard.createStatement();
                    var rs = st.executeQuery("SELECT aid FROM pgbench_accounts WHERE aid % 997 = 0")) {
                while (rs.next()) {
                    String owner = slots.owner(SlotFunction.slot(Integer.toString(rs.getInt(1)), 4096));
                    misplaced += owner.equals("s" + i) ? 0 : 1;
                }
            }
        }
        assertThat(misplaced).isZero();
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

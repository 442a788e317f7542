package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.KeyType;
import io.shardgate.local.CommandRunner;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * sysbench through the proxy on four shards with sbtest1 sharded by id. sysbench's prepare is not
 * deterministic (even with --rand-seed), so the table is prepared through the proxy and copied to a
 * reference single server; a run with one thread and a fixed seed is deterministic, so after each
 * run the sharded table must hold exactly what the single server holds after the same run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SysbenchIT {
    private static final String CHECKSUM =
            "SELECT COUNT(*), SUM(k), SUM(CRC32(c)), SUM(CRC32(pad)), MIN(id), MAX(id) FROM sbtest1";
    private static final int TABLE_SIZE = 2000;
    private static final Pattern IGNORED_ERRORS = Pattern.compile("ignored errors:\\s+(\\d+)");
    private static final Pattern QUERIES = Pattern.compile("queries:\\s+(\\d+)");

    private ShardedCluster cluster;

    @BeforeAll
    void prepare() throws Exception {
        cluster = ShardedCluster.start(4, """
                tables:
                  - {name: sbtest1, kind: sharded, key: id, key-type: int}
                """);
        runOk(viaProxy("oltp_read_write", "prepare"));
        copyToReference();
    }

    /** The reference server gets sbtest1 with the rows the proxy's shards hold. */
    private void copyToReference() throws Exception {
        String ddl;
        try (Connection shard = cluster.shardConnection(0)) {
            ddl = Sql.query(shard, "SHOW CREATE TABLE sbtest1").getFirst().get(1);
        }
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            Sql.update(r, ddl);
            List<List<String>> rows = Sql.query(p, "SELECT id, k, c, pad FROM sbtest1 ORDER BY id");
            assertThat(rows).hasSize(TABLE_SIZE);
            try (var ps = r.prepareStatement("INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)")) {
                for (List<String> row : rows) {
                    for (int i = 0; i < 4; i++) {
                        ps.setString(i + 1, row.get(i));
                    }
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void prepareSpreadsTheRowsByTheirSlotsAndLosesNone() throws Exception {
        SlotMap map = cluster.store().readSlotMap().value();
        long total = 0;
        for (int i = 0; i < cluster.shardCount(); i++) {
            try (Connection shard = cluster.shardConnection(i)) {
                List<List<String>> ids = Sql.query(shard, "SELECT id FROM sbtest1");
                assertThat(ids).as("shard s%d holds some rows", i).isNotEmpty();
                for (List<String> row : ids) {
                    int slot = SlotFunction.slot(ShardKeys.normalize(KeyType.INT, row.getFirst()), map.slotCount());
                    assertThat(map.owner(slot)).as("row %s is on the shard owning slot %d", row.getFirst(), slot)
                            .isEqualTo("s" + i);
                }
                total += ids.size();
            }
        }
        assertThat(total).isEqualTo(TABLE_SIZE);
    }

    @ParameterizedTest(name = "--db-ps-mode={0}")
    @ValueSource(strings = {"auto", "disable"})
    void oltpReadWriteLeavesTheSameTableAsOnASingleServer(String psMode) throws Exception {
        String[] run = {"oltp_read_write", "--db-ps-mode=" + psMode, "--threads=1", "--events=300", "--time=0",
                "--rand-seed=7", "run"};
        String proxyOut = runOk(viaProxy(run));
        runOk(direct(run));
        assertThat(number(QUERIES, proxyOut)).as("sysbench ran its queries").isGreaterThan(300 * 18 - 1);
        assertSameTable();
    }

    @ParameterizedTest(name = "--db-ps-mode={0}")
    @ValueSource(strings = {"auto", "disable"})
    void concurrentPointSelectsRunWithoutErrors(String psMode) {
        String out = runOk(viaProxy("oltp_point_select", "--db-ps-mode=" + psMode, "--threads=4", "--time=5", "run"));
        assertThat(number(QUERIES, out)).isGreaterThan(100);
    }

    private void assertSameTable() throws Exception {
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            assertThat(Sql.query(p, CHECKSUM)).isEqualTo(Sql.query(r, CHECKSUM));
        }
    }

    private List<String> viaProxy(String... args) {
        return sysbench(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, args);
    }

    private List<String> direct(String... args) {
        return sysbench(cluster.reference().port(), "root", "", args);
    }

    private static List<String> sysbench(int port, String user, String password, String... args) {
        List<String> cmd = new ArrayList<>(List.of("sysbench", args[0], "--db-driver=mysql", "--mysql-host=127.0.0.1",
                "--mysql-port=" + port, "--mysql-user=" + user, "--mysql-password=" + password,
                "--mysql-db=" + ShardedCluster.DATABASE, "--tables=1", "--table-size=" + TABLE_SIZE, "--auto-inc=off"));
        cmd.addAll(List.of(args).subList(1, args.length));
        return cmd;
    }

    /** Runs sysbench; it must exit 0 and report no ignored errors. Returns its output. */
    private static String runOk(List<String> cmd) {
        var result = CommandRunner.of(cmd.toArray(String[]::new)).timeout(Duration.ofMinutes(3)).run();
        assertThat(result.exitCode()).as("%s\n%s", String.join(" ", cmd), result.output()).isZero();
        Matcher m = IGNORED_ERRORS.matcher(result.output());
        if (m.find()) {
            assertThat(Long.parseLong(m.group(1))).as("ignored errors in\n%s", result.output()).isZero();
        }
        assertThat(result.output()).doesNotContain("FATAL");
        return result.output();
    }

    private static long number(Pattern p, String out) {
        Matcher m = p.matcher(out);
        assertThat(m.find()).as("'%s' in sysbench output:\n%s", p, out).isTrue();
        return Long.parseLong(m.group(1));
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.local.FreePorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Results stream through the proxy (issue 15 item 4): a proxy process with a 128 MB heap returns a few hundred thousand
 * rows (about 60 MB of values; read whole, as before streaming, they took several times their size in heap), from one
 * shard and merged from two with ORDER BY, with the same bytes as a reference server (count, checksum over every value,
 * first and last rows). A LIMIT 10 over the whole table answers promptly, and a client that stops reading a big result
 * and goes away leaves no query running on the shards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamingResultIT {
    private static final int ROWS = 300_000;
    private static final int BATCH = 2_000;
    private static final String TABLES = """
            tables:
              - {name: big, kind: sharded, key: id, key-type: int}
            """;
    private static final String DDL = "CREATE TABLE %s (id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, pad VARCHAR(250) NOT NULL,"
            + " KEY k_idx (k)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
    /** The same rows on the reference server, in SQL; {@link #pad} writes them for the proxy. */
    private static final String REFERENCE_ROWS = "SELECT seq, seq MOD 1000, CONCAT(REPEAT('x', 150 + seq MOD 50), seq) FROM seq_1_to_"
            + ROWS;

    private ShardedCluster cluster;
    private Process proxy;
    private Path config;
    /** The proxy process's output, printed when the class ends (it says why, should the process fail). */
    private Path log;
    private int port;

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.start(2, TABLES);
        try (Connection p = cluster.proxyConnection("useServerPrepStmts=false"); Connection r = cluster.referenceConnection("")) {
            for (String table : List.of("big", "solo")) { // solo is undeclared: a single table on the default shard
                Sql.update(p, DDL.formatted(table));
                Sql.update(r, DDL.formatted(table));
                try (Statement st = r.createStatement()) {
                    st.execute("INSERT INTO " + table + " " + REFERENCE_ROWS);
                }
                for (int from = 1; from <= ROWS; from += BATCH) {
                    StringBuilder insert = new StringBuilder("INSERT INTO ").append(table).append(" (id, k, pad) VALUES ");
                    for (int id = from; id < from + BATCH && id <= ROWS; id++) {
                        insert.append(id == from ? "" : ",").append('(').append(id).append(',').append(id % 1000).append(",'")
                                .append(pad(id)).append("')");
                    }
                    try (Statement st = p.createStatement()) {
                        st.execute(insert.toString());
                    }
                }
            }
        }
        port = FreePorts.find();
        config = Files.createTempFile("shardgate-streaming", ".yaml");
        Files.writeString(config, """
                cluster: %s
                listen: {host: 127.0.0.1, mysql-port: %d, postgres-port: 0}
                admin: {port: 0}
                zookeeper: {connect: '%s'}
                users: [{name: %s, password: %s}]
                """.formatted(ShardedCluster.CLUSTER, port, cluster.zooKeeperConnect(), ShardedCluster.USER, ShardedCluster.PASSWORD));
        log = Files.createTempFile("shardgate-streaming", ".log");
        proxy = ShardgateProcess.builder(List.of("-Xmx128m"), "proxy", "--config", config.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log).contains("MySQL clients:")) {
            assertThat(proxy.isAlive() && System.nanoTime() < deadline).as("proxy start-up: %s", Files.readString(log)).isTrue();
            Thread.sleep(100);
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (proxy != null) {
            proxy.destroy();
            proxy.waitFor(30, TimeUnit.SECONDS);
        }
        if (config != null) {
            Files.deleteIfExists(config);
        }
        if (log != null) {
            System.out.println("proxy process output:\n" + Files.readString(log));
            Files.deleteIfExists(log);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String pad(int id) {
        return "x".repeat(150 + id % 50) + id;
    }

    private Connection viaProxyProcess() throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + port + "/" + ShardedCluster.DATABASE + "?user="
                + ShardedCluster.USER + "&password=" + ShardedCluster.PASSWORD + "&sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=60000");
    }

    /** What a result is, in brief: its row count, a CRC of every value's bytes in order, its first and last rows. */
    private record Digest(long rows, long crc, String first, String last) {}

    /** When the last {@link #digest} saw its first row (System.nanoTime), for the timings printed. */
    private static final ThreadLocal<Long> FIRST_ROW = ThreadLocal.withInitial(() -> 0L);

    /** Reads {@code sql} row by row (Connector/J streaming: the test holds no whole result either). */
    private static Digest digest(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            st.setFetchSize(Integer.MIN_VALUE);
            try (ResultSet rs = st.executeQuery(sql)) {
                ResultSetMetaData md = rs.getMetaData();
                CRC32 crc = new CRC32();
                long rows = 0;
                String first = null;
                String last = null;
                while (rs.next()) {
                    if (rows == 0) {
                        FIRST_ROW.set(System.nanoTime());
                    }
                    StringBuilder row = new StringBuilder();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        byte[] v = rs.getBytes(i);
                        crc.update(v == null ? new byte[] {(byte) 0xFB} : v);
                        crc.update(0);
                        row.append(i == 1 ? "" : "|").append(v == null ? "NULL" : new String(v, StandardCharsets.UTF_8));
                    }
                    first = first == null ? row.toString() : first;
                    last = row.toString();
                    rows++;
                }
                return new Digest(rows, crc.getValue(), first, last);
            }
        }
    }

    private void sameAsReference(String sql, long expectedRows) throws Exception {
        Digest expected;
        long directMs;
        long directFirstMs;
        try (Connection r = cluster.referenceConnection("")) {
            long start = System.nanoTime();
            expected = digest(r, sql);
            directMs = (System.nanoTime() - start) / 1_000_000;
            directFirstMs = (FIRST_ROW.get() - start) / 1_000_000;
        }
        assertThat(expected.rows()).isEqualTo(expectedRows);
        try (Connection p = viaProxyProcess()) {
            long start = System.nanoTime();
            Digest actual = digest(p, sql);
            long totalMs = (System.nanoTime() - start) / 1_000_000;
            long firstMs = (FIRST_ROW.get() - start) / 1_000_000;
            System.out.printf("streaming: %s: %d rows in %d ms, first row after %d ms (one server: %d ms, first row %d ms)%n", sql,
                    actual.rows(), (System.nanoTime() - start) / 1_000_000, (FIRST_ROW.get() - start) / 1_000_000, directMs,
                    directFirstMs);
            assertThat(actual).isEqualTo(expected);
        }
        assertThat(proxy.isAlive()).as("the proxy process (-Xmx128m) is still running").isTrue();
        System.out.printf("streaming: proxy process %s%n", memory());
    }

    /** The proxy process's resident memory now and at its peak, from /proc (Linux). */
    private String memory() throws Exception {
        Path status = Path.of("/proc", Long.toString(proxy.pid()), "status");
        if (!Files.isReadable(status)) {
            return "memory unknown";
        }
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("VmRSS") || l.startsWith("VmHWM"))
                .map(l -> l.replaceAll("\\s+", " ")).collect(java.util.stream.Collectors.joining(", "));
    }

    @Test
    void aWholeSingleShardTableStreamsWithTheReferenceServersBytes() throws Exception {
        sameAsReference("SELECT id, k, pad FROM solo ORDER BY id", ROWS);
    }

    @Test
    void aWholeScatterOrderByStreamsWithTheReferenceServersBytes() throws Exception {
        sameAsReference("SELECT id, k, pad FROM big ORDER BY id", ROWS);
        sameAsReference("SELECT id, pad FROM big ORDER BY k DESC, id", ROWS);
    }

    @Test
    void aScatterLimitAnswersPromptlyAndLeavesTheShardsIdle() throws Exception {
        for (String sql : List.of("SELECT id, k, pad FROM big ORDER BY id LIMIT 10", "SELECT id, pad FROM big ORDER BY pad DESC, id LIMIT 10",
                "SELECT DISTINCT k FROM big ORDER BY k LIMIT 10 OFFSET 5")) {
            long start = System.nanoTime();
            sameAsReference(sql, 10);
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertThat(ms).as("%s took %d ms", sql, ms).isLessThan(20_000);
        }
        assertShardsIdle();
    }

    @Test
    void aClientThatStopsReadingAndLeavesStopsTheShards() throws Exception {
        for (String sql : List.of("SELECT id, k, pad FROM big ORDER BY id", "SELECT id, k, pad FROM solo", "SELECT id, pad FROM big")) {
            Connection p = viaProxyProcess();
            Statement st = p.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
            st.setFetchSize(Integer.MIN_VALUE);
            ResultSet rs = st.executeQuery(sql);
            for (int i = 0; i < 10; i++) {
                assertThat(rs.next()).isTrue();
            }
            // backpressure: while this client reads nothing, the shards wait to send the rest (a proxy that read whole
            // results before writing would have read them all by now: the queries would be over)
            Thread.sleep(500);
            int expected = sql.contains("solo") ? 1 : 2;
            assertThat(shardsRunning(sql)).as("shards still sending %s to the proxy; shards' processes: %s", sql, processes())
                    .isEqualTo(expected);
            // gone without reading the rest (closing the result set would read it all)
            p.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).abortInternal();
            assertShardsIdle();
        }
        // and the proxy's connections to the shards are still good for the next client
        sameAsReference("SELECT id, k, pad FROM big ORDER BY id LIMIT 3", 3);
        sameAsReference("SELECT COUNT(*) FROM big", 1);
    }

    /** Every shard's processes, for failure messages. */
    private String processes() throws Exception {
        StringBuilder out = new StringBuilder();
        for (int s = 0; s < cluster.shardCount(); s++) {
            try (Connection c = cluster.shardConnection(s); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT ID, COMMAND, STATE, LEFT(INFO, 70) FROM information_schema.PROCESSLIST")) {
                while (rs.next()) {
                    out.append("\n  s").append(s).append(' ').append(rs.getString(1)).append(' ').append(rs.getString(2)).append(' ')
                            .append(rs.getString(3)).append(' ').append(rs.getString(4));
                }
            }
        }
        return out.toString();
    }

    /** What a client reading row by row saw: the rows before the error, and the error. */
    private record Failed(List<String> rows, int errno, String sqlState, String message) {}

    private static Failed failing(Connection c, String sql) throws SQLException {
        List<String> rows = new java.util.ArrayList<>();
        try (Statement st = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            st.setFetchSize(Integer.MIN_VALUE);
            try (ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + "|" + rs.getString(2));
                }
            }
        } catch (SQLException e) {
            return new Failed(rows, e.getErrorCode(), e.getSQLState(), e.getMessage());
        }
        throw new AssertionError(sql + " did not fail; rows: " + rows.size());
    }

    /**
     * A statement that fails on its shard after sending rows (a subquery that returns two rows from id 6 on): the client
     * gets those rows, then the error, as from one server; the connection goes on. (A merged read passes a shard's error
     * on in the same way: PlanExecutorTest; the router refuses this subquery over a table of one shard in a scatter.)
     */
    @Test
    void anErrorAfterSomeRowsComesAfterThoseRowsAsFromOneServer() throws Exception {
        String sql = "SELECT id, (SELECT seq FROM seq_1_to_2 WHERE solo.id > 5) FROM solo WHERE id <= 20 ORDER BY id";
        Failed expected;
        try (Connection r = cluster.referenceConnection("")) {
            expected = failing(r, sql);
        }
        assertThat(expected.rows()).hasSize(5);
        assertThat(expected.errno()).isEqualTo(1242);
        try (Connection p = viaProxyProcess()) {
            assertThat(failing(p, sql)).isEqualTo(expected);
            try (Statement st = p.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM solo")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(ROWS);
            }
        }
        assertShardsIdle();
    }

    /** How many shards are running {@code sql} now. */
    private int shardsRunning(String sql) throws Exception {
        int running = 0;
        for (int s = 0; s < cluster.shardCount(); s++) {
            try (Connection c = cluster.shardConnection(s); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query'"
                            + " AND INFO LIKE '" + sql.substring(0, 20) + "%'")) {
                rs.next();
                running += rs.getInt(1) > 0 ? 1 : 0;
            }
        }
        return running;
    }

    /** No statement of the proxy's is still running on any shard (it may take a moment to see the cut connection). */
    private void assertShardsIdle() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (int s = 0; s < cluster.shardCount(); s++) {
            try (Connection c = cluster.shardConnection(s); Statement st = c.createStatement()) {
                while (true) {
                    String running = null;
                    try (ResultSet rs = st.executeQuery("SELECT GROUP_CONCAT(CONCAT(ID, ': ', LEFT(INFO, 80)) SEPARATOR '; ')"
                            + " FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND ID <> CONNECTION_ID()")) {
                        rs.next();
                        running = rs.getString(1);
                    }
                    if (running == null) {
                        break;
                    }
                    assertThat(System.nanoTime()).as("still running on shard s%d: %s", s, running).isLessThan(deadline);
                    Thread.sleep(100);
                }
            }
        }
    }
}

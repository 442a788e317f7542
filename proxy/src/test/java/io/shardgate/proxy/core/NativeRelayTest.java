package io.shardgate.proxy.core;

import static io.shardgate.proxy.core.ShardedCluster.execute;
import static io.shardgate.proxy.core.ShardedCluster.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.mysql.MySqlAuth;
import io.shardgate.proxy.mysql.MySqlFrontend;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.FrontendSession;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relayed hot path ({@code backend.native}): the same statements through a proxy that relays and one that does not
 * (JDBC), with Connector/J and the mariadb client, must answer alike; the statements that do not qualify must not be
 * relayed. Whether a statement was relayed is read from the native pool's counters.
 */
class NativeRelayTest {
    private static ShardedCluster cluster;
    private static ProxyCore relaying;
    private static ProxyCore jdbc;
    private static MySqlFrontend relayFront;
    private static MySqlFrontend jdbcFront;
    private static long onS0;
    private static long onS1;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        cluster = new ShardedCluster();
        relaying = ProxyCore.start(Map.of("app", "secret"), cluster.watcher, ProxyCoreSettings.defaults().withNativeBackends(true));
        jdbc = ProxyCore.start(Map.of("app", "secret"), cluster.watcher, ProxyCoreSettings.defaults());
        relayFront = MySqlFrontend.start("127.0.0.1", 0, relaying, MySqlAuth.NATIVE, 64 << 20, 100, 1);
        jdbcFront = MySqlFrontend.start("127.0.0.1", 0, jdbc, MySqlAuth.NATIVE, 64 << 20, 100, 1);
        onS0 = cluster.keyOn("s0", 1000);
        onS1 = cluster.keyOn("s1", 1000);
        try (FrontendSession s = jdbc.open(new ClientInfo("app", ShardedCluster.DB, "127.0.0.1", Map.of()))) {
            s.query("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(20), note TEXT,"
                    + " amount DECIMAL(10,2), created DATETIME(3))");
            for (int i = 1; i <= 5; i++) {
                s.query("INSERT INTO orders VALUES (" + i + ", " + onS0 + ", 'new', " + (i == 3 ? "NULL" : "'héllo ✓ " + i + "'")
                        + ", " + i + ".25, '2024-02-29 13:14:15.123')");
                s.query("INSERT INTO orders VALUES (" + (100 + i) + ", " + onS1 + ", 'old', 'x', -1.5, NULL)");
            }
        }
        try (Connection c = cluster.direct("s1")) {
            execute(c, "INSERT INTO orders SELECT 1000 + seq, " + onS1 + ", 'bulk', REPEAT('b', 200), seq, NULL FROM seq_1_to_20000");
        }
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {relayFront, jdbcFront, relaying, jdbc, cluster}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // closing the rest matters more
                }
            }
        }
    }

    private static Connection connect(MySqlFrontend front) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + front.port() + "/" + ShardedCluster.DB
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true", "app", "secret");
    }

    /** Native connections borrowed for anything but a transaction (which pins one of its own, not a relay). */
    private static long relayed() {
        return poolEvents("borrowed", "s0|s1") - relaying.metrics().nativeTransactionConnections();
    }

    /** How many times {@code event} happened to the native connections of the shards {@code shards} (a regex). */
    private static long poolEvents(String event, String shards) {
        Matcher m = Pattern.compile("shardgate_native_pool_events_total\\{eof=\"\\w+\",event=\"" + event + "\",shard=\"(" + shards
                + ")\"} ([0-9.]+)").matcher(relaying.metrics().scrape());
        long total = 0;
        while (m.find()) {
            total += (long) Double.parseDouble(m.group(2));
        }
        return total;
    }

    /** Rows, column labels, types and catalogs, and the error if any: what a client sees. */
    private static List<String> answer(Connection c, String sql) {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.add("column " + md.getColumnLabel(i) + " " + md.getColumnTypeName(i) + " " + md.getPrecision(i) + " "
                        + md.getScale(i) + " " + md.getCatalogName(i) + "." + md.getTableName(i) + " nullable=" + md.isNullable(i));
            }
            while (rs.next()) {
                StringBuilder row = new StringBuilder("row");
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    byte[] b = rs.getBytes(i);
                    row.append(" | ").append(b == null ? "NULL" : new String(b, StandardCharsets.UTF_8));
                }
                out.add(row.toString());
            }
        } catch (SQLException e) {
            out.add("error " + e.getErrorCode() + " " + e.getSQLState() + " " + e.getMessage());
        }
        return out;
    }

    /** Relayed, and answered as the shard itself answers the same client (the JDBC path's re-encoding may differ). */
    private static void assertRelayedAsTheShardAnswers(String sql, String shard) throws SQLException {
        try (Connection r = connect(relayFront); Connection direct = DriverManager.getConnection(
                cluster.server(shard).jdbcUrl(ShardedCluster.DB) + "?sslMode=DISABLED", "root", "")) {
            long before = relayed();
            List<String> viaRelay = answer(r, sql);
            assertThat(relayed() - before).as("relayed: " + sql).isEqualTo(1);
            assertThat(viaRelay).as(sql).isEqualTo(answer(direct, sql));
        }
    }

    /** Not relayed, and answered as the proxy without native connections answers. */
    private static void assertNotRelayed(String sql) throws SQLException {
        try (Connection r = connect(relayFront); Connection j = connect(jdbcFront)) {
            long before = relayed();
            List<String> viaRelay = answer(r, sql);
            assertThat(relayed() - before).as("relayed: " + sql).isZero();
            assertThat(viaRelay).as(sql).isEqualTo(answer(j, sql));
        }
    }

    @Test
    void pointReadsOnEitherShardAreRelayedAndAnswerAsTheShardDoes() throws Exception {
        assertRelayedAsTheShardAnswers("SELECT * FROM orders WHERE customer_id = " + onS0 + " ORDER BY id", "s0");
        assertRelayedAsTheShardAnswers("SELECT id, note FROM orders WHERE customer_id = " + onS1 + " AND id = 102", "s1");
        assertRelayedAsTheShardAnswers("SELECT id FROM orders WHERE customer_id = " + onS0 + " AND id < 0", "s0");
        assertRelayedAsTheShardAnswers("SELECT COUNT(*), SUM(amount) FROM orders WHERE customer_id = " + onS1, "s1");
    }

    @Test
    void theShardsErrorsComeBackUnchanged() throws Exception {
        assertRelayedAsTheShardAnswers("SELECT nosuch FROM orders WHERE customer_id = " + onS0, "s0");
        assertRelayedAsTheShardAnswers("SELECT id FROM orders WHERE customer_id = " + onS0 + " AND id = 1 ORDER BY nosuch", "s0");
        assertThat(relaying.metrics().errorTotals()).containsKey("backend-1054");
    }

    /**
     * A relayed reply's warnings reach the client in its EOF packet as the shard sent them, and the shard's list of them
     * is read on the same connection before it goes back to the pool: the client's SHOW WARNINGS lists them (Connector/J's
     * getWarnings sends it when the count is not 0), and SHOW COUNT(*) WARNINGS counts them.
     */
    @Test
    void aRelayedStatementsWarningsAreCountedAndListed() throws Exception {
        try (Connection r = connect(relayFront); Statement st = r.createStatement()) {
            long before = relayed();
            st.executeQuery("SELECT CAST('12abc' AS SIGNED) FROM orders WHERE customer_id = " + onS1 + " AND id = 101").close();
            assertThat(relayed() - before).isEqualTo(1);
            java.sql.SQLWarning w = st.getWarnings();
            assertThat(w != null).as("a warning").isTrue();
            assertThat(w.getErrorCode()).isEqualTo(1292);
            assertThat(w.getMessage()).isEqualTo("Truncated incorrect INTEGER value: '12abc'");
            assertThat(w.getNextWarning() == null).as("one warning").isTrue();
            st.clearWarnings();
            assertThat(answer(r, "SELECT CAST('12abc' AS SIGNED) FROM orders WHERE customer_id = " + onS0 + " AND id = 1"))
                    .endsWith("row | 12");
            try (ResultSet rs = st.executeQuery("SHOW COUNT(*) WARNINGS")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(1);
            }
            assertThat(answer(r, "SHOW WARNINGS")).endsWith("row | Warning | 1292 | Truncated incorrect INTEGER value: '12abc'");
        }
    }

    @Test
    void aLargeResultStreamsThroughWhole() throws Exception {
        try (Connection r = connect(relayFront)) {
            long before = relayed();
            List<List<String>> rows = rows(r, "SELECT id, note FROM orders WHERE customer_id = " + onS1 + " ORDER BY id");
            assertThat(relayed() - before).isEqualTo(1);
            assertThat(rows).hasSize(20_005);
            assertThat(rows.getLast()).containsExactly("21000", "b".repeat(200));
            // the proxy answers FOUND_ROWS() from what it relayed
            assertThat(rows(r, "SELECT FOUND_ROWS()")).containsExactly(List.of("20005"));
        }
    }

    /**
     * A shard that dies halfway through a relayed result: the client's connection is closed (part of the result is
     * out, an error packet cannot follow it), as when a server dies; the broken native connection is never lent again.
     */
    @Test
    void aShardDyingMidResultClosesTheClientsConnection() throws Exception {
        try (Connection r = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + relayFront.port() + "/" + ShardedCluster.DB
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true&useCursorFetch=false", "app", "secret");
                Statement st = r.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            st.setFetchSize(Integer.MIN_VALUE); // stream: executeQuery returns with the first rows
            long before = relayed();
            // rows larger than the server's 16 KB net buffer, made slowly: each reaches the client as it is made
            ResultSet rs = st.executeQuery("SELECT id, REPEAT('x', 20000), SLEEP(0.2) FROM orders WHERE customer_id = " + onS1
                    + " ORDER BY id LIMIT 50");
            assertThat(rs.next()).isTrue();
            cluster.s1.kill();
            long start = System.nanoTime();
            SQLException broken = org.assertj.core.api.Assertions.catchThrowableOfType(SQLException.class, () -> {
                while (rs.next()) {
                    rs.getString(2);
                }
            });
            assertThat((Throwable) broken).as("reading past the shard's death").isNotNull();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000);
            assertThat(relayed() - before).isEqualTo(1);
        } finally {
            cluster.s1.restart();
        }
        // the pool discarded the broken connection: the next relayed statement on s1 gets a new one and works
        assertRelayedAsTheShardAnswers("SELECT id, note FROM orders WHERE customer_id = " + onS1 + " AND id = 102", "s1");
    }

    /**
     * A client that goes away in the middle of a large relayed result: the proxy stops reading the shard and closes the
     * backend connection (discarded, never lent again half-read, and the shard not made to send the rest for nothing);
     * the next relayed statement on that shard gets a sound connection.
     */
    @Test
    void aClientLeavingMidResultHasItsBackendConnectionDiscarded() throws Exception {
        long discarded = poolEvents("discarded", "s1");
        Connection r = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + relayFront.port() + "/" + ShardedCluster.DB
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true&useCursorFetch=false", "app", "secret");
        try (Statement st = r.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            st.setFetchSize(Integer.MIN_VALUE);
            long before = relayed();
            // about 400 MB: far more than the sockets between shard, proxy and client hold
            ResultSet rs = st.executeQuery("SELECT id, REPEAT('x', 20000) FROM orders WHERE customer_id = " + onS1 + " ORDER BY id");
            assertThat(rs.next()).isTrue();
            assertThat(relayed() - before).isEqualTo(1);
            r.abort(Runnable::run); // the socket closes at once, the rest unread
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (poolEvents("discarded", "s1") == discarded && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(poolEvents("discarded", "s1") - discarded).as("backend connections discarded").isEqualTo(1);
        assertRelayedAsTheShardAnswers("SELECT id, note FROM orders WHERE customer_id = " + onS1 + " AND id = 102", "s1");
    }

    /**
     * Values over 16 MB come as several packets (the first piece 0xFFFFFF bytes long); a text row whose first value is
     * that long starts with 0xFE like the end of rows. Relayed whole, as the shard sends them, as text and binary rows.
     */
    @Test
    void rowsLargerThanOnePacketAreRelayedWhole() throws Exception {
        String sql = "SELECT REPEAT('y', 17000000) AS big, id, REPEAT('z', 16777215) AS exact FROM orders WHERE customer_id = "
                + onS1 + " AND id IN (101, 102) ORDER BY id";
        for (String extra : List.of("", "&useServerPrepStmts=true")) {
            try (Connection r = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + relayFront.port() + "/" + ShardedCluster.DB
                    + "?sslMode=DISABLED&allowPublicKeyRetrieval=true" + extra, "app", "secret");
                    Connection direct = DriverManager.getConnection(cluster.server("s1").jdbcUrl(ShardedCluster.DB)
                            + "?sslMode=DISABLED" + extra, "root", "")) {
                long before = relayed();
                List<String> viaRelay = digest(r, sql);
                assertThat(relayed() - before).as("relayed" + extra).isEqualTo(1);
                assertThat(viaRelay).as(extra).isEqualTo(digest(direct, sql)).hasSize(2);
                assertThat(viaRelay.getFirst()).startsWith("17000000:");
            }
        }
    }

    /** Each row as its values' lengths and hashes (a 17 MB value printed in a failure helps nobody). */
    private static List<String> digest(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (java.sql.PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    byte[] b = rs.getBytes(i);
                    row.append(b == null ? "NULL" : b.length + ":" + java.util.Arrays.hashCode(b)).append(' ');
                }
                out.add(row.toString().trim());
            }
        }
        return out;
    }

    @Test
    void statementsTheProxyAnswersOrRewritesAndTransactionsAreNotRelayedButAPlainWriteIs() throws Exception {
        assertNotRelayed("SELECT 1 + 1"); // no table
        assertNotRelayed("SELECT LAST_INSERT_ID(), id FROM orders WHERE customer_id = " + onS0 + " AND id = 1");
        try (Connection r = connect(relayFront)) {
            r.setAutoCommit(false);
            long before = relayed();
            assertThat(rows(r, "SELECT status FROM orders WHERE customer_id = " + onS0 + " AND id = 1")).containsExactly(List.of("new"));
            r.commit();
            assertThat(relayed() - before).as("a transaction").isZero();
        }
        try (Connection r = connect(relayFront)) {
            execute(r, "INSERT INTO orders VALUES (9, " + onS0 + ", 'w', NULL, 0, NULL)");
            long before = relayed();
            execute(r, "UPDATE orders SET status = 'v' WHERE customer_id = " + onS0 + " AND id = 9");
            assertThat(relayed() - before).as("a single-shard write (see NativeWriteRelayTest)").isEqualTo(1);
        }
        try (Connection r = connect(relayFront)) {
            execute(r, "SET NAMES latin1"); // the native connections speak utf8mb4 only
            long before = relayed();
            assertThat(rows(r, "SELECT status FROM orders WHERE customer_id = " + onS0 + " AND id = 1")).containsExactly(List.of("new"));
            assertThat(relayed() - before).as("a latin1 session").isZero();
        }
    }

    /**
     * A scatter read is not relayed, but its shards' rows come over native connections, one per shard, merged by the
     * proxy: the client sees the column definitions as the shard describes them (Connector/J on the JDBC path rewrites a
     * numeric column's length: DECIMAL(10,2) 12 to 10, INT 11 to 10), so a scatter whose rows all lie on one shard answers
     * exactly as that shard does.
     */
    @Test
    void aScatterReadMergesNativeRowsAndDescribesColumnsAsTheShardDoes() throws Exception {
        String sql = "SELECT id, customer_id, status, note, amount, created FROM orders WHERE id IN (1, 2, 3) ORDER BY id DESC";
        try (Connection r = connect(relayFront); Connection direct = DriverManager.getConnection(
                cluster.server("s0").jdbcUrl(ShardedCluster.DB) + "?sslMode=DISABLED", "root", "")) {
            long before = relayed();
            List<String> merged = answer(r, sql);
            assertThat(merged).isEqualTo(answer(direct, sql));
            assertThat(relayed() - before).as("native reads of both shards").isEqualTo(2);
            assertThat(merged).contains("row | 3 | " + onS0 + " | new | NULL | 3.25 | 2024-02-29 13:14:15.123");
            before = relayed();
            assertThat(rows(r, "SELECT id FROM orders ORDER BY id LIMIT 3")).containsExactly(List.of("1"), List.of("2"), List.of("3"));
            assertThat(rows(r, "SELECT COUNT(*) FROM orders")).containsExactly(List.of(Long.toString(rowsOfOrders())));
            assertThat(relayed() - before).as("a merged read with LIMIT, and a grouped one").isEqualTo(4);
        }
    }

    private static long rowsOfOrders() throws SQLException {
        long n = 0;
        for (String shard : List.of("s0", "s1")) {
            try (Connection c = cluster.direct(shard); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM orders")) {
                rs.next();
                n += rs.getLong(1);
            }
        }
        return n;
    }

    /** A session's settings go to the native connection first, and never leak to another session's statement. */
    @Test
    void aSessionsSettingsTravelWithItsRelayedStatements() throws Exception {
        String sql = "SELECT \"status\" FROM orders WHERE customer_id = " + onS0 + " AND id = 1";
        try (Connection ansi = connect(relayFront); Connection plain = connect(relayFront)) {
            execute(ansi, "SET SESSION sql_mode = 'ANSI_QUOTES'");
            long before = relayed();
            assertThat(rows(ansi, sql)).containsExactly(List.of("new")); // a column
            assertThat(rows(plain, sql)).containsExactly(List.of("status")); // a string
            assertThat(rows(ansi, sql)).containsExactly(List.of("new"));
            assertThat(relayed() - before).isEqualTo(3);
        }
    }

    private static Connection serverPrepared(String url) throws SQLException {
        return DriverManager.getConnection(url + (url.contains("?") ? "&" : "?")
                + "sslMode=DISABLED&allowPublicKeyRetrieval=true&useServerPrepStmts=true&cachePrepStmts=true", "app", "secret");
    }

    private static Connection serverPreparedDirect(String shard) throws SQLException {
        return DriverManager.getConnection(cluster.server(shard).jdbcUrl(ShardedCluster.DB)
                + "?sslMode=DISABLED&useServerPrepStmts=true&cachePrepStmts=true", "root", "");
    }

    /** What a client sees of one execute of {@code ps}: columns, rows as strings, or the error. */
    private static List<String> answer(java.sql.PreparedStatement ps) {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.add("column " + md.getColumnLabel(i) + " " + md.getColumnTypeName(i) + " " + md.getPrecision(i) + " "
                        + md.getScale(i) + " " + md.getCatalogName(i) + "." + md.getTableName(i));
            }
            while (rs.next()) {
                StringBuilder row = new StringBuilder("row");
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.append(" | ").append(rs.getString(i));
                }
                out.add(row.toString());
            }
        } catch (SQLException e) {
            out.add("error " + e.getErrorCode() + " " + e.getSQLState() + " " + e.getMessage());
        }
        return out;
    }

    /**
     * Server-side prepared statements (Connector/J useServerPrepStmts): each execute of a single-shard read is relayed
     * on a native connection of the shard its parameters route to, where the statement is prepared on first use; the
     * binary rows are the shard's. Connector/J binds the parameter types once (later executes say new-params-bound 0),
     * so an execute that moves to a connection of another shard must carry the types again.
     */
    @Test
    void serverPreparedReadsAreRelayedOnTheShardTheirParametersRouteTo() throws Exception {
        String sql = "SELECT id, customer_id, status, note, amount, created FROM orders WHERE customer_id = ? AND id = ?";
        try (Connection r = serverPrepared("jdbc:mysql://127.0.0.1:" + relayFront.port() + "/" + ShardedCluster.DB);
                Connection d0 = serverPreparedDirect("s0"); Connection d1 = serverPreparedDirect("s1");
                java.sql.PreparedStatement viaRelay = r.prepareStatement(sql);
                java.sql.PreparedStatement on0 = d0.prepareStatement(sql); java.sql.PreparedStatement on1 = d1.prepareStatement(sql)) {
            Object[][] cases = {{onS0, 1, on0}, {onS1, 102, on1}, {onS0, 3, on0}, {onS1, 102, on1}, {onS0, -7, on0},
                    {String.valueOf(onS1), "103", on1}, {onS0, null, on0}};
            for (Object[] c : cases) {
                java.sql.PreparedStatement direct = (java.sql.PreparedStatement) c[2];
                for (java.sql.PreparedStatement ps : List.of(viaRelay, direct)) {
                    bind(ps, 1, c[0]);
                    bind(ps, 2, c[1]);
                }
                long before = relayed();
                List<String> relayedAnswer = answer(viaRelay);
                assertThat(relayed() - before).as("relayed: " + java.util.Arrays.toString(c)).isEqualTo(1);
                assertThat(relayedAnswer).as(java.util.Arrays.toString(c)).isEqualTo(answer(direct));
            }
        }
    }

    /**
     * A client that binds the parameter types once (libmysqlclient and sysbench do: later executes say
     * new-params-bound 0): the second execute routes to the other shard, whose native connection has not seen the
     * types, and must get them. The binary rows are byte for byte what the shard itself sends such a client.
     */
    @Test
    void typesBoundOnceStillReachAConnectionOfAnotherShard() throws Exception {
        long[][] executes = {{onS0, 1}, {onS1, 102}, {onS0, 2}};
        List<String> viaRelay = rawExecutes(relayFront.port(), "app", "secret", executes);
        List<String> expected = new ArrayList<>();
        for (long[] e : executes) {
            int shard = e[0] == onS0 ? 0 : 1;
            // one connection per execute, so each binds its types: the replies are the same bytes either way
            expected.addAll(rawExecutes(shard == 0 ? cluster.s0.port() : cluster.s1.port(), "root", "", new long[][] {e}));
        }
        assertThat(viaRelay).isEqualTo(expected);
        assertThat(String.join("\n", viaRelay)).as("rows of both shards").contains("036e6577").contains("036f6c64");
    }

    /** Prepares, then executes once per pair with types bound the first time only; the reply packets as hex. */
    private static List<String> rawExecutes(int port, String user, String password, long[][] executes) throws Exception {
        List<String> packets = new ArrayList<>();
        try (io.shardgate.proxy.mysql.RawClient c = new io.shardgate.proxy.mysql.RawClient(port)) {
            assertThat(c.login(user, password).payload()[0]).isEqualTo((byte) 0);
            assertThat(c.command(0x02, ShardedCluster.DB.getBytes(StandardCharsets.UTF_8)).payload()[0]).isEqualTo((byte) 0);
            byte[] ok = c.command(0x16, "SELECT id, status FROM orders WHERE customer_id = ? AND id = ?"
                    .getBytes(StandardCharsets.UTF_8)).payload();
            assertThat(ok[0]).as("PREPARE_OK").isEqualTo((byte) 0);
            int id = (ok[1] & 0xFF) | (ok[2] & 0xFF) << 8;
            int columns = (ok[5] & 0xFF) | (ok[6] & 0xFF) << 8;
            int params = (ok[7] & 0xFF) | (ok[8] & 0xFF) << 8;
            assertThat(params).isEqualTo(2);
            for (int i = 0; i < params + 1 + (columns > 0 ? columns + 1 : 0); i++) {
                c.read();
            }
            boolean first = true;
            for (long[] e : executes) {
                java.io.ByteArrayOutputStream p = new java.io.ByteArrayOutputStream();
                p.writeBytes(new byte[] {(byte) id, (byte) (id >> 8), 0, 0, 0, 1, 0, 0, 0, 0});
                p.write(first ? 1 : 0);
                if (first) {
                    p.writeBytes(new byte[] {8, 0, 8, 0}); // LONGLONG, signed
                }
                for (long v : e) {
                    for (int b = 0; b < 8; b++) {
                        p.write((int) (v >>> (8 * b)) & 0xFF);
                    }
                }
                first = false;
                io.shardgate.proxy.mysql.RawClient.Packet r = c.command(0x17, p.toByteArray());
                int eofs = 0;
                while (true) {
                    packets.add(r.sequenceId() + ":" + java.util.HexFormat.of().formatHex(r.payload()));
                    if ((r.payload()[0] & 0xFF) == 0xFF || ((r.payload()[0] & 0xFF) == 0xFE && r.payload().length < 9 && ++eofs == 2)) {
                        break;
                    }
                    r = c.read();
                }
            }
        }
        return packets;
    }

    /** Typed setters: a binding whose type did not change is sent without types (new-params-bound 0). */
    private static void bind(java.sql.PreparedStatement ps, int i, Object v) throws SQLException {
        switch (v) {
            case null -> ps.setNull(i, java.sql.Types.INTEGER);
            case Long l -> ps.setLong(i, l);
            case Integer n -> ps.setInt(i, n);
            case String t -> ps.setString(i, t);
            default -> throw new IllegalArgumentException(v.toString());
        }
    }

    /**
     * Long data (COM_STMT_SEND_LONG_DATA) and a transaction take the usual path; the answers are the JDBC path's. A
     * statement prepared on a native connection that a session with other settings had is prepared again after the
     * pool reset the connection (COM_RESET_CONNECTION closed it on the shard).
     */
    @Test
    void serverPreparedLongDataAndTransactionsAreNotRelayedAndResetConnectionsPrepareAgain() throws Exception {
        String sql = "SELECT id, status FROM orders WHERE customer_id = ? AND note = ?";
        String jdbcUrl = "jdbc:mysql://127.0.0.1:" + jdbcFront.port() + "/" + ShardedCluster.DB;
        try (Connection r = serverPrepared("jdbc:mysql://127.0.0.1:" + relayFront.port() + "/" + ShardedCluster.DB);
                Connection j = serverPrepared(jdbcUrl);
                java.sql.PreparedStatement viaRelay = r.prepareStatement(sql); java.sql.PreparedStatement viaJdbc = j.prepareStatement(sql)) {
            for (java.sql.PreparedStatement ps : List.of(viaRelay, viaJdbc)) {
                ps.setLong(1, onS0);
                ps.setCharacterStream(2, new java.io.StringReader("h\u00e9llo \u2713 2"));
            }
            long before = relayed();
            List<String> longData = answer(viaRelay);
            assertThat(relayed() - before).as("long data").isZero();
            assertThat(longData).contains("row | 2 | new").isEqualTo(answer(viaJdbc));
            r.setAutoCommit(false);
            viaRelay.setString(2, "h\u00e9llo \u2713 4");
            before = relayed();
            assertThat(answer(viaRelay)).contains("row | 4 | new");
            assertThat(relayed() - before).as("a transaction").isZero();
            r.commit();
        }
        String point = "SELECT \"status\" FROM orders WHERE customer_id = ? AND id = 1";
        String url = "jdbc:mysql://127.0.0.1:" + relayFront.port() + "/" + ShardedCluster.DB;
        try (Connection ansi = serverPrepared(url); Connection plain = serverPrepared(url)) {
            execute(ansi, "SET SESSION sql_mode = 'ANSI_QUOTES'");
            long before = relayed();
            for (int round = 0; round < 2; round++) {
                for (Connection c : List.of(ansi, plain)) {
                    try (java.sql.PreparedStatement ps = c.prepareStatement(point)) {
                        ps.setLong(1, onS0);
                        assertThat(answer(ps)).last().isEqualTo(c == ansi ? "row | new" : "row | status");
                    }
                }
            }
            assertThat(relayed() - before).isEqualTo(4);
        }
    }

    @Test
    void theMariadbClientSeesWhatTheShardSends() throws Exception {
        Path client = Path.of("/usr/bin/mariadb");
        assumeTrue(Files.isExecutable(client), "the mariadb client is not installed");
        for (String sql : List.of("SELECT id, note, amount, created FROM orders WHERE customer_id = " + onS0 + " ORDER BY id",
                "SELECT nosuch FROM orders WHERE customer_id = " + onS0)) {
            long before = relayed();
            String viaRelay = mariadb(client, relayFront.port(), "app", "secret", sql);
            assertThat(relayed() - before).as(sql).isEqualTo(1);
            assertThat(viaRelay).isEqualTo(mariadb(client, cluster.s0.port(), "root", "", sql));
        }
    }

    private static String mariadb(Path client, int port, String user, String password, String sql) throws Exception {
        Process p = new ProcessBuilder(client.toString(), "--no-defaults", "--skip-ssl", "-h127.0.0.1", "-P" + port, "-u" + user,
                "--password=" + password, "--default-character-set=utf8mb4", "--batch", "--column-type-info", ShardedCluster.DB, "-e", sql)
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}

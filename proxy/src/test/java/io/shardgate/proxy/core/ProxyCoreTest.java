package io.shardgate.proxy.core;

import static io.shardgate.proxy.core.ShardedCluster.execute;
import static io.shardgate.proxy.core.ShardedCluster.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.PreparedInfo;
import io.shardgate.proxy.session.SessionState;
import io.shardgate.proxy.session.StatementResult;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The proxy core against two real MariaDB shards, driven through {@link FrontendSession} without a network. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ProxyCoreTest {
    private static final String ORDERS = "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(20),"
            + " amount DECIMAL(10,2), score DOUBLE, created DATE)";
    private static ShardedCluster cluster;
    private static ProxyCore core;
    private FrontendSession session;

    @BeforeAll
    static void startCluster() throws Exception {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        cluster = new ShardedCluster();
        core = ProxyCore.start(Map.of("app", "secret"), cluster.watcher,
                ProxyCoreSettings.defaults().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(3)));
        try (FrontendSession s = open(ShardedCluster.DB)) {
            s.query(ORDERS);
            s.query("CREATE TABLE countries (code CHAR(2) PRIMARY KEY, name VARCHAR(40))");
            s.query("CREATE TABLE kinds (id INT PRIMARY KEY, i INT, u BIGINT UNSIGNED, d DECIMAL(10,3), f DOUBLE, dt DATE,"
                    + " ts DATETIME(6), t TIME, v VARCHAR(40), b BLOB, bits BIT(8), n INT)");
        }
        try (Connection ref = cluster.reference()) {
            execute(ref, ORDERS);
        }
    }

    @AfterAll
    static void stopCluster() {
        if (core != null) {
            core.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void openSession() {
        session = open(ShardedCluster.DB);
    }

    @AfterEach
    void closeSession() {
        session.close();
    }

    private static FrontendSession open(String schema) {
        return WholeResults.of(core.open(new ClientInfo("app", schema, "127.0.0.1", Map.of())));
    }

    @Test
    @Order(1)
    void ddlBroadcastCreatesTablesOnEveryShardAndUndeclaredTablesOnTheDefaultShard() throws Exception {
        for (String shard : List.of("s0", "s1")) {
            try (Connection c = cluster.direct(shard)) {
                List<String> tables = rows(c, "SHOW TABLES").stream().map(List::getFirst).toList();
                assertThat(tables).as(shard).contains("orders", "countries");
                assertThat(tables.contains("kinds")).as(shard).isEqualTo(shard.equals("s0"));
            }
        }
    }

    /**
     * What the proxy answers itself is described as one MariaDB server describes it (type, flags, display length,
     * decimals, character set): CONNECTION_ID() is an INT UNSIGNED, a string literal NOT NULL with decimals 39, a
     * counter variable nullable, a DECIMAL literal one longer than its text.
     */
    @Test
    @Order(3)
    void localAnswersDescribeTheirColumnsAsTheServerDoes() throws Exception {
        List<String> statements = List.of("SELECT CONNECTION_ID()", "SELECT LAST_INSERT_ID()", "SELECT FOUND_ROWS()",
                "SELECT ROW_COUNT()", "SELECT DATABASE()", "SELECT SCHEMA()", "SELECT USER()", "SELECT 'x'", "SELECT 'h\u00e9llo'",
                "SELECT ''", "SELECT 'x' AS y", "SELECT 1", "SELECT -123456789", "SELECT 1234567890", "SELECT 2.50",
                "SELECT -0.0", "SELECT 00.50", "SELECT NULL", "SELECT @@warning_count", "SELECT @@session.warning_count",
                "SHOW WARNINGS", "SHOW COUNT(*) WARNINGS", "SHOW COUNT(*) ERRORS");
        try (Connection ref = cluster.reference()) {
            io.shardgate.proxy.exec.ServerColumnDefinitions.install(ref);
            execute(ref, "SET character_set_results = utf8mb4"); // as the proxy's sessions get their results
            for (String sql : statements) {
                List<String> proxy = ((StatementResult.Rows) StatementResult.whole(session.query(sql))).columns().stream()
                        .map(c -> c.name() + " type=" + io.shardgate.proxy.mysql.codec.MySqlTypes.wireType(c) + " flags="
                                + io.shardgate.proxy.mysql.codec.MySqlTypes.wireFlags(c) + " length=" + c.length() + " decimals="
                                + c.decimals() + " collation=" + c.collationId())
                        .toList();
                List<String> server = new ArrayList<>();
                try (java.sql.Statement st = ref.createStatement(); java.sql.ResultSet rs = st.executeQuery(sql)) {
                    for (com.mysql.cj.result.Field f : rs.getMetaData().unwrap(com.mysql.cj.jdbc.result.ResultSetMetaData.class).getFields()) {
                        var w = (io.shardgate.proxy.exec.ServerColumnDefinitions.ServerField) f;
                        server.add(f.getColumnLabel() + " type=" + f.getMysqlTypeId() + " flags=" + w.serverFlags() + " length="
                                + w.serverLength() + " decimals=" + w.serverDecimals() + " collation=" + f.getCollationIndex());
                    }
                }
                assertThat(proxy).as(sql).isEqualTo(server);
            }
        }
    }

    /**
     * A multi-row INSERT or REPLACE split per shard says what one server says in its OK info ("Records: 3  Duplicates: 1
     * Warnings: 0"), though a shard given one row writes none: IGNORE skipping a row, REPLACE and upserts replacing
     * one, compared with the reference server running the same statements.
     */
    @Test
    @Order(3)
    void aSplitInsertsInfoIsOneServers() throws Exception {
        List<Integer> onS0 = new ArrayList<>();
        List<Integer> onS1 = new ArrayList<>();
        for (int k = 8101; k < 8140 && (onS0.isEmpty() || onS1.size() < 2); k++) {
            session.query("INSERT INTO orders (id, customer_id) VALUES (" + k + ", " + k + ")");
            (countDirect("s0", k) == 1 ? onS0 : onS1).add(k);
            session.query("DELETE FROM orders WHERE id = " + k);
        }
        // row k has id and shard key (customer_id) k: a on s0, b and c on s1
        String a = onS0.get(0) + ", " + onS0.get(0);
        String b = onS1.get(0) + ", " + onS1.get(0);
        String c = onS1.get(1) + ", " + onS1.get(1);
        List<String> statements = List.of(
                "INSERT INTO orders (id, customer_id, status) VALUES (" + a + ", 'n'), (" + b + ", 'n')",
                "INSERT IGNORE INTO orders (id, customer_id, status) VALUES (" + a + ", 'i'), (" + b + ", 'i'), (" + c + ", 'i')",
                "REPLACE INTO orders (id, customer_id, status) VALUES (" + a + ", 'r'), (" + b + ", 'r'), (" + c + ", 'r')",
                "INSERT INTO orders (id, customer_id, status) VALUES (" + a + ", 'u'), (" + b + ", 'r'), (" + c + ", 'u')"
                        + " ON DUPLICATE KEY UPDATE status = VALUES(status)",
                "DELETE FROM orders WHERE id IN (" + onS0.get(0) + ", " + onS1.get(0) + ", " + onS1.get(1) + ")");
        try (Connection ref = cluster.reference()) {
            for (String sql : statements) {
                StatementResult.Update u = (StatementResult.Update) session.query(sql);
                try (java.sql.Statement st = ref.createStatement()) {
                    st.execute(sql);
                    var rs = st.unwrap(com.mysql.cj.jdbc.JdbcStatement.class).getResultSetInternal();
                    String info = rs instanceof com.mysql.cj.protocol.Resultset r && r.getServerInfo() != null ? r.getServerInfo() : "";
                    assertThat(u.affectedRows() + " " + u.info()).as(sql).isEqualTo(st.getLargeUpdateCount() + " " + info);
                }
            }
        }
    }

    /**
     * The OK packet of a write over JDBC carries the status flags the server set for the statement: a DELETE or UPDATE
     * that scanned without an index says so (SERVER_QUERY_NO_INDEX_USED), on one shard and over several, as the
     * reference server says; one by primary key does not.
     */
    @Test
    @Order(3)
    void aWritesQueryStatusIsTheServers() throws Exception {
        List<String> statements = List.of("DELETE FROM orders WHERE status = 'no such status'",
                "UPDATE orders SET amount = amount WHERE customer_id = 8199 AND status = 'none'",
                "DELETE FROM orders WHERE id = 8199 AND customer_id = 8199", "INSERT INTO orders (id, customer_id) VALUES (8199, 8199)",
                "DELETE FROM orders WHERE id = 8199 AND customer_id = 8199");
        try (Connection ref = cluster.reference()) {
            for (String sql : statements) {
                StatementResult.Update u = (StatementResult.Update) session.query(sql);
                try (java.sql.Statement st = ref.createStatement()) {
                    st.execute(sql);
                    int server = ((com.mysql.cj.NativeSession) ref.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).getSession())
                            .getServerSession().getStatusFlags();
                    assertThat(Integer.toHexString(u.queryStatus())).as(sql)
                            .isEqualTo(Integer.toHexString(server & StatementResult.Update.QUERY_STATUS));
                }
            }
        }
    }

    /**
     * The session's sql_mode sets the status flags a server sends with every answer (NO_BACKSLASH_ESCAPES, by which a
     * client escapes its strings, and MariaDB's ANSI_QUOTES), as the reference server sets them.
     */
    @Test
    @Order(3)
    void theSqlModesStatusFlagsAreTheServers() throws Exception {
        try (Connection ref = cluster.reference()) {
            for (String sql : List.of("SET sql_mode = CONCAT(@@sql_mode, ',STRICT_TRANS_TABLES')", "SET sql_mode = 'NO_BACKSLASH_ESCAPES'",
                    "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI')", "SET @@session.sql_mode = 'STRICT_TRANS_TABLES'",
                    "SET sql_mode = 'ORACLE'", "SET sql_mode = DEFAULT")) {
                session.query(sql);
                try (java.sql.Statement st = ref.createStatement()) {
                    st.execute(sql);
                }
                int server = ((com.mysql.cj.NativeSession) ref.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).getSession())
                        .getServerSession().getStatusFlags();
                assertThat(Integer.toHexString(session.state().modeStatus())).as(sql)
                        .isEqualTo(Integer.toHexString(server & (SessionState.NO_BACKSLASH_ESCAPES | SessionState.ANSI_QUOTES)));
            }
        }
    }

    @Test
    @Order(2)
    void serverVersionAndLocalAnswers() {
        assertThat(core.serverVersion()).startsWith("5.5.5-").contains("MariaDB").endsWith("-shardgate");
        assertThat(text(session.query("SELECT @@version_comment LIMIT 1"))).containsExactly(List.of("Shardgate sharding proxy"));
        assertThat(text(session.query("SELECT DATABASE()"))).containsExactly(List.of("shardgate"));
        assertThat(text(session.query("SELECT VERSION()")).getFirst().getFirst()).doesNotStartWith("5.5.5-").endsWith("-shardgate");
        assertThat(text(session.query("SELECT 1"))).containsExactly(List.of("1"));
        // a backend computes what the proxy does not know
        assertThat(text(session.query("SELECT 1 + 1"))).containsExactly(List.of("2"));
    }

    @Test
    @Order(3)
    void pointInsertsLandOnTheOwningShardAndPointReadsFindThem() throws Exception {
        loadOrders();
        for (String shard : List.of("s0", "s1")) {
            try (Connection c = cluster.direct(shard)) {
                List<List<String>> onShard = rows(c, "SELECT customer_id FROM orders");
                assertThat(onShard).isNotEmpty();
                assertThat(onShard).allSatisfy(r -> assertThat(cluster.owner(Long.parseLong(r.getFirst()))).isEqualTo(shard));
            }
        }
        long key = cluster.keyOn("s1", 1);
        List<List<String>> viaProxy = text(session.query("SELECT customer_id, COUNT(*) FROM orders WHERE customer_id = " + key
                + " GROUP BY customer_id"));
        try (Connection c = cluster.direct("s1")) {
            assertThat(viaProxy).isEqualTo(rows(c, "SELECT customer_id, COUNT(*) FROM orders WHERE customer_id = " + key
                    + " GROUP BY customer_id"));
        }
    }

    @Test
    @Order(4)
    void multiRowInsertIsSplitAndInReadsBothShards() throws Exception {
        long a = cluster.keyOn("s0", 500);
        long b = cluster.keyOn("s1", 500);
        StatementResult r = session.query("INSERT INTO orders (id, customer_id, status, amount) VALUES (9001, " + a + ", 'x', 1),"
                + " (9002, " + b + ", 'x', 2), (9003, " + a + ", 'x', 3)");
        assertThat(r).isInstanceOf(StatementResult.Update.class);
        assertThat(((StatementResult.Update) r).affectedRows()).isEqualTo(3);
        try (Connection c0 = cluster.direct("s0"); Connection c1 = cluster.direct("s1")) {
            assertThat(rows(c0, "SELECT id FROM orders WHERE id > 9000 ORDER BY id")).containsExactly(List.of("9001"), List.of("9003"));
            assertThat(rows(c1, "SELECT id FROM orders WHERE id > 9000")).containsExactly(List.of("9002"));
        }
        assertThat(text(session.query("SELECT id FROM orders WHERE customer_id IN (" + a + ", " + b + ") AND id > 9000 ORDER BY id")))
                .containsExactly(List.of("9001"), List.of("9002"), List.of("9003"));
        StatementResult.Update deleted = (StatementResult.Update) session.query("DELETE FROM orders WHERE id > 9000");
        assertThat(deleted.affectedRows()).isEqualTo(3);
    }

    @Test
    @Order(5)
    void scatterReadsEqualTheSameQueryOnOneDatabase() throws Exception {
        List<String> queries = List.of(
                "SELECT id, customer_id, amount FROM orders ORDER BY amount DESC, id LIMIT 7",
                "SELECT id FROM orders ORDER BY id LIMIT 5 OFFSET 10",
                "SELECT id, status FROM orders WHERE amount IS NULL ORDER BY id",
                "SELECT COUNT(*), SUM(amount), AVG(amount), MIN(amount), MAX(amount), SUM(score), MIN(created), MAX(status) FROM orders",
                "SELECT status, COUNT(*), SUM(amount), AVG(amount), MIN(created), MAX(score) FROM orders GROUP BY status ORDER BY status",
                "SELECT status, COUNT(*) FROM orders GROUP BY status",
                "SELECT status, AVG(amount) AS a FROM orders WHERE amount IS NOT NULL GROUP BY status ORDER BY a DESC",
                "SELECT DISTINCT status FROM orders ORDER BY status",
                "SELECT customer_id, SUM(amount) AS total FROM orders GROUP BY customer_id ORDER BY total DESC, customer_id LIMIT 5",
                "SELECT AVG(customer_id), COUNT(amount) FROM orders",
                "SELECT COUNT(*), SUM(amount) FROM orders WHERE customer_id > 100000",
                "SELECT created, COUNT(*) FROM orders GROUP BY created ORDER BY created DESC LIMIT 3");
        try (Connection ref = cluster.reference()) {
            for (String sql : queries) {
                StatementResult.Rows viaProxy = (StatementResult.Rows) session.query(sql);
                assertThat(text(viaProxy)).as(sql).isEqualTo(rows(ref, sql));
                assertThat(viaProxy.columns()).as(sql).hasSize(rows(ref, sql).isEmpty() ? viaProxy.columns().size()
                        : rows(ref, sql).getFirst().size());
            }
        }
    }

    @Test
    @Order(6)
    void valuesPassThroughAsTheServersTextBytesWithTheirTypes() {
        byte[] blob = {0, 1, (byte) 0xFF, 'a'};
        PreparedInfo insert = session.prepare("INSERT INTO kinds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, b'10100101', NULL)");
        session.execute(insert.statementId(), Arrays.asList(1L, -42L, new BigInteger("18446744073709551615"), new BigDecimal("3.14"),
                2.5d, LocalDate.of(2024, 2, 29), LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000),
                Duration.ofHours(-12).minusMinutes(34).minusSeconds(56), "Grüße 🌍", blob));
        StatementResult.Rows rows = (StatementResult.Rows) session.query("SELECT i, u, d, f, dt, ts, t, v, b, bits, n FROM kinds");
        byte[][] row = rows.rows().getFirst();
        assertThat(utf8(row, 0, 8)).containsExactly("-42", "18446744073709551615", "3.140", "2.5", "2024-02-29",
                "2024-02-29 13:14:15.123456", "-12:34:56", "Grüße 🌍");
        assertThat(row[8]).isEqualTo(blob);
        assertThat(row[9]).isEqualTo(new byte[] {(byte) 0xA5});
        assertThat(row[10]).isNull();
        assertThat(rows.columns()).extracting(ColumnInfo::type).containsExactly(ColumnType.INT, ColumnType.BIGINT, ColumnType.DECIMAL,
                ColumnType.DOUBLE, ColumnType.DATE, ColumnType.DATETIME, ColumnType.TIME, ColumnType.VARCHAR, ColumnType.BLOB,
                ColumnType.BIT, ColumnType.INT);
        assertThat(rows.columns().get(1).unsigned()).isTrue();
        assertThat(rows.columns().get(2).decimals()).isEqualTo(3);
        assertThat(rows.columns().get(5).decimals()).isEqualTo(6);
        assertThat(rows.columns().getFirst().schema()).isEqualTo("shardgate");
        assertThat(rows.columns().getFirst().orgTable()).isEqualTo("kinds");
    }

    @Test
    @Order(7)
    void preparedStatementsBindParametersAndDescribeTheirColumns() {
        long key = cluster.keyOn("s1", 700);
        PreparedInfo insert = session.prepare("INSERT INTO orders (id, customer_id, status, amount) VALUES (?, ?, ?, ?)");
        assertThat(insert.parameters()).hasSize(4);
        assertThat(insert.columns()).isEmpty();
        session.execute(insert.statementId(), List.of(8001L, key, "prepared", new BigDecimal("12.50")));
        PreparedInfo select = session.prepare("SELECT id, amount FROM orders WHERE customer_id = ? AND status = ?");
        assertThat(select.statementId()).isEqualTo(insert.statementId() + 1);
        assertThat(select.columns()).extracting(ColumnInfo::name).containsExactly("id", "amount");
        assertThat(text(session.execute(select.statementId(), List.of(key, "prepared")))).containsExactly(List.of("8001", "12.50"));
        assertThat(text(session.execute(select.statementId(), List.of(String.valueOf(key), "prepared")))).hasSize(1);
        session.closeStatement(select.statementId());
        assertThatThrownBy(() -> session.execute(select.statementId(), List.of(key, "x")))
                .isInstanceOfSatisfying(ProxyException.class, e -> {
                    assertThat(e.error().mysqlErrno()).isEqualTo(1243);
                    assertThat(e.getMessage()).isEqualTo("Unknown prepared statement handler (" + select.statementId()
                            + ") given to mysqld_stmt_execute");
                });
        assertThatThrownBy(() -> session.prepare("SELEC id FRM orders")).isInstanceOf(ProxyException.class);
        assertThatThrownBy(() -> session.prepare("SELECT nope FROM orders WHERE customer_id = ?"))
                .isInstanceOfSatisfying(ProxyException.class, e -> assertThat(e.error().mysqlErrno()).isEqualTo(1054));
        session.query("DELETE FROM orders WHERE id = 8001 AND customer_id = " + key);
    }

    @Test
    @Order(8)
    void transactionsCommitAndRollBackOnEveryShard() throws Exception {
        long a = cluster.keyOn("s0", 800);
        long b = cluster.keyOn("s1", 800);
        session.query("BEGIN");
        assertThat(session.state().inTransaction()).isTrue();
        session.query("INSERT INTO orders (id, customer_id) VALUES (7001, " + a + ")");
        session.query("INSERT INTO orders (id, customer_id) VALUES (7002, " + b + ")");
        assertThat(countDirect("s0", 7001) + countDirect("s1", 7002)).as("invisible before COMMIT").isZero();
        assertThat(text(session.query("SELECT COUNT(*) FROM orders WHERE id IN (7001, 7002)"))).containsExactly(List.of("2"));
        session.query("COMMIT");
        assertThat(session.state().inTransaction()).isFalse();
        assertThat(countDirect("s0", 7001) + countDirect("s1", 7002)).isEqualTo(2);

        session.query("SET autocommit = 0");
        assertThat(session.state().autocommit()).isFalse();
        session.query("DELETE FROM orders WHERE customer_id = " + a + " AND id = 7001");
        session.query("DELETE FROM orders WHERE customer_id = " + b + " AND id = 7002");
        assertThat(session.state().inTransaction()).isTrue();
        session.query("ROLLBACK");
        session.query("SET autocommit = 1");
        assertThat(countDirect("s0", 7001) + countDirect("s1", 7002)).as("rolled back").isEqualTo(2);
        session.query("DELETE FROM orders WHERE id IN (7001, 7002)");
        assertThat(countDirect("s0", 7001) + countDirect("s1", 7002)).isZero();
    }

    /** A read on the transaction's connection (streamed, or read whole) leaves the transaction for ROLLBACK to undo. */
    @Test
    @Order(8)
    void aReadInsideATransactionLeavesItToRollBack() throws Exception {
        long a = cluster.keyOn("s0", 801);
        String count = "SELECT COUNT(*) FROM orders WHERE customer_id = " + a + " AND id = 7101";
        session.query("BEGIN");
        session.query("INSERT INTO orders (id, customer_id) VALUES (7101, " + a + ")");
        assertThat(text(session.query(count))).containsExactly(List.of("1"));
        session.query("ROLLBACK");
        assertThat(countDirect("s0", 7101)).isZero();
        assertThat(text(session.query(count))).containsExactly(List.of("0"));
    }

    @Test
    @Order(9)
    void sessionSettingsAreReplayedForTheirSessionOnly() {
        String defaultZone = text(session.query("SELECT @@time_zone")).getFirst().getFirst();
        try (FrontendSession other = open(ShardedCluster.DB)) {
            other.query("SET time_zone = '+05:00', sql_mode = 'NO_ENGINE_SUBSTITUTION'");
            for (int i = 0; i < 20; i++) {
                assertThat(text(other.query("SELECT @@time_zone, @@sql_mode FROM orders LIMIT 1")).getFirst())
                        .containsExactly("+05:00", "NO_ENGINE_SUBSTITUTION");
                assertThat(text(session.query("SELECT @@time_zone FROM orders LIMIT 1")).getFirst()).containsExactly(defaultZone);
            }
            assertThatThrownBy(() -> other.query("SET time_zone = 'Nowhere/Atlantis'"))
                    .isInstanceOfSatisfying(ProxyException.class, e -> assertThat(e.error().fromBackend()).isTrue());
            assertThat(text(other.query("SELECT @@time_zone")).getFirst()).containsExactly("+05:00");
            // user variables stay with their session (on connections reserved for it); mixed with settings they are refused
            other.query("SET @x = 1");
            assertThat(text(other.query("SELECT @x")).getFirst()).containsExactly("1");
            assertThat(text(other.query("SELECT @x + 1 FROM orders LIMIT 1")).getFirst()).containsExactly("2");
            assertThatThrownBy(() -> other.query("SET @y = 1, sql_mode = ''"))
                    .isInstanceOfSatisfying(ProxyException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
            assertThatThrownBy(() -> other.query("SET NAMES sjis"))
                    .isInstanceOfSatisfying(ProxyException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED));
            other.query("SET NAMES utf8mb4");
            StatementResult.Rows warnings = (StatementResult.Rows) other.query("SHOW WARNINGS");
            assertThat(warnings.columns()).extracting(ColumnInfo::name).containsExactly("Level", "Code", "Message");
        }
    }

    @Test
    @Order(10)
    void backendErrorsPassThroughUnchanged() {
        long key = cluster.keyOn("s0", 900);
        session.query("INSERT INTO orders (id, customer_id) VALUES (6001, " + key + ")");
        assertThatThrownBy(() -> session.query("INSERT INTO orders (id, customer_id) VALUES (6001, " + key + ")"))
                .isInstanceOfSatisfying(ProxyException.class, e -> {
                    assertThat(e.error().mysqlErrno()).isEqualTo(1062);
                    assertThat(e.error().sqlState()).isEqualTo("23000");
                    assertThat(e.getMessage()).isEqualTo("Duplicate entry '6001' for key 'PRIMARY'");
                    assertThat(e.error().fromBackend()).isTrue();
                });
        session.query("DELETE FROM orders WHERE id = 6001 AND customer_id = " + key);
    }

    @Test
    @Order(11)
    void onlyTheLogicalDatabaseExists() {
        assertThatThrownBy(() -> open("nope")).isInstanceOfSatisfying(ProxyException.class, e -> {
            assertThat(e.error().mysqlErrno()).isEqualTo(1049);
            assertThat(e.getMessage()).isEqualTo("Unknown database 'nope'");
        });
        assertThatThrownBy(() -> session.query("USE nope"))
                .isInstanceOfSatisfying(ProxyException.class, e -> assertThat(e.error().mysqlErrno()).isEqualTo(1049));
        try (FrontendSession none = open(null)) {
            assertThat(none.state().schema()).isNull();
            none.initDb("shardgate");
            assertThat(none.state().schema()).isEqualTo("shardgate");
        }
    }

    @Test
    @Order(12)
    void rejectedStatementsSayShardgateRefusedThem() {
        assertThatThrownBy(() -> session.query("SELECT COUNT(DISTINCT status) FROM orders"))
                .isInstanceOfSatisfying(ProxyException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNROUTABLE_STATEMENT);
                    assertThat(e.getMessage()).startsWith("Shardgate cannot route this statement").contains("DISTINCT");
                });
    }

    @Test
    @Order(15)
    void routedWritesAreCountedOncePerKeyAndPublished() throws Exception {
        String hot = "777001";
        for (int i = 0; i < 5; i++) {
            session.query("INSERT INTO orders (id, customer_id, status, amount) VALUES (" + (9100 + i) + ", " + hot + ", 'h', 1)");
        }
        session.query("INSERT INTO orders (id, customer_id, status, amount) VALUES (9110, 777002, 'h', 1), (9111, 777002, 'h', 1)");
        session.query("UPDATE orders SET amount = amount + 1 WHERE customer_id IN (777001, 777002)");
        PreparedInfo delete = session.prepare("DELETE FROM orders WHERE customer_id = ? AND status = 'h'");
        session.execute(delete.statementId(), List.of(777001L));
        session.query("SELECT * FROM orders WHERE customer_id = 777001");
        session.query("UPDATE orders SET status = 'none' WHERE status = 'never'"); // no key: not counted

        Map<String, Long> counts = new java.util.HashMap<>();
        core.hotKeys().top(Integer.MAX_VALUE).keys().stream().filter(k -> k.table().equals("orders"))
                .forEach(k -> counts.put(k.key(), k.count()));

        assertThat(counts).containsEntry(hot, 7L).containsEntry("777002", 2L);
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (cluster.store.hotKeyReports().stream().noneMatch(r -> r.proxyId().equals("proxy-1")
                && r.keys().stream().anyMatch(k -> k.table().equals("orders") && k.key().equals(hot) && k.count() == 7))) {
            assertThat(System.nanoTime()).as("proxy-1 publishes key %s within 15 s: %s", hot, cluster.store.hotKeyReports())
                    .isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @Test
    @Order(20)
    void aDeadShardFailsPromptlyForItsKeysOnlyAndRecovers() throws Exception {
        long onS0 = cluster.keyOn("s0", 1);
        long onS1 = cluster.keyOn("s1", 1);
        String point = "SELECT COUNT(*) FROM orders WHERE customer_id = ";
        session.query(point + onS1); // the pool has live connections before the kill
        FrontendSession pinned = open(ShardedCluster.DB);
        pinned.query("BEGIN");
        pinned.query(point + onS0);
        pinned.query(point + onS1);
        cluster.s1.kill();
        try {
            assertThatThrownBy(() -> pinned.query(point + onS1)).isInstanceOfSatisfying(ProxyException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
                assertThat(e.getMessage()).contains("the transaction is over").contains("rolled back on shards [s0]");
            });
            assertThat(pinned.state().inTransaction()).isFalse();
            pinned.close();
            for (int attempt = 0; attempt < 2; attempt++) {
                long start = System.nanoTime();
                assertThatThrownBy(() -> session.query(point + onS1)).isInstanceOfSatisfying(ProxyException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
                    assertThat(e.getMessage()).contains("shard s1 (127.0.0.1:" + cluster.s1.port() + ")").contains("pool active=");
                });
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(6));
            }
            assertThat(text(session.query(point + onS0))).hasSize(1);
            session.query("BEGIN");
            session.query(point + onS0);
            assertThatThrownBy(() -> session.query(point + onS1)).isInstanceOfSatisfying(ProxyException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE));
            session.query("ROLLBACK");
        } finally {
            cluster.s1.restart();
        }
        // the pool reconnects by itself; HikariCP retries connection creation with a back-off capped at 5 s
        long deadline = System.nanoTime() + Duration.ofSeconds(12).toNanos();
        List<List<String>> recovered = null;
        while (recovered == null) {
            try {
                recovered = text(session.query(point + onS1));
            } catch (ProxyException e) {
                assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
                assertThat(System.nanoTime()).as("s1 usable again within 12 s of its restart").isLessThan(deadline);
            }
        }
        assertThat(recovered).hasSize(1);
    }

    // ---- helpers

    /** 60 orders over many customers, the same rows in the reference database. */
    private void loadOrders() throws Exception {
        String[] statuses = {"new", "paid", "shipped", "returned"};
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= 60; i++) {
            long customer = (i * 7L) % 23 + 1;
            String amount = i % 9 == 0 ? "NULL" : new BigDecimal(i * 37 % 500).add(new BigDecimal("0." + (i % 10) + "5")).toPlainString();
            String score = (i % 8) * 0.25 + i + "";
            String created = LocalDate.of(2024, 1, 1).plusDays(i % 17).toString();
            values.add("(" + i + ", " + customer + ", '" + statuses[i % 4] + "', " + amount + ", " + score + ", '" + created + "')");
        }
        String insert = "INSERT INTO orders (id, customer_id, status, amount, score, created) VALUES " + String.join(", ", values);
        StatementResult.Update u = (StatementResult.Update) session.query(insert);
        assertThat(u.affectedRows()).isEqualTo(60);
        try (Connection ref = cluster.reference()) {
            execute(ref, insert);
        }
    }

    /**
     * The client's capability flags change the session as on a server: without CLIENT_FOUND_ROWS an UPDATE counts changed
     * rows (OK packet and ROW_COUNT()), CLIENT_IGNORE_SPACE adds IGNORE_SPACE to sql_mode until the client sets sql_mode,
     * CLIENT_INTERACTIVE starts wait_timeout at interactive_timeout.
     */
    @Test
    void theClientsFlagsShapeItsSession() throws Exception {
        io.shardgate.proxy.session.ClientFlags changedRows = new io.shardgate.proxy.session.ClientFlags(false, true, true);
        for (String shard : List.of("s0", "s1")) {
            try (Connection c = cluster.direct(shard)) {
                execute(c, "SET GLOBAL interactive_timeout = 1234");
            }
        }
        session.query("INSERT INTO orders (id, customer_id, status) VALUES (9901, 1, 'same'), (9902, 2, 'same')");
        try (FrontendSession mine = WholeResults.of(core.open(new ClientInfo("app", ShardedCluster.DB, "127.0.0.1", Map.of(),
                io.shardgate.proxy.session.ClientCharset.UTF8MB4, changedRows)))) {
            String update = "UPDATE orders SET status = 'same' WHERE id IN (9901, 9902)";
            assertThat(((StatementResult.Update) mine.query(update)).affectedRows()).isZero();
            assertThat(text(mine.query("SELECT ROW_COUNT()"))).containsExactly(List.of("0"));
            assertThat(((StatementResult.Update) session.query(update)).affectedRows()).isEqualTo(2);
            StatementResult.Update one = (StatementResult.Update) mine.query("UPDATE orders SET status = 'same' WHERE id = 9901");
            assertThat(one.affectedRows()).isZero();
            assertThat(one.info()).isEqualTo("Rows matched: 1  Changed: 0  Warnings: 0");
            assertThat(text(mine.query("SELECT @@session.wait_timeout"))).containsExactly(List.of("1234"));
            assertThat(text(session.query("SELECT @@session.wait_timeout"))).containsExactly(List.of("28800"));
            assertThat(text(mine.query("SELECT @@sql_mode")).getFirst().getFirst()).contains("IGNORE_SPACE");
            mine.query("SET sql_mode = 'ANSI_QUOTES'");
            assertThat(text(mine.query("SELECT @@sql_mode"))).containsExactly(List.of("ANSI_QUOTES"));
        } finally {
            session.query("DELETE FROM orders WHERE id IN (9901, 9902)");
            for (String shard : List.of("s0", "s1")) {
                try (Connection c = cluster.direct(shard)) {
                    execute(c, "SET GLOBAL interactive_timeout = DEFAULT");
                }
            }
        }
    }

    private static long countDirect(String shard, int id) throws Exception {
        try (Connection c = cluster.direct(shard)) {
            return Long.parseLong(rows(c, "SELECT COUNT(*) FROM orders WHERE id = " + id).getFirst().getFirst());
        }
    }

    private static List<List<String>> text(StatementResult result) {
        assertThat(result).isInstanceOf(StatementResult.Rows.class);
        List<List<String>> out = new ArrayList<>();
        for (byte[][] row : ((StatementResult.Rows) result).rows()) {
            out.add(utf8(row, 0, row.length));
        }
        return out;
    }

    private static List<String> utf8(byte[][] row, int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(row[i] == null ? null : new String(row[i], StandardCharsets.UTF_8));
        }
        return out;
    }
}

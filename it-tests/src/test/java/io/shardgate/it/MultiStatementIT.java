package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.local.CommandRunner;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Multi-statement messages and executable comments: the same messages through the proxy (two MariaDB shards) and on the
 * reference server, with Connector/J (allowMultiQueries, every result through getMoreResults), PyMySQL with
 * CLIENT_MULTI_STATEMENTS (classic EOF packets, warning counts and status flags per result) and the mariadb
 * command-line client (its output text). Every result is compared, the error where a message stops, and what got stored.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MultiStatementIT {
    private static final String TABLES = """
            tables:
              - {name: t, kind: sharded, key: id, key-type: int}
              - {name: d, kind: sharded, key: id, key-type: int}
            """;
    private static final List<String> DDL = List.of(
            "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB",
            "CREATE TABLE d (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32)) ENGINE=InnoDB");

    /** Messages run in order on one connection each side; their writes accumulate the same way on both. */
    private static final List<String> MESSAGES = List.of(
            "SELECT 1; SELECT 2",
            "INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b'); INSERT INTO t VALUES (3, 'c'); INSERT INTO t VALUES (4, 'd')",
            "SELECT id, v FROM t WHERE id = 1; SELECT COUNT(*) FROM t; UPDATE t SET v = 'z' WHERE id IN (2, 3); SELECT * FROM t ORDER BY id",
            // an error stops the message: the statement after it does not run
            "INSERT INTO t VALUES (10, 'x'); INSERT INTO t VALUES (1, 'dup'); INSERT INTO t VALUES (11, 'never')",
            "SELECT id FROM t WHERE id IN (10, 11) ORDER BY id; SELECT nope FROM t; SELECT 3",
            // transactions and session commands inside a message
            "BEGIN; INSERT INTO t VALUES (20, 'tx'); INSERT INTO t VALUES (21, 'tx'); COMMIT; SELECT COUNT(*) FROM t WHERE v = 'tx'",
            "START TRANSACTION; INSERT INTO t VALUES (30, 'open'); INSERT INTO t VALUES (30, 'dup'); COMMIT",
            "SELECT COUNT(*) FROM t WHERE id = 30; ROLLBACK; SELECT COUNT(*) FROM t WHERE id = 30",
            "USE shardgate; SELECT DATABASE(); SET sql_mode = 'NO_ENGINE_SUBSTITUTION'; SELECT @@sql_mode; SET sql_mode = DEFAULT",
            "SET NAMES utf8mb4; INSERT INTO t VALUES (40, 'ünï€'); SELECT v FROM t WHERE id = 40",
            // what follows the last statement
            "SELECT 1;",
            "SELECT 1; ",
            "SELECT 1;;",
            "SELECT 1; -- trailing comment",
            "SELECT 1; /* c */;",
            "SELECT 1; ; SELECT 2",
            "SELECT 'a;b', 'c;''d', `v` FROM t WHERE id = 40; SELECT 'it''s', \"e;f\"",
            // executable comments: what the server runs is what the proxy analyses
            "SELECT 1 /*!, 2 */",
            "SELECT 1 /*!99999 , 2 */",
            "SELECT 1 /*M!100100 , 2 */",
            "SELECT 1 /*!50701 , 2 */",
            "SELECT id /*!, v */ FROM t WHERE id IN (1, 4) ORDER BY id",
            "SELECT COUNT(*) /*!40100 , SUM(id), MAX(v) */ FROM t",
            "SELECT COUNT(*) /*!999999 , SUM(id) */ FROM t",
            "/*!40101 SET NAMES utf8mb4 */; /*!40103 SET TIME_ZONE='+00:00' */; SELECT @@time_zone",
            "SELECT 1 /*!99999 ; */; SELECT 2",
            "SELECT * FROM t ORDER BY id");

    /** What a server without CLIENT_MULTI_STATEMENTS answers: a syntax error for two statements, one result otherwise. */
    private static final List<String> SINGLE_MESSAGES = List.of(
            "SELECT 1; SELECT 2",
            "INSERT INTO t VALUES (50, 'x'); INSERT INTO t VALUES (51, 'y')",
            "SELECT 1;",
            "SELECT 1; ",
            "SELECT 1;;",
            "SELECT 1; -- c",
            "SELECT 1;; /* c */",
            "SELECT 1 /*!, 2 */",
            "SELECT COUNT(*) FROM t WHERE id IN (50, 51)");

    private ShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.start(2, TABLES);
    }

    @BeforeEach
    void freshTables() throws SQLException {
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (Connection c : List.of(p, r)) {
                Sql.update(c, "DROP TABLE IF EXISTS t");
                Sql.update(c, "DROP TABLE IF EXISTS d");
                for (String ddl : DDL) {
                    Sql.update(c, ddl);
                }
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
    void connectorJWithAllowMultiQueriesSeesEveryResultAsFromOneServer() throws SQLException {
        List<String> viaProxy = new ArrayList<>();
        List<String> direct = new ArrayList<>();
        try (Connection p = cluster.proxyConnection("allowMultiQueries=true");
                Connection r = cluster.referenceConnection("allowMultiQueries=true")) {
            for (String message : MESSAGES) {
                viaProxy.add(message + " -> " + results(p, message));
                direct.add(message + " -> " + results(r, message));
            }
        }
        assertThat(viaProxy).containsExactlyElementsOf(direct);
        assertThat(String.join("\n", viaProxy)).contains("[1, 2]", "Duplicate entry '1'", "Unknown column 'nope'",
                "[2, z], [3, z]", "ünï€");
        assertStoredAlike();
        // the rows the messages wrote went to both shards, each statement routed on its own
        try (Connection s0 = cluster.shardConnection(0); Connection s1 = cluster.shardConnection(1);
                Connection p = cluster.proxyConnection("")) {
            long onFirst = Sql.count(s0, "SELECT COUNT(*) FROM t");
            long onSecond = Sql.count(s1, "SELECT COUNT(*) FROM t");
            assertThat(onFirst).isPositive();
            assertThat(onSecond).isPositive();
            assertThat(onFirst + onSecond).isEqualTo(Sql.count(p, "SELECT COUNT(*) FROM t"));
        }
    }

    @Test
    void withoutMultiStatementsTwoStatementsAreTheServersSyntaxError() throws SQLException {
        List<String> viaProxy = new ArrayList<>();
        List<String> direct = new ArrayList<>();
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (String message : SINGLE_MESSAGES) {
                viaProxy.add(message + " -> " + results(p, message));
                direct.add(message + " -> " + results(r, message));
            }
        }
        assertThat(viaProxy).containsExactlyElementsOf(direct);
        assertThat(viaProxy.getFirst()).contains("1064", "near 'SELECT 2'");
        assertStoredAlike();
    }

    @Test
    void pyMySqlWithMultiStatementsReadsTheSameResultsWarningsAndFlags() throws Exception {
        List<String> messages = new ArrayList<>(MESSAGES);
        // (no statement with warnings: the proxy's OK packets carry 0 warnings and SHOW WARNINGS runs on another pooled
        // connection, a known limit of single statements too; see the README)
        messages.addAll(List.of(";", "/* only a comment */", "SELECT 1; /*!99999 skipped */"));
        var viaProxy = pymysql(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, true, messages);
        freshTablesOnReferenceOnly();
        var direct = pymysql(cluster.reference().port(), "root", "", true, messages);
        assertThat(viaProxy.exitCode()).as(viaProxy.output()).isZero();
        assertThat(viaProxy.output().lines().toList()).containsExactlyElementsOf(direct.output().lines().toList());
        // results before the last carry SERVER_MORE_RESULTS_EXISTS in their EOF; the last does not
        assertThat(viaProxy.output()).contains("\"status\": 8", "\"status\": 9", "Query was empty");
        assertStoredAlike();
    }

    @Test
    void pyMySqlWithoutMultiStatements() throws Exception {
        var viaProxy = pymysql(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, false, SINGLE_MESSAGES);
        var direct = pymysql(cluster.reference().port(), "root", "", false, SINGLE_MESSAGES);
        assertThat(viaProxy.exitCode()).as(viaProxy.output()).isZero();
        assertThat(viaProxy.output().lines().toList()).containsExactlyElementsOf(direct.output().lines().toList());
    }

    @Test
    void theMariadbClientPrintsWhatTheServerPrints() throws Exception {
        String batch = "INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b'); SELECT * FROM t ORDER BY id;"
                + " SELECT 1 /*!, 2 */; SELECT 1 /*M!100100 , 2 */; SELECT 1 /*!99999 , 2 */; INSERT INTO t VALUES (1, 'dup');"
                + " SELECT 'not reached'";
        var viaProxy = mariadb(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, batch, null);
        var direct = mariadb(cluster.reference().port(), "root", "", batch, null);
        assertThat(viaProxy.output()).isEqualTo(direct.output()).contains("Duplicate entry").doesNotContain("not reached");
        assertThat(viaProxy.exitCode()).isEqualTo(direct.exitCode());

        // a mysqldump-style file, piped
        String dump = """
                -- MariaDB dump
                /*!40101 SET NAMES utf8mb4 */;
                /*!40103 SET TIME_ZONE='+00:00' */;
                /*!40014 SET UNIQUE_CHECKS=0 */;
                /*!40101 SET SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
                /*!40111 SET SQL_NOTES=0 */;

                --
                -- Dumping data for table `d`
                --

                /*!40000 ALTER TABLE `d` DISABLE KEYS */;
                INSERT INTO `d` VALUES (1,'one'),(2,'two'),(3,'thrée'),(4,'four');
                /*!40000 ALTER TABLE `d` ENABLE KEYS */;
                /*!40101 SET SQL_MODE='' */;
                /*!40014 SET UNIQUE_CHECKS=1 */;
                SELECT id, name /*!, LENGTH(name) */ FROM d ORDER BY id;
                SELECT @@time_zone, @@sql_mode;
                """;
        var dumpProxy = mariadb(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, null, dump);
        var dumpDirect = mariadb(cluster.reference().port(), "root", "", null, dump);
        assertThat(dumpProxy.exitCode()).as(dumpProxy.output()).isZero();
        assertThat(dumpProxy.output()).isEqualTo(dumpDirect.output()).contains("thrée\t6");
        assertStoredAlike();

        // a real mariadb-dump of the data (its first line is /*M!999999\- enable the sandbox mode */), loaded again
        var realDump = CommandRunner.of("mariadb-dump", "--no-defaults", "-h127.0.0.1", "-P" + cluster.reference().port(), "-uroot",
                "--compact", "--no-create-info", ShardedCluster.DATABASE, "d").timeout(Duration.ofSeconds(30)).run();
        assertThat(realDump.exitCode()).as(realDump.output()).isZero();
        assertThat(realDump.output()).contains("/*M!999999", "INSERT INTO `d` VALUES");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            Sql.update(p, "DELETE FROM d");
            Sql.update(r, "DELETE FROM d");
        }
        var loadProxy = mariadb(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, null, realDump.output());
        var loadDirect = mariadb(cluster.reference().port(), "root", "", null, realDump.output());
        assertThat(loadProxy.exitCode()).as(loadProxy.output()).isZero();
        assertThat(loadProxy.output()).isEqualTo(loadDirect.output());
        assertStoredAlike();
        try (Connection p = cluster.proxyConnection("")) {
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM d")).isEqualTo(4);
        }
    }

    /**
     * Connector/J's rewriteBatchedStatements sends a Statement batch of more than four as one multi-statement message,
     * turning multi-statements on with COM_SET_OPTION for it and off again after.
     */
    @Test
    void connectorJBatchesOverComSetOption() throws SQLException {
        List<String> batch = List.of("INSERT INTO t VALUES (101, 'a')", "INSERT INTO t VALUES (102, 'b')",
                "INSERT INTO t VALUES (103, 'c')", "INSERT INTO t VALUES (104, 'd')", "UPDATE t SET v = 'z' WHERE id IN (101, 104)",
                "DELETE FROM t WHERE id = 102", "INSERT INTO t VALUES (105, /*!40101 'e' */ /*!99999 'never' */)");
        List<String> viaProxy = new ArrayList<>();
        List<String> direct = new ArrayList<>();
        try (Connection p = cluster.proxyConnection("rewriteBatchedStatements=true");
                Connection r = cluster.referenceConnection("rewriteBatchedStatements=true")) {
            for (Connection c : List.of(p, r)) {
                List<String> out = c == p ? viaProxy : direct;
                try (Statement st = c.createStatement()) {
                    for (String sql : batch) {
                        st.addBatch(sql);
                    }
                    out.add(java.util.Arrays.toString(st.executeBatch()));
                }
                // multi-statements are off again after the batch
                out.add(results(c, "SELECT 1; SELECT 2"));
            }
        }
        assertThat(viaProxy).containsExactlyElementsOf(direct);
        assertThat(viaProxy.get(0)).isEqualTo("[1, 1, 1, 1, 2, 1, 1]");
        assertThat(viaProxy.get(1)).contains("1064");
        assertStoredAlike();
    }

    /** COM_STMT_PREPARE never takes several statements, multi-statements or not: the server's 1064 at prepare time. */
    @Test
    void preparingTwoStatementsIsTheServersSyntaxError() throws SQLException {
        List<String> viaProxy = new ArrayList<>();
        List<String> direct = new ArrayList<>();
        for (String sql : List.of("SELECT 1; SELECT 2", "INSERT INTO t VALUES (80, 'x'); INSERT INTO t VALUES (81, 'y')",
                "SELECT 1 /*!, 2 */", "SELECT COUNT(*) /*!40100 , SUM(id) */ FROM t")) {
            for (boolean proxy : new boolean[] {true, false}) {
                // (with allowMultiQueries Connector/J prepares text holding several statements on the client side)
                String opts = "useServerPrepStmts=true";
                try (Connection c = proxy ? cluster.proxyConnection(opts) : cluster.referenceConnection(opts)) {
                    String answer;
                    try (var ps = c.prepareStatement(sql)) {
                        if (ps.getParameterMetaData().getParameterCount() > 0) {
                            ps.setInt(1, 7);
                        }
                        answer = sql + " -> prepared, " + (ps.execute() ? rows(ps.getResultSet()) : "update " + ps.getUpdateCount());
                    } catch (SQLException e) {
                        answer = sql + " -> ERROR " + e.getErrorCode() + " (" + e.getSQLState() + "): " + e.getMessage();
                    }
                    (proxy ? viaProxy : direct).add(answer);
                }
            }
        }
        assertThat(viaProxy).containsExactlyElementsOf(direct);
        assertThat(viaProxy.getFirst()).contains("1064");
        assertStoredAlike();
    }

    @Test
    void aMessageTheProxyCannotRunAsTheServerIsRefusedBeforeAnyOfItRuns() throws SQLException {
        try (Connection p = cluster.proxyConnection("allowMultiQueries=true"); Statement st = p.createStatement()) {
            assertThat(error(st, "INSERT INTO t VALUES (70, 'x'); CREATE PROCEDURE p() BEGIN SELECT 1; END"))
                    .contains("7002", "none of it ran", "stored program or compound statement");
            assertThat(error(st, "INSERT INTO t VALUES (71, 'x'); /*! SELECT 1; SELECT 2 */"))
                    .contains("7002", "semicolon inside an executable comment");
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM t WHERE id IN (70, 71)")).isZero();
        }
    }

    private static String error(Statement st, String sql) {
        try {
            st.execute(sql);
            return "no error";
        } catch (SQLException e) {
            return e.getErrorCode() + " " + e.getMessage();
        }
    }

    /** Every result of one message: rows with their column labels, update counts, and the error that ends it. */
    private static String results(Connection c, String sql) {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            boolean isResultSet = st.execute(sql);
            while (true) {
                if (isResultSet) {
                    try (ResultSet rs = st.getResultSet()) {
                        out.add(rows(rs));
                    }
                } else {
                    int count = st.getUpdateCount();
                    if (count == -1) {
                        break;
                    }
                    out.add("update " + count);
                }
                isResultSet = st.getMoreResults();
            }
        } catch (SQLException e) {
            out.add("ERROR " + e.getErrorCode() + " (" + e.getSQLState() + "): " + e.getMessage());
        }
        return String.join(" | ", out);
    }

    private static String rows(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        List<String> labels = new ArrayList<>();
        for (int i = 1; i <= md.getColumnCount(); i++) {
            labels.add(md.getColumnLabel(i));
        }
        return labels + " " + Sql.rows(rs);
    }

    private void assertStoredAlike() throws SQLException {
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (String q : List.of("SELECT * FROM t ORDER BY id", "SELECT * FROM d ORDER BY id")) {
                assertThat(Sql.query(p, q)).as(q).isEqualTo(Sql.query(r, q));
            }
        }
    }

    private void freshTablesOnReferenceOnly() {
        // PyMySQL ran the messages on the proxy first; the reference has not seen them yet, so nothing to reset
    }

    private static CommandRunner.Result pymysql(int port, String user, String password, boolean multi, List<String> messages)
            throws URISyntaxException {
        Path script = Path.of(MultiStatementIT.class.getResource("/multi_statements.py").toURI());
        // Debian's python3-pymysql is installed for /usr/bin/python3; a python3 on PATH may be another one
        return CommandRunner.of("/usr/bin/python3", script.toString(), Integer.toString(port), user, password,
                        ShardedCluster.DATABASE, multi ? "1" : "0")
                .stdin(json(messages)).timeout(Duration.ofSeconds(60)).run();
    }

    private static CommandRunner.Result mariadb(int port, String user, String password, String batch, String stdin) {
        List<String> cmd = new ArrayList<>(List.of("mariadb", "--no-defaults", "--batch", "-A", "-h127.0.0.1",
                "-P" + port, "-u" + user, "--default-character-set=utf8mb4"));
        if (!password.isEmpty()) {
            cmd.add("-p" + password);
        }
        cmd.add(ShardedCluster.DATABASE);
        if (batch != null) {
            cmd.addAll(List.of("-e", batch));
        }
        CommandRunner runner = CommandRunner.of(cmd.toArray(String[]::new)).timeout(Duration.ofSeconds(30));
        return (stdin == null ? runner : runner.stdin(stdin)).run();
    }

    private static String json(List<String> strings) {
        StringBuilder b = new StringBuilder("[");
        for (String s : strings) {
            b.append(b.length() > 1 ? "," : "").append('"');
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    default -> b.append(c);
                }
            }
            b.append('"');
        }
        return b.append(']').toString();
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.config.ShardgateConfig;
import io.shardgate.local.CommandRunner;
import io.shardgate.proxy.ProxyServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Session state on a server stays with its session (DESIGN.md, "Right or refused: Session state on a server"): two
 * client sessions through the proxy (two MariaDB shards) and two on the reference server run the same statements with
 * Connector/J, and every answer (column labels, values, update counts, errors) must be the same. Named locks contend
 * across sessions and proxies, temporary tables and user variables are seen by their own session only, SQL PREPARE works,
 * and FOUND_ROWS(), ROW_COUNT() and LAST_INSERT_ID() answer for the whole cluster. Also: the limit of pinned connections,
 * the metric, and that a session's state does not outlive it on a pooled connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionStateIT {
    private static final String TABLES = """
            tables:
              - {name: users, kind: sharded, key: id, key-type: int}
            """;
    private static final String DDL = "CREATE TABLE users (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL, score INT NOT NULL)";

    private ShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.start(2, TABLES);
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            StringBuilder insert = new StringBuilder("INSERT INTO users (id, name, score) VALUES ");
            for (int id = 1; id <= 12; id++) {
                insert.append(id == 1 ? "" : ", ").append("(").append(id).append(", 'user-").append(id).append("', ").append(id * 10)
                        .append(")");
            }
            for (Connection c : List.of(p, r)) {
                Sql.update(c, DDL);
                Sql.update(c, insert.toString());
            }
            for (int shard = 0; shard < 2; shard++) {
                try (Connection s = cluster.shardConnection(shard)) {
                    // the report's data: the rows are spread, so a LIMIT 5 scatter sees only part of them per shard
                    assertThat(Sql.count(s, "SELECT COUNT(*) FROM users")).isBetween(1L, 11L);
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

    /** Two sessions through the proxy, and two on the reference server: session A and B of each. */
    private record Sessions(Connection proxyA, Connection proxyB, Connection refA, Connection refB) implements AutoCloseable {
        @Override
        public void close() throws SQLException {
            for (Connection c : List.of(proxyA, proxyB, refA, refB)) {
                c.close();
            }
        }
    }

    private Sessions sessions() throws SQLException {
        return new Sessions(cluster.proxyConnection(""), cluster.proxyConnection(""), cluster.referenceConnection(""),
                cluster.referenceConnection(""));
    }

    /** Runs {@code sql} in session A (proxy and reference) and returns the answer both gave. */
    private static String a(Sessions s, String sql) throws SQLException {
        return same(s.proxyA(), s.refA(), sql);
    }

    private static String b(Sessions s, String sql) throws SQLException {
        return same(s.proxyB(), s.refB(), sql);
    }

    private static String same(Connection proxy, Connection reference, String sql) throws SQLException {
        String expected = answer(reference, sql);
        String actual = answer(proxy, sql);
        assertThat(actual).as("through the proxy: %s", sql).isEqualTo(expected);
        return actual;
    }

    /** A statement's whole answer as text: column labels and values, an update count, or the error (errno, SQLSTATE, text). */
    static String answer(Connection c, String sql) {
        try (Statement st = c.createStatement()) {
            if (!st.execute(sql)) {
                return "updated " + st.getLargeUpdateCount();
            }
            try (ResultSet rs = st.getResultSet()) {
                ResultSetMetaData md = rs.getMetaData();
                List<String> labels = new ArrayList<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    labels.add(md.getColumnLabel(i));
                }
                return labels + " " + Sql.rows(rs);
            }
        } catch (SQLException e) {
            return "error " + e.getErrorCode() + " " + e.getSQLState() + " " + e.getMessage();
        }
    }

    @Test
    void namedLocksContendAcrossSessionsAndProxies() throws Exception {
        ProxyServer second = cluster.startProxy();
        try (Sessions s = sessions(); Connection otherProxy = cluster.proxyConnection(second, "");
                Connection otherRef = cluster.referenceConnection("")) {
            assertThat(a(s, "SELECT GET_LOCK('L', 1)")).isEqualTo("[GET_LOCK('L', 1)] [[1]]");
            assertThat(b(s, "SELECT GET_LOCK('L', 1)")).isEqualTo("[GET_LOCK('L', 1)] [[0]]");
            // a session of another proxy contends on the same server
            assertThat(same(otherProxy, otherRef, "SELECT GET_LOCK('L', 0)")).isEqualTo("[GET_LOCK('L', 0)] [[0]]");
            a(s, "SELECT IS_FREE_LOCK('L'), IS_USED_LOCK('L') IS NOT NULL");
            assertThat(a(s, "SELECT RELEASE_LOCK('L')")).isEqualTo("[RELEASE_LOCK('L')] [[1]]");
            assertThat(b(s, "SELECT GET_LOCK('L', 1)")).isEqualTo("[GET_LOCK('L', 1)] [[1]]");
            assertThat(a(s, "SELECT RELEASE_LOCK('L')")).isEqualTo("[RELEASE_LOCK('L')] [[0]]");
            b(s, "SELECT RELEASE_ALL_LOCKS()");
            assertThat(same(otherProxy, otherRef, "SELECT GET_LOCK('L', 0)")).isEqualTo("[GET_LOCK('L', 0)] [[1]]");
            same(otherProxy, otherRef, "SELECT RELEASE_LOCK('L')");
            // a lock function in a statement that would run on every shard is refused before it runs
            assertThat(answer(s.proxyA(), "SELECT name, GET_LOCK('M', 0) FROM users")).contains("error 7002").contains("default shard s0");
        } finally {
            second.close();
        }
    }

    @Test
    void temporaryTableIsTheSessionsOwn() throws Exception {
        try (Sessions s = sessions()) {
            a(s, "CREATE TEMPORARY TABLE scratch (id INT PRIMARY KEY, v VARCHAR(10))");
            a(s, "INSERT INTO scratch VALUES (1, 'one'), (2, 'two')");
            assertThat(a(s, "SELECT * FROM scratch ORDER BY id")).isEqualTo("[id, v] [[1, one], [2, two]]");
            assertThat(b(s, "SELECT * FROM scratch")).startsWith("error 1146");
            // statements on sharded tables in between (other shards, other connections) do not lose it
            a(s, "SELECT COUNT(*) FROM users");
            a(s, "UPDATE scratch SET v = 'uno' WHERE id = 1");
            a(s, "BEGIN");
            a(s, "INSERT INTO scratch VALUES (3, 'three')");
            a(s, "SELECT name FROM users WHERE id = 3");
            a(s, "COMMIT");
            assertThat(a(s, "SELECT * FROM scratch ORDER BY id")).isEqualTo("[id, v] [[1, uno], [2, two], [3, three]]");
            a(s, "DROP TEMPORARY TABLE scratch");
            a(s, "SELECT * FROM scratch");
            // a temporary table named like a sharded table would hide it on one shard only
            assertThat(answer(s.proxyA(), "CREATE TEMPORARY TABLE users (id INT)")).contains("error 7002").contains("temporary table");
        }
    }

    @Test
    void userVariablesAcrossStatementsAndShards() throws Exception {
        try (Sessions s = sessions()) {
            a(s, "SET @x = 7");
            assertThat(a(s, "SELECT @x")).isEqualTo("[@x] [[7]]");
            assertThat(b(s, "SELECT @x")).isEqualTo("[@x] [[NULL]]");
            // @x in a WHERE on a sharded table: not a key literal, so every shard runs it with the session's @x
            assertThat(a(s, "SELECT id, name FROM users WHERE id = @x")).isEqualTo("[id, name] [[7, user-7]]");
            a(s, "SELECT id FROM users WHERE score > @x * 10 ORDER BY id");
            a(s, "SELECT name INTO @n FROM users WHERE id = 3");
            assertThat(a(s, "SELECT @n, LENGTH(@n)")).isEqualTo("[@n, LENGTH(@n)] [[user-3, 6]]");
            a(s, "SELECT id FROM users WHERE name = @n");
            a(s, "SELECT @y := score FROM users WHERE id = 5");
            a(s, "SELECT @y + 1, @x * @y");
            a(s, "SET @s = 'héllo wörld', @d = 1.50, @f = 1.5e0, @nul = NULL, @big = 18446744073709551615");
            a(s, "SELECT @s, @d, @f, @nul, @big, @s = 'héllo wörld', @d + 1, @f / 3");
            a(s, "SET @x = @x + 1");
            a(s, "SELECT @x, id FROM users WHERE id IN (@x, 2) ORDER BY id");
            a(s, "UPDATE users SET score = score + @x WHERE id = 9");
            a(s, "SELECT score FROM users WHERE id = 9");
            a(s, "SELECT @r := @r + 1 FROM users WHERE id = 4");
            // assigning on several shards at once would give each shard its own value
            assertThat(answer(s.proxyA(), "SELECT @z := id FROM users")).contains("error 7002").contains("assigns user variables");
            assertThat(b(s, "SELECT @x, @n, @s")).isEqualTo("[@x, @n, @s] [[NULL, NULL, NULL]]");
        }
    }

    @Test
    void stateOutlivesTransactions() throws Exception {
        try (Sessions s = sessions()) {
            a(s, "BEGIN");
            a(s, "SELECT name FROM users WHERE id = 2 FOR UPDATE");
            a(s, "CREATE TEMPORARY TABLE in_tx (id INT)");
            a(s, "INSERT INTO in_tx VALUES (1)");
            a(s, "SELECT GET_LOCK('tx', 0)");
            a(s, "SET @in_tx = 'kept'");
            a(s, "ROLLBACK");
            // a temporary table's creation, a named lock and a variable are not undone by ROLLBACK
            a(s, "SELECT * FROM in_tx");
            assertThat(b(s, "SELECT GET_LOCK('tx', 0)")).endsWith("[[0]]");
            a(s, "SET autocommit = 0");
            a(s, "INSERT INTO in_tx VALUES (2)");
            a(s, "SELECT @in_tx, id FROM users WHERE id IN (3, 4) ORDER BY id");
            a(s, "COMMIT");
            a(s, "SET autocommit = 1");
            a(s, "SELECT * FROM in_tx ORDER BY id");
            assertThat(a(s, "SELECT RELEASE_LOCK('tx')")).endsWith("[[1]]");
        }
    }

    @Test
    void userVariablesWithServerSidePreparedStatements() throws Exception {
        try (Connection p = cluster.proxyConnection("useServerPrepStmts=true");
                Connection r = cluster.referenceConnection("useServerPrepStmts=true")) {
            for (Connection c : List.of(p, r)) {
                Sql.update(c, "SET @base = 5");
            }
            assertThat(Sql.query(p, "SELECT id, name FROM users WHERE id = @base + ?", 1))
                    .isEqualTo(Sql.query(r, "SELECT id, name FROM users WHERE id = @base + ?", 1)).hasSize(1);
            assertThat(Sql.query(p, "SELECT @base * ?, @nothing", 3)).isEqualTo(Sql.query(r, "SELECT @base * ?, @nothing", 3));
        }
    }

    @Test
    void sqlPrepareExecuteDeallocate() throws Exception {
        try (Sessions s = sessions()) {
            assertThat(a(s, "PREPARE byId FROM 'SELECT id, name FROM users WHERE id = ?'")).isEqualTo("updated 0");
            a(s, "SET @id = 4");
            assertThat(a(s, "EXECUTE byId USING @id")).isEqualTo("[id, name] [[4, user-4]]");
            a(s, "SET @id = 11");
            a(s, "EXECUTE byId USING @id");
            a(s, "EXECUTE byId");
            b(s, "EXECUTE byId USING @id");
            a(s, "SET @q = 'SELECT COUNT(*) FROM users WHERE score >= ?'");
            a(s, "PREPARE counting FROM @q");
            a(s, "SET @min = 50");
            a(s, "EXECUTE counting USING @min");
            a(s, "DEALLOCATE PREPARE byId");
            assertThat(a(s, "EXECUTE byId USING @id")).startsWith("error 1243");
            a(s, "DROP PREPARE counting");
            a(s, "DEALLOCATE PREPARE counting");
        }
    }

    @Test
    void foundRowsAfterScatterWithLimit() throws Exception {
        try (Sessions s = sessions()) {
            assertThat(a(s, "SELECT SQL_CALC_FOUND_ROWS id, name FROM users ORDER BY id LIMIT 5")).contains("[5, user-5]]");
            assertThat(a(s, "SELECT FOUND_ROWS()")).isEqualTo("[FOUND_ROWS()] [[12]]");
            assertThat(a(s, "SELECT FOUND_ROWS()")).isEqualTo("[FOUND_ROWS()] [[1]]");
            a(s, "SELECT SQL_CALC_FOUND_ROWS id FROM users WHERE score > 35 ORDER BY id DESC LIMIT 2, 3");
            a(s, "SELECT FOUND_ROWS() AS total");
            a(s, "SELECT SQL_CALC_FOUND_ROWS name FROM users WHERE id = 6 LIMIT 0");
            a(s, "SELECT FOUND_ROWS()");
            a(s, "SELECT id FROM users WHERE id < 4");
            a(s, "SELECT FOUND_ROWS()");
            assertThat(answer(s.proxyA(), "SELECT FOUND_ROWS() + 1")).contains("error 7002").contains("FOUND_ROWS()");
        }
    }

    @Test
    void rowCountAfterScatterWrites() throws Exception {
        try (Sessions s = sessions()) {
            assertThat(a(s, "UPDATE users SET score = score + 1")).isEqualTo("updated 12");
            assertThat(a(s, "SELECT ROW_COUNT()")).isEqualTo("[ROW_COUNT()] [[12]]");
            a(s, "SELECT ROW_COUNT()");
            a(s, "DELETE FROM users WHERE id > 100");
            a(s, "SELECT ROW_COUNT()");
            a(s, "INSERT INTO users (id, name, score) VALUES (101, 'x', 1), (102, 'y', 2), (103, 'z', 3)");
            a(s, "SELECT ROW_COUNT()");
            a(s, "DELETE FROM users WHERE id > 100");
            a(s, "SELECT ROW_COUNT()");
            a(s, "SET @w = 1");
            a(s, "SELECT ROW_COUNT()");
            a(s, "UPDATE users SET score = score + 1 WHERE id = 1");
            assertThat(a(s, "INSERT INTO users (id, name, score) VALUES (1, 'dup', 0)")).startsWith("error 1062");
            assertThat(a(s, "SELECT ROW_COUNT()")).isEqualTo("[ROW_COUNT()] [[-1]]");
            a(s, "UPDATE users SET score = score - 1 WHERE id > 6");
            a(s, "SELECT FOUND_ROWS(), ROW_COUNT()");
        }
    }

    @Test
    void lastInsertIdWithAnExpression() throws Exception {
        try (Sessions s = sessions()) {
            assertThat(a(s, "SELECT LAST_INSERT_ID(42)")).isEqualTo("[LAST_INSERT_ID(42)] [[42]]");
            assertThat(a(s, "SELECT LAST_INSERT_ID()")).isEqualTo("[LAST_INSERT_ID()] [[42]]");
            // the sequence idiom: the OK packet carries the value
            a(s, "UPDATE users SET score = LAST_INSERT_ID(score + 1000) WHERE id = 5");
            a(s, "SELECT LAST_INSERT_ID()");
            a(s, "UPDATE users SET score = LAST_INSERT_ID(score + 1) WHERE id = 999");
            a(s, "SELECT LAST_INSERT_ID()");
            a(s, "SELECT LAST_INSERT_ID(score) FROM users WHERE id = 8");
            a(s, "SELECT LAST_INSERT_ID()");
            // a write using LAST_INSERT_ID() gets the session's value, not the shard connection's
            a(s, "UPDATE users SET score = LAST_INSERT_ID() WHERE id = 2");
            a(s, "SELECT score FROM users WHERE id = 2");
            a(s, "SELECT LAST_INSERT_ID(6)");
            assertThat(a(s, "SELECT id, name FROM users WHERE id = LAST_INSERT_ID()")).isEqualTo("[id, name] [[6, user-6]]");
            assertThat(b(s, "SELECT LAST_INSERT_ID()")).isEqualTo("[LAST_INSERT_ID()] [[0]]");
            // generated ids of a table on one shard: the first row's id of a multi-row INSERT, from the OK packet
            a(s, "CREATE TABLE log_entries (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
            a(s, "INSERT INTO log_entries (v) VALUES (1), (2), (3)");
            assertThat(a(s, "SELECT LAST_INSERT_ID()")).isEqualTo("[LAST_INSERT_ID()] [[1]]");
            a(s, "INSERT INTO log_entries (v) VALUES (4)");
            a(s, "SELECT LAST_INSERT_ID()");
            // a multi-shard INSERT that generates nothing leaves it as it was
            a(s, "INSERT INTO users (id, name, score) VALUES (201, 'p', 1), (202, 'q', 2), (203, 'r', 3)");
            a(s, "SELECT LAST_INSERT_ID()");
            a(s, "DELETE FROM users WHERE id > 200");
            a(s, "DROP TABLE log_entries");
        }
    }

    /**
     * CONNECTION_ID() is the id the session got in the handshake wherever it appears: selected alone the proxy answers
     * it, in writes and after a select list it becomes the value (each statement may run on another pooled shard
     * connection, whose own id a shard would give), and in a select list, whose text labels the column, it is refused.
     */
    @Test
    void connectionIdIsTheSessionsInEveryStatement() throws Exception {
        try (Connection c = cluster.proxyConnection("")) {
            String id = Long.toString(c.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).getId());
            try {
                assertThat(answer(c, "SELECT CONNECTION_ID() AS mine")).isEqualTo("[mine] [[" + id + "]]");
                assertThat(answer(c, "INSERT INTO users (id, name, score) VALUES (1001, 'conn-a', CONNECTION_ID()),"
                        + " (1002, 'conn-b', connection_id( ))")).isEqualTo("updated 2");
                assertThat(answer(c, "SELECT id, score FROM users WHERE id IN (1001, 1002) ORDER BY id"))
                        .isEqualTo("[id, score] [[1001, " + id + "], [1002, " + id + "]]");
                assertThat(answer(c, "SELECT id FROM users WHERE score = CONNECTION_ID() ORDER BY id")).isEqualTo("[id] [[1001], [1002]]");
                assertThat(answer(c, "SELECT name FROM users WHERE id = 1002 AND score = CONNECTION_ID()")).isEqualTo("[name] [[conn-b]]");
                assertThat(answer(c, "UPDATE users SET name = 'mine' WHERE id IN (1001, 1002) AND score = CONNECTION_ID()"))
                        .isEqualTo("updated 2");
                assertThat(answer(c, "DELETE FROM users WHERE id = 1001 AND score = CONNECTION_ID()")).isEqualTo("updated 1");
                for (String sql : List.of("SELECT CONNECTION_ID() + 0", "SELECT id, CONNECTION_ID() FROM users WHERE id = 1002",
                        "SELECT CONNECTION_ID() FROM users WHERE id = 1002", "SELECT 1 AS one WHERE CONNECTION_ID() > 0")) {
                    assertThat(answer(c, sql)).as(sql).startsWith("error ").contains("CONNECTION_ID() is this session's id");
                }
            } finally {
                Sql.update(c, "DELETE FROM users WHERE id IN (1001, 1002)");
            }
        }
    }

    @Test
    void pinnedConnectionLimitAndMetric() throws Exception {
        ProxyServer limited = cluster.startProxyWithAdmin(new ShardgateConfig.Limits(16 * 1024 * 1024, 100, 2));
        try (Connection one = cluster.proxyConnection(limited, ""); Connection two = cluster.proxyConnection(limited, "");
                Connection three = cluster.proxyConnection(limited, "")) {
            assertThat(answer(one, "SELECT GET_LOCK('limit-1', 0)")).endsWith("[[1]]");
            assertThat(answer(two, "CREATE TEMPORARY TABLE t2 (id INT)")).isEqualTo("updated 0");
            String refused = answer(three, "SELECT GET_LOCK('limit-3', 0)");
            assertThat(refused).startsWith("error 7108").contains("shard s0").contains("limits.max-pinned-per-shard = 2")
                    .contains("named lock");
            // refused before it ran: the lock is free
            try (Connection s0 = cluster.shardConnection(0)) {
                assertThat(Sql.query(s0, "SELECT IS_FREE_LOCK('limit-3')")).containsExactly(List.of("1"));
            }
            String base = "http://127.0.0.1:" + limited.adminPort();
            String metrics = get(base + "/metrics");
            assertThat(metrics).contains("shardgate_pinned_connections{reason=\"named lock\",shard=\"s0\"} 1.0")
                    .contains("shardgate_pinned_connections{reason=\"temporary table\",shard=\"s0\"} 1.0");
            assertThat(get(base + "/api/status")).contains("\"pinned\":2,\"pinnedLimit\":2");
            // dropping its last temporary table lets the session's connection go back to the pool
            assertThat(answer(two, "DROP TEMPORARY TABLE t2")).isEqualTo("updated 0");
            assertThat(get(base + "/metrics")).contains("shardgate_pinned_connections{reason=\"temporary table\",shard=\"s0\"} 0.0");
            assertThat(answer(three, "SELECT GET_LOCK('limit-3', 0)")).endsWith("[[1]]");
            assertThat(answer(two, "SELECT GET_LOCK('limit-2', 0)")).startsWith("error 7108");
            one.close();
            awaitPinned(base, "shardgate_pinned_connections{reason=\"named lock\",shard=\"s0\"} 1.0");
            assertThat(answer(two, "SELECT GET_LOCK('limit-2', 0)")).endsWith("[[1]]");
            assertThat(answer(two, "SELECT * FROM t2")).startsWith("error 1146");
        } finally {
            limited.close();
        }
    }

    @Test
    void pooledConnectionKeepsNothingOfAnEndedSession() throws Exception {
        String backendId;
        try (Connection first = cluster.proxyConnection("")) {
            Sql.update(first, "CREATE TEMPORARY TABLE leftover (id INT)");
            Sql.query(first, "SELECT GET_LOCK('leftover', 0)");
            Sql.update(first, "SET @leftover = 'still here'");
            Sql.query(first, "SELECT @leftover2 := name FROM users WHERE id = 1");
            try (Connection s0 = cluster.shardConnection(0)) {
                backendId = Sql.query(s0, "SELECT IS_USED_LOCK('leftover')").getFirst().getFirst(); // the pinned connection
            }
        }
        try (Connection s0 = cluster.shardConnection(0)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!Sql.query(s0, "SELECT IS_FREE_LOCK('leftover')").equals(List.of(List.of("1"))) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(Sql.query(s0, "SELECT IS_FREE_LOCK('leftover')")).containsExactly(List.of("1"));
            // reset with COM_RESET_CONNECTION and back in the pool, not closed
            assertThat(Sql.query(s0, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + backendId))
                    .containsExactly(List.of("1"));
        }
        // the next sessions get the pool's connections, the ended session's among them
        for (int i = 0; i < 20; i++) {
            try (Connection next = cluster.proxyConnection("")) {
                assertThat(answer(next, "SELECT * FROM leftover")).startsWith("error 1146");
                assertThat(answer(next, "SELECT @leftover, @leftover2")).isEqualTo("[@leftover, @leftover2] [[NULL, NULL]]");
                assertThat(answer(next, "SELECT name FROM users WHERE id IN (1, 2) AND @leftover IS NULL ORDER BY id"))
                        .isEqualTo("[name] [[user-1], [user-2]]");
            }
        }
    }

    @Test
    void mariadbClientKeepsItsVariablesAndTemporaryTable() {
        String sql = "SET @greeting = 'hi'; CREATE TEMPORARY TABLE notes (id INT, body VARCHAR(20));"
                + " INSERT INTO notes VALUES (1, @greeting); SELECT body, @greeting FROM notes; SELECT SQL_CALC_FOUND_ROWS id FROM users ORDER BY id LIMIT 3; SELECT FOUND_ROWS();";
        var viaProxy = mariadb(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, sql);
        var direct = mariadb(cluster.reference().port(), "root", "", sql);
        assertThat(viaProxy.exitCode()).as(viaProxy.output()).isZero();
        assertThat(viaProxy.output()).isEqualTo(direct.output()).contains("12");
    }

    private static CommandRunner.Result mariadb(int port, String user, String password, String sql) {
        List<String> cmd = new ArrayList<>(List.of("mariadb", "--no-defaults", "--batch", "-A", "-h127.0.0.1",
                "-P" + port, "-u" + user, ShardedCluster.DATABASE, "-e", sql));
        if (!password.isEmpty()) {
            cmd.add(6, "-p" + password);
        }
        return CommandRunner.of(cmd.toArray(String[]::new)).timeout(Duration.ofSeconds(30)).run();
    }

    private static void awaitPinned(String base, String line) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!get(base + "/metrics").contains(line)) {
            assertThat(System.nanoTime()).as("waiting for %s", line).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static String get(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }
}

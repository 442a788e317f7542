package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unmodified PostgreSQL clients through the proxy's PostgreSQL front end on three PostgreSQL shards: pgJDBC with its
 * default prepare threshold (named server-side statements and binary results after five executions) and with
 * {@code prepareThreshold=0} (unnamed statements, text), and {@code psql}. Every answer is compared with the same
 * statement's answer from a reference single PostgreSQL holding the same rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresClientsIT {
    private static final String TABLES = """
            tables:
              - {name: users, kind: sharded, key: id, key-type: int}
              - {name: orders, kind: sharded, key: user_id, key-type: int}
              - {name: countries, kind: broadcast}
            """;
    private static final List<String> DDL = List.of(
            "CREATE TABLE users (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, balance NUMERIC(12,2),"
                    + " score DOUBLE PRECISION, born DATE, seen TIMESTAMP, active BOOLEAN, small SMALLINT, mid INTEGER,"
                    + " note TEXT, avatar BYTEA, country CHAR(2))",
            "CREATE TABLE orders (user_id BIGINT NOT NULL, id BIGINT NOT NULL, total NUMERIC(10,2) NOT NULL,"
                    + " PRIMARY KEY (user_id, id))",
            "CREATE TABLE countries (code CHAR(2) NOT NULL PRIMARY KEY, name VARCHAR(64))");
    private static final List<String> QUERIES = List.of(
            "SELECT * FROM users WHERE id = 7",
            "SELECT * FROM users WHERE id = '42'",
            "SELECT id, name FROM users WHERE id IN (1, 2, 3, 40, 59) ORDER BY id",
            "SELECT id, name FROM users WHERE id = 5 OR id = 17 ORDER BY id",
            "SELECT id, name, balance FROM users ORDER BY id DESC LIMIT 5 OFFSET 3",
            "SELECT id FROM users WHERE id BETWEEN 10 AND 20 ORDER BY id",
            "SELECT COUNT(*), SUM(balance), MIN(score), MAX(seen), MIN(born), MAX(name), SUM(small), SUM(mid) FROM users",
            "SELECT country, COUNT(*), SUM(balance), MAX(id) FROM users GROUP BY country ORDER BY country",
            // computed by the merge: PostgreSQL's numeric division scale and float8 notation
            "SELECT AVG(mid), AVG(small), AVG(balance), AVG(score), SUM(score), AVG(id) FROM users",
            // (exact doubles only: a sum of inexact ones depends on the order of the additions, across shards as in
            // PostgreSQL's own parallel aggregation)
            "SELECT country, AVG(balance), SUM(score * 1e13), AVG(score / 1048576) FROM users GROUP BY country ORDER BY country",
            "SELECT DISTINCT country FROM users ORDER BY country",
            "SELECT u.name, o.id, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 7 ORDER BY o.id",
            "SELECT u.id, c.name FROM users u JOIN countries c ON c.code = u.country ORDER BY u.id LIMIT 10",
            "SELECT * FROM countries ORDER BY code",
            "SELECT COUNT(*) FROM orders",
            "SELECT user_id, SUM(total) FROM orders GROUP BY user_id ORDER BY SUM(total) DESC, user_id LIMIT 7",
            "SELECT id, avatar, active, small, mid, score, seen, born FROM users WHERE id IN (3, 6, 9, 11) ORDER BY id",
            "SELECT 1 + 1, 'x', NULL, 2.50::numeric, true");

    private PgShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(3, TABLES, "scram-sha-256");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (String ddl : DDL) {
                Sql.update(p, ddl);
                Sql.update(r, ddl);
            }
            for (String insert : seedInserts()) {
                assertThat(Sql.update(p, insert)).as(insert).isEqualTo(Sql.update(r, insert));
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static List<String> seedInserts() {
        String[] countries = {"FR", "DE", "JP", "BR", null};
        StringBuilder users = new StringBuilder("INSERT INTO users (id, name, balance, score, born, seen, active, small, mid, note,"
                + " avatar, country) VALUES ");
        for (int id = 1; id <= 60; id++) {
            String country = countries[id % countries.length];
            users.append(id > 1 ? "," : "").append('(').append(id).append(", '")
                    .append(id % 7 == 0 ? "Zoë-日本-" + id : "user-" + id).append("', ")
                    .append(id % 11 == 0 ? "NULL" : (id * 13.25) + "").append(", ").append(id * 1.5).append(", '")
                    .append(1970 + id).append("-0").append(1 + id % 9).append("-1").append(id % 10).append("', '2024-05-0")
                    .append(1 + id % 9).append(" 10:").append(10 + id % 50).append(":00.").append(100000 + id).append("', ")
                    .append(id % 4 == 0 ? "NULL" : id % 2 == 0 ? "true" : "false").append(", ").append(id - 30).append(", ")
                    .append(id * 1000).append(", ").append(id % 5 == 0 ? "NULL" : "'note " + id + "'").append(", ")
                    .append(id % 3 == 0 ? "'\\x00ff10'" : "NULL").append(", ")
                    .append(country == null ? "NULL" : "'" + country + "'").append(')');
        }
        StringBuilder orders = new StringBuilder("INSERT INTO orders (user_id, id, total) VALUES ");
        boolean first = true;
        for (int user = 1; user <= 60; user++) {
            for (int o = 0; o < user % 4; o++) {
                orders.append(first ? "" : ",").append('(').append(user).append(", ").append(o).append(", ")
                        .append(user * 10 + o).append(".50)");
                first = false;
            }
        }
        return List.of(users.toString(), orders.toString(),
                "INSERT INTO countries (code, name) VALUES ('FR', 'France'), ('DE', 'Germany'), ('JP', 'Japan'), ('BR', 'Brazil')");
    }

    @ParameterizedTest(name = "prepareThreshold={0}")
    @ValueSource(ints = {5, 0})
    void everyQueryAnswersLikeASingleServer(int prepareThreshold) throws SQLException {
        String opts = "prepareThreshold=" + prepareThreshold;
        try (Connection p = cluster.proxyConnection(opts); Connection r = cluster.referenceConnection(opts)) {
            for (String q : QUERIES) {
                assertThat(Sql.query(p, q)).as("simple: %s", q).isEqualTo(Sql.query(r, q)).isNotEmpty();
                // seven runs: past the default threshold pgJDBC switches to a named statement and binary results
                for (int run = 0; run < 7; run++) {
                    assertThat(query(p, q)).as("extended run %d: %s", run, q).isEqualTo(query(r, q));
                }
            }
            String byId = "SELECT id, name, balance, seen, avatar, active FROM users WHERE id = ?";
            for (int run = 0; run < 7; run++) {
                for (long id : new long[] {1, 7, 42, 60}) {
                    assertThat(query(p, byId, id)).as("%s with %d", byId, id).isEqualTo(query(r, byId, id)).hasSize(1);
                }
                String in = "SELECT id, note FROM users WHERE id IN (?, ?, ?) ORDER BY id";
                assertThat(Sql.query(p, in, 3L, 30, 44)).isEqualTo(Sql.query(r, in, 3L, 30, 44)).hasSize(3);
                String byName = "SELECT id FROM users WHERE name = ? AND id = ?";
                assertThat(Sql.query(p, byName, "user-8", 8)).isEqualTo(Sql.query(r, byName, "user-8", 8)).hasSize(1);
            }
        }
    }

    @ParameterizedTest(name = "prepareThreshold={0}")
    @ValueSource(ints = {5, 0})
    void writesAndTransactionsBehaveAsOnASingleServer(int prepareThreshold) throws SQLException {
        String opts = "prepareThreshold=" + prepareThreshold;
        long base = 1000 + prepareThreshold * 100L;
        try (Connection p = cluster.proxyConnection(opts); Connection r = cluster.referenceConnection(opts)) {
            for (Connection c : List.of(p, r)) {
                for (int run = 0; run < 7; run++) {
                    long id = base + run;
                    assertThat(Sql.update(c, "INSERT INTO users (id, name, balance, avatar) VALUES (?, ?, ?, ?)", id, "w" + id,
                            new java.math.BigDecimal("1.25"), new byte[] {1, 2, (byte) run})).isEqualTo(1);
                }
                assertThat(Sql.update(c, "UPDATE users SET balance = balance + 1 WHERE id >= ? AND id < ?", base, base + 7))
                        .isEqualTo(7);
                c.setAutoCommit(false);
                Sql.update(c, "INSERT INTO orders (user_id, id, total) VALUES (" + base + ", 1, 5.00), (" + (base + 1) + ", 1, 6.00)");
                Sql.update(c, "UPDATE users SET balance = 0 WHERE id = " + (base + 2));
                c.rollback();
                Sql.update(c, "INSERT INTO orders (user_id, id, total) VALUES (" + base + ", 2, 7.00), (" + (base + 3) + ", 2, 8.00)");
                c.commit();
                c.setAutoCommit(true);
                assertThat(Sql.update(c, "DELETE FROM users WHERE id = " + (base + 6))).isEqualTo(1);
            }
            String check = "SELECT u.id, u.name, u.balance, u.avatar, o.id, o.total FROM users u LEFT JOIN orders o ON o.user_id = u.id"
                    + " WHERE u.id >= " + base + " AND u.id < " + (base + 7) + " ORDER BY u.id, o.id";
            assertThat(query(p, check)).isEqualTo(query(r, check)).hasSize(6);
        }
    }

    @Test
    void errorsCarryTheBackendsSqlStateAndAFailedTransactionStaysFailed() throws SQLException {
        try (Connection p = cluster.proxyConnection("")) {
            SQLException duplicate = catchThrowableOfType(SQLException.class,
                    () -> Sql.update(p, "INSERT INTO users (id, name) VALUES (1, 'again')"));
            assertThat(duplicate.getSQLState()).isEqualTo("23505");
            assertThat(duplicate.getMessage()).contains("duplicate key value violates unique constraint");

            p.setAutoCommit(false);
            Sql.update(p, "UPDATE users SET note = 'in tx' WHERE id = 2");
            assertThat(catchThrowableOfType(SQLException.class, () -> Sql.query(p, "SELECT no_such_column FROM users WHERE id = 2"))
                    .getSQLState()).isEqualTo("42703");
            assertThat(catchThrowableOfType(SQLException.class, () -> Sql.query(p, "SELECT 1 FROM users WHERE id = 3"))
                    .getSQLState()).isEqualTo("25P02");
            p.rollback();
            p.setAutoCommit(true);
            assertThat(Sql.query(p, "SELECT note FROM users WHERE id = 2")).containsExactly(List.of("note 2"));

            SQLException unroutable = catchThrowableOfType(SQLException.class,
                    () -> Sql.query(p, "SELECT u.id FROM users u JOIN orders o ON o.id = u.id"));
            assertThat(unroutable.getSQLState()).isEqualTo("0A000");
            assertThat(unroutable.getMessage()).contains("CROSS_SHARD_JOIN");

            // pgJDBC's Statement sends it through Parse/Bind/Execute: refused with the reason (CopyManager's COPY works)
            SQLException copy = catchThrowableOfType(SQLException.class, () -> Sql.update(p, "COPY users FROM STDIN"));
            assertThat(copy.getSQLState()).isEqualTo("0A000");
            assertThat(copy.getMessage()).contains("supported by Shardgate in a simple-query message only");
        }
    }

    /** pgJDBC's Statement.cancel sends a CancelRequest with the BackendKeyData it got; the shard's statement stops. */
    @Test
    void cancelStopsTheRunningStatementOnItsShard() throws Exception {
        try (Connection p = cluster.proxyConnection(""); Statement st = p.createStatement()) {
            long start = System.nanoTime();
            Thread canceller = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(700);
                    st.cancel();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> st.executeQuery("SELECT pg_sleep(30), id FROM users WHERE id = 4"));
            canceller.join();
            assertThat(e.getSQLState()).isEqualTo("57014");
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(10);
            // the session goes on
            assertThat(Sql.query(p, "SELECT name FROM users WHERE id = 4")).containsExactly(List.of("user-4"));
        }
    }

    @Test
    void wrongPasswordIsRefusedWithSqlState28P01() {
        SQLException e = catchThrowableOfType(SQLException.class, () -> java.sql.DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + cluster.proxyPort() + "/" + PgShardedCluster.DATABASE
                        + "?user=app&password=wrong&sslmode=disable"));
        assertThat(e.getSQLState()).isEqualTo("28P01");
        SQLException db = catchThrowableOfType(SQLException.class, () -> java.sql.DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + cluster.proxyPort() + "/nosuchdb?user=app&password=app-secret&sslmode=disable"));
        assertThat(db.getSQLState()).isEqualTo("3D000");
    }

    @Test
    void psqlPrintsWhatItPrintsAgainstASingleServer() throws Exception {
        String script = """
                SELECT id, name, balance, avatar, active FROM users WHERE id IN (3, 6, 7) ORDER BY id;
                SELECT COUNT(*) AS n, SUM(total) AS total FROM orders; SELECT country, COUNT(*) FROM users GROUP BY country ORDER BY country;
                BEGIN;
                INSERT INTO users (id, name) VALUES (5001, 'psql-a'), (5002, 'psql-b'), (5003, 'psql-c');
                UPDATE users SET note = 'from psql' WHERE id IN (5001, 5003);
                COMMIT;
                SELECT id, name, note FROM users WHERE id > 5000 ORDER BY id;
                \\set who 5002
                SELECT name FROM users WHERE id = :who \\g
                DELETE FROM users WHERE id > 5000;
                SELECT 'done' AS status;
                \\d users
                \\dt
                """;
        String viaProxy = psql(cluster.proxyPort(), PgShardedCluster.USER, PgShardedCluster.PASSWORD, script);
        String direct = psql(cluster.reference().port(), "postgres", "", script);
        assertThat(viaProxy).isEqualTo(direct).contains("psql-b").contains("from psql").contains("INSERT 0 3").contains("done")
                .contains("Table \"public.users\"").contains("\"users_pkey\" PRIMARY KEY, btree (id)");
    }

    private static String psql(int port, String user, String password, String script) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", user, "-d", PgShardedCluster.DATABASE, "--echo-errors", "-f", "-");
        Map<String, String> env = pb.environment();
        env.put("PGPASSWORD", password);
        env.put("PGCONNECT_TIMEOUT", "10");
        env.put("PGSSLMODE", "prefer");
        pb.redirectErrorStream(true);
        Process process = pb.start();
        process.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().close();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("psql output:\n%s", out).isZero();
        return out;
    }

    /** A prepared query's rows as text; bytea as hex of {@code getBytes} (pgJDBC's getString of a binary bytea is not its text). */
    private static List<List<String>> query(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                List<List<String>> out = new ArrayList<>();
                while (rs.next()) {
                    List<String> row = new ArrayList<>(n);
                    for (int i = 1; i <= n; i++) {
                        Object v = rs.getMetaData().getColumnType(i) == java.sql.Types.BINARY ? rs.getBytes(i) : rs.getString(i);
                        row.add(v == null ? "NULL" : v instanceof byte[] b ? java.util.HexFormat.of().formatHex(b) : (String) v);
                    }
                    out.add(row);
                }
                return out;
            }
        }
    }

    /** pgJDBC's Statement.execute of several statements in one string sends them as one simple query. */
    @Test
    void severalStatementsInOneSimpleQuery() throws SQLException {
        try (Connection p = cluster.proxyConnection("preferQueryMode=simple"); Statement st = p.createStatement()) {
            boolean rows = st.execute("SELECT id FROM users WHERE id = 1; SELECT name FROM users WHERE id = 2; SELECT COUNT(*) FROM countries");
            List<String> seen = new ArrayList<>();
            while (true) {
                if (rows) {
                    try (ResultSet rs = st.getResultSet()) {
                        rs.next();
                        seen.add(rs.getString(1));
                    }
                } else if (st.getUpdateCount() == -1) {
                    break;
                }
                rows = st.getMoreResults();
            }
            assertThat(seen).containsExactly("1", "user-2", "4");
        }
        try (Connection p = cluster.proxyConnection("preferQueryMode=simple");
                PreparedStatement ps = p.prepareStatement("SELECT name FROM users WHERE id = ?")) {
            ps.setLong(1, 9);
            assertThat(Sql.rows(ps.executeQuery())).containsExactly(List.of("user-9"));
        }
    }
}

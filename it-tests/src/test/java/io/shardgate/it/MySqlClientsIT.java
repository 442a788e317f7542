package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.local.CommandRunner;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unmodified MySQL clients through the proxy on three MariaDB shards: Connector/J with client-side
 * and server-side prepared statements, and the mariadb command-line client. Every answer is compared
 * with the same statement's answer from a reference single server holding the same rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MySqlClientsIT {
    private static final String TABLES = """
            tables:
              - {name: users, kind: sharded, key: id, key-type: int}
              - {name: orders, kind: sharded, key: user_id, key-type: int}
              - {name: countries, kind: broadcast}
            """;
    private static final List<String> DDL = List.of(
            "CREATE TABLE users (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(64) NOT NULL, balance DECIMAL(12,2),"
                    + " score DOUBLE, born DATE, seen DATETIME(6), wake TIME, note TEXT, avatar BLOB, flags INT UNSIGNED,"
                    + " big BIGINT UNSIGNED, country CHAR(2)) ENGINE=InnoDB",
            "CREATE TABLE orders (user_id BIGINT NOT NULL, id BIGINT NOT NULL, total DECIMAL(10,2) NOT NULL,"
                    + " PRIMARY KEY (user_id, id)) ENGINE=InnoDB",
            "CREATE TABLE countries (code CHAR(2) NOT NULL PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB");

    private ShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.start(3, TABLES);
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (String ddl : DDL) {
                Sql.update(p, ddl);
                Sql.update(r, ddl);
            }
            for (String insert : seedInserts()) {
                assertThat(Sql.update(p, insert)).isEqualTo(Sql.update(r, insert));
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
        StringBuilder users = new StringBuilder("INSERT INTO users (id, name, balance, score, born, seen, wake, note,"
                + " avatar, flags, big, country) VALUES ");
        for (int id = 1; id <= 60; id++) {
            if (id > 1) {
                users.append(',');
            }
            String country = countries[id % countries.length];
            users.append('(').append(id).append(", '").append(id % 7 == 0 ? "Zoë-日本-" + id : "user-" + id).append("', ")
                    .append(id % 11 == 0 ? "NULL" : (id * 13.25) + "").append(", ").append(id * 1.5).append(", '")
                    .append(1970 + id).append("-0").append(1 + id % 9).append("-1").append(id % 10).append("', '2024-05-0")
                    .append(1 + id % 9).append(" 10:").append(10 + id % 50).append(":00.").append(100000 + id).append("', '")
                    .append(id % 2 == 0 ? "-" : "").append(id + 20).append(":05:06', ")
                    .append(id % 5 == 0 ? "NULL" : "'note " + id + "'").append(", ").append(id % 3 == 0 ? "x'00FF10'" : "NULL")
                    .append(", ").append(id * 1000).append(", ").append(id == 60 ? "18446744073709551615" : Long.toString(id))
                    .append(", ").append(country == null ? "NULL" : "'" + country + "'").append(')');
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

    private static final List<String> QUERIES = List.of(
            "SELECT * FROM users WHERE id = 7",
            "SELECT * FROM users WHERE id = '42'",
            "SELECT id, name FROM users WHERE id IN (1, 2, 3, 40, 59) ORDER BY id",
            "SELECT id, name FROM users WHERE id = 5 OR id = 17 ORDER BY id",
            "SELECT id, name, balance FROM users ORDER BY id DESC LIMIT 5 OFFSET 3",
            "SELECT id FROM users WHERE id BETWEEN 10 AND 20 ORDER BY id",
            "SELECT COUNT(*), SUM(balance), MIN(score), MAX(seen), MIN(born), MAX(name) FROM users",
            "SELECT AVG(flags), AVG(balance), COUNT(note) FROM users",
            "SELECT country, COUNT(*), SUM(balance), MAX(id) FROM users GROUP BY country ORDER BY country",
            "SELECT DISTINCT country FROM users ORDER BY country",
            "SELECT u.name, o.id, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.id = 7 ORDER BY o.id",
            "SELECT u.id, c.name FROM users u JOIN countries c ON c.code = u.country ORDER BY u.id LIMIT 10",
            "SELECT * FROM countries ORDER BY code",
            "SELECT COUNT(*) FROM orders",
            "SELECT user_id, SUM(total) FROM orders GROUP BY user_id ORDER BY SUM(total) DESC, user_id LIMIT 7",
            "SELECT big, flags, wake, avatar FROM users WHERE id IN (59, 60, 2, 3) ORDER BY id",
            "SELECT 1 + 1, 'x', NULL");

    @ParameterizedTest(name = "useServerPrepStmts={0}")
    @ValueSource(booleans = {false, true})
    void everyQueryAnswersLikeASingleServer(boolean serverPrepared) throws SQLException {
        String opts = "useServerPrepStmts=" + serverPrepared;
        try (Connection p = cluster.proxyConnection(opts); Connection r = cluster.referenceConnection(opts)) {
            for (String q : QUERIES) {
                assertThat(Sql.query(p, q)).as("text: %s", q).isEqualTo(Sql.query(r, q)).isNotEmpty();
                assertThat(Sql.query(p, q, new Object[0])).as("prepared: %s", q).isEqualTo(Sql.query(r, q, new Object[0]));
            }
            for (long id : new long[] {1, 7, 42, 60}) {
                String q = "SELECT id, name, balance, seen, big FROM users WHERE id = ?";
                assertThat(Sql.query(p, q, id)).as("%s with %d", q, id).isEqualTo(Sql.query(r, q, id)).hasSize(1);
            }
            String in = "SELECT id, note FROM users WHERE id IN (?, ?, ?) ORDER BY id";
            assertThat(Sql.query(p, in, 3L, "30", 44)).isEqualTo(Sql.query(r, in, 3L, "30", 44)).hasSize(3);
        }
    }

    @ParameterizedTest(name = "useServerPrepStmts={0}")
    @ValueSource(booleans = {false, true})
    void writesAffectTheSameRowsAsOnASingleServer(boolean serverPrepared) throws SQLException {
        String opts = "useServerPrepStmts=" + serverPrepared;
        long base = serverPrepared ? 1000 : 2000;
        try (Connection p = cluster.proxyConnection(opts); Connection r = cluster.referenceConnection(opts)) {
            for (Connection c : List.of(p, r)) {
                assertThat(Sql.update(c, "INSERT INTO users (id, name, balance) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)",
                        base + 1, "a", 1, base + 2, "b", 2, base + 3, "c", 3)).isEqualTo(3);
                assertThat(Sql.update(c, "UPDATE users SET balance = balance + ? WHERE id = ?", 5, base + 2)).isEqualTo(1);
                assertThat(Sql.update(c, "UPDATE users SET score = 0.5 WHERE id >= ? AND id < ?", base, base + 10)).isEqualTo(3);
                assertThat(Sql.update(c, "DELETE FROM users WHERE id IN (?, ?)", base + 1, base + 3)).isEqualTo(2);
            }
            String check = "SELECT id, name, balance, score FROM users WHERE id >= " + base + " AND id < " + (base + 10) + " ORDER BY id";
            assertThat(Sql.query(p, check)).isEqualTo(Sql.query(r, check)).hasSize(1);
        }
    }

    @ParameterizedTest(name = "useServerPrepStmts={0}")
    @ValueSource(booleans = {false, true})
    void anInsertWithoutAColumnListIsCompletedFromTheTablesColumns(boolean serverPrepared) throws SQLException {
        String opts = "useServerPrepStmts=" + serverPrepared;
        long user = serverPrepared ? 500 : 600;
        try (Connection p = cluster.proxyConnection(opts); Connection r = cluster.referenceConnection(opts)) {
            for (Connection c : List.of(p, r)) {
                assertThat(Sql.update(c, "INSERT INTO orders VALUES (" + user + ", 1, 9.99), (" + (user + 1) + ", 1, 1.50)"))
                        .isEqualTo(2);
                assertThat(Sql.update(c, "INSERT INTO orders VALUES (?, ?, ?)", user + 2, 7, "3.25")).isEqualTo(1);
            }
            String check = "SELECT user_id, id, total FROM orders WHERE user_id BETWEEN " + user + " AND " + (user + 2)
                    + " ORDER BY user_id, id";
            assertThat(Sql.query(p, check)).isEqualTo(Sql.query(r, check)).hasSize(3);
        }
    }

    @Test
    void transactionsCommitAndRollBackOnEveryShardTheyTouched() throws SQLException {
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (Connection c : List.of(p, r)) {
                c.setAutoCommit(false);
                Sql.update(c, "UPDATE users SET balance = balance - 10 WHERE id = 1");
                Sql.update(c, "UPDATE users SET balance = balance + 10 WHERE id = 2");
                Sql.update(c, "UPDATE users SET balance = balance + 10 WHERE id = 3");
                c.rollback();
                Sql.update(c, "UPDATE users SET balance = balance - 20 WHERE id = 4");
                Sql.update(c, "UPDATE users SET balance = balance + 20 WHERE id = 5");
                c.commit();
                c.setAutoCommit(true);
            }
            String check = "SELECT id, balance FROM users WHERE id IN (1, 2, 3, 4, 5) ORDER BY id";
            assertThat(Sql.query(p, check)).isEqualTo(Sql.query(r, check));
            try (Connection other = cluster.proxyConnection("")) {
                assertThat(Sql.query(other, check)).as("committed rows are visible to another session").isEqualTo(Sql.query(r, check));
            }
        }
    }

    @Test
    void backendErrorsReachTheClientUnchanged() throws SQLException {
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            String dup = "INSERT INTO users (id, name) VALUES (7, 'again')";
            SQLException fromProxy = catchThrowableOfType(SQLException.class, () -> Sql.update(p, dup));
            SQLException fromServer = catchThrowableOfType(SQLException.class, () -> Sql.update(r, dup));
            assertThat(fromProxy.getErrorCode()).isEqualTo(1062).isEqualTo(fromServer.getErrorCode());
            assertThat(fromProxy.getSQLState()).isEqualTo(fromServer.getSQLState());
            assertThat(fromProxy.getMessage()).isEqualTo(fromServer.getMessage());
            assertThat(Sql.query(p, "SELECT name FROM users WHERE id = 7")).as("the session is still usable").hasSize(1);
        }
    }

    @Test
    void proxyErrorsAreClearAndCarryTheirCodes() throws SQLException {
        SQLException denied = catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(
                cluster.proxyUrl("").replace("password=app", "password=wrong")));
        assertThat(denied.getErrorCode()).isEqualTo(1045);
        assertThat(denied.getMessage()).contains("Access denied for user 'app'");

        SQLException unknownDb = catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(
                cluster.proxyUrl("").replace("/" + ShardedCluster.DATABASE + "?", "/nosuchdb?")));
        assertThat(unknownDb.getErrorCode()).isEqualTo(1049);
        assertThat(unknownDb.getMessage()).contains("nosuchdb");

        try (Connection p = cluster.proxyConnection("")) {
            assertThatThrownBy(() -> Sql.query(p, "SELECT * FROM users u JOIN orders o ON o.id = u.id"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(7001);
                        assertThat(e.getMessage()).contains("users").contains("orders").contains("shard key");
                    });
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM users WHERE id <= 60")).isEqualTo(60);
        }
    }

    @Test
    void theMariadbCommandLineClientSeesWhatASingleServerShows() throws Exception {
        String sql = "SELECT id, name, balance, seen, note FROM users WHERE id IN (1, 2, 3, 14, 55) ORDER BY id;"
                + " SELECT country, COUNT(*) FROM users GROUP BY country ORDER BY country";
        var viaProxy = mariadb(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, sql);
        var direct = mariadb(cluster.reference().port(), "root", "", sql);
        assertThat(viaProxy.exitCode()).as(viaProxy.output()).isZero();
        assertThat(viaProxy.output()).isEqualTo(direct.output()).contains("Zoë-日本-14");

        var denied = mariadb(cluster.proxy().mysqlPort(), ShardedCluster.USER, "nope", "SELECT 1");
        assertThat(denied.exitCode()).isNotZero();
        assertThat(denied.output()).contains("Access denied");
    }

    private static CommandRunner.Result mariadb(int port, String user, String password, String sql) {
        List<String> cmd = new ArrayList<>(List.of("mariadb", "--no-defaults", "--batch", "-A", "-h127.0.0.1",
                "-P" + port, "-u" + user, "--default-character-set=utf8mb4"));
        if (!password.isEmpty()) {
            cmd.add("-p" + password);
        }
        cmd.addAll(List.of(ShardedCluster.DATABASE, "-e", sql));
        return CommandRunner.of(cmd.toArray(String[]::new)).timeout(Duration.ofSeconds(30)).run();
    }
}

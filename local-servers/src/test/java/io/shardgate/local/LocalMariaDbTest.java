package io.shardgate.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Real mariadbd processes, real Connector/J. One shared server; tests that need their own start one. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalMariaDbTest {
    private LocalMariaDb db;

    @BeforeAll
    void startShared() {
        db = LocalMariaDb.temporary();
    }

    @AfterAll
    void closeShared() {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void jdbcRoundTripIsVisibleToTheCli() throws Exception {
        assertThat(db.host()).isEqualTo("127.0.0.1");
        assertThat(db.port()).isNotIn(0, 3306);
        assertThat(db.jdbcUrl("shop")).isEqualTo("jdbc:mysql://127.0.0.1:" + db.port() + "/shop");
        assertThat(db.isRunning()).isTrue();

        db.createDatabase("shop");
        db.createDatabase("shop"); // idempotent
        try (Connection c = connect(db, "shop"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50))");
            assertThat(st.executeUpdate("INSERT INTO customers VALUES (1, 'Ada Lovelace ✓')")).isEqualTo(1);
            assertThat(rows(st, "SELECT id, name FROM customers")).containsExactly("1|Ada Lovelace ✓");
            assertThat(rows(st, "SELECT CURRENT_USER(), @@character_set_server"))
                    .containsExactly("root@127.0.0.1|utf8mb4");
        }

        assertThat(db.execute("SELECT id, name FROM shop.customers")).isEqualTo("1\tAda Lovelace ✓");
        assertThat(db.execute("shop", "SELECT COUNT(*) FROM customers")).isEqualTo("1");
        assertThat(db.execute("SELECT VERSION()")).contains("MariaDB");
    }

    @Test
    void killMakesConnectsFailFastAndRestartKeepsTheData() throws Exception {
        db.createDatabase("crash");
        db.execute("crash", "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO t VALUES (1, 'survives')");
        int port = db.port();
        long pid = db.pid();

        db.kill();

        assertThat(db.isRunning()).isFalse();
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        long start = System.nanoTime();
        assertThatThrownBy(() -> DriverManager.getConnection(db.jdbcUrl("crash") + "?user=root&connectTimeout=2000").close())
                .isInstanceOf(SQLException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThatThrownBy(() -> db.execute("SELECT 1"))
                .isInstanceOf(LocalServerException.class)
                .hasMessageContaining("127.0.0.1:" + port)
                .hasMessageContaining("not running");

        db.restart();

        assertThat(db.isRunning()).isTrue();
        assertThat(db.port()).isEqualTo(port);
        assertThat(db.pid()).isNotEqualTo(pid);
        try (Connection c = connect(db, "crash"); Statement st = c.createStatement()) {
            assertThat(rows(st, "SELECT id, v FROM t")).containsExactly("1|survives");
        }
    }

    @Test
    void gracefulStopReleasesThePortAndRestartKeepsTheData() throws Exception {
        db.createDatabase("graceful");
        db.execute("graceful", "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (7)");
        int port = db.port();
        try (Connection open = connect(db, "graceful")) { // an open client does not block the shutdown
            long start = System.nanoTime();
            db.stop();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
            assertThat(open.isValid(2)).isFalse();
        }
        assertThat(db.isRunning()).isFalse();
        assertThat(FreePorts.awaitFree(port, Duration.ofSeconds(5))).isTrue();
        db.stop(); // no-op

        db.restart();

        assertThat(db.port()).isEqualTo(port);
        assertThat(db.execute("graceful", "SELECT id FROM t")).isEqualTo("7");
    }

    @Test
    void twoInstancesAreIndependent() throws Exception {
        try (LocalMariaDb other = LocalMariaDb.temporary()) {
            assertThat(other.port()).isNotEqualTo(db.port());
            assertThat(other.baseDir()).isNotEqualTo(db.baseDir());
            for (LocalMariaDb server : List.of(db, other)) {
                server.createDatabase("twin");
                server.execute("twin", "CREATE TABLE IF NOT EXISTS t (who VARCHAR(20))");
            }
            try (Connection c = connect(db, "twin"); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO t VALUES ('first')");
            }
            try (Connection c = connect(other, "twin"); Statement st = c.createStatement()) {
                st.executeUpdate("INSERT INTO t VALUES ('second')");
            }
            assertThat(db.execute("twin", "SELECT who FROM t")).isEqualTo("first");
            assertThat(other.execute("twin", "SELECT who FROM t")).isEqualTo("second");

            other.kill();

            assertThat(db.isRunning()).isTrue();
            assertThat(db.execute("twin", "SELECT who FROM t")).isEqualTo("first");
        }
    }

    @Test
    void closeDeletesTheTemporaryBaseDirAndFreesThePort() throws Exception {
        LocalMariaDb temp = LocalMariaDb.temporary();
        Path base = temp.baseDir();
        int port = temp.port();
        assertThat(temp.deleteOnClose()).isTrue();
        assertThat(base.resolve("data/mysql")).isDirectory();
        assertThat(base.resolve("error.log")).isNotEmptyFile();

        temp.close();
        temp.close(); // idempotent

        assertThat(temp.isRunning()).isFalse();
        assertThat(base).doesNotExist();
        assertThat(FreePorts.awaitFree(port, Duration.ofSeconds(5))).isTrue();
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        }
        assertThatThrownBy(temp::restart).isInstanceOf(IllegalStateException.class);
        try (LocalMariaDb again = LocalMariaDb.temporary(port)) { // another server can take the port
            assertThat(again.port()).isEqualTo(port);
            assertThat(again.execute("SELECT 1")).isEqualTo("1");
        }
    }

    @Test
    void aKeptBaseDirKeepsItsDataForTheNextServer(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("shard-0");
        try (LocalMariaDb first = LocalMariaDb.start(base, 0)) {
            assertThat(first.deleteOnClose()).isFalse();
            first.createDatabase("kept");
            first.execute("kept", "CREATE TABLE t (id INT); INSERT INTO t VALUES (42)");
        }
        assertThat(base.resolve("data/mysql")).isDirectory();
        String installLogBefore = Files.readString(base.resolve("error.log"));

        try (LocalMariaDb second = LocalMariaDb.start(base, 0)) {
            assertThat(second.execute("kept", "SELECT id FROM t")).isEqualTo("42");
            try (Connection c = connect(second, "kept"); Statement st = c.createStatement()) {
                assertThat(rows(st, "SELECT id FROM t")).containsExactly("42");
            }
        }
        assertThat(Files.readString(base.resolve("error.log"))).startsWith(installLogBefore); // appended, not re-created
    }

    @Test
    void aBusyPortIsAClearError() throws Exception {
        try (ServerSocket busy = new ServerSocket()) {
            busy.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), FreePorts.find()));
            int port = busy.getLocalPort();
            assertThatThrownBy(() -> LocalMariaDb.temporary(port))
                    .isInstanceOf(LocalServerException.class)
                    .hasMessageContaining("MariaDB (")
                    .hasMessageContaining("mariadbd")
                    .hasMessageContaining("127.0.0.1:" + port)
                    .hasMessageContaining("already in use");
        }
    }

    @Test
    void aServerThatDiesOnStartReportsItsExitAndLogTail(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("broken");
        Files.createDirectories(base.resolve("data/mysql")); // looks initialised, but has no system tables
        long start = System.nanoTime();
        assertThatThrownBy(() -> LocalMariaDb.start(base, 0))
                .isInstanceOf(LocalServerException.class)
                .hasMessageContaining("MariaDB (")
                .hasMessageContaining("data dir " + base.resolve("data"))
                .hasMessageContaining("exited with code")
                .hasMessageContaining("--- tail of " + base.resolve("error.log"))
                .hasMessageContaining("[ERROR]");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
        assertThat(base).isDirectory(); // a caller-owned dir is kept for diagnosis
    }

    @Test
    void aDatabaseUserHasEverythingInsideItsDatabaseAndNothingOutside() throws Exception {
        db.createDatabase("owned");
        db.createDatabaseUser("owned", "backend", "se'cret\\");
        db.createDatabaseUser("owned", "backend", "se'cret\\"); // idempotent
        try (Connection c = DriverManager.getConnection(db.jdbcUrl("owned"), "backend", "se'cret\\"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (id INT PRIMARY KEY)");
            st.execute("CREATE TEMPORARY TABLE tmp (id INT)");
            st.execute("INSERT INTO t VALUES (1)");
            assertThat(rows(st, "SELECT COUNT(*) FROM t")).containsExactly("1");
            assertThat(rows(st, "SHOW GRANTS")).noneMatch(g -> g.contains("WITH GRANT OPTION") || g.contains("ALL PRIVILEGES ON *.*"));
            assertThatThrownBy(() -> st.executeQuery("SELECT user FROM mysql.user")).hasMessageContaining("denied");
            assertThatThrownBy(() -> st.execute("CREATE DATABASE elsewhere")).hasMessageContaining("denied");
        }
    }

    static Connection connect(LocalServer server, String database) throws SQLException {
        return DriverManager.getConnection(server.jdbcUrl(database) + "?connectTimeout=5000", server.user(), server.password());
    }

    static List<String> rows(Statement st, String sql) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= columns; i++) {
                    row.append(i > 1 ? "|" : "").append(rs.getString(i));
                }
                rows.add(row.toString());
            }
        }
        return rows;
    }
}

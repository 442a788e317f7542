package io.shardgate.local;

import static io.shardgate.local.LocalMariaDbTest.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Real postgres processes (as the OS user postgres when the build runs as root), real pgJDBC. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LocalPostgresTest {
    private LocalPostgres pg;

    @BeforeAll
    void startShared() {
        pg = LocalPostgres.temporary();
    }

    @AfterAll
    void closeShared() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void jdbcRoundTripIsVisibleToPsql() throws Exception {
        assertThat(pg.jdbcUrl("shop")).isEqualTo("jdbc:postgresql://127.0.0.1:" + pg.port() + "/shop");
        assertThat(pg.port()).isNotIn(0, 5432);

        pg.createDatabase("shop");
        pg.createDatabase("shop"); // idempotent
        try (Connection c = connect(pg, "shop"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE customers (id INT PRIMARY KEY, name TEXT)");
            assertThat(st.executeUpdate("INSERT INTO customers VALUES (1, 'Grace Hopper ✓')")).isEqualTo(1);
            assertThat(rows(st, "SELECT id, name FROM customers")).containsExactly("1|Grace Hopper ✓");
            assertThat(rows(st, "SELECT current_user, current_setting('server_encoding'), current_setting('fsync')"))
                    .containsExactly("postgres|UTF8|off");
        }
        assertThat(pg.execute("shop", "SELECT id, name FROM customers")).isEqualTo("1\tGrace Hopper ✓");
        assertThat(pg.execute("SELECT datname FROM pg_database WHERE datname = 'shop'")).isEqualTo("shop");
    }

    @Test
    void serverRunsAsThePostgresUserWhenWeAreRoot() throws Exception {
        String expectedUser = Util.isRoot() ? "postgres" : System.getProperty("user.name");
        assertThat(ProcessHandle.of(pg.pid()).flatMap(h -> h.info().user())).contains(expectedUser);
        assertThat(Files.getOwner(pg.dataDir()).getName()).isEqualTo(expectedUser);
    }

    @Test
    void killMakesConnectsFailFastAndRestartKeepsTheData() throws Exception {
        pg.execute("CREATE TABLE crash (id INT PRIMARY KEY, v TEXT); INSERT INTO crash VALUES (1, 'survives')");
        int port = pg.port();
        long pid = pg.pid();
        var backends = ProcessHandle.of(pid).orElseThrow().descendants().toList();
        assertThat(backends).isNotEmpty();

        pg.kill();

        assertThat(pg.isRunning()).isFalse();
        assertThat(backends).allMatch(LocalServer::isGone);
        long start = System.nanoTime();
        assertThatThrownBy(() -> DriverManager.getConnection(pg.jdbcUrl(null) + "?user=postgres&connectTimeout=2").close())
                .isInstanceOf(SQLException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));

        pg.restart();

        assertThat(pg.port()).isEqualTo(port);
        assertThat(pg.pid()).isNotEqualTo(pid);
        try (Connection c = connect(pg, null); Statement st = c.createStatement()) {
            assertThat(rows(st, "SELECT id, v FROM crash")).containsExactly("1|survives");
        }
    }

    @Test
    void gracefulStopDoesNotWaitForOpenClientsAndRestartKeepsTheData() throws Exception {
        pg.execute("CREATE TABLE graceful (id INT); INSERT INTO graceful VALUES (7)");
        int port = pg.port();
        try (Connection open = connect(pg, null)) {
            long start = System.nanoTime();
            pg.stop();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            assertThat(open.isValid(2)).isFalse();
        }
        assertThat(pg.isRunning()).isFalse();
        assertThat(FreePorts.awaitFree(port, Duration.ofSeconds(5))).isTrue();

        pg.restart();

        assertThat(pg.port()).isEqualTo(port);
        assertThat(pg.execute("SELECT id FROM graceful")).isEqualTo("7");
    }

    @Test
    void sqlErrorsCarryTheServerAndTheClientOutput() {
        assertThatThrownBy(() -> pg.execute("SELEC 1"))
                .isInstanceOf(LocalServerException.class)
                .hasMessageContaining("PostgreSQL (")
                .hasMessageContaining("127.0.0.1:" + pg.port())
                .hasMessageContaining("SELEC 1")
                .hasMessageContaining("syntax error");
    }

    @Test
    void closeDeletesTheTemporaryBaseDirAndFreesThePort() throws Exception {
        LocalPostgres temp = LocalPostgres.temporary();
        Path base = temp.baseDir();
        int port = temp.port();
        assertThat(temp.execute("SELECT 1")).isEqualTo("1");

        temp.close();

        assertThat(temp.isRunning()).isFalse();
        assertThat(base).doesNotExist();
        assertThat(FreePorts.awaitFree(port, Duration.ofSeconds(5))).isTrue();
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        }
    }

    @Test
    void aDatabaseUserOwnsItsDatabaseAndNothingElse() throws Exception {
        pg.createDatabase("owned");
        pg.execute("owned", "CREATE TABLE earlier (id INT PRIMARY KEY)"); // made by the superuser before the user existed
        pg.createDatabaseUser("owned", "backend", "secret");
        pg.createDatabaseUser("owned", "backend", "secret"); // idempotent
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("owned"), "backend", "secret"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE later (id INT PRIMARY KEY)");
            st.execute("ALTER TABLE earlier ADD COLUMN note TEXT");
            st.execute("CREATE FUNCTION twice(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 2 * x; END $$");
            assertThat(rows(st, "SELECT twice(21), rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user"))
                    .containsExactly("42|f|f|f");
            assertThatThrownBy(() -> st.executeQuery("SELECT rolpassword FROM pg_authid")).hasMessageContaining("permission denied");
        }
    }

    static Connection connect(LocalServer server, String database) throws SQLException {
        return DriverManager.getConnection(server.jdbcUrl(database) + "?connectTimeout=5", server.user(), server.password());
    }
}

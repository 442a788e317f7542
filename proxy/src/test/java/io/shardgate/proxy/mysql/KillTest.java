package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code KILL} answered by the MySQL front end (never forwarded) with the errors MariaDB sends a user without SUPER,
 * through Connector/J against a {@link FakeSessions} core.
 */
class KillTest {
    private final FakeSessions sessions = new FakeSessions();
    private MySqlFrontend frontend;

    @BeforeEach
    void start() throws InterruptedException {
        frontend = MySqlFrontend.start("127.0.0.1", 0, sessions, MySqlAuth.NATIVE, 64 << 20, 100, 1);
    }

    @AfterEach
    void stop() {
        frontend.close();
    }

    private Connection connect(String user, String password) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + frontend.port() + "/" + FakeSessions.DATABASE + "?user="
                + user + "&password=" + password + "&sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=5000"
                + "&socketTimeout=10000");
    }

    private static long id(Connection c) throws SQLException {
        return c.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).getId();
    }

    private static SQLException kill(Connection c, String sql) {
        return catchThrowableOfType(SQLException.class, () -> {
            try (Statement st = c.createStatement()) {
                st.execute(sql);
            }
        });
    }

    @Test
    void theHandshakeIdIsTheSessionsConnectionId() throws Exception {
        try (Connection c = connect("app", "app")) {
            assertThat(sessions.last().client().connectionId()).isEqualTo(id(c)).isPositive();
        }
    }

    @Test
    void killQueryCancelsThatSessionsStatementAndKillClosesItsConnection() throws Exception {
        try (Connection victim = connect("app", "app"); Connection killer = connect("app", "app")) {
            FakeSessions.FakeSession target = sessions.opened().getFirst();
            assertThat((Throwable) kill(killer, "KILL QUERY " + id(victim))).isNull();
            assertThat(target.cancels()).isEqualTo(1);
            assertThat((Throwable) kill(killer, "KILL " + id(victim))).isNull();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (target.clientGoneCalls() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(target.clientGoneCalls()).isEqualTo(1);
            assertThat(victim.isValid(2)).as("the killed connection is closed").isFalse();
            assertThat(killer.isValid(2)).isTrue();
        }
    }

    @Test
    void anotherUsersConnectionAndAnUnknownIdGetTheServersErrors() throws Exception {
        try (Connection app = connect("app", "app"); Connection other = connect("nopass", "")) {
            SQLException denied = kill(other, "KILL QUERY " + id(app));
            assertThat(denied.getErrorCode()).isEqualTo(1095);
            assertThat(denied.getSQLState()).isEqualTo("HY000");
            assertThat(denied.getMessage()).isEqualTo("You are not owner of thread " + id(app));
            assertThat(kill(other, "KILL " + id(app)).getErrorCode()).isEqualTo(1095);
            SQLException unknown = kill(other, "KILL 99999");
            assertThat(unknown.getErrorCode()).isEqualTo(1094);
            assertThat(unknown.getMessage()).isEqualTo("Unknown thread id: 99999");
            assertThat(app.isValid(2)).isTrue();
            assertThat(sessions.opened().getFirst().cancels()).isZero();
            assertThat(sessions.opened().getFirst().statements()).noneMatch(s -> s.toUpperCase().contains("KILL"));
        }
    }

    @Test
    void killingOnesOwnConnectionAnswersAsMariaDb() throws Exception {
        try (Connection c = connect("app", "app")) {
            SQLException query = kill(c, "KILL QUERY " + id(c));
            assertThat(query.getErrorCode()).isEqualTo(1317);
            assertThat(query.getSQLState()).isEqualTo("70100");
            assertThat(query.getMessage()).isEqualTo("Query execution was interrupted");
            SQLException self = kill(c, "KILL " + id(c));
            assertThat(self.getErrorCode()).isEqualTo(1927);
            assertThat(self.getMessage()).isEqualTo("Connection was killed");
            assertThat(c.isValid(2)).isFalse();
        }
    }

    @Test
    void unsupportedFormsAreRefused() throws Exception {
        try (Connection c = connect("app", "app")) {
            SQLException e = kill(c, "KILL USER app");
            assertThat(e.getErrorCode()).isEqualTo(7002);
        }
    }
}

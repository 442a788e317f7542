package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.ClientAdmission;
import io.shardgate.proxy.LoginThrottle;
import io.shardgate.proxy.admin.ProxyMetrics;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Over real sockets: connections that never finish their handshake are closed after limits.handshake-timeout-ms and
 * cannot take authenticated clients' places; repeated wrong passwords from one address are answered ever later while
 * other addresses log in at once, and are counted.
 */
class AdmissionTest {
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofMillis(4000);

    private final FakeSessions sessions = new FakeSessions();
    private MySqlFrontend frontend;

    @AfterEach
    void stop() {
        if (frontend != null) {
            frontend.close();
        }
    }

    private ClientAdmission start(int maxUnauthenticated, LoginThrottle throttle) throws InterruptedException {
        ClientAdmission admission = new ClientAdmission(10, maxUnauthenticated, HANDSHAKE_TIMEOUT, throttle);
        frontend = MySqlFrontend.start("127.0.0.1", 0, sessions, MySqlAuth.NATIVE, 1 << 20, admission, 1);
        return admission;
    }

    private String url(String password, String localAddress) {
        return "jdbc:mysql://127.0.0.1:" + frontend.port() + "/shardgate?user=app&password=" + password
                + "&sslMode=DISABLED&connectTimeout=10000&socketTimeout=20000&localSocketAddress=" + localAddress;
    }

    @Test
    void idleHandshakesAreClosedAfterTheTimeoutWhileAClientStillLogsIn() throws Exception {
        ClientAdmission admission = start(100, new LoginThrottle(Duration.ZERO, Duration.ZERO));
        List<RawClient> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                RawClient raw = new RawClient(frontend.port());
                assertThat(raw.read().payload()[0]).as("greeting").isEqualTo((byte) 10);
                idle.add(raw);
            }
            assertThat(admission.unauthenticatedConnections()).isEqualTo(40);
            ProxyMetrics metrics = new ProxyMetrics();
            metrics.clientConnections("mysql", admission);
            try (Connection c = DriverManager.getConnection(url("app", "127.0.0.1"))) {
                assertStillWorks(c);
                assertThat(admission.authenticatedConnections()).isEqualTo(1);
                assertThat(metrics.scrape())
                        .contains("shardgate_client_connections{protocol=\"mysql\",state=\"unauthenticated\"} 40.0")
                        .contains("shardgate_client_connections{protocol=\"mysql\",state=\"authenticated\"} 1.0");
            }
            for (RawClient raw : idle) {
                RawClient.Packet err = raw.read(); // within RawClient's 5 s read timeout
                assertThat(err.errno()).isEqualTo(1043);
                assertThat(err.sqlState()).isEqualTo("08S01");
                assertThat(err.message()).contains("Bad handshake").contains("limits.handshake-timeout-ms");
                raw.assertClosed();
            }
            waitFor(() -> admission.unauthenticatedConnections() == 0);
        } finally {
            for (RawClient raw : idle) {
                raw.close();
            }
        }
    }

    @Test
    void idleHandshakesPastTheirOwnLimitAreRefusedAndAuthenticatedClientsKeepWorking() throws Exception {
        ClientAdmission admission = start(3, new LoginThrottle(Duration.ZERO, Duration.ZERO));
        try (Connection before = DriverManager.getConnection(url("app", "127.0.0.1"))) {
            List<RawClient> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    idle.add(new RawClient(frontend.port()));
                    idle.getLast().read();
                }
                try (RawClient refused = new RawClient(frontend.port())) {
                    RawClient.Packet err = refused.read();
                    assertThat(err.errno()).isEqualTo(1040);
                    assertThat(err.message()).contains("limits.max-unauthenticated-connections");
                    refused.assertClosed();
                }
                assertStillWorks(before);
                assertThat(admission.authenticatedConnections()).isEqualTo(1);
            } finally {
                for (RawClient raw : idle) {
                    raw.close();
                }
            }
            waitFor(() -> admission.unauthenticatedConnections() == 0);
            try (Connection after = DriverManager.getConnection(url("app", "127.0.0.1"))) {
                assertStillWorks(after);
            }
        }
    }

    @Test
    void repeatedWrongPasswordsFromOneAddressAreSlowedOthersAreNotAndTheyAreCounted() throws Exception {
        LoginThrottle throttle = new LoginThrottle(Duration.ofMillis(400), Duration.ofMillis(3200));
        ProxyMetrics metrics = new ProxyMetrics();
        metrics.loginFailures(throttle);
        start(100, throttle);
        long[] millis = new long[4];
        for (int i = 0; i < millis.length; i++) {
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> DriverManager.getConnection(url("wrong", "127.0.0.1")).close())
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1045));
            millis[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        }
        // delays 0, 400, 800, 1600 ms: each later failure waits at least its delay, and longer than the first
        assertThat(millis[1]).as("second failure").isGreaterThanOrEqualTo(380);
        assertThat(millis[2]).as("third failure").isGreaterThanOrEqualTo(780);
        assertThat(millis[3]).as("fourth failure").isGreaterThanOrEqualTo(1580);

        // the fifth failure from 127.0.0.1 waits 3.2 s; a right password from 127.0.0.2 meanwhile gets in first
        CompletableFuture<Long> fifth = CompletableFuture.supplyAsync(() -> {
            try {
                DriverManager.getConnection(url("wrong", "127.0.0.1")).close();
                return -1L;
            } catch (SQLException e) {
                return System.nanoTime();
            }
        });
        Thread.sleep(200);
        try (Connection other = DriverManager.getConnection(url("app", "127.0.0.2"))) {
            long loggedIn = System.nanoTime();
            assertStillWorks(other);
            assertThat(fifth.get(20, TimeUnit.SECONDS)).as("the delayed failure is answered after the other login")
                    .isGreaterThan(loggedIn);
        }
        assertThat(throttle.failures()).isEqualTo(5);
        assertThat(metrics.scrape()).contains("shardgate_login_failures_total 5.0");

        // a success from the address starts it over: its next failure is answered at once again
        try (Connection ok = DriverManager.getConnection(url("app", "127.0.0.1"))) {
            assertStillWorks(ok);
        }
        assertThat(throttle.failed("127.0.0.1", "app", "test")).as("first failure after a success").isZero();
        assertThat(throttle.failed("127.0.0.1", "app", "test")).as("second").isEqualTo(Duration.ofMillis(400));
    }

    @Test
    void aStackOverflowInASessionAnswersAnErrorAndClosesThatConnectionOnly() throws Exception {
        start(100, new LoginThrottle(Duration.ZERO, Duration.ZERO));
        try (Connection other = DriverManager.getConnection(url("app", "127.0.0.1"));
                Connection c = DriverManager.getConnection(url("app", "127.0.0.1"))) {
            assertThatThrownBy(() -> c.createStatement().executeQuery(FakeSessions.OVERFLOW))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(7900);
                        assertThat(e.getMessage()).contains("StackOverflowError");
                    });
            assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT * FROM types"))
                    .as("the connection is closed").isInstanceOf(SQLException.class);
            assertStillWorks(other);
        }
    }

    private static void assertStillWorks(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM types")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(-42);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(20);
        }
    }
}

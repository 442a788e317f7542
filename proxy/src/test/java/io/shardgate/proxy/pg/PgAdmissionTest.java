package io.shardgate.proxy.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.cluster.Dialect;
import io.shardgate.proxy.ClientAdmission;
import io.shardgate.proxy.LoginThrottle;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL listener over real sockets: connections that never send their startup message are closed after
 * limits.handshake-timeout-ms while pgJDBC logs in; repeated wrong passwords from one address are answered ever later
 * while another address logs in at once.
 */
class PgAdmissionTest {
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofMillis(4000);
    private PgFrontend frontend;

    @AfterEach
    void stop() {
        if (frontend != null) {
            frontend.close();
        }
    }

    private ClientAdmission start(LoginThrottle throttle) throws InterruptedException {
        ClientAdmission admission = new ClientAdmission(10, 100, HANDSHAKE_TIMEOUT, throttle);
        frontend = PgFrontend.start("127.0.0.1", 0, new PgFakeSessions(Map.of("app", "s3cret"), Dialect.POSTGRES), PgAuth.MD5,
                1 << 20, admission, 1, PgTls.OFF);
        return admission;
    }

    private Connection connect(String password, String localAddress) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + frontend.port() + "/" + PgFakeSessions.DATABASE
                + "?sslmode=disable&user=app&password=" + password + "&localSocketAddress=" + localAddress
                + "&connectTimeout=10&socketTimeout=20");
    }

    @Test
    void idleStartupsAreClosedAfterTheTimeoutWhileAClientStillLogsIn() throws Exception {
        ClientAdmission admission = start(new LoginThrottle(Duration.ZERO, Duration.ZERO));
        try (Connection warm = connect("s3cret", "127.0.0.1")) {
            assertStillWorks(warm); // pgJDBC's first connection loads its classes: not part of what is timed below
        }
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                Socket s = new Socket("127.0.0.1", frontend.port());
                s.setSoTimeout(10_000);
                idle.add(s);
            }
            waitFor(() -> admission.unauthenticatedConnections() == 40);
            try (Connection c = connect("s3cret", "127.0.0.1")) {
                assertStillWorks(c);
            }
            for (Socket s : idle) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                assertThat(in.readUnsignedByte()).as("ErrorResponse").isEqualTo('E');
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                assertThat(new String(body, StandardCharsets.UTF_8)).contains("SFATAL").contains("C08P01")
                        .contains("limits.handshake-timeout-ms");
                assertThat(in.read()).as("end of stream").isEqualTo(-1);
            }
            waitFor(() -> admission.unauthenticatedConnections() == 0);
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }

    @Test
    void repeatedWrongPasswordsFromOneAddressAreSlowedAndAnotherAddressIsNot() throws Exception {
        LoginThrottle throttle = new LoginThrottle(Duration.ofMillis(400), Duration.ofMillis(3200));
        start(throttle);
        long[] millis = new long[3];
        for (int i = 0; i < millis.length; i++) {
            long t0 = System.nanoTime();
            SQLException e = catchThrowableOfType(SQLException.class, () -> connect("wrong", "127.0.0.1").close());
            assertThat(e.getSQLState()).isEqualTo("28P01");
            millis[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        }
        assertThat(millis[1]).as("second failure").isGreaterThanOrEqualTo(380);
        assertThat(millis[2]).as("third failure").isGreaterThanOrEqualTo(780);

        CompletableFuture<Long> delayed = CompletableFuture.supplyAsync(() -> {   // the 4th waits 1.6 s
            try {
                connect("wrong", "127.0.0.1").close();
                return -1L;
            } catch (SQLException e) {
                return System.nanoTime();
            }
        });
        Thread.sleep(200);
        try (Connection other = connect("s3cret", "127.0.0.2")) {
            long loggedIn = System.nanoTime();
            assertStillWorks(other);
            assertThat(delayed.get(20, TimeUnit.SECONDS)).as("the delayed failure is answered after the other login")
                    .isGreaterThan(loggedIn);
        }
        assertThat(throttle.failures()).isEqualTo(4);
    }

    @Test
    void aStackOverflowInASessionAnswersAnErrorAndClosesThatConnectionOnly() throws Exception {
        start(new LoginThrottle(Duration.ZERO, Duration.ZERO));
        try (Connection other = connect("s3cret", "127.0.0.1"); Connection c = connect("s3cret", "127.0.0.1")) {
            SQLException e = catchThrowableOfType(SQLException.class, () -> c.createStatement().execute("SELECT overflow"));
            assertThat(e.getSQLState()).isEqualTo("XX000");
            assertThat(e.getMessage()).contains("StackOverflowError");
            assertThat(c.isValid(5)).as("the connection is closed").isFalse();
            assertStillWorks(other);
        }
    }

    private static void assertStillWorks(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(1);
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

package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Clients that break the protocol get an error packet where possible and lose their own connection
 * only: a Connector/J connection opened before keeps working, and the server stays up.
 */
class BadInputTest {
    private static final int MAX_PACKET = 1 << 20;

    private final FakeSessions sessions = new FakeSessions();
    private MySqlFrontend frontend;

    @BeforeEach
    void start() throws InterruptedException {
        frontend = MySqlFrontend.start("127.0.0.1", 0, sessions, MySqlAuth.NATIVE, MAX_PACKET, 10, 1);
    }

    @AfterEach
    void stop() {
        frontend.close();
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + frontend.port() + "/shardgate?user=app&password=app"
                + "&sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=5000&socketTimeout=10000");
    }

    @Test
    void garbageHandshakeResponseGetsAnErrorAndOnlyThatConnectionCloses() throws Exception {
        try (Connection before = connect()) {
            try (RawClient raw = new RawClient(frontend.port())) {
                assertThat(raw.read().payload()[0]).as("handshake").isEqualTo((byte) 10);
                raw.write(1, "this is not a handshake response".getBytes(StandardCharsets.US_ASCII));
                RawClient.Packet err = raw.read();
                assertThat(err.sequenceId()).isEqualTo(2);
                assertThat(err.errno()).isEqualTo(1835);
                assertThat(err.message()).startsWith("malformed packet: ");
                raw.assertClosed();
            }
            assertStillWorks(before);
        }
    }

    @Test
    void oversizedLengthHeaderGetsPacketTooLargeBeforeThePayloadIsSent() throws Exception {
        try (Connection before = connect()) {
            try (RawClient raw = new RawClient(frontend.port())) {
                raw.read();
                raw.writeRaw(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1});
                RawClient.Packet err = raw.read();
                assertThat(err.sequenceId()).isEqualTo(2);
                assertThat(err.errno()).isEqualTo(1153);
                assertThat(err.sqlState()).isEqualTo("08S01");
                assertThat(err.message()).contains(String.valueOf(MAX_PACKET)).contains("limits.max-packet-bytes");
                raw.assertClosed();
            }
            assertStillWorks(before);
        }
    }

    @Test
    void oversizedPacketAfterLoginGetsAnErrorAndCloses() throws Exception {
        try (Connection before = connect()) {
            try (RawClient raw = new RawClient(frontend.port())) {
                raw.login("app", "app");
                raw.writeRaw(new byte[] {0, 0, (byte) 0x20, 0}); // 2 MiB announced, the limit is 1 MiB
                raw.writeRaw(new byte[64 * 1024]);
                RawClient.Packet err = raw.read();
                assertThat(err.sequenceId()).as("continues the client's sequence").isEqualTo(1);
                assertThat(err.errno()).isEqualTo(1153);
                raw.assertClosed();
            }
            assertStillWorks(before);
        }
    }

    @Test
    void unknownCommandKeepsTheConnectionButATruncatedOneEndsIt() throws Exception {
        try (RawClient raw = new RawClient(frontend.port())) {
            raw.login("app", "app");
            assertThat(raw.command(0x7F, "").errno()).isEqualTo(1047);
            assertThat(raw.command(0x0E, "").okStatus()).as("COM_PING still answered").isEqualTo(0x0002);
            RawClient.Packet err = raw.command(0x19, "\u0001");
            assertThat(err.errno()).isEqualTo(1835);
            assertThat(err.message()).contains("statement id needs 4 bytes");
            raw.assertClosed();
        }
    }

    @Test
    void bytesThatAreNotMySqlAtAll() throws Exception {
        try (Connection before = connect()) {
            try (RawClient raw = new RawClient(frontend.port())) {
                raw.writeRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(raw.read().payload()[0]).as("handshake").isEqualTo((byte) 10);
                // "GET" announces a 5522759-byte packet, over the limit
                assertThat(raw.read().errno()).isEqualTo(1153);
                raw.assertClosed();
            }
            assertStillWorks(before);
        }
    }

    @Test
    void statusFlagsFollowTheSessionOnEveryOk() throws Exception {
        try (RawClient raw = new RawClient(frontend.port())) {
            assertThat(raw.login("app", "app").okStatus()).as("after login").isEqualTo(0x0002);
            assertThat(raw.command(0x03, "SET autocommit=0").okStatus()).isEqualTo(0x0000);
            assertThat(raw.command(0x0E, "").okStatus()).as("PING with autocommit off").isEqualTo(0x0000);
            assertThat(raw.command(0x03, "INSERT INTO t VALUES (1)").payload()[0]).isEqualTo((byte) 0);
            assertThat(raw.command(0x0E, "").okStatus()).as("PING in a transaction").isEqualTo(0x0001);
            assertThat(raw.command(0x02, "shardgate").okStatus()).as("COM_INIT_DB in a transaction").isEqualTo(0x0001);
            assertThat(raw.command(0x03, "COMMIT").okStatus()).isEqualTo(0x0000);
            assertThat(raw.command(0x03, "SET autocommit=1").okStatus()).isEqualTo(0x0002);
        }
    }

    @Test
    void connectionsBeyondTheLimitGetError1040() throws Exception {
        try (MySqlFrontend limited = MySqlFrontend.start("127.0.0.1", 0, sessions, MySqlAuth.NATIVE, MAX_PACKET, 2, 1)) {
            String url = "jdbc:mysql://127.0.0.1:" + limited.port() + "/shardgate?user=app&password=app"
                    + "&sslMode=DISABLED&connectTimeout=5000&socketTimeout=10000";
            try (Connection one = DriverManager.getConnection(url); Connection two = DriverManager.getConnection(url)) {
                assertThatThrownBy(() -> DriverManager.getConnection(url).close())
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getErrorCode()).isEqualTo(1040);
                            assertThat(e.getMessage()).contains("Too many connections").contains("limits.max-connections");
                        });
                assertStillWorks(one);
                assertStillWorks(two);
            }
            // closed connections free their places
            waitFor(() -> limited.openConnections() == 0);
            try (Connection again = DriverManager.getConnection(url)) {
                assertStillWorks(again);
            }
        }
    }

    private static void assertStillWorks(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM types")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(-42);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(20);
        }
    }
}

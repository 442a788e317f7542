package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mysql.cj.jdbc.JdbcConnection;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Time;
import java.sql.Types;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Connector/J against the real front end and a {@link FakeSessions} core, for each auth plugin the
 * front end can announce and with client-side and server-side prepared statements.
 */
@ParameterizedClass(name = "{0}, useServerPrepStmts={1}")
@MethodSource("modes")
class ConnectorJTest {
    @Parameter(0)
    String plugin;
    @Parameter(1)
    boolean serverPrepare;

    /**
     * Connector/J drops the fractional seconds of temporal parameters for servers older than 5.6.4,
     * and the MariaDB-style version "5.5.5-10.11.19-MariaDB-..." reads as 5.5.5 (results keep them).
     */
    private static final long FRACTION_SENT = MySqlFrontendHandler.versionBelow(FakeSessions.SERVER_VERSION, 5, 6, 4) ? 0 : 123_456_000;

    private final FakeSessions sessions = new FakeSessions();
    private MySqlFrontend frontend;

    static Stream<Arguments> modes() {
        return Stream.of(Arguments.of(MySqlAuth.NATIVE, false), Arguments.of(MySqlAuth.NATIVE, true),
                Arguments.of(MySqlAuth.CACHING_SHA2, false), Arguments.of(MySqlAuth.CACHING_SHA2, true));
    }

    @BeforeEach
    void start() throws InterruptedException {
        frontend = MySqlFrontend.start("127.0.0.1", 0, sessions, plugin, 64 << 20, 100, 1);
    }

    @AfterEach
    void stop() {
        frontend.close();
    }

    private Connection connect() throws SQLException {
        return connect("app", "app", FakeSessions.DATABASE);
    }

    private Connection connect(String user, String password, String database) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + frontend.port() + "/" + database + "?user=" + user
                + "&password=" + password + "&sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=5000&socketTimeout=10000"
                + "&useServerPrepStmts=" + serverPrepare + "&defaultAuthenticationPlugin=" + plugin);
    }

    @Test
    void connectsAndReadsEveryType() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM types")) {
            assertThat(c.getMetaData().getDatabaseProductVersion()).isEqualTo(FakeSessions.SERVER_VERSION);
            assertThat(sessions.last().client().user()).isEqualTo("app");
            assertThat(sessions.last().client().schema()).isEqualTo(FakeSessions.DATABASE);
            assertThat(sessions.last().client().attributes()).containsKey("_client_name");
            assertTypesRow(rs, false);
        }
    }

    @Test
    void preparedSelectReadsEveryType() throws SQLException {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT * FROM types WHERE i = ?")) {
            ps.setInt(1, -42);
            try (ResultSet rs = ps.executeQuery()) {
                assertTypesRow(rs, serverPrepare);
            }
            // executed again: the types bound the first time are reused
            ps.setInt(1, 7);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt("i")).isEqualTo(-42);
            }
            if (serverPrepare) {
                assertThat(sessions.last().executions()).containsExactly(List.of(-42L), List.of(7L));
            } else {
                assertThat(sessions.last().statements()).contains("SELECT * FROM types WHERE i = -42", "SELECT * FROM types WHERE i = 7");
            }
        }
    }

    private static void assertTypesRow(ResultSet rs, boolean binary) throws SQLException {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt("i")).isEqualTo(-42);
        assertThat(rs.getByte("tiny")).isEqualTo((byte) -5);
        assertThat(rs.getLong("big")).isEqualTo(9007199254740993L);
        assertThat(rs.getBigDecimal("ubig")).isEqualTo(new BigDecimal("18446744073709551615"));
        assertThat(rs.getObject("ubig")).isEqualTo(new BigInteger("18446744073709551615"));
        assertThat(rs.getBigDecimal("dec")).isEqualTo(new BigDecimal("12345.678901"));
        assertThat(rs.getDouble("dbl")).isEqualTo(-2.25);
        assertThat(rs.getFloat("flt")).isEqualTo(1.5f);
        assertThat(rs.getString("txt")).isEqualTo("héllo ✓ 日本");
        assertThat(rs.getBytes("blob")).isEqualTo(new byte[] {0, 1, 2, (byte) 0xFF, 'x'});
        assertThat(rs.getDate("d").toLocalDate()).isEqualTo(LocalDate.of(2024, 2, 29));
        assertThat(rs.getObject("d", LocalDate.class)).isEqualTo(LocalDate.of(2024, 2, 29));
        assertThat(rs.getTimestamp("ts").toLocalDateTime()).isEqualTo(LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000));
        assertThat(rs.getObject("ts", LocalDateTime.class)).isEqualTo(LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000));
        assertThat(rs.getTime("t").toLocalTime()).isEqualTo(LocalTime.of(13, 14, 15));
        // The binary row carries MySQL's encoding (negative, 1 day, 2 hours, ...); Connector/J 9.5 negates
        // only the days when it decodes it (-24 + 2), the text protocol shows the value as the backend sent it.
        assertThat(rs.getString("negt")).isEqualTo(binary ? "-22:03:04.500000" : "-26:03:04.500000");
        assertThat(rs.getString("n")).isNull();
        assertThat(rs.wasNull()).isTrue();
        assertThat(rs.getInt("ni")).isZero();
        assertThat(rs.wasNull()).isTrue();
        assertThat(rs.getInt("i")).isEqualTo(-42);
        assertThat(rs.wasNull()).isFalse();
        assertThat(rs.next()).isFalse();
        assertThat(rs.getMetaData().getColumnCount()).isEqualTo(FakeSessions.TYPES_COLUMNS.size());
        assertThat(rs.getMetaData().getColumnType(4)).isEqualTo(Types.BIGINT);
        assertThat(rs.getMetaData().isSigned(4)).isFalse();
    }

    @Test
    void updateReportsAffectedRowsAndGeneratedKeys() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate("INSERT INTO t(v) VALUES (1), (2)", Statement.RETURN_GENERATED_KEYS)).isEqualTo(2);
            try (ResultSet keys = s.getGeneratedKeys()) {
                assertThat(keys.next()).isTrue();
                assertThat(keys.getLong(1)).isEqualTo(FakeSessions.LAST_INSERT_ID);
                assertThat(keys.next()).isTrue();
                assertThat(keys.getLong(1)).isEqualTo(FakeSessions.LAST_INSERT_ID + 1);
            }
        }
    }

    @Test
    void preparedStatementSendsParametersOfManyTypes() throws SQLException {
        String sql = "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setInt(1, -42);
            ps.setLong(2, Long.MIN_VALUE);
            ps.setBigDecimal(3, new BigDecimal("12345.678901"));
            ps.setDouble(4, -2.25);
            ps.setFloat(5, 1.5f);
            ps.setString(6, "héllo ✓ 日本");
            ps.setBytes(7, new byte[] {0, 1, 2, (byte) 0xFF});
            ps.setObject(8, LocalDate.of(2024, 2, 29));
            ps.setObject(9, LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000));
            ps.setTime(10, Time.valueOf(LocalTime.of(13, 14, 15)));
            ps.setNull(11, Types.VARCHAR);
            ps.setShort(12, (short) -300);
            ps.setByte(13, (byte) 7);
            assertThat(ps.executeUpdate()).isEqualTo(2);
        }
        if (serverPrepare) {
            List<Object> received = sessions.last().executions().getFirst();
            assertThat(received).hasSize(13);
            assertThat(received.get(0)).isEqualTo(-42L);
            assertThat(received.get(1)).isEqualTo(Long.MIN_VALUE);
            assertThat(received.get(2)).isEqualTo(new BigDecimal("12345.678901"));
            assertThat(received.get(3)).isEqualTo(-2.25);
            assertThat(received.get(4)).isEqualTo(1.5f);
            // string parameters reach the session as the client's bytes; it decodes them in its character set
            assertThat(received.get(5)).isEqualTo(new io.shardgate.proxy.session.ClientText(
                    "héllo ✓ 日本".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            // Connector/J binds setBytes with a string type: the session sees invalid UTF-8 and keeps it as bytes
            assertThat(received.get(6)).isEqualTo(new io.shardgate.proxy.session.ClientText(new byte[] {0, 1, 2, (byte) 0xFF}));
            assertThat(received.get(7)).isIn(LocalDate.of(2024, 2, 29), LocalDateTime.of(2024, 2, 29, 0, 0));
            assertThat(received.get(8)).isEqualTo(LocalDateTime.of(2024, 2, 29, 13, 14, 15).plusNanos(FRACTION_SENT));
            assertThat(received.get(9)).isEqualTo(Duration.ofHours(13).plusMinutes(14).plusSeconds(15));
            assertThat(received.get(10)).isNull();
            assertThat(received.get(11)).isEqualTo(-300L);
            assertThat(received.get(12)).isEqualTo(7L);
        } else {
            String fraction = FRACTION_SENT == 0 ? "" : ".123456";
            assertThat(sessions.last().statements().getLast()).isEqualTo("INSERT INTO t VALUES (-42, -9223372036854775808, "
                    + "12345.678901, -2.25, 1.5, 'héllo ✓ 日本', x'000102ff', '2024-02-29', '2024-02-29 13:14:15" + fraction
                    + "', '13:14:15', null, -300, 7)");
        }
    }

    @Test
    void streamedParametersArriveWhole() throws SQLException {
        byte[] blob = new byte[100_000];
        for (int i = 0; i < blob.length; i++) {
            blob[i] = (byte) i;
        }
        String text = "ünïcode ✓ ".repeat(5_000);
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO t VALUES (?, ?, ?)")) {
            ps.setBinaryStream(1, new java.io.ByteArrayInputStream(blob));
            ps.setCharacterStream(2, new java.io.StringReader(text));
            ps.setInt(3, 1);
            assertThat(ps.executeUpdate()).isEqualTo(2);
            // the long data was used up: the next execute sends its values inline again
            ps.setBytes(1, new byte[] {(byte) 0xFE});
            ps.setString(2, "short");
            ps.setInt(3, 2);
            assertThat(ps.executeUpdate()).isEqualTo(2);
        }
        if (serverPrepare) {
            // sent as COM_STMT_SEND_LONG_DATA chunks and folded into the execute by the decoder
            List<List<Object>> executions = sessions.last().executions();
            assertThat(executions).hasSize(2);
            assertThat(executions.get(0).get(0)).isEqualTo(blob);
            // Connector/J binds a character stream with a BLOB type, so it arrives as its UTF-8 bytes
            assertThat(executions.get(0).get(1)).isEqualTo(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            assertThat(executions.get(0).get(2)).isEqualTo(1L);
            assertThat(executions.get(1).get(0)).isEqualTo(new io.shardgate.proxy.session.ClientText(new byte[] {(byte) 0xFE}));
            assertThat(executions.get(1).get(1)).isEqualTo(new io.shardgate.proxy.session.ClientText(
                    "short".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        } else {
            assertThat(sessions.last().statements().getLast()).isEqualTo("INSERT INTO t VALUES (x'fe', 'short', 2)");
        }
    }

    @Test
    void transactionStateFollowsTheSession() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            JdbcConnection jc = c.unwrap(JdbcConnection.class);
            c.setAutoCommit(false);
            assertThat(sessions.last().state().autocommit()).isFalse();
            s.executeUpdate("INSERT INTO t(v) VALUES (1)");
            assertThat(sessions.last().state().inTransaction()).isTrue();
            assertThat(jc.getSession().getServerSession().inTransactionOnServer()).as("SERVER_STATUS_IN_TRANS").isTrue();
            assertThat(jc.getSession().getServerSession().isAutoCommit()).as("SERVER_STATUS_AUTOCOMMIT").isFalse();
            assertThat(c.isValid(2)).isTrue();
            c.commit();
            assertThat(sessions.last().state().inTransaction()).isFalse();
            assertThat(jc.getSession().getServerSession().inTransactionOnServer()).isFalse();
            c.setAutoCommit(true);
            assertThat(sessions.last().state().autocommit()).isTrue();
            assertThat(jc.getSession().getServerSession().isAutoCommit()).isTrue();
            assertThat(sessions.last().statements()).containsSubsequence("SET autocommit=0", "INSERT INTO t(v) VALUES (1)", "COMMIT",
                    "SET autocommit=1");
        }
    }

    @Test
    void errorsReachTheClientUnchanged() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeQuery("SELECT * FROM nope"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(FakeSessions.NO_SUCH_TABLE_ERRNO);
                        assertThat(e.getSQLState()).isEqualTo(FakeSessions.NO_SUCH_TABLE_STATE);
                        assertThat(e.getMessage()).isEqualTo(FakeSessions.NO_SUCH_TABLE_MESSAGE);
                    });
            // the connection stays usable after an error
            try (ResultSet rs = s.executeQuery("SELECT * FROM types")) {
                assertThat(rs.next()).isTrue();
            }
            assertThat(c.isValid(2)).isTrue();
        }
    }

    @Test
    void wrongPasswordIsAccessDenied() {
        assertThatThrownBy(() -> connect("app", "wrong", FakeSessions.DATABASE).close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(1045);
                    assertThat(e.getSQLState()).isEqualTo("28000");
                    assertThat(e.getMessage()).startsWith("Access denied for user 'app'@'127.0.0.1' (using password: YES)");
                });
        assertThatThrownBy(() -> connect("nobody", "app", FakeSessions.DATABASE).close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1045));
    }

    @Test
    void unknownDatabase() {
        assertThatThrownBy(() -> connect("app", "app", "nosuchdb").close())
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(1049);
                    assertThat(e.getSQLState()).isEqualTo("42000");
                    assertThat(e.getMessage()).isEqualTo("Unknown database 'nosuchdb'");
                });
    }

    @Test
    void userWithEmptyPassword() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + frontend.port() + "/shardgate?user=nopass"
                + "&sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=5000&socketTimeout=10000&defaultAuthenticationPlugin="
                + plugin); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT database()")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(FakeSessions.DATABASE);
        }
    }
}

package io.shardgate.proxy.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.cluster.Dialect;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL front end over real sockets with a hand-written fake session behind it: pgJDBC with each
 * authentication method, and raw bad input that must close that one connection and never the listener.
 */
class PgFrontendTest {
    private static final int MAX_MESSAGE = 1 << 20;
    private PgFrontend frontend;
    private PgFakeSessions sessions;

    @AfterEach
    void stop() {
        if (frontend != null) {
            frontend.close();
        }
    }

    private void start(String auth, Dialect dialect) throws InterruptedException {
        sessions = new PgFakeSessions(Map.of("app", "s3cret"), dialect);
        frontend = PgFrontend.start("127.0.0.1", 0, sessions, auth, MAX_MESSAGE, 10, 1, PgTls.OFF);
    }

    private Connection connect(String user, String password) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + frontend.port() + "/" + PgFakeSessions.DATABASE
                + "?sslmode=disable&user=" + user + (password == null ? "" : "&password=" + password));
    }

    @Test
    void trustLetsAConfiguredUserInWithoutAPasswordAndRefusesOthers() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Connection c = connect("app", null)) {
            assertStillWorks(c);
        }
        assertThat(catchThrowableOfType(SQLException.class, () -> connect("mallory", null)).getSQLState()).isEqualTo("28P01");
    }

    @Test
    void md5ChecksThePassword() throws Exception {
        start(PgAuth.MD5, Dialect.POSTGRES);
        try (Connection c = connect("app", "s3cret")) {
            assertStillWorks(c);
        }
        SQLException wrong = catchThrowableOfType(SQLException.class, () -> connect("app", "nope"));
        assertThat(wrong.getSQLState()).isEqualTo("28P01");
        assertThat(wrong.getMessage()).contains("password authentication failed for user \"app\"");
    }

    @Test
    void scramChecksThePasswordAndUnknownUsersFailTheSameWay() throws Exception {
        start(PgAuth.SCRAM, Dialect.POSTGRES);
        try (Connection c = connect("app", "s3cret")) {
            assertStillWorks(c);
        }
        assertThat(catchThrowableOfType(SQLException.class, () -> connect("app", "nope")).getSQLState()).isEqualTo("28P01");
        assertThat(catchThrowableOfType(SQLException.class, () -> connect("mallory", "s3cret")).getMessage())
                .contains("password authentication failed for user \"mallory\"");
    }

    @Test
    void startupSettingsOfTheClientBecomeSessionSettings() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Connection c = connect("app", null)) {
            assertThat(sessions.statements).anyMatch(s -> s.startsWith("SET DateStyle = 'ISO"))
                    .anyMatch(s -> s.startsWith("SET TimeZone = '"));
        }
    }

    @Test
    void aMySqlClusterIsRefusedAtConnectNamingTheOtherPort() throws Exception {
        start(PgAuth.TRUST, Dialect.MYSQL);
        SQLException e = catchThrowableOfType(SQLException.class, () -> connect("app", null));
        assertThat(e.getSQLState()).isEqualTo("0A000");
        assertThat(e.getMessage()).contains("listen.mysql-port");
    }

    @Test
    void sslRequestIsAnsweredNo() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Socket s = new Socket("127.0.0.1", frontend.port())) {
            s.getOutputStream().write(new byte[] {0, 0, 0, 8, 0x04, (byte) 0xD2, 0x16, 0x2F});
            assertThat(s.getInputStream().read()).isEqualTo('N');
        }
    }

    @Test
    void garbageAfterStartupGetsAFatalErrorAndClosesThatConnectionOnly() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Connection other = connect("app", null); Socket s = startedSocket()) {
            s.getOutputStream().write(new byte[] {'Q', 0, 0, 0, 2});
            assertThat(readError(s)).contains("C08P01").contains("invalid length 2 of message 'Q'");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            assertStillWorks(other);
        }
        try (Connection again = connect("app", null)) {
            assertStillWorks(again);
        }
    }

    @Test
    void anOversizedMessageIsRefusedBeforeItIsRead() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Socket s = startedSocket()) {
            s.getOutputStream().write(ByteBuffer.allocate(5).put((byte) 'Q').putInt(MAX_MESSAGE + 1).array());
            assertThat(readError(s)).contains("C54000").contains("larger than the limit of 1048576 bytes");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
    }

    @Test
    void anUnknownMessageTypeIsAProtocolViolation() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Socket s = startedSocket()) {
            s.getOutputStream().write(new byte[] {'z', 0, 0, 0, 4});
            assertThat(readError(s)).contains("C08P01").contains("invalid frontend message type 122");
        }
    }

    @Test
    void aFunctionCallIsRefusedAndTheConnectionGoesOn() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Socket s = startedSocket()) {
            // FunctionCall of oid 1000 with no argument formats, no arguments, text result
            s.getOutputStream().write(new byte[] {'F', 0, 0, 0, 14, 0, 0, 3, (byte) 0xE8, 0, 0, 0, 0, 0, 0});
            assertThat(readError(s)).contains("C0A000").contains("function-call message (fastpath) is not supported");
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertThat(in.readByte()).isEqualTo((byte) 'Z');
            assertThat(in.readInt()).isEqualTo(5);
            assertThat(in.readByte()).isEqualTo((byte) 'I');
        }
    }

    /** Invalid UTF-8 gets PostgreSQL's own error (not a U+FFFD replacement), and the connection goes on. */
    @Test
    void invalidUtf8InAQueryIsRefusedAsPostgreSqlDoes() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Socket s = startedSocket()) {
            byte[] sql = {'S', 'E', 'L', 'E', 'C', 'T', ' ', '\'', (byte) 0xC3, '(', '\'', 0};
            s.getOutputStream().write(ByteBuffer.allocate(5 + sql.length).put((byte) 'Q').putInt(4 + sql.length).put(sql).array());
            assertThat(readError(s)).contains("C22021").contains("Minvalid byte sequence for encoding \"UTF8\": 0xc3 0x28");
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertThat(in.readByte()).isEqualTo((byte) 'Z');
            assertThat(in.readInt()).isEqualTo(5);
            assertThat(in.readByte()).isEqualTo((byte) 'I');
        }
    }

    @Test
    void aClientEncodingOtherThanUtf8IsRefusedAtStartupNamingUtf8() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Socket s = startupSocket("client_encoding\0LATIN1\0")) {
            assertThat(readError(s)).contains("SFATAL").contains("C0A000").contains("client_encoding \"LATIN1\" is not supported")
                    .contains("UTF8");
        }
        try (Socket s = startupSocket("client_encoding\0sql_ascii\0")) {
            assertThat(readParameter(s, "client_encoding")).isEqualTo("SQL_ASCII");
        }
    }

    /**
     * A server keeps one namespace for the statements Parse names and those SQL PREPARE names: each kind collides with the
     * other (42P05), DEALLOCATE drops either, and DEALLOCATE ALL both. EXECUTE of a Parse'd statement, and Bind of an SQL
     * PREPARE'd one, are refused (their parameter types would not be the server's).
     */
    @Test
    void parseAndSqlPrepareShareOneNamespace() throws Exception {
        start(PgAuth.TRUST, Dialect.POSTGRES);
        try (Socket s = startedSocket()) {
            assertThat(exchange(s, parse("s", "SELECT 1"), sync())).containsExactly("1", "Z");
            assertThat(exchange(s, query("PREPARE s AS SELECT 1"))).containsExactly("E 42P05 prepared statement \"s\" already exists", "Z");
            assertThat(exchange(s, query("EXECUTE s"))).containsExactly("E 0A000", "Z");
            assertThat(exchange(s, query("DEALLOCATE s"))).containsExactly("C DEALLOCATE", "Z");
            assertThat(exchange(s, bind("s"), sync())).containsExactly("E 26000 prepared statement \"s\" does not exist", "Z");

            assertThat(exchange(s, query("PREPARE p AS SELECT 1"))).containsExactly("C PREPARE", "Z");
            assertThat(exchange(s, parse("p", "SELECT 1"), sync())).containsExactly("E 42P05 prepared statement \"p\" already exists", "Z");
            assertThat(exchange(s, bind("p"), sync())).containsExactly("E 0A000", "Z");
            assertThat(exchange(s, query("EXECUTE p"))).containsExactly("T", "D", "C SELECT 1", "Z");
            // through the extended protocol too, as pgJDBC sends it: the Describe answers the prepared statement's columns
            assertThat(exchange(s, parse("", "EXECUTE p"), describeStatement(""), bind(""), execute(), sync()))
                    .containsExactly("1", "t", "T", "2", "D", "C SELECT 1", "Z");

            assertThat(exchange(s, parse("q", "SELECT 1"), sync())).containsExactly("1", "Z");
            assertThat(exchange(s, query("DEALLOCATE ALL"))).containsExactly("C DEALLOCATE ALL", "Z");
            assertThat(exchange(s, query("EXECUTE p"))).containsExactly("E 26000 prepared statement \"p\" does not exist", "Z");
            assertThat(exchange(s, bind("q"), sync())).containsExactly("E 26000 prepared statement \"q\" does not exist", "Z");
        }
    }

    private static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    private static byte[] query(String sql) {
        return message('Q', (sql + "\0").getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] parse(String name, String sql) {
        byte[] text = (name + "\0" + sql + "\0").getBytes(StandardCharsets.UTF_8);
        return message('P', ByteBuffer.allocate(text.length + 2).put(text).putShort((short) 0).array());
    }

    /** Bind of {@code statement} to the unnamed portal: no parameters, text results. */
    private static byte[] bind(String statement) {
        byte[] names = ("\0" + statement + "\0").getBytes(StandardCharsets.UTF_8);
        return message('B', ByteBuffer.allocate(names.length + 6).put(names).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).array());
    }

    private static byte[] describeStatement(String name) {
        return message('D', ("S" + name + "\0").getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] execute() {
        return message('E', ByteBuffer.allocate(5).put((byte) 0).putInt(0).array());
    }

    private static byte[] sync() {
        return message('S', new byte[0]);
    }

    /**
     * Sends {@code messages} and reads the answers up to ReadyForQuery: each as its type, a CommandComplete with its tag,
     * an ErrorResponse with its SQLSTATE (and its message, unless it is a refusal of Shardgate's, 0A000).
     */
    private static java.util.List<String> exchange(Socket s, byte[]... messages) throws IOException {
        for (byte[] m : messages) {
            s.getOutputStream().write(m);
        }
        DataInputStream in = new DataInputStream(s.getInputStream());
        java.util.List<String> answers = new java.util.ArrayList<>();
        while (true) {
            int type = in.readUnsignedByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            String text = new String(body, StandardCharsets.UTF_8);
            if (type == 'C') {
                answers.add("C " + text.substring(0, text.length() - 1));
            } else if (type == 'E') {
                String code = "";
                String message = "";
                for (String field : text.split("\0")) {
                    code = field.startsWith("C") ? field.substring(1) : code;
                    message = field.startsWith("M") ? field.substring(1) : message;
                }
                answers.add(code.equals("0A000") ? "E " + code : "E " + code + " " + message);
            } else {
                answers.add(String.valueOf((char) type));
            }
            if (type == 'Z') {
                return answers;
            }
        }
    }

    private Socket startupSocket(String extraParameters) throws IOException {
        Socket s = new Socket("127.0.0.1", frontend.port());
        s.setSoTimeout(10_000);
        byte[] params = ("user\0app\0database\0shardgate\0" + extraParameters + "\0").getBytes(StandardCharsets.UTF_8);
        s.getOutputStream().write(ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt(196608).put(params).array());
        return s;
    }

    /** Reads messages up to the ParameterStatus of {@code name} and returns its value. */
    private static String readParameter(Socket s, String name) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        while (true) {
            int type = in.readUnsignedByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            String[] fields = new String(body, StandardCharsets.UTF_8).split("\0");
            if (type == 'S' && fields[0].equals(name)) {
                return fields[1];
            }
            assertThat(type).as("no error before ParameterStatus %s", name).isNotEqualTo('E');
        }
    }

    /** A raw connection past startup and trust authentication, up to its first ReadyForQuery. */
    private Socket startedSocket() throws IOException {
        Socket s = new Socket("127.0.0.1", frontend.port());
        s.setSoTimeout(10_000);
        byte[] params = "user\0app\0database\0shardgate\0\0".getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        out.write(ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt(196608).put(params).array());
        DataInputStream in = new DataInputStream(s.getInputStream());
        while (true) {
            int type = in.readUnsignedByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'Z') {
                return s;
            }
        }
    }

    /** Reads messages up to an ErrorResponse and returns its fields as text ("SFATAL", "C08P01", "M…"). */
    private static String readError(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        while (true) {
            int type = in.readUnsignedByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'E') {
                return new String(body, StandardCharsets.UTF_8).replace('\0', '|');
            }
        }
    }

    private static void assertStillWorks(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
    }
}

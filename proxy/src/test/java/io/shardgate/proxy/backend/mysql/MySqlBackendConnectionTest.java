package io.shardgate.proxy.backend.mysql;

import io.shardgate.proxy.backend.BackendEventLoops;

import static io.shardgate.proxy.backend.mysql.PacketKind.COLUMN_COUNT;
import static io.shardgate.proxy.backend.mysql.PacketKind.COLUMN_DEFINITION;
import static io.shardgate.proxy.backend.mysql.PacketKind.ERROR;
import static io.shardgate.proxy.backend.mysql.PacketKind.METADATA_EOF;
import static io.shardgate.proxy.backend.mysql.PacketKind.OK;
import static io.shardgate.proxy.backend.mysql.PacketKind.PARAMETER_DEFINITION;
import static io.shardgate.proxy.backend.mysql.PacketKind.PREPARE_EOF;
import static io.shardgate.proxy.backend.mysql.PacketKind.PREPARE_OK;
import static io.shardgate.proxy.backend.mysql.PacketKind.ROW;
import static io.shardgate.proxy.backend.mysql.PacketKind.ROWS_END;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Native connections against a real MariaDB: replies packet by packet, their ends, auth, failures and backpressure. */
class MySqlBackendConnectionTest {
    private static final String DB = "shop";
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static LocalMariaDb db;
    private static BackendEventLoops loops;

    @BeforeAll
    static void start() {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        db = LocalMariaDb.temporary();
        loops = new BackendEventLoops(1);
        db.createDatabase(DB);
        db.createDatabaseUser(DB, "app", "secret");
        db.execute(DB, """
                CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20));
                INSERT INTO t SELECT seq, CONCAT('n', seq) FROM seq_1_to_1000;
                GRANT EXECUTE ON shop.* TO 'app'@'127.0.0.1';
                DELIMITER //
                CREATE PROCEDURE two() BEGIN SELECT 1 AS a; SELECT 'x' AS b, 2 AS c; END //
                """);
    }

    @AfterAll
    static void stop() {
        if (loops != null) {
            loops.close();
        }
        if (db != null) {
            db.close();
        }
    }

    static BackendSettings settings(LocalMariaDb server, boolean deprecateEof) {
        return new BackendSettings("s0", LocalMariaDb.HOST, server.port(), "app", "secret", DB,
                BackendSettings.UTF8MB4_GENERAL_CI, deprecateEof, false, false, Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    static MySqlBackendConnection open(BackendSettings s) throws Exception {
        return MySqlBackendConnection.connect(loops, s).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static List<RecordingSink.Packet> query(MySqlBackendConnection c, String sql) throws Exception {
        RecordingSink sink = new RecordingSink();
        c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, sql.getBytes(StandardCharsets.UTF_8)), sink);
        return sink.done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    static List<PacketKind> kinds(List<RecordingSink.Packet> packets) {
        return packets.stream().map(RecordingSink.Packet::kind).toList();
    }

    /** Column definitions, then the EOF unless DEPRECATE_EOF. */
    static List<PacketKind> metadata(int columns, boolean deprecateEof) {
        List<PacketKind> out = new ArrayList<>();
        out.add(COLUMN_COUNT);
        for (int i = 0; i < columns; i++) {
            out.add(COLUMN_DEFINITION);
        }
        if (!deprecateEof) {
            out.add(METADATA_EOF);
        }
        return out;
    }

    /** The values of a text row. */
    static List<String> textRow(byte[] payload) {
        ByteBuf p = Unpooled.wrappedBuffer(payload);
        List<String> out = new ArrayList<>();
        while (p.isReadable()) {
            if (p.getUnsignedByte(p.readerIndex()) == 0xFB) {
                p.skipBytes(1);
                out.add(null);
            } else {
                out.add(io.shardgate.proxy.mysql.codec.Wire.readLenEncString(p, "value"));
            }
        }
        return out;
    }

    static void assertEndsOnlyAtLast(List<RecordingSink.Packet> packets) {
        for (int i = 0; i < packets.size(); i++) {
            assertThat(packets.get(i).last()).as("packet %d of %d ends the reply", i, packets.size()).isEqualTo(i == packets.size() - 1);
        }
    }

    @ParameterizedTest(name = "deprecateEof={0}")
    @ValueSource(booleans = {false, true})
    void resultsWithZeroOneAndManyRows(boolean deprecateEof) throws Exception {
        MySqlBackendConnection c = open(settings(db, deprecateEof));
        try {
            assertThat(c.deprecateEof()).isEqualTo(deprecateEof);

            List<RecordingSink.Packet> none = query(c, "SELECT id, name FROM t WHERE id < 0");
            List<PacketKind> expected = metadata(2, deprecateEof);
            expected.add(ROWS_END);
            assertThat(kinds(none)).isEqualTo(expected);
            assertEndsOnlyAtLast(none);
            for (int i = 0; i < none.size(); i++) {
                assertThat(none.get(i).sequenceId()).as("sequence id of packet %d", i).isEqualTo(i + 1);
            }
            // the end packet: EOF (5 bytes) or, with DEPRECATE_EOF, an OK with the 0xFE header
            assertThat(none.getLast().first()).isEqualTo(0xFE);
            assertThat(none.getLast().payloadLength()).isEqualTo(deprecateEof ? 7 : 5);

            List<RecordingSink.Packet> one = query(c, "SELECT id, name FROM t WHERE id = 7");
            expected = metadata(2, deprecateEof);
            expected.add(ROW);
            expected.add(ROWS_END);
            assertThat(kinds(one)).isEqualTo(expected);
            assertThat(textRow(Arrays.copyOfRange(one.get(expected.size() - 2).bytes(), 4, one.get(expected.size() - 2).bytes().length)))
                    .containsExactly("7", "n7");

            List<RecordingSink.Packet> many = query(c, "SELECT id, name FROM t ORDER BY id");
            assertThat(kinds(many).stream().filter(k -> k == ROW).count()).isEqualTo(1000);
            assertThat(many.getLast().kind()).isEqualTo(ROWS_END);
            assertEndsOnlyAtLast(many);

            List<RecordingSink.Packet> update = query(c, "UPDATE t SET name = 'z' WHERE id = -1");
            assertThat(kinds(update)).containsExactly(OK);
            assertThat(update.getFirst().last()).isTrue();
            assertThat(c.status() & ReplyReader.SERVER_STATUS_AUTOCOMMIT).isNotZero();
        } finally {
            c.quit();
        }
    }

    @ParameterizedTest(name = "deprecateEof={0}")
    @ValueSource(booleans = {false, true})
    void anErrorEndsTheReplyAndTheConnectionGoesOn(boolean deprecateEof) throws Exception {
        MySqlBackendConnection c = open(settings(db, deprecateEof));
        try {
            BackendReply reply = c.query("SELECT * FROM nosuch").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(reply.kinds()).containsExactly(ERROR);
            assertThat(reply.error().errno()).isEqualTo(1146);
            assertThat(reply.error().sqlState()).isEqualTo("42S02");
            assertThat(reply.error().message()).contains("nosuch");
            // an error in the middle of the rows (a division by zero in strict mode stops the result)
            List<RecordingSink.Packet> midway = query(c, "SELECT CAST(CONCAT('1', REPEAT('0', id)) AS INTEGER) FROM t WHERE id < 40 ORDER BY id");
            assertThat(midway.getLast().kind()).isIn(ERROR, ROWS_END);
            assertEndsOnlyAtLast(midway);
            assertThat(c.isUsable()).isTrue();
            assertThat(c.query("SELECT 1").get(WAIT.toSeconds(), TimeUnit.SECONDS).rows()).isEqualTo(1);
        } finally {
            c.quit();
        }
    }

    @ParameterizedTest(name = "deprecateEof={0}")
    @ValueSource(booleans = {false, true})
    void aProcedureReturnsSeveralResults(boolean deprecateEof) throws Exception {
        MySqlBackendConnection c = open(settings(db, deprecateEof));
        try {
            List<RecordingSink.Packet> packets = query(c, "CALL two()");
            List<PacketKind> expected = metadata(1, deprecateEof);
            expected.addAll(List.of(ROW, ROWS_END));
            expected.addAll(metadata(2, deprecateEof));
            expected.addAll(List.of(ROW, ROWS_END, OK));
            assertThat(kinds(packets)).isEqualTo(expected);
            assertEndsOnlyAtLast(packets);
            assertThat(c.query("SELECT 2").get(WAIT.toSeconds(), TimeUnit.SECONDS).rows()).isEqualTo(1);
        } finally {
            c.quit();
        }
    }

    @ParameterizedTest(name = "deprecateEof={0}")
    @ValueSource(booleans = {false, true})
    void multiStatementsReturnEveryResultAndStopAtAnError(boolean deprecateEof) throws Exception {
        MySqlBackendConnection c = open(settings(db, deprecateEof).withFlags(deprecateEof, false, true));
        try {
            BackendReply all = c.query("SELECT 1; SELECT id FROM t WHERE id <= 3; DO 1").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(all.resultSets()).isEqualTo(2);
            assertThat(all.rows()).isEqualTo(4);
            assertThat(all.kinds().getLast()).isEqualTo(OK);
            assertThat(all.ok()).isTrue();

            BackendReply failed = c.query("SELECT 1; SELECT * FROM nosuch; SELECT 3").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(failed.resultSets()).isEqualTo(1);
            assertThat(failed.error().errno()).isEqualTo(1146);
            assertThat(c.query("SELECT 4").get(WAIT.toSeconds(), TimeUnit.SECONDS).rows()).isEqualTo(1);
        } finally {
            c.quit();
        }
    }

    /** A 20 MB value: the row is three physical packets; and a 20 MB statement goes out as two. */
    @ParameterizedTest(name = "deprecateEof={0}")
    @ValueSource(booleans = {false, true})
    void rowsAndStatementsLargerThan16MbAreSplit(boolean deprecateEof) throws Exception {
        int size = 20 * 1024 * 1024;
        MySqlBackendConnection c = open(settings(db, deprecateEof));
        try {
            RecordingSink sink = new RecordingSink();
            c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY,
                    ("SELECT REPEAT('x', " + size + ") AS big, 'after' AS small").getBytes(StandardCharsets.UTF_8)), sink);
            List<RecordingSink.Packet> packets = sink.done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            List<RecordingSink.Packet> rowPieces = packets.stream().filter(p -> p.kind() == ROW).toList();
            assertThat(rowPieces).hasSize(2);
            assertThat(rowPieces.getFirst().continuation()).isFalse();
            assertThat(rowPieces.getFirst().payloadLength()).isEqualTo(0xFFFFFF);
            assertThat(rowPieces.get(1).continuation()).isTrue();
            assertThat(packets.getLast().kind()).isEqualTo(ROWS_END);
            List<byte[]> logical = sink.logicalPayloads();
            byte[] row = logical.get(logical.size() - 2);
            List<String> values = textRow(row);
            assertThat(values.get(0)).hasSize(size).matches("x+");
            assertThat(values.get(1)).isEqualTo("after");

            byte[] sql = ("SELECT LENGTH('" + "y".repeat(size) + "')").getBytes(StandardCharsets.UTF_8);
            List<RecordingSink.Packet> length = query(c, new String(sql, StandardCharsets.UTF_8));
            byte[] lengthRow = sinkRow(length);
            assertThat(textRow(lengthRow)).containsExactly(Integer.toString(size));
        } finally {
            c.quit();
        }
    }

    private static byte[] sinkRow(List<RecordingSink.Packet> packets) {
        RecordingSink.Packet row = packets.stream().filter(p -> p.kind() == ROW).findFirst().orElseThrow();
        return Arrays.copyOfRange(row.bytes(), 4, row.bytes().length);
    }

    @ParameterizedTest(name = "deprecateEof={0}")
    @ValueSource(booleans = {false, true})
    void preparedStatementsAsRawPackets(boolean deprecateEof) throws Exception {
        MySqlBackendConnection c = open(settings(db, deprecateEof));
        try {
            RecordingSink prepare = new RecordingSink();
            c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_STMT_PREPARE,
                    "SELECT CAST(? AS SIGNED) + 1 AS r".getBytes(StandardCharsets.UTF_8)), prepare);
            List<RecordingSink.Packet> prepared = prepare.done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            List<PacketKind> expected = new ArrayList<>(List.of(PREPARE_OK, PARAMETER_DEFINITION));
            if (!deprecateEof) {
                expected.add(PREPARE_EOF);
            }
            expected.add(COLUMN_DEFINITION);
            if (!deprecateEof) {
                expected.add(PREPARE_EOF);
            }
            assertThat(kinds(prepared)).isEqualTo(expected);
            assertEndsOnlyAtLast(prepared);
            ByteBuf ok = Unpooled.wrappedBuffer(prepared.getFirst().bytes());
            int statementId = ok.getIntLE(5);

            List<RecordingSink.Packet> executed = execute(c, statementId, 41);
            expected = metadata(1, deprecateEof);
            expected.addAll(List.of(ROW, ROWS_END));
            assertThat(kinds(executed)).isEqualTo(expected);
            ByteBuf row = Unpooled.wrappedBuffer(sinkRow(executed));
            assertThat(row.readUnsignedByte()).isZero(); // binary row header
            row.skipBytes(1); // NULL bitmap
            assertThat(row.readLongLE()).isEqualTo(42);

            c.sendWithoutReply(Unpooled.buffer().writeByte(MySqlBackendConnection.COM_STMT_CLOSE).writeIntLE(statementId))
                    .get(WAIT.toSeconds(), TimeUnit.SECONDS);
            List<RecordingSink.Packet> closed = execute(c, statementId, 1);
            assertThat(kinds(closed)).containsExactly(ERROR);
            assertThat(ServerError.parse(Unpooled.wrappedBuffer(closed.getFirst().bytes(), 4, closed.getFirst().bytes().length - 4))
                    .errno()).isEqualTo(1243);
        } finally {
            c.quit();
        }
    }

    private static List<RecordingSink.Packet> execute(MySqlBackendConnection c, int statementId, long value) throws Exception {
        ByteBuf p = Unpooled.buffer().writeByte(MySqlBackendConnection.COM_STMT_EXECUTE).writeIntLE(statementId)
                .writeByte(0).writeIntLE(1) // no cursor, one iteration
                .writeByte(0).writeByte(1) // NULL bitmap, new parameters bound
                .writeByte(0x08).writeByte(0) // LONGLONG, signed
                .writeLongLE(value);
        RecordingSink sink = new RecordingSink();
        c.send(p, sink);
        return sink.done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void aCursorIsRefusedBeforeAnythingIsSent() throws Exception {
        MySqlBackendConnection c = open(settings(db, true));
        try {
            ByteBuf p = Unpooled.buffer().writeByte(MySqlBackendConnection.COM_STMT_EXECUTE).writeIntLE(1).writeByte(1).writeIntLE(1);
            assertThatThrownBy(() -> c.send(p, new RecordingSink())).isInstanceOf(ProxyException.class)
                    .hasMessageContaining("cursor");
            assertThat(p.refCnt()).isZero();
            assertThat(c.isUsable()).isTrue();
        } finally {
            c.quit();
        }
    }

    @Test
    void pingResetAndTransactionStatus() throws Exception {
        MySqlBackendConnection c = open(settings(db, true));
        try {
            assertThat(c.ping().get(WAIT.toSeconds(), TimeUnit.SECONDS).kinds()).containsExactly(OK);
            c.query("SET @x = 5").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            c.query("BEGIN").get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(c.inTransaction()).isTrue();
            assertThat(textRow(sinkRow(query(c, "SELECT @x")))).containsExactly("5");
            BackendReply reset = c.resetConnection().get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(reset.ok()).isTrue();
            assertThat(c.inTransaction()).isFalse();
            assertThat(textRow(sinkRow(query(c, "SELECT @x, DATABASE()")))).containsExactly(null, DB);
            assertThat(c.initDb("nosuch").get(WAIT.toSeconds(), TimeUnit.SECONDS).error().errno()).isIn(1044, 1049);
        } finally {
            c.quit();
        }
        assertThat(c.isUsable()).isFalse();
        assertThatThrownBy(() -> c.query("SELECT 1").get(WAIT.toSeconds(), TimeUnit.SECONDS))
                .hasCauseInstanceOf(ProxyException.class).hasMessageContaining("closed");
    }

    @Test
    void aSecondCommandWhileOneRunsIsABug() throws Exception {
        MySqlBackendConnection c = open(settings(db, true));
        try {
            CompletableFuture<BackendReply> sleeping = c.query("SELECT SLEEP(0.3)");
            ByteBuf second = MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_PING, new byte[0]);
            assertThatThrownBy(() -> c.send(second, new RecordingSink())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("still running");
            assertThat(second.refCnt()).isZero();
            assertThat(sleeping.get(WAIT.toSeconds(), TimeUnit.SECONDS).rows()).isEqualTo(1);
        } finally {
            c.quit();
        }
    }

    @Test
    void aWrongPasswordFailsTheConnectNamingTheShard() {
        BackendSettings wrong = new BackendSettings("s0", LocalMariaDb.HOST, db.port(), "app", "wrong", DB,
                BackendSettings.UTF8MB4_GENERAL_CI, true, false, false, Duration.ofSeconds(5), Duration.ofSeconds(10));
        assertThatThrownBy(() -> open(wrong)).isInstanceOf(ExecutionException.class).cause()
                .isInstanceOf(ProxyException.class)
                .hasMessageContaining("shard s0 (127.0.0.1:" + db.port() + ")")
                .hasMessageContaining("login as 'app' failed")
                .hasMessageContaining("1045");
    }

    @Test
    void anUnsupportedAuthPluginIsNamed() {
        db.execute("INSTALL SONAME 'auth_ed25519'");
        db.execute("CREATE USER IF NOT EXISTS 'ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('pw')");
        BackendSettings ed = new BackendSettings("s0", LocalMariaDb.HOST, db.port(), "ed", "pw", "",
                BackendSettings.UTF8MB4_GENERAL_CI, true, false, false, Duration.ofSeconds(5), Duration.ofSeconds(10));
        assertThatThrownBy(() -> open(ed)).isInstanceOf(ExecutionException.class).cause()
                .isInstanceOf(ProxyException.class)
                .hasMessageContaining("authenticates with client_ed25519")
                .hasMessageContaining("mysql_native_password");
    }

    @Test
    void aHungServerFailsTheCommandAfterTheReplyTimeout() throws Exception {
        MySqlBackendConnection c = open(settings(db, true).withReplyTimeout(Duration.ofMillis(500)));
        RecordingSink sink = new RecordingSink();
        long start = System.nanoTime();
        c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, "SELECT SLEEP(5)".getBytes(StandardCharsets.UTF_8)), sink);
        assertThatThrownBy(() -> sink.done.get(WAIT.toSeconds(), TimeUnit.SECONDS)).cause().isInstanceOf(ProxyException.class)
                .hasMessageContaining("shard s0")
                .hasMessageMatching("(?s).*no answer to COM_QUERY for \\d+ ms \\(reply timeout 500 ms\\).*");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(450L, 3000L);
        assertThat(c.isUsable()).isFalse();
        assertThat(((ProxyException) c.closedBy()).code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
    }

    @Test
    void aServerThatNeverGreetsFailsTheConnect() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getByName(LocalMariaDb.HOST))) {
            AtomicReference<Socket> accepted = new AtomicReference<>();
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    accepted.set(silent.accept());
                } catch (Exception ignored) {
                    // closed by the test
                }
            });
            BackendSettings s = new BackendSettings("s9", LocalMariaDb.HOST, silent.getLocalPort(), "app", "secret", DB,
                    BackendSettings.UTF8MB4_GENERAL_CI, true, false, false, Duration.ofSeconds(5), Duration.ofMillis(400));
            long start = System.nanoTime();
            assertThatThrownBy(() -> open(s)).cause().isInstanceOf(ProxyException.class)
                    .hasMessageContaining("shard s9").hasMessageContaining("no answer to login");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3000);
            acceptor.join(1000);
            if (accepted.get() != null) {
                accepted.get().close();
            }
        }
    }

    @Test
    void aSlowSinkPausesTheReadsWithoutTimingOut() throws Exception {
        MySqlBackendConnection c = open(settings(db, true).withReplyTimeout(Duration.ofMillis(300)));
        try {
            AtomicBoolean paused = new AtomicBoolean();
            RecordingSink sink = new RecordingSink(p -> {
                if (p.kind() == ROW && paused.compareAndSet(false, true)) {
                    c.pauseReading();
                }
            });
            int rows = 300_000;
            c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY,
                    ("SELECT seq, REPEAT('r', 20) FROM seq_1_to_" + rows).getBytes(StandardCharsets.UTF_8)), sink);
            while (!paused.get()) {
                Thread.sleep(5);
            }
            Thread.sleep(300);
            int atPause = sink.packets.size();
            Thread.sleep(700); // longer than the reply timeout: a paused read is not a hung server
            assertThat(sink.packets.size()).isEqualTo(atPause).isLessThan(rows / 2);
            assertThat(sink.done).isNotDone();
            c.resumeReading();
            List<RecordingSink.Packet> all = sink.done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(all.stream().filter(p -> p.kind() == ROW).count()).isEqualTo(rows);
            assertThat(c.isUsable()).isTrue();
        } finally {
            c.quit();
        }
    }

    @Test
    void aServerKilledMidCommandFailsItPromptly() throws Exception {
        try (LocalMariaDb doomed = LocalMariaDb.temporary()) {
            doomed.createDatabase(DB);
            doomed.createDatabaseUser(DB, "app", "secret");
            MySqlBackendConnection c = open(settings(doomed, true).withReplyTimeout(Duration.ofSeconds(60)));
            RecordingSink sink = new RecordingSink();
            c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, "SELECT SLEEP(30)".getBytes(StandardCharsets.UTF_8)), sink);
            Thread.sleep(200);
            long start = System.nanoTime();
            doomed.kill();
            assertThatThrownBy(() -> sink.done.get(WAIT.toSeconds(), TimeUnit.SECONDS)).cause().isInstanceOf(ProxyException.class)
                    .hasMessageContaining("shard s0 (127.0.0.1:" + doomed.port() + ")")
                    .hasMessageMatching("(?s).*connection lost waiting for the reply to COM_QUERY, \\d+ ms after it was sent.*");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000);
            assertThat(c.isUsable()).isFalse();
        }
    }
}

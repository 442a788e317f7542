package io.shardgate.proxy.backend.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.backend.BackendEventLoops;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.execute.BackendError;
import io.shardgate.proxy.execute.RowSource;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A result read as a RowSource over a native connection, against a real MariaDB. */
class NativeRowsTest {
    private static final String DB = "shop";
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
                CREATE TABLE t (id BIGINT PRIMARY KEY, n INT, price DECIMAL(12,2), name VARCHAR(20) CHARACTER SET utf8mb4,
                  b VARBINARY(10));
                INSERT INTO t VALUES (1, 10, 1.50, 'één', x'00FF'), (2, NULL, NULL, NULL, NULL), (3, -7, 99.99, '', '');
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

    /** What the source told its owner. */
    private static final class Recorded implements NativeRows.Ending {
        final List<String> events = new ArrayList<>();
        List<byte[][]> warningRows;

        @Override
        public void warnings(int count, List<byte[][]> rows) {
            events.add("warnings " + count);
            warningRows = rows;
        }

        @Override
        public void ended(boolean idle, boolean killQuery) {
            events.add("ended idle=" + idle + " kill=" + killQuery);
        }
    }

    private static MySqlBackendConnection open(boolean deprecateEof) throws Exception {
        return MySqlBackendConnection.connect(loops, MySqlBackendConnectionTest.settings(db, deprecateEof))
                .get(30, TimeUnit.SECONDS);
    }

    private static RowSource.Opened read(MySqlBackendConnection c, Recorded ending, String sql) throws BackendError {
        return new NativeRows(c, "logical", ending).open(sql.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> values(byte[][] row) {
        List<String> out = new ArrayList<>();
        for (byte[] v : row) {
            out.add(v == null ? null : new String(v, StandardCharsets.UTF_8));
        }
        return out;
    }

    @ParameterizedTest(name = "deprecateEof={0}")
    @ValueSource(booleans = {false, true})
    void rowsNullsAndTheServersOwnColumnDefinitions(boolean deprecateEof) throws Exception {
        MySqlBackendConnection c = open(deprecateEof);
        try {
            Recorded ending = new Recorded();
            RowSource rows = ((RowSource.Opened.Streaming) read(c, ending, "SELECT id, n, price, name, b FROM t ORDER BY id")).rows();
            List<ColumnInfo> columns = rows.columns();
            assertThat(columns).extracting(ColumnInfo::name).containsExactly("id", "n", "price", "name", "b");
            // the server's lengths (Connector/J would say 19, 10 and 12)
            assertThat(columns).extracting(ColumnInfo::length).containsExactly(20L, 11L, 14L, 80L, 10L);
            assertThat(columns.getFirst().schema()).isEqualTo("logical");
            assertThat(columns.getFirst().orgTable()).isEqualTo("t");
            assertThat(columns.get(2).decimals()).isEqualTo(2);
            assertThat(columns.get(4).collationId()).isEqualTo(63);
            assertThat(values(rows.next())).containsExactly("1", "10", "1.50", "één", new String(new byte[] {0, (byte) 0xFF},
                    StandardCharsets.UTF_8));
            assertThat(values(rows.next())).containsExactly("2", null, null, null, null);
            assertThat(values(rows.next())).containsExactly("3", "-7", "99.99", "", "");
            assertThat(rows.next()).isNull();
            assertThat(rows.next()).isNull();
            assertThat(rows.warnings()).isZero();
            assertThat(ending.events).containsExactly("ended idle=true kill=false");
            assertThat(c.isUsable()).isTrue();
        } finally {
            c.quit();
        }
    }

    @Test
    void aRowLargerThan16MbComesInPiecesAndIsJoined() throws Exception {
        int size = 20 * 1024 * 1024;
        MySqlBackendConnection c = open(true);
        try {
            RowSource rows = ((RowSource.Opened.Streaming) read(c, new Recorded(),
                    "SELECT REPEAT('x', " + size + ") AS big, NULL AS nothing, 'after' AS small UNION ALL SELECT 'y', 'z', NULL"))
                    .rows();
            byte[][] first = rows.next();
            assertThat(first[0]).hasSize(size);
            assertThat(new String(first[0], 0, 10, StandardCharsets.US_ASCII)).isEqualTo("xxxxxxxxxx");
            assertThat(first[1]).isNull();
            assertThat(values(first).get(2)).isEqualTo("after");
            assertThat(values(rows.next())).containsExactly("y", "z", null);
            assertThat(rows.next()).isNull();
        } finally {
            c.quit();
        }
    }

    @Test
    void warningsAreListedOnTheSameConnectionAtTheEnd() throws Exception {
        MySqlBackendConnection c = open(true);
        try {
            Recorded ending = new Recorded();
            RowSource rows = ((RowSource.Opened.Streaming) read(c, ending, "SELECT CAST('1x' AS SIGNED) AS v")).rows();
            assertThat(values(rows.next())).containsExactly("1");
            assertThat(rows.next()).isNull();
            assertThat(rows.warnings()).isEqualTo(1);
            assertThat(ending.events).containsExactly("warnings 1", "ended idle=true kill=false");
            assertThat(values(ending.warningRows.getFirst())).containsExactly("Warning", "1292", "Truncated incorrect INTEGER value: '1x'");
        } finally {
            c.quit();
        }
    }

    @Test
    void anErrorBeforeTheColumnsIsTheServersAndTheConnectionGoesOn() throws Exception {
        MySqlBackendConnection c = open(true);
        try {
            Recorded ending = new Recorded();
            assertThatThrownBy(() -> read(c, ending, "SELECT nope FROM t")).isInstanceOfSatisfying(BackendError.class, e -> {
                assertThat(e.errno()).isEqualTo(1054);
                assertThat(e.sqlState()).isEqualTo("42S22");
                assertThat(e.error().error().message()).startsWith("Unknown column 'nope' in '");
            });
            assertThat(ending.events).containsExactly("ended idle=true kill=false");
            assertThat(c.isUsable()).isTrue();
        } finally {
            c.quit();
        }
    }

    @Test
    void anErrorAfterSomeRowsComesAfterThem() throws Exception {
        MySqlBackendConnection c = open(true);
        try {
            Recorded ending = new Recorded();
            // the subquery returns two rows from id 2 on
            RowSource rows = ((RowSource.Opened.Streaming) read(c, ending,
                    "SELECT id, (SELECT 1 UNION ALL SELECT 2 FROM DUAL WHERE t.id >= 2) AS x FROM t ORDER BY id")).rows();
            assertThat(values(rows.next())).containsExactly("1", "1");
            assertThatThrownBy(rows::next).isInstanceOfSatisfying(BackendError.class, e -> assertThat(e.errno()).isEqualTo(1242));
            assertThat(rows.next()).isNull();
            assertThat(ending.events).containsExactly("ended idle=true kill=false");
            assertThat(c.isUsable()).isTrue();
        } finally {
            c.quit();
        }
    }

    @Test
    void aStatementWithoutRowsIsDone() throws Exception {
        MySqlBackendConnection c = open(true);
        try {
            Recorded ending = new Recorded();
            RowSource.Opened o = read(c, ending, "DO 1");
            assertThat(o).isInstanceOf(RowSource.Opened.Done.class);
            assertThat(((RowSource.Opened.Done) o).result()).isInstanceOf(StatementResult.Update.class);
            assertThat(ending.events).containsExactly("ended idle=true kill=false");
        } finally {
            c.quit();
        }
    }

    @Test
    void anUnreadResultHoldsABoundedBufferAndClosingItCutsTheConnection() throws Exception {
        MySqlBackendConnection c = open(true);
        try {
            Recorded ending = new Recorded();
            NativeRows rows = (NativeRows) ((RowSource.Opened.Streaming) read(c, ending,
                    "SELECT seq, REPEAT('r', 100) FROM seq_1_to_2000000")).rows();
            assertThat(values(rows.next()).getFirst()).isEqualTo("1");
            Thread.sleep(1000);
            long held = rows.queuedBytes();
            Thread.sleep(500);
            // paused: nothing more is read from the socket (what one turn of the event loop read already may still come)
            assertThat(rows.queuedBytes()).isLessThan(4L * NativeRows.PAUSE_BYTES).isEqualTo(held);
            long seen = 1;
            while (seen < 100_000) {
                assertThat(rows.next()).isNotNull();
                seen++;
            }
            assertThat(rows.queuedBytes()).isLessThan(4L * NativeRows.PAUSE_BYTES);
            rows.close();
            assertThat(ending.events).containsExactly("ended idle=false kill=true");
            assertThat(c.isUsable()).isFalse();
            assertThat(rows.next()).isNull();
        } finally {
            c.close();
        }
    }

    @Test
    void closingAfterTheReplyArrivedWholeKeepsTheConnection() throws Exception {
        MySqlBackendConnection c = open(true);
        try {
            Recorded ending = new Recorded();
            RowSource rows = ((RowSource.Opened.Streaming) read(c, ending, "SELECT id FROM t ORDER BY id")).rows();
            assertThat(values(rows.next())).containsExactly("1");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!c.isUsable() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            rows.close();
            assertThat(ending.events).containsExactly("ended idle=true kill=false");
            assertThat(c.isUsable()).isTrue();
        } finally {
            c.quit();
        }
    }

    @Test
    void aLostConnectionIsShardUnavailable() throws Exception {
        MySqlBackendConnection c = open(true);
        Recorded ending = new Recorded();
        RowSource rows = ((RowSource.Opened.Streaming) read(c, ending, "SELECT seq, REPEAT('r', 100) FROM seq_1_to_5000000")).rows();
        assertThat(values(rows.next()).getFirst()).isEqualTo("1");
        c.close();
        assertThatThrownBy(() -> {
            while (rows.next() != null) {
                // the rows that came before the cut
            }
        }).isInstanceOfSatisfying(BackendError.class, e -> assertThat(e.error().code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE));
        assertThat(ending.events).containsExactly("ended idle=false kill=false");
    }

}

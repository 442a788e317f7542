package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.cluster.KeyType;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.backend.mysql.LentConnection;
import io.shardgate.proxy.execute.BackendConnection;
import io.shardgate.proxy.execute.BackendError;
import io.shardgate.proxy.execute.RowImage;
import io.shardgate.proxy.execute.RowSource;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One contract for {@link BackendConnection}, run against both kinds on a real MariaDB: the JDBC one
 * ({@link JdbcBackendConnection}) and the native one ({@link NativeBackendConnection}). Each case runs the same calls on
 * a fresh copy of the same rows through each kind and asserts the same outcome, written out in full: values, column
 * metadata, affected rows, last insert id, info, warnings, and errors with errno, SQLSTATE and text. The one documented
 * difference: a column's length is the server's own on the native kind, Connector/J's rewrite on the JDBC one (the
 * native one is what a direct client sees), so lengths are compared against the server's where they differ.
 */
class BackendConnectionContractTest {
    private static final String SHARD = "s0";
    private static ShardedCluster cluster;
    private static ProxyCore core;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        cluster = new ShardedCluster();
        core = ProxyCore.start(Map.of("app", "secret"), cluster.watcher, ProxyCoreSettings.defaults().withNativeBackends(true));
    }

    @AfterAll
    static void stop() {
        if (core != null) {
            core.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void freshRows() {
        cluster.s0.execute(ShardedCluster.DB, """
                DROP TABLE IF EXISTS t, t_copy;
                CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, k INT NOT NULL, n INT, price DECIMAL(12,2),
                  name VARCHAR(20) CHARACTER SET utf8mb4, b VARBINARY(10), d DATETIME(3), u TINYINT UNSIGNED, j JSON,
                  UNIQUE KEY (name));
                INSERT INTO t (id, k, n, price, name, b, d, u, j) VALUES
                  (1, 7, 10, 1.50, 'één', x'00FF27', '2026-01-02 03:04:05.678', 255, '{"a": [1, "x"]}'),
                  (2, 7, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  (3, 8, -7, 99.99, 'it''s \\\\ "q"', '', '1000-01-01 00:00:00', 0, '[]');
                CREATE TABLE t_copy LIKE t;
                INSERT INTO t_copy SELECT * FROM t WHERE id = 3;
                """);
    }

    /** One kind of connection, lent from a session of the proxy and given back after the case. */
    private interface Kind {
        BackendConnection lend(ProxySession session, boolean keeps);

        void giveBack(ProxySession session, BackendConnection c);
    }

    private static final Kind JDBC = new Kind() {
        @Override
        public BackendConnection lend(ProxySession session, boolean keeps) {
            SessionBackends backends = session.backends();
            return new JdbcBackendConnection(backends.borrow(SHARD), backends, session, core);
        }

        @Override
        public void giveBack(ProxySession session, BackendConnection c) {
            session.backends().release(((JdbcBackendConnection) c).lease());
        }
    };

    /** What the native kind told its owner (the session, in the proxy). */
    private static final List<String> nativeWarnings = new ArrayList<>();

    private static final Kind NATIVE = new Kind() {
        @Override
        public BackendConnection lend(ProxySession session, boolean keeps) {
            LentConnection lent = core.nativeBackends().lend(core.snapshot().cluster().shard(SHARD).orElseThrow(),
                    session.backends().settings(), session.foundRowsFlag());
            return new NativeBackendConnection(lent, false, new NativeBackendConnection.Owner() {
                @Override
                public boolean keeps(NativeBackendConnection c) {
                    return keeps;
                }

                @Override
                public void discarded(NativeBackendConnection c) {
                }

                @Override
                public void warnings(String shard, int count, List<byte[][]> rows) {
                    nativeWarnings.add(shard + " " + count + " " + (rows == null ? null : rows.stream().map(r -> text(r)).toList()));
                }

                @Override
                public ClientCharset charset() {
                    return session.charset();
                }

                @Override
                public boolean touchesCharset() {
                    return session.backends().settings().touchesCharset();
                }

                @Override
                public String logicalDatabase() {
                    return core.topology().logicalDatabase();
                }
            });
        }

        @Override
        public void giveBack(ProxySession session, BackendConnection c) {
            ((NativeBackendConnection) c).lent().giveBack();
        }
    };

    @FunctionalInterface
    private interface Case {
        List<String> run(BackendConnection c) throws Exception;
    }

    /** Runs {@code work} through each kind on the same rows; returns the JDBC kind's outcome after asserting the native one's equals it. */
    private List<String> same(Case work) throws Exception {
        return same(false, work);
    }

    private List<String> same(boolean keeps, Case work) throws Exception {
        List<String> jdbc = through(JDBC, keeps, work);
        freshRows();
        List<String> nat = through(NATIVE, keeps, work);
        for (int i = 0; i < Math.min(jdbc.size(), nat.size()); i++) {
            assertThat(nat.get(i)).as("the native kind's outcome, step %d", i).isEqualTo(jdbc.get(i));
        }
        assertThat(nat).as("the native kind's outcome").isEqualTo(jdbc);
        return jdbc;
    }

    private static List<String> through(Kind kind, boolean keeps, Case work) throws Exception {
        try (var frontend = core.open(new ClientInfo("app", ShardedCluster.DB, "127.0.0.1", Map.of()))) {
            ProxySession session = (ProxySession) frontend;
            BackendConnection c = kind.lend(session, keeps);
            try {
                List<String> out = new ArrayList<>(work.run(c));
                out.add("table t: " + contents("t"));
                out.add("table t_copy: " + contents("t_copy"));
                return out;
            } finally {
                kind.giveBack(session, c);
            }
        }
    }

    private static List<List<String>> contents(String table) throws Exception {
        try (var direct = cluster.direct(SHARD)) {
            return ShardedCluster.rows(direct, "SELECT id, k, n, price, name, HEX(b), d, u, j FROM " + table + " ORDER BY id");
        }
    }

    private static ShardStatement statement(String sql, int parameters) {
        return new ShardStatement(SHARD, sql, IntStream.range(0, parameters).boxed().toList());
    }

    /** A result or error written out in full; lengths separately (see the class comment). */
    private static String describe(Object outcome) {
        return switch (outcome) {
            case StatementResult.Update u -> "update " + u;
            case StatementResult.Rows r -> "rows " + columns(r.columns()) + " " + r.rows().stream().map(BackendConnectionContractTest::text).toList()
                    + " warnings " + r.warnings();
            case BackendError e -> "error " + e.error().error() + " code " + e.error().code();
            default -> String.valueOf(outcome);
        };
    }

    /**
     * The columns without the two fields Connector/J rewrites: the length, and the BLOB flag, which it sets on every
     * binary string column (VARBINARY(10) comes with flags 144 through it, 128 from the server).
     */
    private static String columns(List<ColumnInfo> columns) {
        return columns.stream().map(c -> new ColumnInfo(c.schema(), c.table(), c.orgTable(), c.name(), c.orgName(), c.type(), 0,
                c.decimals(), c.unsigned(), c.notNull(), c.binary(), c.collationId(), c.pgTypeOid(), c.pgTypeModifier(),
                c.pgTableOid(), c.pgColumnNumber(), new ColumnInfo.MySqlWire(c.mysqlWire().type(), c.mysqlWire().flags() & ~BLOB_FLAG))
                .toString()).toList().toString();
    }

    private static final int BLOB_FLAG = 16;

    @Test
    void theNativeKindHasTheServersOwnLengthsAndFlags() throws Exception {
        try (var frontend = core.open(new ClientInfo("app", ShardedCluster.DB, "127.0.0.1", Map.of()))) {
            ProxySession session = (ProxySession) frontend;
            BackendConnection c = NATIVE.lend(session, false);
            try {
                var rows = (StatementResult.Rows) c.run(statement("SELECT id, n, price, name, b FROM t WHERE id = 0", 0), List.of());
                // what mysql --column-type-info shows for these columns on MariaDB
                assertThat(rows.columns()).extracting(ColumnInfo::length).containsExactly(20L, 11L, 14L, 80L, 10L);
                assertThat(rows.columns().get(4).mysqlWire().flags()).isEqualTo(128);
            } finally {
                NATIVE.giveBack(session, c);
            }
        }
    }

    private static List<String> text(byte[][] row) {
        List<String> out = new ArrayList<>();
        for (byte[] v : row) {
            out.add(v == null ? null : HexFormat.of().formatHex(v) + "/" + new String(v, StandardCharsets.UTF_8));
        }
        return out;
    }

    private static String outcome(Call call) {
        try {
            return describe(call.run());
        } catch (BackendError e) {
            return describe(e);
        }
    }

    interface Call {
        Object run() throws BackendError;
    }

    @Test
    void readsTheSameValuesColumnsAndWarnings() throws Exception {
        List<String> out = same(c -> List.of(
                outcome(() -> c.run(statement("SELECT id, k, n, price, name, b, d, u, j, n / 0 AS q FROM t ORDER BY id", 0), List.of())),
                outcome(() -> c.run("SELECT @@autocommit, 1 + 1 AS two, NULL AS nothing, _binary'x' AS bin"))));
        assertThat(out.getFirst()).contains("één", "warnings 2", "name=q");
    }

    @Test
    void bindsParametersAsTheJdbcKindWritesThem() throws Exception {
        List<Object> values = Arrays.asList("it's \\ \"q\"", new byte[] {0, (byte) 0xFF, 0x27}, 7L, null,
                new BigDecimal("99.99"), LocalDateTime.of(1000, 1, 1, 0, 0), "één");
        same(c -> List.of(outcome(() -> c.run(statement("SELECT id FROM t WHERE name = ? OR b = ? OR k = ? OR n = ? OR price = ?"
                + " OR d = ? OR name = ? ORDER BY id", 7), values))));
    }

    @Test
    void writesReportAffectedRowsLastInsertIdInfoAndWarnings() throws Exception {
        List<String> out = same(c -> List.of(
                outcome(() -> c.run(statement("INSERT INTO t (k, n) VALUES (9, 1), (9, 2)", 0), List.of())),
                outcome(() -> c.run(statement("UPDATE t SET n = n + 1 WHERE k = 9 OR id = 2", 0), List.of())),
                outcome(() -> c.run(statement("INSERT IGNORE INTO t (id, k) VALUES (1, 1), (50, 1)", 0), List.of())),
                outcome(() -> c.run(statement("DELETE FROM t WHERE k = ?", 1), List.of(9L)))));
        assertThat(out.get(0)).contains("affectedRows=2", "lastInsertId=4");
        assertThat(out.get(1)).contains("Rows matched: 3");
        assertThat(out.get(2)).contains("warnings=1");
    }

    @Test
    void serverErrorsKeepErrnoSqlStateAndText() throws Exception {
        List<String> out = same(c -> List.of(
                outcome(() -> c.run(statement("INSERT INTO t (id, k) VALUES (1, 1)", 0), List.of())),
                outcome(() -> c.run(statement("SELEC 1", 0), List.of())),
                outcome(() -> c.run(statement("SELECT * FROM missing", 0), List.of())),
                outcome(() -> c.run(statement("UPDATE t SET name = REPEAT('x', 30) WHERE id = 1", 0), List.of())),
                outcome(() -> c.run(statement("UPDATE t SET u = 256 WHERE id = 1", 0), List.of())),
                outcome(() -> c.describe("SELECT nope FROM t")),
                outcome(() -> c.run("SELECT 1 FROM dual WHERE"))));
        assertThat(out.get(0)).contains("1062", "23000", "Duplicate entry '1' for key 'PRIMARY'");
        assertThat(out.get(3)).contains("1406", "22001");
        assertThat(out.get(4)).contains("1264", "22003");
        assertThat(out.get(5)).contains("1054", "42S22");
    }

    @Test
    void streamsRowsAsTheWholeResult() throws Exception {
        same(c -> {
            List<String> out = new ArrayList<>();
            switch (c.open(statement("SELECT id, name, b FROM t ORDER BY id", 0), List.of())) {
                case RowSource.Opened.Streaming st -> {
                    RowSource rows = st.rows();
                    try {
                        out.add(columns(rows.columns()));
                        for (byte[][] row = rows.next(); row != null; row = rows.next()) {
                            out.add(text(row).toString());
                        }
                        out.add("warnings " + rows.warnings());
                    } finally {
                        rows.close();
                    }
                }
                case RowSource.Opened.Done d -> out.add("done " + describe(d.result()));
            }
            RowSource.Opened none = c.open(statement("UPDATE t SET n = 0 WHERE id = 3", 0), List.of());
            out.add(none instanceof RowSource.Opened.Done d ? "done " + describe(d.result()) : "streaming");
            out.add(outcome(() -> c.open(statement("SELECT * FROM missing", 0), List.of())));
            return out;
        });
    }

    @Test
    void aKeptConnectionClosedEarlyReadsTheRestAndStaysUsable() throws Exception {
        for (Kind kind : List.of(JDBC, NATIVE)) {
            try (var frontend = core.open(new ClientInfo("app", ShardedCluster.DB, "127.0.0.1", Map.of()))) {
                ProxySession session = (ProxySession) frontend;
                session.backends().reserve(List.of(SHARD), "test"); // the JDBC kind keeps a reserved connection
                BackendConnection c = kind.lend(session, true);
                try {
                    c.begin();
                    c.run(statement("UPDATE t SET n = 42 WHERE id = 2", 0), List.of());
                    RowSource rows = ((RowSource.Opened.Streaming) c.open(statement(
                            "SELECT a.id FROM t a, t b, t c, t d, t e ORDER BY 1", 0), List.of())).rows();
                    assertThat(rows.next()).isNotNull();
                    rows.close();
                    assertThat(c.discarded()).isFalse();
                    assertThat(describe(c.run(statement("SELECT n FROM t WHERE id = 2", 0), List.of())))
                            .as("the transaction goes on").contains("42");
                    c.rollback();
                    c.restoreAutocommit();
                    assertThat(describe(c.run("SELECT @@autocommit"))).contains("31/1");
                } finally {
                    kind.giveBack(session, c);
                    session.backends().endSession();
                }
            }
        }
    }

    @Test
    void describesColumnsFromTheServersPrepare() throws Exception {
        same(c -> List.of(
                columns(c.describe("SELECT id, name AS label, price * 2 AS twice, b FROM t WHERE id = ?")),
                columns(c.describe("UPDATE t SET n = 1"))));
    }

    @Test
    void transactionsBeginCommitRollBackAndRestoreAutocommit() throws Exception {
        same(c -> {
            List<String> out = new ArrayList<>();
            c.begin();
            out.add(outcome(() -> c.run("SELECT @@autocommit")));
            c.run(statement("UPDATE t SET n = 100 WHERE id = 1", 0), List.of());
            c.rollback();
            c.run(statement("UPDATE t SET n = 200 WHERE id = 2", 0), List.of());
            c.commit();
            c.restoreAutocommit();
            out.add(outcome(() -> c.run("SELECT @@autocommit, @@in_transaction")));
            assertThat(c.discarded()).isFalse();
            return out;
        });
    }

    @Test
    void copiesRowImagesBetweenKinds() throws Exception {
        ShadowCopy.LookupKeys lookup = new ShadowCopy.LookupKeys("SELECT k FROM t WHERE id >= ? FOR UPDATE", List.of(0),
                KeyType.INT, ShardedCluster.SLOTS, IntStream.range(0, ShardedCluster.SLOTS).boxed().toList());
        Case copy = c -> {
            List<String> steps = new ArrayList<>();
            c.begin();
            List<Object> keys = c.lookUpKeys(lookup, List.of(1L));
            steps.add("keys " + keys);
            RowImage image = c.readImage("t", "k", keys);
            steps.add("image columns " + image.columns() + " rows " + image.rows().size());
            c.replaceRows("t_copy", "k", keys, image);
            c.commit();
            c.restoreAutocommit();
            return steps;
        };
        List<String> jdbc = through(JDBC, false, copy);
        freshRows();
        List<String> out = through(NATIVE, false, copy);
        assertThat(out.subList(0, 3)).isEqualTo(jdbc.subList(0, 3));
        assertThat(out.getFirst()).isEqualTo("keys [7, 8]");
        assertThat(out.get(out.size() - 1)).as("the native copy is the source's rows").isEqualTo(out.get(out.size() - 2)
                .replace("table t:", "table t_copy:"));
        assertThat(jdbc.get(jdbc.size() - 1)).as("the JDBC copy is the source's rows").isEqualTo(jdbc.get(jdbc.size() - 2)
                .replace("table t:", "table t_copy:"));
        assertThat(jdbc.get(jdbc.size() - 1)).contains("2026-01-02 03:04:05.678");
    }

    /** Columns whose values a Java object does not hold exactly, and their edges; every column is compared as the server's text and bytes. */
    private static final String WIDE = """
            CREATE TABLE %s (id BIGINT PRIMARY KEY, k INT NOT NULL, dt3 DATETIME(3), dt6 DATETIME(6), t6 TIME(6),
              ts6 TIMESTAMP(6) NULL DEFAULT NULL, dc DECIMAL(30,10), dbl DOUBLE, flt FLOAT, bt BIT(10), bt1 BIT(1), j JSON,
              vb VARBINARY(20), bl BLOB, e ENUM('a','b c'), st SET('x','y','z'), l1 VARCHAR(20) CHARACTER SET latin1,
              y YEAR, d DATE, ti TINYINT(1), u BIGINT UNSIGNED, tx TEXT CHARACTER SET utf8mb4)""";

    private static final String WIDE_COLUMNS = "id, k, dt3, dt6, t6, ts6, dc, dbl, CAST(dbl AS CHAR), flt, CAST(flt AS DOUBLE), HEX(bt),"
            + " HEX(bt1), j, HEX(vb), HEX(bl), e, st, l1, HEX(l1), y, d, ti, u, tx, HEX(tx)";

    @Test
    void copiesEveryTypeExactly() throws Exception {
        Case copy = c -> {
            cluster.s0.execute(ShardedCluster.DB, "SET NAMES utf8mb4; DROP TABLE IF EXISTS w, w_copy; " + WIDE.formatted("w") + "; "
                    + WIDE.formatted("w_copy") + ";" + """
                    INSERT INTO w VALUES
                      (1, 7, '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.123456', '-838:59:58.999999',
                       '2026-01-02 03:04:05.000001', '12345678901234567890.0123456789', 0.30000000000000004, 1.0000001,
                       b'1011111111', b'1', '{"a": [1, 2.50, "\u00e9"], "b": null}', x'00FF80C3', x'FE00FF27', 'b c', 'x,z',
                       'Ærø ÿ', 2155, '1000-01-01', 1, 18446744073709551615, 'één 💡 \\\\ ''q'''),
                      (2, 7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       NULL, NULL, NULL, NULL),
                      (3, 7, '9999-12-31 23:59:59.999', '1000-01-01 00:00:00.000001', '838:59:59.000001', '2038-01-18 03:14:07.999999',
                       '-99999999999999999999.9999999999', 4.9E-324, 3.40282e38, b'0', b'0', '[]', '', '', 'a', '',
                       '', 1901, '9999-12-31', -128, 0, ''),
                      (4, 7, NULL, NULL, '00:00:00.5', NULL, '0.0000000001', 1.7976931348623157E308, 1.17549435e-38, b'1', NULL,
                       '"x"', x'80', x'00', NULL, 'x,y,z', 'ÿ', NULL, NULL, 0, 1, NULL),
                      (5, 7, NULL, NULL, NULL, NULL, NULL, -2.2250738585072014E-308, -1.0000001e-10, NULL, NULL, 'null', NULL,
                       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
                    """);
            List<Object> keys = List.of(7L);
            c.begin();
            RowImage image = c.readImage("w", "k", keys);
            c.replaceRows("w_copy", "k", keys, image);
            c.commit();
            c.restoreAutocommit();
            try (var direct = cluster.direct(SHARD)) {
                List<List<String>> source = ShardedCluster.rows(direct, "SELECT " + WIDE_COLUMNS + " FROM w ORDER BY id");
                List<List<String>> target = ShardedCluster.rows(direct, "SELECT " + WIDE_COLUMNS + " FROM w_copy ORDER BY id");
                assertThat(source).hasSize(5);
                for (int r = 0; r < source.size(); r++) {
                    assertThat(target.get(r)).as("row %d copied (columns %s)", r, WIDE_COLUMNS).isEqualTo(source.get(r));
                }
                return List.of("copied " + source);
            }
        };
        same(copy);
    }
}

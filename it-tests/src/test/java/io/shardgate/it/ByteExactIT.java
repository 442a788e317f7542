package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.local.CommandRunner;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * SQL text is bytes in the client's character set (issue 14, items 1 and 2): statements carrying raw bytes (a mysqldump
 * file replayed with the mariadb client, PyMySQL's {@code _binary'…'}) and clients in latin1 write through the proxy to
 * two shards and to a reference server; the stored bytes ({@code HEX()}) must be the same on both. A character set the
 * proxy cannot serve is refused at connect, naming the sets it serves.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ByteExactIT {
    private static final String TABLES = """
            tables:
              - {name: blobs, kind: sharded, key: id, key-type: int}
              - {name: texts, kind: sharded, key: id, key-type: int}
            """;
    private static final List<String> DDL = List.of(
            "CREATE TABLE blobs (id BIGINT NOT NULL PRIMARY KEY, b VARBINARY(64), note VARCHAR(64)) ENGINE=InnoDB"
                    + " DEFAULT CHARSET=utf8mb4",
            "CREATE TABLE texts (id BIGINT NOT NULL PRIMARY KEY, u VARCHAR(64) CHARACTER SET utf8mb4,"
                    + " l VARCHAR(64) CHARACTER SET latin1) ENGINE=InnoDB");
    private static final byte[] REPORTED = {0x7B, 0x00, (byte) 0xFF, (byte) 0x80, (byte) 0xC3};

    private ShardedCluster cluster;
    @TempDir
    Path dir;

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.start(2, TABLES);
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (String ddl : DDL) {
                Sql.update(p, ddl);
                Sql.update(r, ddl);
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    // ---- raw bytes: the mariadb client replaying a dump

    /** A dump's statements with raw invalid UTF-8 in _binary and plain literals: single row, multi-row split, UPDATE, scatter read. */
    @Test
    void aDumpWithRawBytesReplaysByteForByte() throws Exception {
        byte[] file = bytes(
                "INSERT INTO blobs (id, b) VALUES (1, _binary'{\\0", raw(0xFF, 0x80, 0xC3), "');\n",
                "INSERT INTO blobs (id, b, note) VALUES (2, _binary'", raw(0xFF, 0xFE), "', 'two'), (3, '", raw(0x80), "abc",
                raw(0xC3), "', 'three'), (8, _binary'", raw(0xC3, 0x28, 0xA0, 0xA1), "', 'four'), (9, 'x", raw(0xF0, 0x28, 0x8C),
                "y', 'five'), (10, _binary'", raw(0xED, 0xA0, 0x80), "', 'six'), (7, 'ok ✓', 'seven');\n",
                "UPDATE blobs SET b = _binary'", raw(0xE2, 0x82), "', note = 'changed' WHERE id = 8;\n",
                "UPDATE blobs SET note = 'matched' WHERE b = '", raw(0xFF, 0xFE), "';\n",
                "SELECT id, HEX(b), note FROM blobs WHERE b = _binary'", raw(0x80), "abc", raw(0xC3), "' OR b IN ('",
                raw(0xED, 0xA0, 0x80), "', _binary'", raw(0xE2, 0x82), "') ORDER BY id;\n");
        var viaProxy = mariadbFile(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, "utf8mb4", file);
        var direct = mariadbFile(cluster.reference().port(), "root", "", "utf8mb4", file);
        assertThat(viaProxy.exitCode()).as(viaProxy.output()).isZero();
        assertThat(viaProxy.output()).isEqualTo(direct.output()).contains("80616263C3").contains("E282");
        assertSameHex("SELECT id, HEX(b), note FROM blobs WHERE id BETWEEN 1 AND 10 ORDER BY id", 7);
        assertThat(hexOf(1)).isEqualTo(java.util.HexFormat.of().withUpperCase().formatHex(REPORTED));
        assertOnBothShards("blobs", 1, 10); // ids 1-7 hash to s1's slots, 8-10 to s0's
    }

    /** The report's reproduction: PyMySQL sends {@code _binary'…'} with the bytes themselves. */
    @Test
    void pyMySqlBinaryParametersArriveExactly() throws Exception {
        Path script = dir.resolve("pymysql_binary.py");
        Files.writeString(script, """
                import sys, pymysql
                port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
                c = pymysql.connect(host='127.0.0.1', port=port, user=user, password=password, database='shardgate',
                                    charset='utf8mb4', autocommit=True, binary_prefix=True)
                cur = c.cursor()
                cur.execute("INSERT INTO blobs (id, b) VALUES (%s, %s)", (100, b'\\x7b\\x00\\xff\\x80\\xc3'))
                # executemany turns this into one multi-row INSERT, which the proxy splits per shard
                cur.executemany("INSERT INTO blobs (id, b) VALUES (%s, %s)",
                                [(100 + i, bytes([i, 0xff - i, 0x80 + i, 0x27, 0x5c])) for i in range(1, 9)])
                cur.execute("UPDATE blobs SET b = %s WHERE id = %s", (b'\\xc3\\x28\\x00', 103))
                cur.execute("SELECT id, HEX(b) FROM blobs WHERE id >= 100 AND (b = %s OR b = %s) ORDER BY id",
                            (b'\\x7b\\x00\\xff\\x80\\xc3', b'\\xc3\\x28\\x00'))
                for row in cur.fetchall():
                    print(row[0], row[1])
                cur.execute("SELECT id, b FROM blobs WHERE id BETWEEN 100 AND 108 ORDER BY id")
                for row in cur.fetchall():
                    print(row[0], row[1].hex())
                """);
        var viaProxy = python(script, cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD);
        var direct = python(script, cluster.reference().port(), "root", "");
        assertThat(viaProxy.exitCode()).as(viaProxy.output()).isZero();
        assertThat(viaProxy.output()).isEqualTo(direct.output()).contains("100 7B00FF80C3").contains("103 C32800");
        assertSameHex("SELECT id, HEX(b) FROM blobs WHERE id BETWEEN 100 AND 108 ORDER BY id", 9);
        assertOnBothShards("blobs", 100, 108);
    }

    // ---- client character sets

    /** Connector/J in latin1: text and both kinds of prepared statements, into utf8mb4 and latin1 columns. */
    @Test
    void aLatin1ConnectorJClientStoresAndReadsCafe() throws Exception {
        for (String prep : List.of("false", "true")) {
            String opts = "characterEncoding=latin1&useServerPrepStmts=" + prep;
            long base = prep.equals("true") ? 210 : 200;
            try (Connection p = cluster.proxyConnection(opts); Connection r = cluster.referenceConnection(opts)) {
                for (Connection c : List.of(p, r)) {
                    Sql.update(c, "INSERT INTO texts (id, u, l) VALUES (" + base + ", 'café', 'café'), (" + (base + 1)
                            + ", 'Ünïcödé €', 'naïve €')");
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO texts (id, u, l) VALUES (?, ?, ?)")) {
                        for (long id = base + 2; id < base + 6; id++) {
                            ps.setLong(1, id);
                            ps.setString(2, "café-" + id);
                            ps.setString(3, "crème " + id);
                            ps.executeUpdate();
                        }
                    }
                    Sql.update(c, "UPDATE texts SET l = 'déjà vu' WHERE u = 'café' AND id BETWEEN " + base + " AND " + (base + 5));
                }
                String read = "SELECT id, u, l, HEX(u), HEX(l) FROM texts WHERE id BETWEEN " + base + " AND " + (base + 5) + " ORDER BY id";
                assertThat(Sql.query(p, read)).isEqualTo(Sql.query(r, read)).hasSize(6);
                String byValue = "SELECT id, u, l FROM texts WHERE id BETWEEN " + base + " AND " + (base + 5)
                        + " AND (u = ? OR l = ?) ORDER BY id";
                assertThat(Sql.query(p, byValue, "café", "crème " + (base + 3)))
                        .isEqualTo(Sql.query(r, byValue, "café", "crème " + (base + 3))).hasSize(2);
                assertThat(Sql.query(p, "SELECT HEX(u), HEX(l) FROM texts WHERE id = " + base))
                        .containsExactly(List.of("636166C3A9", "64E96AE0207675"));
            }
        }
        assertOnBothShards("texts", 200, 215);
    }

    /** The mariadb client in latin1 from the start, and a utf8mb4 one switching with SET NAMES latin1 mid-session. */
    @Test
    void latin1MariadbClientsAtConnectAndAfterSetNames() throws Exception {
        byte[] atConnect = bytes("INSERT INTO texts (id, u, l) VALUES (300, 'caf", raw(0xE9), "', 'caf", raw(0xE9), "'), (301, '",
                raw(0x80), "', 'na", raw(0xEF), "ve'), (302, 'z", raw(0xE8), "bre', 'Zo", raw(0xEB), "'),",
                " (303, '", raw(0xE9), "clair', '", raw(0xC9), "a');\n",
                "SELECT id, u, l, HEX(u), HEX(l) FROM texts WHERE id IN (300, 301) ORDER BY id;\n",
                // scatter reads merged by the proxy: latin1 result bytes ordered as latin1 text
                "SELECT u, l, id FROM texts ORDER BY u DESC, l, id;\n",
                "SELECT l, COUNT(*) FROM texts GROUP BY l ORDER BY l;\n");
        byte[] midSession = bytes("INSERT INTO texts (id, u) VALUES (310, 'café');\n",
                "SET NAMES latin1;\n",
                "INSERT INTO texts (id, u, l) VALUES (311, 'caf", raw(0xE9), "', 'caf", raw(0xE9), "');\n",
                "SELECT id, u, l, HEX(u), HEX(l) FROM texts WHERE id IN (310, 311) ORDER BY id;\n",
                "SET CHARACTER SET utf8mb4;\n",
                "INSERT INTO texts (id, u) VALUES (312, 'é ✓');\n",
                "SELECT id, u, HEX(u) FROM texts WHERE id BETWEEN 310 AND 312 ORDER BY id;\n");
        for (var run : List.of(new Object[] {"latin1", atConnect}, new Object[] {"utf8mb4", midSession})) {
            String charset = (String) run[0];
            byte[] file = (byte[]) run[1];
            var viaProxy = mariadbFile(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, charset, file);
            var direct = mariadbFile(cluster.reference().port(), "root", "", charset, file);
            assertThat(viaProxy.exitCode()).as(viaProxy.output()).isZero();
            assertThat(viaProxy.output()).as(charset).isEqualTo(direct.output());
        }
        assertSameHex("SELECT id, HEX(u), HEX(l) FROM texts WHERE id BETWEEN 300 AND 312 ORDER BY id", 7);
        try (Connection r = cluster.referenceConnection("")) {
            assertThat(Sql.query(r, "SELECT HEX(u) FROM texts WHERE id IN (300, 311) ORDER BY id"))
                    .containsExactly(List.of("636166C3A9"), List.of("636166C3A9"));
        }
    }

    /** sjis (whose second byte can be a backslash) is refused at connect and in SET NAMES, naming the sets served. */
    @Test
    void anUnservedCharacterSetIsRefusedNamingTheSupportedOnes() throws Exception {
        assertThatThrownBy(() -> cluster.proxyConnection("characterEncoding=SJIS").close())
                .isInstanceOf(SQLException.class).hasMessageContaining("not supported").hasMessageContaining("latin1");
        var cli = mariadbFile(cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD, "sjis",
                bytes("SELECT 1;\n"));
        assertThat(cli.exitCode()).isNotZero();
        assertThat(cli.output()).contains("not supported").contains("utf8mb4, utf8mb3 (utf8), latin1, ascii, binary");
        try (Connection p = cluster.proxyConnection("")) {
            assertThatThrownBy(() -> Sql.update(p, "SET NAMES sjis")).hasMessageContaining("utf8mb4, utf8mb3 (utf8), latin1");
            assertThatThrownBy(() -> Sql.update(p, "SET character_set_client = gbk")).hasMessageContaining("latin1, ascii, binary");
            assertThat(Sql.query(p, "SELECT 'still utf8mb4 ✓'")).containsExactly(List.of("still utf8mb4 ✓"));
        }
    }

    // ---- helpers

    private void assertSameHex(String sql, int rows) throws SQLException {
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            assertThat(Sql.query(p, sql)).as(sql).isEqualTo(Sql.query(r, sql)).hasSize(rows);
        }
    }

    private String hexOf(long id) throws SQLException {
        try (Connection p = cluster.proxyConnection("")) {
            return Sql.query(p, "SELECT HEX(b) FROM blobs WHERE id = " + id).getFirst().getFirst();
        }
    }

    /** The rows between the ids landed on both shards, so the statement was split (or scattered) over both. */
    private void assertOnBothShards(String table, long from, long to) throws SQLException {
        for (int i = 0; i < cluster.shardCount(); i++) {
            try (Connection s = cluster.shardConnection(i)) {
                assertThat(Sql.count(s, "SELECT COUNT(*) FROM " + table + " WHERE id BETWEEN " + from + " AND " + to))
                        .as("rows of %s on shard %d", table, i).isPositive();
            }
        }
    }

    private CommandRunner.Result mariadbFile(int port, String user, String password, String charset, byte[] sql) throws Exception {
        Path file = Files.createTempFile(dir, "dump", ".sql");
        Files.write(file, sql);
        List<String> cmd = new ArrayList<>(List.of("mariadb", "--no-defaults", "--batch", "-A", "-h127.0.0.1", "-P" + port,
                "-u" + user, "--default-character-set=" + charset));
        if (!password.isEmpty()) {
            cmd.add("-p" + password);
        }
        cmd.add(ShardedCluster.DATABASE);
        String line = String.join(" ", cmd.stream().map(a -> "'" + a + "'").toList()) + " < '" + file + "'";
        return CommandRunner.of("bash", "-c", line).timeout(Duration.ofSeconds(30)).run();
    }

    private static CommandRunner.Result python(Path script, int port, String user, String password) {
        return CommandRunner.of("/usr/bin/python3", script.toString(), Integer.toString(port), user, password)
                .timeout(Duration.ofSeconds(30)).run();
    }

    private static byte[] raw(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    /** Strings as UTF-8, byte arrays as they are. */
    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            out.writeBytes(part instanceof byte[] b ? b : part.toString().getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }
}

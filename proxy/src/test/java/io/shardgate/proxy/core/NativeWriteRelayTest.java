package io.shardgate.proxy.core;

import static io.shardgate.proxy.core.ShardedCluster.execute;
import static io.shardgate.proxy.core.ShardedCluster.rows;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.mysql.MySqlAuth;
import io.shardgate.proxy.mysql.MySqlFrontend;
import io.shardgate.proxy.mysql.RawClient;
import io.shardgate.proxy.mysql.codec.Capabilities;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.FrontendSession;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Single-shard writes on the relayed path (issue 15): INSERT, UPDATE, DELETE and REPLACE in autocommit go out on a native
 * connection and their reply is the shard's, byte for byte what one server sends the same client (with and without
 * CLIENT_FOUND_ROWS), while the session keeps ROW_COUNT(), LAST_INSERT_ID() and the warnings as on the JDBC path. Whether
 * a statement went native is read from the native pools' counters. The reference is a database on the first server
 * holding the same rows.
 */
class NativeWriteRelayTest {
    private static final String TABLE = "CREATE TABLE %s (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL,"
            + " status VARCHAR(20), note TEXT, amount DECIMAL(10,2))";
    private static ShardedCluster cluster;
    private static ProxyCore relaying;
    private static MySqlFrontend front;
    private static long onS0;
    private static long onS1;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        cluster = new ShardedCluster();
        relaying = ProxyCore.start(Map.of("app", "secret"), cluster.watcher, ProxyCoreSettings.defaults().withNativeBackends(true));
        front = MySqlFrontend.start("127.0.0.1", 0, relaying, MySqlAuth.NATIVE, 64 << 20, 100, 1);
        onS0 = cluster.keyOn("s0", 5000);
        onS1 = cluster.keyOn("s1", 5000);
        try (FrontendSession s = relaying.open(new ClientInfo("app", ShardedCluster.DB, "127.0.0.1", Map.of()))) {
            s.query(TABLE.formatted("orders")); // a sharded table: its AUTO_INCREMENT column gets a cluster sequence
        }
        try (Connection r = cluster.reference()) {
            execute(r, TABLE.formatted("orders"));
        }
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {front, relaying, cluster}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // closing the rest matters more
                }
            }
        }
    }

    @BeforeEach
    void empty() throws SQLException {
        try (Connection p = connect(); Connection r = cluster.reference()) {
            execute(p, "DELETE FROM orders WHERE customer_id IN (" + onS0 + ", " + onS1 + ")");
            execute(r, "DELETE FROM orders");
        }
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + front.port() + "/" + ShardedCluster.DB
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true", "app", "secret");
    }

    /** Statements the native connections ran (each borrows one once). */
    private static long relayed() {
        Matcher m = Pattern.compile("shardgate_native_pool_events_total\\{eof=\"\\w+\",event=\"borrowed\",shard=\"s[01]\"} ([0-9.]+)")
                .matcher(relaying.metrics().scrape());
        long total = 0;
        while (m.find()) {
            total += (long) Double.parseDouble(m.group(1));
        }
        return total - relaying.metrics().nativeTransactionConnections(); // a transaction's own connection is no relay
    }

    /** A raw client of the proxy or of the reference database, logged in with {@code capabilities} besides the basic ones. */
    private static RawClient raw(boolean proxy, int capabilities) throws Exception {
        RawClient c = new RawClient(proxy ? front.port() : cluster.s0.port());
        assertThat(c.login(proxy ? "app" : "root", proxy ? "secret" : "", capabilities).payload()[0]).isEqualTo((byte) 0);
        String db = proxy ? ShardedCluster.DB : ShardedCluster.REFERENCE_DB;
        assertThat(c.command(0x02, db.getBytes(StandardCharsets.UTF_8)).payload()[0]).isEqualTo((byte) 0);
        return c;
    }

    /** The one-packet reply (OK or ERR) to a COM_QUERY, as sequence id and hex. */
    private static String query(RawClient c, String sql) throws Exception {
        RawClient.Packet p = c.command(0x03, sql.getBytes(StandardCharsets.UTF_8));
        return p.sequenceId() + ":" + HexFormat.of().formatHex(p.payload());
    }

    /**
     * Each write, sent by a raw client through the proxy and to the reference server, gets the same reply packet: affected
     * rows (changed rows without CLIENT_FOUND_ROWS, matched rows with), last insert id, status flags (the server's own,
     * no-index-used included), warning count and info text; every one of them went native.
     */
    @Test
    void writesAreRelayedAndAnsweredByteForByteAsOneServer() throws Exception {
        for (int flags : new int[] {0, Capabilities.FOUND_ROWS}) {
            empty();
            List<String> statements = List.of(
                    "INSERT INTO orders (id, customer_id, status) VALUES (201, " + onS0 + ", 'a')",
                    "INSERT INTO orders (id, customer_id, status, amount) VALUES (202, " + onS0 + ", 'a', 1), (203, " + onS0
                            + ", 'b', 2)",
                    "INSERT INTO orders (id, customer_id, status) VALUES (301, " + onS1 + ", 'c')",
                    "UPDATE orders SET status = 'a' WHERE customer_id = " + onS0 + " AND id = 201",
                    "UPDATE orders SET status = 'a' WHERE customer_id = " + onS0,
                    "UPDATE orders SET status = 'z', amount = amount + 1 WHERE customer_id = " + onS0 + " AND status = 'a'",
                    "REPLACE INTO orders (id, customer_id, status) VALUES (201, " + onS0 + ", 'r')",
                    "REPLACE orders SET id = 204, customer_id = " + onS0 + ", status = 'n'",
                    "INSERT IGNORE INTO orders (id, customer_id, status) VALUES (301, " + onS1 + ", 'dup')",
                    "UPDATE IGNORE orders SET status = REPEAT('s', 30) WHERE customer_id = " + onS1 + " AND id = 301",
                    "INSERT INTO orders (id, customer_id, status) VALUES (301, " + onS1 + ", 'dup')",
                    "INSERT INTO orders (id, customer_id, nosuch) VALUES (302, " + onS1 + ", 'x')",
                    "INSERT INTO orders (id, customer_id, status) VALUES (205, " + onS0 + ", 'u') ON DUPLICATE KEY UPDATE status = 'v'",
                    "INSERT INTO orders (id, customer_id, status) VALUES (205, " + onS0 + ", 'u') ON DUPLICATE KEY UPDATE status = 'v'",
                    "DELETE FROM orders WHERE customer_id = " + onS0 + " AND id = 202",
                    "DELETE FROM orders WHERE customer_id = " + onS1);
            try (RawClient viaProxy = raw(true, flags); RawClient reference = raw(false, flags)) {
                for (String sql : statements) {
                    long before = relayed();
                    String answer = query(viaProxy, sql);
                    assertThat(relayed() - before).as("relayed: " + sql).isEqualTo(1);
                    assertThat(answer).as(sql + (flags == 0 ? "" : " (CLIENT_FOUND_ROWS)")).isEqualTo(query(reference, sql));
                }
            }
        }
    }

    /**
     * ROW_COUNT() and the warnings of a relayed write are the session's as after the JDBC path: Connector/J's getWarnings
     * (SHOW WARNINGS) lists the shard's warnings, SHOW COUNT(*) WARNINGS counts them, ROW_COUNT() is the affected rows
     * the client saw (matched rows for Connector/J, which asks for CLIENT_FOUND_ROWS), -1 after an error.
     */
    @Test
    void rowCountAndWarningsFollowARelayedWrite() throws Exception {
        try (Connection p = connect(); Statement st = p.createStatement()) {
            long before = relayed();
            assertThat(st.executeUpdate("INSERT INTO orders (id, customer_id, status) VALUES (211, " + onS0 + ", 'a')")).isEqualTo(1);
            assertThat(st.executeUpdate("UPDATE orders SET status = 'a' WHERE customer_id = " + onS0 + " AND id = 211")).isEqualTo(1);
            assertThat(relayed() - before).isEqualTo(2);
            assertThat(rows(p, "SELECT ROW_COUNT()")).containsExactly(List.of("1"));
            st.executeUpdate("UPDATE IGNORE orders SET status = REPEAT('w', 25) WHERE customer_id = " + onS0 + " AND id = 211");
            java.sql.SQLWarning w = st.getWarnings();
            assertThat(w != null).as("a warning").isTrue();
            assertThat(w.getErrorCode()).isEqualTo(1265);
            assertThat(w.getMessage()).isEqualTo("Data truncated for column 'status' at row 1");
            st.clearWarnings();
            st.executeUpdate("UPDATE IGNORE orders SET status = REPEAT('v', 25) WHERE customer_id = " + onS0 + " AND id = 211");
            assertThat(rows(p, "SHOW COUNT(*) WARNINGS")).containsExactly(List.of("1"));
            assertThat(rows(p, "SHOW WARNINGS")).containsExactly(List.of("Warning", "1265", "Data truncated for column 'status' at row 1"));
            try {
                st.executeUpdate("INSERT INTO orders (id, customer_id, status) VALUES (211, " + onS0 + ", 'again')");
            } catch (SQLException e) {
                assertThat(e.getErrorCode()).isEqualTo(1062);
            }
            assertThat(rows(p, "SELECT ROW_COUNT()")).containsExactly(List.of("-1"));
            assertThat(st.executeUpdate("DELETE FROM orders WHERE customer_id = " + onS0)).isEqualTo(1);
            assertThat(rows(p, "SELECT ROW_COUNT()")).containsExactly(List.of("1"));
        }
    }

    /**
     * An INSERT whose id the proxy fills from the cluster sequence goes native as the client's text with the ids written
     * in; its OK carries the first generated id (the shard's names the last row's explicit id), as LAST_INSERT_ID() and
     * Connector/J's generated keys do. Explicit ids leave LAST_INSERT_ID() as it was.
     */
    @Test
    void sequenceIdsAreWrittenInAndTheFirstIsReported() throws Exception {
        try (RawClient c = raw(true, 0)) {
            long before = relayed();
            RawClient.Packet ok = c.command(0x03, ("INSERT INTO orders (customer_id, status) VALUES (" + onS0 + ", 'g1'), (" + onS0
                    + ", 'g2'), (" + onS0 + ", 'g3')").getBytes(StandardCharsets.UTF_8));
            assertThat(relayed() - before).isEqualTo(1);
            assertThat(ok.payload()[0]).isEqualTo((byte) 0);
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(ok.payload()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            b.get();
            assertThat(lenenc(b)).as("affected rows").isEqualTo(3);
            long first = lenenc(b);
            try (Connection d = cluster.direct("s0")) {
                assertThat(rows(d, "SELECT id, status FROM orders WHERE customer_id = " + onS0 + " ORDER BY id")).containsExactly(
                        List.of(Long.toString(first), "g1"), List.of(Long.toString(first + 1), "g2"), List.of(Long.toString(first + 2), "g3"));
            }
            assertThat(b.getShort() & 0xFFFF).as("status: autocommit").isEqualTo(2);
            assertThat(b.getShort()).as("warnings").isZero();
            assertThat(new String(ok.payload(), b.position(), b.remaining(), StandardCharsets.UTF_8))
                    .isEqualTo("&Records: 3  Duplicates: 0  Warnings: 0"); // MariaDB sends it length-encoded (38 bytes)
            assertThat(query(c, "INSERT INTO orders (id, customer_id, status) VALUES (" + (first + 1000) + ", " + onS1 + ", 'e')"))
                    .startsWith("1:0001");
            RawClient.Packet lastId = c.command(0x03, "SELECT LAST_INSERT_ID()".getBytes(StandardCharsets.UTF_8));
            List<String> packets = new ArrayList<>();
            int eofs = 0;
            for (RawClient.Packet r = lastId; ; r = c.read()) {
                packets.add(new String(r.payload(), StandardCharsets.ISO_8859_1));
                if ((r.payload()[0] & 0xFF) == 0xFE && r.payload().length < 9 && ++eofs == 2) {
                    break;
                }
            }
            assertThat(packets).anySatisfy(row -> assertThat(row).isEqualTo((char) Long.toString(first).length() + Long.toString(first)));
        }
        try (Connection p = connect(); Statement st = p.createStatement()) {
            long before = relayed();
            st.executeUpdate("INSERT INTO orders (customer_id, status) VALUES (" + onS1 + ", 'k1'), (" + onS1 + ", 'k2')",
                    Statement.RETURN_GENERATED_KEYS);
            assertThat(relayed() - before).isEqualTo(1);
            List<Long> keys = new ArrayList<>();
            try (var rs = st.getGeneratedKeys()) {
                while (rs.next()) {
                    keys.add(rs.getLong(1));
                }
            }
            try (Connection d = cluster.direct("s1")) {
                assertThat(rows(d, "SELECT id FROM orders WHERE status IN ('k1', 'k2') ORDER BY id")).containsExactly(
                        List.of(Long.toString(keys.get(0))), List.of(Long.toString(keys.get(1))));
            }
            assertThat(rows(p, "SELECT LAST_INSERT_ID()")).containsExactly(List.of(Long.toString(keys.get(0))));
        }
    }

    /** Server-side prepared writes are relayed as the client prepared them; one whose ids the proxy fills is not. */
    @Test
    void preparedWritesAreRelayedUnlessTheProxyFillsTheirIds() throws Exception {
        try (Connection p = DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + front.port() + "/" + ShardedCluster.DB
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true&useServerPrepStmts=true&cachePrepStmts=true", "app", "secret");
                var insert = p.prepareStatement("INSERT INTO orders (id, customer_id, status) VALUES (?, ?, ?)");
                var update = p.prepareStatement("UPDATE orders SET status = ? WHERE customer_id = ? AND id = ?");
                var generated = p.prepareStatement("INSERT INTO orders (customer_id, status) VALUES (?, ?)",
                        Statement.RETURN_GENERATED_KEYS)) {
            long before = relayed();
            for (long[] row : new long[][] {{221, onS0}, {321, onS1}}) {
                insert.setLong(1, row[0]);
                insert.setLong(2, row[1]);
                insert.setString(3, "p");
                assertThat(insert.executeUpdate()).isEqualTo(1);
                update.setString(1, "q");
                update.setLong(2, row[1]);
                update.setLong(3, row[0]);
                assertThat(update.executeUpdate()).isEqualTo(1);
            }
            assertThat(relayed() - before).isEqualTo(4);
            generated.setLong(1, onS0);
            generated.setString(2, "gen");
            before = relayed();
            assertThat(generated.executeUpdate()).isEqualTo(1);
            assertThat(relayed() - before).as("ids filled by the proxy: the JDBC path").isZero();
            long key;
            try (var rs = generated.getGeneratedKeys()) {
                assertThat(rs.next()).isTrue();
                key = rs.getLong(1);
            }
            assertThat(rows(p, "SELECT id FROM orders WHERE customer_id = " + onS0 + " AND status = 'gen'"))
                    .containsExactly(List.of(Long.toString(key)));
        }
    }

    /** Writes the relay must not take: several shards, LAST_INSERT_ID() in the text, rows returned, a transaction. */
    @Test
    void writesThatAreNotOneStatementOnOneShardTakeTheJdbcPath() throws Exception {
        try (Connection p = connect()) {
            long before = relayed();
            execute(p, "INSERT INTO orders (id, customer_id, status) VALUES (231, " + onS0 + ", 'm'), (331, " + onS1 + ", 'm')");
            execute(p, "UPDATE orders SET status = 'n' WHERE status = 'm'");
            execute(p, "UPDATE orders SET note = LAST_INSERT_ID() WHERE customer_id = " + onS0);
            try (Statement st = p.createStatement()) {
                assertThat(st.execute("DELETE FROM orders WHERE customer_id = " + onS0 + " AND id = 231 RETURNING id, status"))
                        .as("rows").isTrue();
                try (var rs = st.getResultSet()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1) + " " + rs.getString(2)).isEqualTo("231 n");
                }
            }
            p.setAutoCommit(false);
            execute(p, "UPDATE orders SET status = 'o' WHERE customer_id = " + onS0 + " AND id = 231");
            p.commit();
            assertThat(relayed() - before).isZero();
        }
    }

    private static long lenenc(java.nio.ByteBuffer b) {
        int first = b.get() & 0xFF;
        return switch (first) {
            case 0xFC -> b.getShort() & 0xFFFF;
            case 0xFD -> (b.get() & 0xFF) | (b.get() & 0xFF) << 8 | (b.get() & 0xFF) << 16;
            case 0xFE -> b.getLong();
            default -> first;
        };
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, PostgreSQL: named statements relayed on native connections, which keep them prepared, and extended-protocol
 * executions relayed from the client's event loop. The same message sequences, written byte by byte, go to the proxy
 * and to a reference server, and every reply message must be the same (table OIDs aside, which differ between servers;
 * errors compared by severity, SQLSTATE, message, detail and position, as the proxy's own errors carry no source
 * location): named and unnamed executions, errors at Bind and Execute, several executions before one Sync, Close and
 * DISCARD ALL, a schema change that alters a statement's result. The native pool's counters show that the executions
 * were relayed, from the event loop, and that the shard parsed a named statement once per connection, not per execution.
 */
class PgPreparedRelayIT {
    private static PgShardedCluster cluster;
    private static ProxyServer proxy;
    private static final Set<Long> onS0 = new HashSet<>();
    private static long keyOnS0;
    private static long keyOnS1;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgShardedCluster.start(2, """
                tables:
                  - {name: items, kind: sharded, key: id, key-type: int}
                  - {name: plans, kind: sharded, key: id, key-type: int}
                """, "trust");
        proxy = cluster.startProxy(true);
        try (Connection p = cluster.proxyConnection(proxy, ""); Connection ref = cluster.referenceConnection("")) {
            for (Connection c : List.of(p, ref)) {
                Sql.update(c, "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, n int)");
                Sql.update(c, "CREATE TABLE plans (id bigint PRIMARY KEY, name text)");
                for (int id = 1; id <= 20; id++) {
                    Sql.update(c, "INSERT INTO items VALUES (" + id + ", 'item " + id + " ✓', " + (id % 4 == 0 ? "NULL" : id) + ")");
                    Sql.update(c, "INSERT INTO plans VALUES (" + id + ", 'p" + id + "')");
                }
            }
        }
        try (Connection s0 = cluster.shardConnection(0)) {
            Sql.query(s0, "SELECT id FROM items").forEach(r -> onS0.add(Long.parseLong(r.getFirst())));
        }
        keyOnS0 = onS0.stream().min(Long::compare).orElseThrow();
        keyOnS1 = java.util.stream.LongStream.rangeClosed(1, 20).filter(id -> !onS0.contains(id)).min().orElseThrow();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void describeOfAStatementAnswersTheTypesTheServerInfers() throws Exception {
        try (Wire p = Wire.proxy(); Wire r = Wire.reference()) {
            long described = event("statement_described");
            // PQprepare then PQdescribePrepared, pgJDBC's describe: types left to the server (none sent, or OID 0)
            same(p, r, parse("k", "SELECT id, name, n FROM items WHERE id = $1"), describeStatement("k"), sync());
            same(p, r, parse("t", "SELECT id FROM items WHERE name = $1 AND id = $2", 0, 0), describeStatement("t"), sync());
            same(p, r, parse("", "SELECT n + $1, $2::numeric(10,2) * 2 AS total FROM items WHERE id = $3"),
                    describeStatement(""), sync());
            // a declared type kept, the others inferred
            same(p, r, parse("m", "SELECT name FROM items WHERE id = $1 AND n > $2", 20), describeStatement("m"), sync());
            // no result: NoData
            same(p, r, parse("u", "UPDATE plans SET name = $1 WHERE id = $2"), describeStatement("u"), sync());
            assertThat(event("statement_described") - described).as("described on native connections").isEqualTo(5);
            // described, then executed with the described statement
            same(p, r, bind("k", key(0)), describePortal(), execute(), sync());
            same(p, r, bind("u", "p" + key(1), key(1)), execute(), sync()); // its own name: other tests read plans
        }
    }

    @Test
    void namedStatementsAreRelayedFromTheEventLoopAndParsedOncePerConnection() throws Exception {
        try (Wire p = Wire.proxy(); Wire r = Wire.reference()) {
            long borrowed = event("borrowed");
            long onLoop = event("borrowed_on_loop");
            long prepared = event("statement_prepared");
            int executions = 0;
            // libpq's PQprepare, then PQexecPrepared: Bind, Describe of the portal, Execute, Sync
            same(p, r, parse("q", "SELECT id, name, n FROM items WHERE id = $1", 20), sync());
            for (int i = 0; i < 12; i++) {
                same(p, r, bind("q", key(i)), describePortal(), execute(), sync());
                executions++;
            }
            // pgJDBC's first execution of a named statement: Parse with the rest
            same(p, r, parse("j", "SELECT name, n * 2 FROM items WHERE id = $1", 0), bind("j", key(0)), describePortal(), execute(),
                    sync());
            executions++;
            for (int i = 0; i < 6; i++) {
                same(p, r, bind("j", key(i)), execute(), sync());
                executions++;
            }
            // unnamed statements, as PQexecParams sends them
            for (int i = 0; i < 6; i++) {
                same(p, r, parse("", "SELECT n, name FROM items WHERE id = $1", 0), bind("", key(i)), describePortal(), execute(),
                        sync());
                executions++;
            }
            assertThat(event("borrowed") - borrowed).as("executions relayed").isEqualTo(executions);
            // the first execution of each text is analysed by the session's thread (and relayed from there), and so may
            // be one that finds no idle connection on the client's event loop yet
            assertThat(event("borrowed_on_loop") - onLoop).as("relayed from the event loop").isGreaterThanOrEqualTo(executions - 6);
            // parsed once per shard connection that ran them (two statements, two shards), not per execution
            assertThat(event("statement_prepared") - prepared).as("named statements parsed on the shards")
                    .isBetween(2L, 6L);
        }
    }

    @Test
    void errorsSkipToTheSyncAndClosedOrDiscardedStatementsAreGoneAsOnOneServer() throws Exception {
        try (Wire p = Wire.proxy(); Wire r = Wire.reference()) {
            same(p, r, parse("d", "SELECT 10 / $1::int, name FROM items WHERE id = $2", 0, 0), sync());
            // an error at Execute (division by zero), then one at Bind (a value that is no integer)
            same(p, r, bind("d", "0", Long.toString(keyOnS1)), describePortal(), execute(), sync());
            same(p, r, bind("d", "x", Long.toString(keyOnS0)), describePortal(), execute(), sync());
            same(p, r, bind("d", "5", Long.toString(keyOnS0)), describePortal(), execute(), sync());
            // several executions before one Sync: the error skips the rest
            same(p, r, bind("d", "1", Long.toString(keyOnS0)), execute(), bind("d", "0", Long.toString(keyOnS1)), execute(),
                    bind("d", "2", Long.toString(keyOnS1)), execute(), sync());
            same(p, r, bind("d", "2", Long.toString(keyOnS1)), describePortal(), execute(), sync());
            // a statement that does not exist, a Parse of a name in use, a Close, DISCARD ALL
            same(p, r, bind("nope", "1"), describePortal(), execute(), sync());
            same(p, r, parse("d", "SELECT $1::int", 0), bind("d", "1", "1"), execute(), sync());
            same(p, r, close("d"), sync());
            same(p, r, bind("d", "2", Long.toString(keyOnS1)), describePortal(), execute(), sync());
            same(p, r, parse("e", "SELECT name FROM items WHERE id = $1", 0), sync());
            same(p, r, bind("e", Long.toString(keyOnS0)), describePortal(), execute(), sync());
            same(p, r, query("DISCARD ALL"));
            same(p, r, bind("e", Long.toString(keyOnS0)), describePortal(), execute(), sync());
            // a name used again after it was closed is a new statement
            same(p, r, parse("e", "SELECT n FROM items WHERE id = $1", 0), sync());
            same(p, r, bind("e", Long.toString(keyOnS0)), describePortal(), execute(), sync());
            // SQL DEALLOCATE drops a statement the protocol prepared, DEALLOCATE ALL every one
            same(p, r, query("DEALLOCATE e"));
            same(p, r, bind("e", Long.toString(keyOnS0)), describePortal(), execute(), sync());
            same(p, r, parse("f", "SELECT n FROM items WHERE id = $1", 0), parse("g", "SELECT name FROM items WHERE id = $1", 0),
                    sync());
            same(p, r, bind("g", Long.toString(keyOnS1)), describePortal(), execute(), sync());
            same(p, r, query("DEALLOCATE ALL"));
            same(p, r, bind("f", Long.toString(keyOnS0)), describePortal(), execute(), sync());
            same(p, r, bind("g", Long.toString(keyOnS1)), describePortal(), execute(), sync());
            // a column that does not exist fails the Parse, named or not, first execution or not
            for (int i = 0; i < 2; i++) {
                same(p, r, parse("", "SELECT nosuch FROM items WHERE id = $1", 0), bind("", Long.toString(keyOnS0)),
                        describePortal(), execute(), sync());
                same(p, r, parse("bad" + i, "SELECT nosuch FROM items WHERE id = $1", 0), bind("bad" + i, Long.toString(keyOnS1)),
                        describePortal(), execute(), sync());
                // the refused statements do not exist
                same(p, r, bind("", Long.toString(keyOnS0)), describePortal(), execute(), sync());
                same(p, r, bind("bad" + i, Long.toString(keyOnS1)), describePortal(), execute(), sync());
            }
        }
    }

    @Test
    void aSchemaChangeThatAltersAResultFailsTheStatementsPreparedBeforeItAsOnOneServer() throws Exception {
        try (Wire p = Wire.proxy(); Wire r = Wire.reference(); Wire later = Wire.proxy(); Wire laterRef = Wire.reference()) {
            String key = Long.toString(keyOnS1);
            same(p, r, parse("star", "SELECT * FROM plans WHERE id = $1", 20), sync());
            for (int i = 0; i < 3; i++) {
                same(p, r, bind("star", key), describePortal(), execute(), sync());
            }
            p.exchange(query("ALTER TABLE plans ADD COLUMN extra int"));
            r.exchange(query("ALTER TABLE plans ADD COLUMN extra int"));
            for (int i = 0; i < 3; i++) {
                // 0A000 cached plan must not change result type, every time, as the statement was prepared before
                same(p, r, bind("star", key), describePortal(), execute(), sync());
            }
            // prepared after the change: the new columns
            same(later, laterRef, parse("star", "SELECT * FROM plans WHERE id = $1", 20), sync());
            for (int i = 0; i < 3; i++) {
                same(later, laterRef, bind("star", key), describePortal(), execute(), sync());
            }
            same(p, r, close("star"), parse("star", "SELECT * FROM plans WHERE id = $1", 20), sync());
            same(p, r, bind("star", key), describePortal(), execute(), sync());
        }
    }

    private static String key(int i) {
        return Long.toString(i % 2 == 0 ? keyOnS0 : keyOnS1);
    }

    private static void same(Wire proxy, Wire reference, byte[]... messages) throws IOException {
        List<String> got = proxy.exchange(messages);
        assertThat(got).as("the proxy's reply to %s", describe(messages)).isEqualTo(reference.exchange(messages));
    }

    private static String describe(byte[][] messages) {
        StringBuilder b = new StringBuilder();
        for (byte[] m : messages) {
            b.append((char) m[0]);
        }
        return b.toString();
    }

    private static long event(String event) {
        Matcher m = Pattern.compile("shardgate_native_pool_events_total\\{eof=\"postgres\",event=\"" + event
                + "\",shard=\"s\\d\"} ([0-9.]+)").matcher(proxy.core().metrics().scrape());
        long total = 0;
        while (m.find()) {
            total += (long) Double.parseDouble(m.group(1));
        }
        return total;
    }

    // ---- frontend messages

    private static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    private static byte[] cstring(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] parse(String name, String sql, int... types) {
        ByteBuffer t = ByteBuffer.allocate(2 + 4 * types.length).putShort((short) types.length);
        for (int type : types) {
            t.putInt(type);
        }
        return message('P', concat(cstring(name), cstring(sql), t.array()));
    }

    /** Bind of the unnamed portal to {@code statement} with text values. */
    static byte[] bind(String statement, String... values) {
        ByteArrayOutputStream v = new ByteArrayOutputStream();
        v.writeBytes(ByteBuffer.allocate(4).putShort((short) 0).putShort((short) values.length).array());
        for (String value : values) {
            byte[] b = value.getBytes(StandardCharsets.UTF_8);
            v.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
            v.writeBytes(b);
        }
        v.writeBytes(new byte[] {0, 0});
        return message('B', concat(cstring(""), cstring(statement), v.toByteArray()));
    }

    static byte[] describeStatement(String statement) {
        return message('D', concat(new byte[] {'S'}, cstring(statement)));
    }

    static byte[] describePortal() {
        return message('D', concat(new byte[] {'P'}, cstring("")));
    }

    static byte[] execute() {
        return message('E', concat(cstring(""), new byte[4]));
    }

    static byte[] close(String statement) {
        return message('C', concat(new byte[] {'S'}, cstring(statement)));
    }

    static byte[] sync() {
        return message('S', new byte[0]);
    }

    static byte[] query(String sql) {
        return message('Q', cstring(sql));
    }

    /** A PostgreSQL protocol 3.0 client on a socket, logged in without a password (trust). */
    static final class Wire implements AutoCloseable {
        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        private Wire(int port, String user) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(30_000);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
            byte[] params = concat(cstring("user"), cstring(user), cstring("database"), cstring(PgShardedCluster.DATABASE),
                    new byte[] {0});
            out.write(ByteBuffer.allocate(8 + params.length).putInt(8 + params.length).putInt(196608).put(params).array());
            out.flush();
            while (true) {
                char type = (char) in.readUnsignedByte();
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                if (type == 'R' && ByteBuffer.wrap(body).getInt() != 0) {
                    throw new IOException("the server asks for a password (method " + ByteBuffer.wrap(body).getInt() + ")");
                }
                if (type == 'E') {
                    throw new IOException("login failed: " + new String(body, StandardCharsets.UTF_8));
                }
                if (type == 'Z') {
                    return;
                }
            }
        }

        static Wire proxy() throws IOException {
            return new Wire(proxy.postgresPort(), PgShardedCluster.USER);
        }

        static Wire reference() throws IOException {
            Matcher m = Pattern.compile(":(\\d+)/").matcher(cluster.reference().jdbcUrl(PgShardedCluster.DATABASE));
            if (!m.find()) {
                throw new IllegalStateException("no port in the reference server's URL");
            }
            return new Wire(Integer.parseInt(m.group(1)), "postgres");
        }

        /** Writes the messages in one go and reads the reply up to the ReadyForQuery of each Sync (or of a Query). */
        List<String> exchange(byte[]... messages) throws IOException {
            int expected = 0;
            for (byte[] m : messages) {
                out.write(m);
                expected += m[0] == 'S' || m[0] == 'Q' ? 1 : 0;
            }
            out.flush();
            List<String> reply = new ArrayList<>();
            while (expected > 0) {
                char type = (char) in.readUnsignedByte();
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                reply.add(normalised(type, body));
                if (type == 'Z') {
                    expected--;
                }
            }
            return reply;
        }

        /** A reply message as text: table OIDs and attribute numbers of a RowDescription zeroed, errors by their fields. */
        private static String normalised(char type, byte[] body) {
            if (type == 'T') {
                ByteBuffer b = ByteBuffer.wrap(body);
                int fields = b.getShort();
                for (int i = 0; i < fields; i++) {
                    while (b.get() != 0) {
                        // the field name
                    }
                    b.putInt(0).putShort((short) 0);
                    b.position(b.position() + 12);
                }
            }
            if (type == 'E' || type == 'N') {
                StringBuilder s = new StringBuilder().append(type);
                int at = 0;
                while (at < body.length && body[at] != 0) {
                    char code = (char) body[at];
                    int end = at + 1;
                    while (body[end] != 0) {
                        end++;
                    }
                    if ("SCMDHP".indexOf(code) >= 0) {
                        s.append(' ').append(code).append('=').append(new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8));
                    }
                    at = end + 1;
                }
                return s.toString();
            }
            return type + " " + HexFormat.of().formatHex(body);
        }

        @Override
        public void close() throws IOException {
            out.write(new byte[] {'X', 0, 0, 0, 4});
            out.flush();
            socket.close();
        }
    }
}

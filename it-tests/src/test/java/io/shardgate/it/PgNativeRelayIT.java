package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.ProxyServer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relayed hot path for PostgreSQL clients ({@code backend.native}): pgJDBC in simple-query mode (one Query message
 * per statement, as psql and {@code pgbench -M simple} send) through a proxy that relays, one that does not, and the
 * reference server must answer alike: rows, column types and nullability (table OIDs only from the catalog shard),
 * errors with every field pgJDBC shows. Statements that do not qualify must not be relayed. Whether a statement was
 * relayed is read from the native pool's counters.
 */
class PgNativeRelayIT {
    private static final String CREATE = "CREATE TABLE events (id bigint PRIMARY KEY, name text NOT NULL, note text,"
            + " created timestamptz, amount numeric(10,2), ratio float8)";
    private static PgShardedCluster cluster;
    private static ProxyServer relaying;
    private static ProxyServer jdbc;
    private static final Set<Long> onS0 = new HashSet<>();
    private static long keyOnS0;
    private static long keyOnS1;

    @BeforeAll
    static void start() throws Exception {
        cluster = PgShardedCluster.start(2, """
                tables:
                  - {name: events, kind: sharded, key: id, key-type: int}
                """, "md5");
        relaying = cluster.startProxy(true);
        jdbc = cluster.startProxy(false);
        try (Connection p = cluster.proxyConnection(jdbc, ""); Connection ref = cluster.referenceConnection("")) {
            for (Connection c : List.of(p, ref)) {
                Sql.update(c, CREATE);
                for (int id = 1; id <= 20; id++) {
                    Sql.update(c, "INSERT INTO events VALUES (" + id + ", 'e" + id + " héllo ✓', " + (id % 3 == 0 ? "NULL" : "'n" + id + "'")
                            + ", '2024-02-29 13:14:15.123456+00', " + id + ".25, " + (id / 3.0) + ")");
                }
            }
        }
        try (Connection s0 = cluster.shardConnection(0)) {
            Sql.query(s0, "SELECT id FROM events").forEach(r -> onS0.add(Long.parseLong(r.getFirst())));
        }
        keyOnS0 = onS0.stream().min(Long::compare).orElseThrow();
        keyOnS1 = java.util.stream.LongStream.rangeClosed(1, 20).filter(id -> !onS0.contains(id)).min().orElseThrow();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Connection simple(ProxyServer p) throws SQLException {
        return cluster.proxyConnection(p, "preferQueryMode=simple");
    }

    private static long relayed() {
        // a Describe of a statement borrows a native connection too (to ask the shard), but runs nothing
        return poolEvents("borrowed") - poolEvents("statement_described");
    }

    private static long poolEvents(String event) {
        Matcher m = Pattern.compile("shardgate_native_pool_events_total\\{eof=\"postgres\",event=\"" + event
                + "\",shard=\"s\\d\"} ([0-9.]+)").matcher(relaying.core().metrics().scrape());
        long total = 0;
        while (m.find()) {
            total += (long) Double.parseDouble(m.group(1));
        }
        return total;
    }

    /** How many statements the relaying proxy relayed while the last {@link #answer} ran its statement (not its metadata). */
    private static long lastRelayed;

    /** Columns (label, type, nullability), rows as text, or the error as pgJDBC shows it: what a client sees. */
    private static List<String> answer(Connection c, String sql) {
        List<String> out = new ArrayList<>();
        long before = relayed();
        lastRelayed = 0;
        try (Statement st = c.createStatement(); ResultSet rs = run(st, sql, before)) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.add("column " + md.getColumnLabel(i) + " " + md.getColumnTypeName(i) + " nullable=" + md.isNullable(i));
            }
            while (rs.next()) {
                StringBuilder row = new StringBuilder("row");
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    byte[] b = rs.getBytes(i);
                    row.append(" | ").append(b == null ? "NULL" : new String(b, StandardCharsets.UTF_8));
                }
                out.add(row.toString());
            }
        } catch (SQLException e) {
            lastRelayed = relayed() - before;
            out.add("error " + e.getSQLState() + " " + e.getMessage());
        }
        return out;
    }

    /** Runs the query and notes what was relayed before pgJDBC's metadata lookups (which go through the proxy too). */
    private static ResultSet run(Statement st, String sql, long before) throws SQLException {
        ResultSet rs = st.executeQuery(sql);
        lastRelayed = relayed() - before;
        return rs;
    }

    /**
     * Relayed, and answered as the reference server answers; a result from s1 has no table OIDs (only the catalog shard's
     * name the tables pgJDBC looks up through the proxy), so pgJDBC says "nullability unknown" of its columns, as for
     * expressions and as on the JDBC path.
     */
    private static void assertRelayedAsTheReference(Connection viaRelay, Connection ref, String sql, long key) {
        List<String> got = answer(viaRelay, sql);
        assertThat(lastRelayed).as("relayed: " + sql).isEqualTo(1);
        List<String> expected = answer(ref, sql);
        if (!onS0.contains(key)) {
            expected = expected.stream().map(l -> l.startsWith("column ") ? l.replaceAll("nullable=[01]$", "nullable=2") : l).toList();
        }
        assertThat(got).as(sql).isEqualTo(expected);
    }

    @Test
    void singleShardReadsAreRelayedAndAnsweredAsTheReferenceServer() throws Exception {
        try (Connection r = simple(relaying); Connection ref = cluster.referenceConnection("preferQueryMode=simple")) {
            for (long id : List.of(keyOnS0, keyOnS1)) {
                String where = " FROM events WHERE id = " + id;
                assertRelayedAsTheReference(r, ref, "SELECT *" + where, id);
                assertRelayedAsTheReference(r, ref, "select name, length(name) AS len, ratio * 2, amount::text" + where + ";", id);
                assertRelayedAsTheReference(r, ref, "SELECT id, note" + where + " AND note IS NULL", id);
                // the shard's errors, every field as the server sends them (POSITION into the client's own text)
                assertRelayedAsTheReference(r, ref, "SELECT nosuch" + where, id);
                assertRelayedAsTheReference(r, ref, "SELECT 1/0" + where, id);
                assertRelayedAsTheReference(r, ref, "SELECT id::text::int + 'x'" + where, id);
            }
            // the session goes on normally after relayed statements and errors
            assertThat(answer(r, "SELECT count(*) FROM events")).isEqualTo(answer(ref, "SELECT count(*) FROM events"));
        }
    }

    /** Whether pgJDBC ran the last {@link #preparedAnswer} as a named (server-prepared) statement. */
    private static boolean named;

    /** As {@link #answer}, for a prepared statement bound to {@code key} (pgJDBC's extended protocol). */
    private static List<String> preparedAnswer(Connection c, String sql, long key) {
        List<String> out = new ArrayList<>();
        long before = relayed();
        lastRelayed = 0;
        try (java.sql.PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, key);
            named = ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare();
            try (ResultSet rs = ps.executeQuery()) {
                lastRelayed = relayed() - before;
                ResultSetMetaData md = rs.getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    out.add("column " + md.getColumnLabel(i) + " " + md.getColumnTypeName(i) + " nullable=" + md.isNullable(i));
                }
                while (rs.next()) {
                    StringBuilder row = new StringBuilder("row");
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        row.append(" | ").append(rs.getString(i));
                    }
                    out.add(row.toString());
                }
            }
        } catch (SQLException e) {
            lastRelayed = relayed() - before;
            out.add("error " + e.getSQLState() + " " + e.getMessage());
        }
        return out;
    }

    @Test
    void extendedProtocolExecutionsAreRelayedAndAnsweredAsTheReferenceServer() throws Exception {
        // unnamed statements, then named ones after pgJDBC's prepareThreshold (binary results for some types), and named
        // and binary from the first execution
        boolean relayedUnnamed = false;
        boolean keptNamed = false;
        for (String options : List.of("", "prepareThreshold=-1")) {
            // a connection per key: pgJDBC keeps a statement's columns once described, whichever shard answered
            for (long id : List.of(keyOnS0, keyOnS1)) {
                try (Connection r = cluster.proxyConnection(relaying, options); Connection j = cluster.proxyConnection(jdbc, options);
                        Connection ref = cluster.referenceConnection(options)) {
                    for (String sql : List.of("SELECT * FROM events WHERE id = ?", "SELECT name, ratio * 2 FROM events WHERE id = ?",
                            "SELECT nosuch FROM events WHERE id = ?", "SELECT 1/0 FROM events WHERE id = ?")) {
                        for (int i = 0; i < 6; i++) {
                            List<String> got = preparedAnswer(r, sql, id);
                            // unnamed and named statements are relayed (named ones kept prepared on the shard connections);
                            // with prepareThreshold=-1 pgJDBC describes the statement before binding it, which fails for
                            // an unknown column: then nothing is executed
                            boolean describedOnly = options.equals("prepareThreshold=-1") && sql.contains("nosuch");
                            assertThat(lastRelayed).as("relayed (%s, execution %d): %s", options, i, sql)
                                    .isEqualTo(describedOnly ? 0 : 1);
                            relayedUnnamed |= !named;
                            keptNamed |= named;
                            // as the JDBC path answers (a named statement's columns come from its Describe, which the
                            // JDBC path answers from the catalog shard), and the rows and errors as the reference server's
                            assertThat(got).as("%s (%s, execution %d)", sql, options, i).isEqualTo(preparedAnswer(j, sql, id));
                            assertThat(got.stream().filter(l -> !l.startsWith("column ")).toList()).as(sql).isEqualTo(
                                    preparedAnswer(ref, sql, id).stream().filter(l -> !l.startsWith("column ")).toList());
                        }
                    }
                    // a scatter read in between takes the JDBC path; the session goes on
                    assertThat(answer(r, "SELECT count(*) FROM events")).isEqualTo(answer(ref, "SELECT count(*) FROM events"));
                }
            }
        }
        assertThat(relayedUnnamed).as("some executions were unnamed").isTrue();
        assertThat(keptNamed).as("some executions were named").isTrue();
    }

    @Test
    void statementsThatDoNotQualifyAreNotRelayedAndAnswerAsBefore() throws Exception {
        try (Connection r = simple(relaying); Connection j = simple(jdbc)) {
            List<String> notRelayed = List.of("SELECT count(*) FROM events", "SELECT id FROM events ORDER BY id LIMIT 3",
                    "SELECT name FROM events WHERE id IN (" + keyOnS0 + ", " + keyOnS1 + ") ORDER BY 1",
                    "SELECT 1; SELECT 2", "SELECT set_config('application_name', 'x', false) FROM events WHERE id = " + keyOnS0,
                    "SELECT pg_advisory_lock(1) FROM events WHERE id = " + keyOnS0);
            for (String sql : notRelayed) {
                List<String> got = answer(r, sql);
                assertThat(lastRelayed).as("relayed: " + sql).isZero();
                answer(r, "SELECT pg_advisory_unlock_all()"); // or the other session's lock would wait for it
                assertThat(got).as(sql).isEqualTo(answer(j, sql));
                answer(j, "SELECT pg_advisory_unlock_all()");
            }
            // inside a transaction block: the JDBC path keeps the transaction's connection
            r.setAutoCommit(false);
            assertThat(answer(r, "SELECT name FROM events WHERE id = " + keyOnS1)).hasSize(2);
            assertThat(lastRelayed).isZero();
            r.rollback();
            r.setAutoCommit(true);
            // writes are not relayed
            long before = relayed();
            Sql.update(r, "UPDATE events SET note = note WHERE id = " + keyOnS1);
            assertThat(relayed() - before).isZero();
        }
    }

    @Test
    void theSessionsSettingsGoWithTheRelayAndStayWithTheSession() throws Exception {
        String sql = "SELECT created, ratio, created - '2024-01-01'::timestamptz FROM events WHERE id = " + keyOnS1;
        try (Connection tokyo = simple(relaying); Connection plain = simple(relaying);
                Connection refTokyo = cluster.referenceConnection("preferQueryMode=simple");
                Connection refPlain = cluster.referenceConnection("preferQueryMode=simple")) {
            for (Connection c : List.of(tokyo, refTokyo)) {
                Sql.update(c, "SET TimeZone = 'Asia/Tokyo'");
                Sql.update(c, "SET IntervalStyle = 'sql_standard'");
                Sql.update(c, "SET extra_float_digits = 0");
            }
            for (int i = 0; i < 3; i++) {
                // the pool's connections take turns between the two sessions: each must get its own settings
                assertRelayedAsTheReference(tokyo, refTokyo, sql, keyOnS1);
                assertRelayedAsTheReference(plain, refPlain, sql, keyOnS1);
            }
            assertThat(answer(tokyo, sql)).isNotEqualTo(answer(plain, sql));
        }
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * PostgreSQL results stream through the proxy (issue 15 item 4): whole results from one shard and merged from two with
 * ORDER BY, read by pgJDBC in autocommit mode (all rows at once) and with a fetch size inside a transaction (the portal
 * suspended every few hundred rows), equal a reference server's, value by value; LIMIT over the whole table, and a client
 * that goes away mid-result, leave no query of the proxy's running or transaction open on the shards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgStreamingResultIT {
    private static final int ROWS = 100_000;
    private static final String TABLES = """
            tables:
              - {name: big, kind: sharded, key: id, key-type: int}
            """;
    private static final String DDL = "CREATE TABLE %s (id BIGINT PRIMARY KEY, k INT NOT NULL, pad TEXT NOT NULL)";
    private static final String ROWS_SQL = "SELECT g, g %% 1000, repeat('x', 150 + g %% 50) || g FROM generate_series(%d, %d) g";

    private PgShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(2, TABLES, "md5");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (String table : List.of("big", "solo")) { // solo is undeclared: a single table on the default shard
                Sql.update(p, DDL.formatted(table));
                Sql.update(r, DDL.formatted(table));
                Sql.update(r, "INSERT INTO " + table + " " + ROWS_SQL.formatted(1, ROWS));
                for (int from = 1; from <= ROWS; from += 2000) {
                    StringBuilder insert = new StringBuilder("INSERT INTO ").append(table).append(" (id, k, pad) VALUES ");
                    for (int id = from; id < from + 2000 && id <= ROWS; id++) {
                        insert.append(id == from ? "" : ",").append('(').append(id).append(',').append(id % 1000).append(",'")
                                .append("x".repeat(150 + id % 50)).append(id).append("')");
                    }
                    Sql.update(p, insert.toString());
                }
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private record Digest(long rows, long crc, String first, String last) {}

    private static Digest digest(Connection c, String sql, int fetchSize) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.setFetchSize(fetchSize);
            try (ResultSet rs = st.executeQuery(sql)) {
                ResultSetMetaData md = rs.getMetaData();
                CRC32 crc = new CRC32();
                long rows = 0;
                String first = null;
                String last = null;
                while (rs.next()) {
                    StringBuilder row = new StringBuilder();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        String v = rs.getString(i);
                        crc.update((v == null ? "\u0000NULL" : v).getBytes(StandardCharsets.UTF_8));
                        crc.update(0);
                        row.append(i == 1 ? "" : "|").append(v);
                    }
                    first = first == null ? row.toString() : first;
                    last = row.toString();
                    rows++;
                }
                return new Digest(rows, crc.getValue(), first, last);
            }
        }
    }

    /** {@code sql} through the proxy equals the reference, read whole in autocommit and with a fetch size in a transaction. */
    private void sameAsReference(String sql, long expectedRows) throws Exception {
        Digest expected;
        try (Connection r = cluster.referenceConnection("")) {
            expected = digest(r, sql, 0);
        }
        assertThat(expected.rows()).isEqualTo(expectedRows);
        try (Connection p = cluster.proxyConnection("")) {
            assertThat(digest(p, sql, 0)).as("autocommit, whole: %s", sql).isEqualTo(expected);
            p.setAutoCommit(false);
            assertThat(digest(p, sql, 333)).as("in a transaction, 333 rows per Execute: %s", sql).isEqualTo(expected);
            // the transaction goes on after the portal: another statement on the same shards, then commit
            try (Statement st = p.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM big")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isEqualTo(ROWS);
            }
            p.commit();
        }
    }

    @Test
    void wholeResultsStreamWithTheReferenceServersValues() throws Exception {
        sameAsReference("SELECT id, k, pad FROM solo ORDER BY id", ROWS);
        sameAsReference("SELECT id, k, pad FROM big ORDER BY id", ROWS);
        sameAsReference("SELECT id, pad FROM big ORDER BY k DESC, id", ROWS);
    }

    @Test
    void aPortalOfExactlyTheFetchSizeCompletesLikeAServers() throws Exception {
        sameAsReference("SELECT id FROM big ORDER BY id LIMIT 333", 333);
        sameAsReference("SELECT id FROM big ORDER BY id LIMIT 666", 666);
    }

    @Test
    void limitsAndAClientThatGoesAwayLeaveTheShardsIdle() throws Exception {
        sameAsReference("SELECT id, k, pad FROM big ORDER BY id LIMIT 10", 10);
        sameAsReference("SELECT DISTINCT k FROM big ORDER BY k LIMIT 10 OFFSET 5", 10);
        for (String sql : List.of("SELECT id, k, pad FROM big ORDER BY id", "SELECT id, pad FROM solo")) {
            Connection p = cluster.proxyConnection("");
            p.setAutoCommit(false);
            PreparedStatement st = p.prepareStatement(sql);
            st.setFetchSize(100);
            ResultSet rs = st.executeQuery();
            for (int i = 0; i < 150; i++) {
                assertThat(rs.next()).isTrue();
            }
            p.unwrap(org.postgresql.PGConnection.class); // gone mid-result, portal suspended, transaction open
            p.abort(Runnable::run);
            assertShardsIdle();
        }
        sameAsReference("SELECT id, k, pad FROM big ORDER BY id LIMIT 3", 3);
    }

    /** No statement of the proxy's is running, and no transaction of its open, on any shard. */
    private void assertShardsIdle() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        for (int s = 0; s < 2; s++) {
            try (Connection c = cluster.shardConnection(s); Statement st = c.createStatement()) {
                while (true) {
                    String busy;
                    try (ResultSet rs = st.executeQuery("SELECT string_agg(pid || ' ' || state || ': ' || left(query, 60), '; ')"
                            + " FROM pg_stat_activity WHERE application_name = 'shardgate' AND state <> 'idle'")) {
                        rs.next();
                        busy = rs.getString(1);
                    }
                    if (busy == null) {
                        break;
                    }
                    assertThat(System.nanoTime()).as("busy on shard s%d: %s", s, busy).isLessThan(deadline);
                    Thread.sleep(100);
                }
            }
        }
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * pgJDBC batches ({@code addBatch}/{@code executeBatch}) with {@code setTimestamp} through the PostgreSQL front end on two
 * shards. pgJDBC describes such a statement before the batch (Parse, Describe statement): the proxy once described the
 * client's {@code $n} text through pgJDBC, which crashed on parameters it did not know of and left the pooled connection
 * halfway through a reply, so the next client failed with {@code Unexpected packet type}. The stored rows must equal a
 * reference server's, and the next clients must be served.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgBatchIT {
    private static final String TABLES = """
            tables:
              - {name: events, kind: sharded, key: id, key-type: int}
            """;
    private static final String DDL = "CREATE TABLE events (id BIGINT PRIMARY KEY, at TIMESTAMP, at_tz TIMESTAMPTZ, note TEXT,"
            + " amount NUMERIC(10,2))";

    private PgShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(2, TABLES, "scram-sha-256");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            Sql.update(p, DDL);
            Sql.update(r, DDL);
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static final List<String> OPTIONS = List.of("prepareThreshold=5", "prepareThreshold=0", "reWriteBatchedInserts=true",
            "prepareThreshold=-1");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"prepareThreshold=5", "prepareThreshold=0", "reWriteBatchedInserts=true", "prepareThreshold=-1"})
    void aBatchWithTimestampsStoresWhatASingleServerStores(String options) throws SQLException {
        long base = 1000L * (1 + OPTIONS.indexOf(options));
        String insert = "INSERT INTO events (id, at, at_tz, note, amount) VALUES (?, ?, ?, ?, ?)";
        try (Connection p = cluster.proxyConnection(options); Connection r = cluster.referenceConnection(options)) {
            for (Connection c : List.of(p, r)) {
                try (PreparedStatement ps = c.prepareStatement(insert)) {
                    for (int i = 0; i < 40; i++) {
                        ps.setLong(1, base + i);
                        ps.setTimestamp(2, Timestamp.valueOf("2024-0" + (1 + i % 9) + "-1" + (i % 10) + " 10:11:12." + (100000 + i)));
                        ps.setTimestamp(3, i % 7 == 0 ? null : new Timestamp(1_700_000_000_000L + i * 3_600_000L + i));
                        ps.setString(4, "event " + i);
                        ps.setBigDecimal(5, new java.math.BigDecimal(i + ".25"));
                        ps.addBatch();
                    }
                    int[] counts = ps.executeBatch();
                    assertThat(counts).hasSize(40);
                }
                String update = "UPDATE events SET at = ?, note = ? WHERE id = ?";
                try (PreparedStatement ps = c.prepareStatement(update)) {
                    for (int i = 0; i < 40; i += 3) {
                        ps.setTimestamp(1, Timestamp.valueOf("2025-12-31 23:59:59.999999"));
                        ps.setString(2, "updated");
                        ps.setLong(3, base + i);
                        ps.addBatch();
                    }
                    assertThat(ps.executeBatch()).containsOnly(1);
                }
            }
            String check = "SELECT id, at, at_tz, note, amount FROM events WHERE id BETWEEN " + base + " AND " + (base + 999)
                    + " ORDER BY id";
            assertThat(Sql.query(p, check)).isEqualTo(Sql.query(r, check)).hasSize(40);
        }
        // the next clients, on fresh sessions, are served by every shard's pool
        for (int i = 0; i < 10; i++) {
            try (Connection next = cluster.proxyConnection("")) {
                assertThat(Sql.query(next, "SELECT note FROM events WHERE id = " + (base + i))).containsExactly(
                        List.of(i % 3 == 0 ? "updated" : "event " + i));
            }
        }
    }
}

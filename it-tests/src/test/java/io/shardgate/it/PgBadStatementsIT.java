package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The statements of {@link BadStatementsIT} with pgJDBC against a proxy on two PostgreSQL shards: errors with SQLSTATE
 * 54001 naming the limit, the connection going on, and a 50,000-item IN list (text and 50,000 bound parameters)
 * answering the reference server's rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgBadStatementsIT {
    private static final String TABLES = """
            tables:
              - {name: items, kind: sharded, key: id, key-type: int}
            """;
    private static final int ROWS = 2_000;
    private PgShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(2, TABLES, "scram-sha-256");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            String ddl = "CREATE TABLE items (id BIGINT NOT NULL PRIMARY KEY, v INT NOT NULL)";
            Sql.update(p, ddl);
            Sql.update(r, ddl);
            for (int from = 0; from < ROWS; from += 500) {
                StringBuilder insert = new StringBuilder("INSERT INTO items (id, v) VALUES ");
                for (int id = from; id < from + 500; id++) {
                    insert.append(id == from ? "" : ", ").append('(').append(id).append(", ").append(id % 97).append(')');
                }
                assertThat(Sql.update(p, insert.toString())).isEqualTo(Sql.update(r, insert.toString()));
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void deepParenthesesAndLongOrChainsGetAnErrorNamingTheLimitAndTheConnectionGoesOn() throws Exception {
        List<String> statements = List.of(
                "SELECT " + "(".repeat(5_000) + "1" + ")".repeat(5_000) + " FROM items",
                "SELECT id FROM items WHERE " + "(".repeat(5_000) + "id = 1" + ")".repeat(5_000),
                "SELECT id FROM items WHERE v = 0" + " OR v = 1".repeat(10_000));
        List<String> keys = List.of("limits.max-statement-depth", "limits.max-statement-depth", "limits.max-statement-operators");
        try (Connection p = cluster.proxyConnection("")) {
            for (int i = 0; i < statements.size(); i++) {
                for (boolean prepared : List.of(false, true)) {
                    String sql = statements.get(i);
                    SQLException e = catchThrowableOfType(SQLException.class, () -> {
                        if (prepared) {
                            try (PreparedStatement ps = p.prepareStatement(sql)) {
                                ps.executeQuery().close();
                            }
                        } else {
                            Sql.query(p, sql);
                        }
                    });
                    assertThat((Throwable) e).as("%s, prepared %s", keys.get(i), prepared).isNotNull();
                    assertThat(e.getSQLState()).isEqualTo("54001");
                    assertThat(e.getMessage()).contains(keys.get(i));
                    assertThat(Sql.count(p, "SELECT COUNT(*) FROM items")).as("the connection goes on").isEqualTo(ROWS);
                }
            }
        }
    }

    @Test
    void aFiftyThousandItemInListAnswersTheReferenceRows() throws Exception {
        StringBuilder text = new StringBuilder("SELECT id, v FROM items WHERE id IN (");
        StringBuilder marks = new StringBuilder("SELECT id, v FROM items WHERE id IN (");
        Object[] params = new Object[50_000];
        for (int i = 0; i < 50_000; i++) {
            long id = (i * 7L) % 60_000;
            text.append(i == 0 ? "" : ", ").append(id);
            marks.append(i == 0 ? "?" : ", ?");
            params[i] = id;
        }
        text.append(") ORDER BY id");
        marks.append(") ORDER BY id");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            List<List<String>> expected = Sql.query(r, text.toString());
            assertThat(expected).hasSizeGreaterThan(100);
            assertThat(Sql.query(p, text.toString())).isEqualTo(expected);
            assertThat(Sql.query(p, marks.toString(), params)).isEqualTo(Sql.query(r, marks.toString(), params));
        }
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * pgJDBC's ResultSetMetaData through the proxy: it reads the table OID and attribute number of each column from the
 * RowDescription and looks them up in pg_catalog (nullability, serial and identity columns, so {@code bigserial} rather
 * than {@code int8}) with a query the proxy runs on the catalog shard (the default shard, s0). The proxy passes those
 * numbers only for results from s0, whose OIDs name the same tables there; a result from another shard has none, so
 * pgJDBC reports "nullability unknown" and the plain type name (its answer for any expression) — never another table's
 * columns.
 */
class PgResultMetadataIT {
    private static final String CREATE = "CREATE TABLE events (id bigserial PRIMARY KEY, name text NOT NULL, note text)";

    /** What pgJDBC says of one column. */
    record Column(String label, String typeName, int nullable, boolean autoIncrement) {}

    @Test
    void columnsFromTheCatalogShardAreDescribedAsOnOneServerAndOthersNeverWrongly() throws Exception {
        try (PgShardedCluster cluster = PgShardedCluster.start(2, """
                tables:
                  - {name: events, kind: sharded, key: id, key-type: int}
                """, "md5");
                Connection ref = cluster.referenceConnection("");
                Connection proxy = cluster.proxyConnection("");
                Connection proxyBinary = cluster.proxyConnection("prepareThreshold=-1")) {
            Sql.update(proxy, CREATE);
            Sql.update(ref, CREATE);
            for (int id = 1; id <= 12; id++) {
                Sql.update(proxy, "INSERT INTO events (id, name) VALUES (" + id + ", 'e" + id + "')");
                Sql.update(ref, "INSERT INTO events (id, name) VALUES (" + id + ", 'e" + id + "')");
            }
            Set<Long> onCatalogShard = new HashSet<>();
            try (Connection s0 = cluster.shardConnection(0)) {
                Sql.query(s0, "SELECT id FROM events").forEach(r -> onCatalogShard.add(Long.parseLong(r.getFirst())));
            }
            assertThat(onCatalogShard).as("keys on s0").isNotEmpty().hasSizeLessThan(12);

            String point = "SELECT id, name, note, length(name) AS len FROM events WHERE id = ";
            List<Column> expected = columns(ref, point + 1);
            assertThat(expected).extracting(Column::typeName).containsExactly("bigserial", "text", "text", "int4");
            assertThat(expected).extracting(Column::nullable).containsExactly(ResultSetMetaData.columnNoNulls,
                    ResultSetMetaData.columnNoNulls, ResultSetMetaData.columnNullable, ResultSetMetaData.columnNullableUnknown);
            for (Connection c : List.of(proxy, proxyBinary)) {
                for (long id = 1; id <= 12; id++) {
                    List<Column> got = columns(c, point + id);
                    if (onCatalogShard.contains(id)) {
                        assertThat(got).as("id %d on s0", id).isEqualTo(expected);
                    } else {
                        assertThat(got).as("id %d on s1: as for an expression", id).containsExactly(
                                new Column("id", "int8", ResultSetMetaData.columnNullableUnknown, false),
                                new Column("name", "text", ResultSetMetaData.columnNullableUnknown, false),
                                new Column("note", "text", ResultSetMetaData.columnNullableUnknown, false),
                                expected.get(3));
                    }
                }
                // a scatter read takes its columns from s0's result
                assertThat(columns(c, "SELECT id, name, note FROM events ORDER BY id")).isEqualTo(expected.subList(0, 3));
                long elsewhere = java.util.stream.LongStream.rangeClosed(1, 12).filter(id -> !onCatalogShard.contains(id)).min()
                        .orElseThrow();
                assertThat(columns(c, "SELECT id, name FROM events WHERE id IN (" + elsewhere + ", " + onCatalogShard.iterator().next()
                        + ") ORDER BY id")).as("a read of both shards").isEqualTo(expected.subList(0, 2));
            }
        }
    }

    private static List<Column> columns(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            ResultSetMetaData md = rs.getMetaData();
            List<Column> out = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.add(new Column(md.getColumnLabel(i), md.getColumnTypeName(i), md.isNullable(i), md.isAutoIncrement(i)));
            }
            return out;
        }
    }
}

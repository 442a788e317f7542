package io.shardgate.migrator;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The sharded tables of a cluster as one shard has them, read from the catalog of the connection's current database
 * (MySQL) or schema (PostgreSQL). Declared tables the shard does not have are skipped: they
 * hold no rows to move.
 *
 * @param tables             shapes of the declared sharded tables present on the shard, by name
 * @param withoutPrimaryKey  declared sharded tables present but without a primary key
 * @param withoutShardKey    declared sharded tables present but without their shard-key column
 */
record Catalog(List<TableShape> tables, List<String> withoutPrimaryKey, List<String> withoutShardKey) {

    static Catalog read(Connection c, ClusterDefinition definition) throws SQLException {
        return read(c, definition, List.of());
    }

    /** As {@link #read(Connection, ClusterDefinition)}, limited to {@code scope} unless it is empty. */
    static Catalog read(Connection c, ClusterDefinition definition, List<String> scope) throws SQLException {
        ShardSql sql = ShardSql.of(c);
        Map<String, String> present = tableNames(c);
        List<TableShape> tables = new ArrayList<>();
        List<String> withoutPk = new ArrayList<>();
        List<String> withoutKey = new ArrayList<>();
        for (TableDefinition table : new TreeMap<>(definition.tables()).values()) {
            String actual = present.get(table.name());
            if (table.kind() != TableKind.SHARDED || actual == null || !scope.isEmpty() && !scope.contains(table.name())) {
                continue;
            }
            List<TableShape.Column> columns = columns(c, sql, actual);
            List<Integer> pk = primaryKey(c, sql, actual, columns);
            int shardKey = indexOf(columns, table.shardKey());
            if (pk.isEmpty()) {
                withoutPk.add(actual);
            } else if (shardKey < 0) {
                withoutKey.add(actual + " (no column " + table.shardKey() + ")");
            } else {
                tables.add(new TableShape(actual, columns, pk, shardKey, table.keyType(), sql));
            }
        }
        return new Catalog(tables, withoutPk, withoutKey);
    }

    /** Lower-case name to the server's spelling, for the base tables of the current database. */
    static Map<String, String> tableNames(Connection c) throws SQLException {
        Map<String, String> names = new TreeMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(ShardSql.of(c).tableNamesQuery())) {
            while (rs.next()) {
                names.put(rs.getString(1).toLowerCase(Locale.ROOT), rs.getString(1));
            }
        }
        c.commit();
        return names;
    }

    /** The statements that create {@code table} as the source has it ({@code SHOW CREATE TABLE} on MySQL). */
    static List<String> createStatements(Connection c, String table) throws SQLException {
        try {
            return ShardSql.of(c).createTable(c, table);
        } finally {
            c.commit();
        }
    }

    Optional<TableShape> table(String name) {
        return tables.stream().filter(t -> t.name().equalsIgnoreCase(name)).findFirst();
    }

    private static List<TableShape.Column> columns(Connection c, ShardSql sql, String table) throws SQLException {
        List<TableShape.Column> columns = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement(sql.columnsQuery())) {
            st.setString(1, table);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    columns.add(new TableShape.Column(rs.getString(1), TableShape.Kind.of(rs.getString(2)), rs.getString(2)));
                }
            }
        }
        c.commit();
        return columns;
    }

    private static List<Integer> primaryKey(Connection c, ShardSql sql, String table, List<TableShape.Column> columns)
            throws SQLException {
        List<Integer> pk = new ArrayList<>();
        try (PreparedStatement st = c.prepareStatement(sql.primaryKeyQuery())) {
            st.setString(1, table);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    pk.add(indexOf(columns, rs.getString(1)));
                }
            }
        }
        c.commit();
        return pk;
    }

    private static int indexOf(List<TableShape.Column> columns, String name) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }
}

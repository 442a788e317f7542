package io.shardgate.proxy.core;

import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import io.shardgate.slot.ShardKeys;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The dual write's copy (DESIGN.md, "Moving slots online"): the current image of each affected key is
 * read on the authoritative shard, inside the writing transaction and with {@code FOR UPDATE}, and
 * replaces the key's rows on the shadow shard (delete, then insert). The client's statement is never
 * replayed on the shadow, so {@code SET n = n + 1} cannot be applied twice, and the row locks make a
 * copy and the migrator's chunk copy of the same rows serialise.
 *
 * <p>The executor's dual writer ({@code io.shardgate.proxy.execute.DualWriter}) decides what is copied where, in rounds of a bounded
 * number of keys; this class is its JDBC side. Values travel as JDBC objects ({@code getObject} → {@code setObject}) between servers of one kind.
 */
final class RowImages {
    private RowImages() {}

    /**
     * Runs a {@link ShadowCopy.LookupKeys} lookup ({@code SELECT key … FOR UPDATE}) on the authoritative
     * shard, before the write, and returns the distinct keys that lie in moving slots, typed for binding.
     */
    static List<Object> lookUp(Connection authoritative, String shard, ShadowCopy.LookupKeys lookup, List<Object> parameters)
            throws SQLException {
        List<Object> bound = new ShardStatement(shard, lookup.sql(), lookup.parameters()).bind(parameters);
        Set<Object> keys = new LinkedHashSet<>();
        try (PreparedStatement ps = authoritative.prepareStatement(lookup.sql())) {
            for (int i = 0; i < bound.size(); i++) {
                io.shardgate.proxy.exec.ShardExecutor.bind(ps, i + 1, bound.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Object raw = rs.getObject(1);
                    if (raw != null && lookup.copies(raw)) {
                        String normalized = ShardKeys.normalize(lookup.keyType(), raw);
                        keys.add(lookup.keyType() == io.shardgate.cluster.KeyType.INT ? (Object) Long.valueOf(normalized) : normalized);
                    }
                }
            }
        }
        return List.copyOf(keys);
    }

    /** The rows of {@code keys} of {@code table} on {@code authoritative}, read {@code FOR UPDATE}. */
    static io.shardgate.proxy.execute.RowImage read(Connection authoritative, String table, String keyColumn, List<Object> keys)
            throws SQLException {
        List<String> columns = new ArrayList<>();
        List<Object[]> image = new ArrayList<>();
        try (PreparedStatement ps = authoritative.prepareStatement("SELECT * FROM " + quote(authoritative, table)
                + where(authoritative, keyColumn, keys) + " FOR UPDATE")) {
            bind(ps, keys, 0);
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                for (int c = 1; c <= md.getColumnCount(); c++) {
                    columns.add(md.getColumnName(c));
                }
                while (rs.next()) {
                    Object[] row = new Object[columns.size()];
                    for (int c = 0; c < row.length; c++) {
                        row[c] = rs.getObject(c + 1);
                    }
                    image.add(row);
                }
            }
        }
        return new io.shardgate.proxy.execute.RowImage(columns, image);
    }

    /** Replaces the rows of {@code keys} of {@code table} on {@code shadow} with {@code image} (delete, then insert). */
    static void replace(Connection shadow, String table, String keyColumn, List<Object> keys, io.shardgate.proxy.execute.RowImage image)
            throws SQLException {
        String quotedTable = quote(shadow, table);
        try (PreparedStatement ps = shadow.prepareStatement("DELETE FROM " + quotedTable + where(shadow, keyColumn, keys))) {
            bind(ps, keys, 0);
            ps.executeUpdate();
        }
        if (image.isEmpty()) {
            return;
        }
        List<String> columns = image.columns();
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(quotedTable).append(" (");
        for (int c = 0; c < columns.size(); c++) {
            sql.append(c == 0 ? "" : ", ").append(quote(shadow, columns.get(c)));
        }
        String row = "(" + marks(columns.size()) + ")";
        sql.append(") VALUES ").append(String.join(", ", java.util.Collections.nCopies(image.rows().size(), row)));
        try (PreparedStatement ps = shadow.prepareStatement(sql.toString())) {
            int i = 0;
            for (Object[] values : image.rows()) {
                for (Object v : values) {
                    ps.setObject(++i, v);
                }
            }
            ps.executeUpdate();
        }
    }

    private static String where(Connection c, String keyColumn, List<Object> keys) throws SQLException {
        return " WHERE " + quote(c, keyColumn) + " IN (" + marks(keys.size()) + ")";
    }

    private static void bind(PreparedStatement ps, List<Object> values, int offset) throws SQLException {
        for (int i = 0; i < values.size(); i++) {
            ps.setObject(offset + i + 1, values.get(i));
        }
    }

    private static String marks(int n) {
        return String.join(", ", java.util.Collections.nCopies(n, "?"));
    }

    /** An identifier in the shard's own quoting: backticks on MySQL, double quotes on PostgreSQL. */
    static String quote(Connection c, String identifier) throws SQLException {
        return c.isWrapperFor(org.postgresql.PGConnection.class) ? "\"" + identifier.replace("\"", "\"\"") + "\""
                : "`" + identifier.replace("`", "``") + "`";
    }
}

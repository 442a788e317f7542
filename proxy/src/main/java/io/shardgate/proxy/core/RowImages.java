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
 * number of keys; this class is its JDBC side. Values travel in the server's own form, never as Java objects: a binary
 * column's bytes ({@code getBytes} → {@code setBytes}), every other column's text as the server sent it (MySQL's text
 * protocol bytes, PostgreSQL's text output with {@code binaryTransfer=false}; bound with {@code setString}), which the target parses with the column's own type (MySQL converts a string to the column's
 * type; the PostgreSQL connections bind strings with an unknown type, {@code stringtype=unspecified}). Java objects lost
 * what they cannot hold: a DATETIME(3)'s fraction ({@code getObject} gives a {@code LocalDateTime} that Connector/J
 * writes back to the second), a TIMESTAMP passed through the JVM's time zone, a YEAR or BIT(n) as another type. The native kind
 * ({@code NativeBackendConnection}) reads the same forms, so an image of either kind is written by either.
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
        String from = " FROM " + quote(authoritative, table) + where(authoritative, keyColumn, keys) + " FOR UPDATE";
        List<String> columns = new ArrayList<>();
        List<Boolean> floats = new ArrayList<>();
        io.shardgate.proxy.execute.RowImage image = read(authoritative, "SELECT *" + from, keys, columns, floats);
        String exact = exactFloats(columns, floats, name -> quote(authoritative, name));
        return exact == null ? image : read(authoritative, exact + from, keys, new ArrayList<>(), new ArrayList<>());
    }

    private static io.shardgate.proxy.execute.RowImage read(Connection authoritative, String select, List<Object> keys,
            List<String> columns, List<Boolean> floats) throws SQLException {
        List<Object[]> image = new ArrayList<>();
        try (PreparedStatement ps = authoritative.prepareStatement(select)) {
            bind(ps, keys, 0);
            try (ResultSet rs = ps.executeQuery()) {
                ResultSetMetaData md = rs.getMetaData();
                boolean postgres = md.isWrapperFor(org.postgresql.PGResultSetMetaData.class);
                boolean[] binary = new boolean[md.getColumnCount()];
                for (int c = 1; c <= md.getColumnCount(); c++) {
                    // the label (an alias, see exactFloats); Connector/J decodes it as ISO-8859-1 (BackendUrl.serverText)
                    columns.add(postgres ? md.getColumnLabel(c) : io.shardgate.proxy.exec.BackendUrl.serverText(md.getColumnLabel(c)));
                    binary[c - 1] = !postgres && binary(md, c);
                    floats.add(!postgres && "FLOAT".equalsIgnoreCase(md.getColumnTypeName(c)));
                }
                while (rs.next()) {
                    Object[] row = new Object[columns.size()];
                    for (int c = 0; c < row.length; c++) {
                        row[c] = postgres ? rs.getString(c + 1) : mySqlValue(rs.getBytes(c + 1), binary[c]);
                    }
                    image.add(row);
                }
            }
        }
        return new io.shardgate.proxy.execute.RowImage(columns, image);
    }

    /**
     * The select list that reads a MySQL image exactly when it has FLOAT columns ({@code floats}), else null: MariaDB
     * writes a FLOAT's text with 6 significant digits (1.0000001 reads as 1), so each is read as {@code col * 1e0}, a
     * DOUBLE whose text is the float's exact value (also keeps -0), which the target's FLOAT column takes back unchanged.
     * Used by both kinds of connection; the rows are locked by the first read, so the second reads the same rows.
     */
    static String exactFloats(List<String> columns, List<Boolean> floats, java.util.function.Function<String, String> quote) {
        if (!floats.contains(Boolean.TRUE)) {
            return null;
        }
        List<String> list = new ArrayList<>();
        for (int c = 0; c < columns.size(); c++) {
            String q = quote.apply(columns.get(c));
            list.add(floats.get(c) ? q + " * 1e0 AS " + q : q);
        }
        return "SELECT " + String.join(", ", list);
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
                    bindValue(ps, ++i, v);
                }
            }
            ps.executeUpdate();
        }
    }

    /**
     * Whether MySQL column {@code c} is copied as bytes: a binary string, blob, BIT or spatial value (its text is its
     * bytes, in no character set). Every other column is copied as its text.
     */
    private static boolean binary(ResultSetMetaData md, int c) throws SQLException {
        return switch (md.getColumnType(c)) {
            case java.sql.Types.BINARY, java.sql.Types.VARBINARY, java.sql.Types.LONGVARBINARY, java.sql.Types.BLOB -> true;
            default -> "BIT".equalsIgnoreCase(md.getColumnTypeName(c)) || "GEOMETRY".equalsIgnoreCase(md.getColumnTypeName(c));
        };
    }

    /**
     * A MySQL value as the server sent it in the text protocol ({@code getBytes} is the row's bytes unconverted:
     * {@code getString} would format a YEAR as a date): bytes for a binary column, else the text, which is utf8mb4
     * during the copy (the connection's results character set, see {@code JdbcBackendConnection.inUtf8}).
     */
    private static Object mySqlValue(byte[] value, boolean binary) {
        return value == null || binary ? value : new String(value, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A value of an image in its server form: bytes as bytes, text as text, NULL as an untyped NULL. */
    private static void bindValue(PreparedStatement ps, int index, Object value) throws SQLException {
        switch (value) {
            case null -> ps.setNull(index, java.sql.Types.NULL);
            case byte[] bytes -> ps.setBytes(index, bytes);
            case String text -> ps.setString(index, text);
            default -> throw new IllegalStateException("a row image holds only text and bytes, not " + value.getClass().getName());
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

    private static boolean postgres(Connection c) {
        try {
            return c.isWrapperFor(org.postgresql.PGConnection.class);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An identifier in the shard's own quoting: backticks on MySQL, double quotes on PostgreSQL. */
    static String quote(Connection c, String identifier) {
        return postgres(c) ? "\"" + identifier.replace("\"", "\"\"") + "\""
                : "`" + identifier.replace("`", "``") + "`";
    }
}

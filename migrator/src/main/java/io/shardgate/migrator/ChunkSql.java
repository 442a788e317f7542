package io.shardgate.migrator;

import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of one table's chunk walk, in the shard's SQL ({@link ShardSql}). Key ranges are spelled out as
 * {@code a > ? OR (a = ? AND b > ?)} rather than a row comparison, which every MySQL/MariaDB version
 * turns into an index range scan. Values are bound by kind: exact numbers as {@code BigDecimal}
 * (a BIGINT key compared with a string would be compared as a double and lose precision), binary
 * values as bytes, the rest as the server's text.
 */
final class ChunkSql {
    /** Which lock a chunk read takes. */
    enum Lock {
        NONE, SHARE, UPDATE;

        String clause(ShardSql sql) {
            return switch (this) {
                case NONE -> "";
                case SHARE -> sql.shareLock();
                case UPDATE -> " FOR UPDATE";
            };
        }
    }

    private final TableShape shape;
    private final String columnList;
    private final String orderBy;

    ChunkSql(TableShape shape) {
        this.shape = shape;
        this.columnList = shape.columns().stream().map(c -> exactFloat(shape, c)).collect(Collectors.joining(", "));
        this.orderBy = shape.primaryKey().stream().map(i -> shape.quote(shape.columns().get(i).name()))
                .collect(Collectors.joining(", "));
    }

    /**
     * A column of the select list: a MySQL FLOAT as {@code col * 1e0}, a DOUBLE whose text is the float's exact value
     * (MariaDB writes a FLOAT's own text with 6 significant digits: 1.0000001 reads as 1, and the copy, and verify's
     * comparison of the texts, would lose the rest); the target's FLOAT column takes it back unchanged. PostgreSQL's
     * {@code real} text is exact (pgJDBC sets {@code extra_float_digits}).
     */
    private static String exactFloat(TableShape shape, TableShape.Column c) {
        String quoted = shape.quote(c.name());
        return shape.sql() == ShardSql.MYSQL && "float".equalsIgnoreCase(c.dataType()) ? quoted + " * 1e0" : quoted;
    }

    /**
     * Reads up to {@code limit} rows with a key above {@code after} (null: from the start) and at
     * most {@code upTo} (null: no upper bound), in key order.
     */
    List<Row> read(java.sql.Connection c, Object[] after, Object[] upTo, int limit, Lock lock) throws SQLException {
        return read(c, after, upTo, limit, lock, null);
    }

    /** As {@link #read(java.sql.Connection, Object[], Object[], int, Lock)}, keeping only rows that meet {@code filter} (SQL, or null). */
    List<Row> read(java.sql.Connection c, Object[] after, Object[] upTo, int limit, Lock lock, String filter) throws SQLException {
        List<String> conditions = new ArrayList<>();
        if (filter != null) {
            conditions.add(filter);
        }
        if (after != null) {
            conditions.add(above());
        }
        if (upTo != null) {
            conditions.add("NOT " + above());
        }
        String sql = "SELECT " + columnList + " FROM " + shape.quote(shape.name())
                + (conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions))
                + " ORDER BY " + orderBy + " LIMIT " + limit + lock.clause(shape.sql());
        try (PreparedStatement st = c.prepareStatement(sql)) {
            int next = 1;
            if (after != null) {
                next = bindAbove(st, next, after);
            }
            if (upTo != null) {
                bindAbove(st, next, upTo);
            }
            return rows(st);
        }
    }

    /** Reads the row with key {@code key}, if any, under {@code lock}. */
    List<Row> readKey(java.sql.Connection c, Object[] key, Lock lock) throws SQLException {
        String sql = "SELECT " + columnList + " FROM " + shape.quote(shape.name()) + " WHERE " + keyEquals() + lock.clause(shape.sql());
        try (PreparedStatement st = c.prepareStatement(sql)) {
            bindKey(st, 1, key);
            return rows(st);
        }
    }

    /**
     * Reads the rows with the given keys (those that still exist) under {@code lock}, in key order: the
     * locked second step of a chunk whose first, unlocked read chose the keys.
     */
    List<Row> readKeys(java.sql.Connection c, List<Object[]> keys, Lock lock) throws SQLException {
        if (keys.isEmpty()) {
            return List.of();
        }
        String tuple = shape.primaryKey().size() == 1 ? "?"
                : "(" + String.join(", ", java.util.Collections.nCopies(shape.primaryKey().size(), "?")) + ")";
        String keyColumns = shape.primaryKey().size() == 1 ? orderBy : "(" + orderBy + ")";
        String sql = "SELECT " + columnList + " FROM " + shape.quote(shape.name()) + " WHERE " + keyColumns + " IN ("
                + String.join(", ", java.util.Collections.nCopies(keys.size(), tuple)) + ") ORDER BY " + orderBy + lock.clause(shape.sql());
        try (PreparedStatement st = c.prepareStatement(sql)) {
            int next = 1;
            for (Object[] key : keys) {
                next = bindKey(st, next, key);
            }
            return rows(st);
        }
    }

    /** Inserts the rows, or overwrites every column of the row with the same key. */
    void upsert(java.sql.Connection c, List<Row> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        List<String> names = shape.columns().stream().map(TableShape.Column::name).toList();
        List<String> key = shape.primaryKey().stream().map(i -> shape.columns().get(i).name()).toList();
        try (PreparedStatement st = c.prepareStatement(shape.sql().upsert(shape.name(), names, key))) {
            for (Row row : rows) {
                for (int i = 0; i < shape.columns().size(); i++) {
                    bind(st, i + 1, shape.columns().get(i), row.value(i));
                }
                st.addBatch();
            }
            st.executeBatch();
        }
    }

    /** Deletes the rows with the given keys; returns how many went. */
    int delete(java.sql.Connection c, List<Object[]> keys) throws SQLException {
        if (keys.isEmpty()) {
            return 0;
        }
        if (shape.primaryKey().size() == 1) {
            // one statement per chunk: a batch of single-row deletes costs a round of parsing and locking per row
            String column = shape.quote(shape.columns().get(shape.primaryKey().getFirst()).name());
            String sql = "DELETE FROM " + shape.quote(shape.name()) + " WHERE " + column + " IN ("
                    + String.join(", ", java.util.Collections.nCopies(keys.size(), "?")) + ")";
            try (PreparedStatement st = c.prepareStatement(sql)) {
                int next = 1;
                for (Object[] key : keys) {
                    next = bindKey(st, next, key);
                }
                return st.executeUpdate();
            }
        }
        String sql = "DELETE FROM " + shape.quote(shape.name()) + " WHERE " + keyEquals();
        int deleted = 0;
        try (PreparedStatement st = c.prepareStatement(sql)) {
            for (Object[] key : keys) {
                bindKey(st, 1, key);
                st.addBatch();
            }
            for (int n : st.executeBatch()) {
                deleted += Math.max(n, 0);
            }
        }
        return deleted;
    }

    private String keyEquals() {
        return shape.primaryKey().stream().map(i -> shape.quote(shape.columns().get(i).name()) + " = ?")
                .collect(Collectors.joining(" AND "));
    }

    private int bindKey(PreparedStatement st, int first, Object[] key) throws SQLException {
        int next = first;
        for (int i = 0; i < key.length; i++) {
            bind(st, next++, shape.primaryKeyColumn(i), key[i]);
        }
        return next;
    }

    /** {@code (a > ? OR (a = ? AND b > ?) OR ...)} over the primary key. */
    private String above() {
        List<String> alternatives = new ArrayList<>();
        for (int i = 0; i < shape.primaryKey().size(); i++) {
            List<String> terms = new ArrayList<>();
            for (int j = 0; j < i; j++) {
                terms.add(shape.quote(shape.primaryKeyColumn(j).name()) + " = ?");
            }
            terms.add(shape.quote(shape.primaryKeyColumn(i).name()) + " > ?");
            alternatives.add(terms.size() == 1 ? terms.getFirst() : "(" + String.join(" AND ", terms) + ")");
        }
        return "(" + String.join(" OR ", alternatives) + ")";
    }

    private int bindAbove(PreparedStatement st, int first, Object[] key) throws SQLException {
        int next = first;
        for (int i = 0; i < key.length; i++) {
            for (int j = 0; j <= i; j++) {
                bind(st, next++, shape.primaryKeyColumn(j), key[j]);
            }
        }
        return next;
    }

    private List<Row> rows(PreparedStatement st) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (ResultSet rs = st.executeQuery()) {
            int n = shape.columns().size();
            while (rs.next()) {
                Object[] values = new Object[n];
                for (int i = 0; i < n; i++) {
                    values[i] = shape.columns().get(i).kind() == TableShape.Kind.BINARY ? rs.getBytes(i + 1) : rs.getString(i + 1);
                }
                rows.add(new Row(values));
            }
        }
        return rows;
    }

    private void bind(PreparedStatement st, int index, TableShape.Column column, Object value) throws SQLException {
        if (value == null) {
            st.setNull(index, Types.NULL);
            return;
        }
        switch (column.kind()) {
            case BINARY -> st.setBytes(index, (byte[]) value);
            case EXACT_NUMBER -> {
                if (shape.sql().exactNumbersAsText()) {
                    st.setString(index, (String) value);   // see ShardSql.exactNumbersAsText
                } else {
                    st.setBigDecimal(index, new BigDecimal((String) value));
                }
            }
            case APPROX_NUMBER -> st.setDouble(index, Double.parseDouble((String) value));
            case TEXT -> st.setString(index, (String) value);
        }
    }
}

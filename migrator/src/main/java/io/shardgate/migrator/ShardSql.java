package io.shardgate.migrator;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The SQL in which the worker speaks to a shard: MySQL/MariaDB or PostgreSQL. Everything else the worker does (chunk
 * walks, the slot filter in Java, dual-write protocol) is the same for both.
 */
enum ShardSql {
    MYSQL {
        @Override
        String quote(String identifier) {
            return "`" + identifier.replace("`", "``") + "`";
        }

        @Override
        String shareLock() {
            return " LOCK IN SHARE MODE";
        }

        @Override
        String upsert(String table, List<String> columns, List<String> primaryKey) {
            return "INSERT INTO " + quote(table) + " (" + list(columns) + ") VALUES (" + marks(columns.size()) + ") ON DUPLICATE KEY UPDATE "
                    + columns.stream().map(c -> quote(c) + " = VALUES(" + quote(c) + ")").collect(Collectors.joining(", "));
        }

        @Override
        String tableNamesQuery() {
            return "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'";
        }

        @Override
        String columnsQuery() {
            return "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?"
                    + " ORDER BY ORDINAL_POSITION";
        }

        @Override
        String primaryKeyQuery() {
            return "SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?"
                    + " AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX";
        }

        @Override
        String rowEstimateQuery() {
            // InnoDB's own estimate: a COUNT(*) scans the table, for a figure that only feeds the ETA
            return "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?";
        }

        @Override
        List<String> createTable(Connection source, String table) throws SQLException {
            try (Statement st = source.createStatement(); ResultSet rs = st.executeQuery("SHOW CREATE TABLE " + quote(table))) {
                rs.next();
                return List.of(rs.getString(2));
            }
        }

        @Override
        void prepareSession(Connection c, long lockWaitSeconds) throws SQLException {
            try (Statement st = c.createStatement()) {
                st.execute("SET SESSION innodb_lock_wait_timeout = " + lockWaitSeconds);
            }
        }

        @Override
        boolean exactNumbersAsText() {
            return false;
        }

        @Override
        String utf8Literal(String hex) {
            return "CONVERT(X'" + hex + "' USING utf8mb4)";
        }
    },

    POSTGRES {
        @Override
        String quote(String identifier) {
            return "\"" + identifier.replace("\"", "\"\"") + "\"";
        }

        @Override
        String shareLock() {
            return " FOR SHARE";
        }

        @Override
        String upsert(String table, List<String> columns, List<String> primaryKey) {
            List<String> rest = columns.stream().filter(c -> !primaryKey.contains(c)).toList();
            return "INSERT INTO " + quote(table) + " (" + list(columns) + ") VALUES (" + marks(columns.size()) + ") ON CONFLICT ("
                    + list(primaryKey) + ") DO " + (rest.isEmpty() ? "NOTHING"
                    : "UPDATE SET " + rest.stream().map(c -> quote(c) + " = EXCLUDED." + quote(c)).collect(Collectors.joining(", ")));
        }

        @Override
        String tableNamesQuery() {
            return "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'";
        }

        @Override
        String columnsQuery() {
            return "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()"
                    + " AND table_name = ? ORDER BY ordinal_position";
        }

        @Override
        String primaryKeyQuery() {
            return "SELECT k.column_name FROM information_schema.table_constraints t JOIN information_schema.key_column_usage k"
                    + " ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name"
                    + " WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = current_schema() AND t.table_name = ?"
                    + " ORDER BY k.ordinal_position";
        }

        @Override
        String rowEstimateQuery() {
            // the planner's estimate (-1 before the first ANALYZE), for the same reason as InnoDB's
            return "SELECT GREATEST(c.reltuples, 0)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE n.nspname = current_schema() AND c.relname = ?";
        }

        /**
         * PostgreSQL has no SHOW CREATE TABLE: the table is rebuilt from the catalog with its columns (types, NOT NULL,
         * defaults other than sequences), its primary key, unique and check constraints, and its other indexes. Not
         * copied: sequences behind serial/identity columns (a sharded table's keys come from the application),
         * foreign keys, triggers, grants, partitioning, storage options.
         */
        @Override
        List<String> createTable(Connection source, String table) throws SQLException {
            String relation = "(quote_ident(current_schema()) || '.' || quote_ident(?))::regclass";
            List<String> parts = new ArrayList<>();
            try (PreparedStatement st = source.prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
                    + " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid"
                    + " AND d.adnum = a.attnum WHERE a.attrelid = " + relation + " AND a.attnum > 0 AND NOT a.attisdropped"
                    + " ORDER BY a.attnum")) {
                st.setString(1, table);
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        String def = rs.getString(4);
                        parts.add(quote(rs.getString(1)) + " " + rs.getString(2) + (rs.getBoolean(3) ? " NOT NULL" : "")
                                + (def == null || def.contains("nextval(") ? "" : " DEFAULT " + def));
                    }
                }
            }
            try (PreparedStatement st = source.prepareStatement("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    + " WHERE conrelid = " + relation + " AND contype IN ('p', 'u', 'c') ORDER BY contype DESC, conname")) {
                st.setString(1, table);
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        parts.add("CONSTRAINT " + quote(rs.getString(1)) + " " + rs.getString(2));
                    }
                }
            }
            List<String> statements = new ArrayList<>();
            statements.add("CREATE TABLE " + quote(table) + " (" + String.join(", ", parts) + ")");
            try (PreparedStatement st = source.prepareStatement("SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
                    + " WHERE i.indrelid = " + relation + " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
                    + " ORDER BY i.indexrelid")) {
                st.setString(1, table);
                try (ResultSet rs = st.executeQuery()) {
                    while (rs.next()) {
                        statements.add(rs.getString(1));
                    }
                }
            }
            return statements;
        }

        @Override
        void prepareSession(Connection c, long lockWaitSeconds) throws SQLException {
            try (Statement st = c.createStatement()) {
                st.execute("SET lock_timeout = '" + lockWaitSeconds + "s'");
            }
        }

        @Override
        boolean exactNumbersAsText() {
            // an untyped parameter takes the column's type: a numeric one would turn "int_key > $1" into a numeric
            // comparison that no index serves
            return true;
        }

        @Override
        String utf8Literal(String hex) {
            return "convert_from('\\x" + hex + "'::bytea, 'UTF8')";
        }
    };

    static ShardSql of(Connection c) throws SQLException {
        return c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres") ? POSTGRES : MYSQL;
    }

    abstract String quote(String identifier);

    /** The clause that share-locks the rows a SELECT reads. */
    abstract String shareLock();

    /** Inserts one row of {@code columns}, or overwrites every column of the row with the same primary key. */
    abstract String upsert(String table, List<String> columns, List<String> primaryKey);

    /** The base tables of the connection's database or schema, one name a row. */
    abstract String tableNamesQuery();

    /** Name and data type of a table's ({@code ?}) columns, in order. */
    abstract String columnsQuery();

    /** The primary-key columns of a table ({@code ?}), in key order. */
    abstract String primaryKeyQuery();

    /** The server's estimate of a table's ({@code ?}) row count. */
    abstract String rowEstimateQuery();

    /** The statements that create {@code table} as the source has it, on a shard that lacks it. */
    abstract List<String> createTable(Connection source, String table) throws SQLException;

    /** Session settings of the worker's connections: how long a statement waits for a row lock. */
    abstract void prepareSession(Connection c, long lockWaitSeconds) throws SQLException;

    /** Whether exact numbers are bound as text rather than as BigDecimal. */
    abstract boolean exactNumbersAsText();

    /** A string literal given as the hex of its UTF-8 bytes: no quoting of the text itself can go wrong. */
    abstract String utf8Literal(String hex);

    String list(List<String> columns) {
        return columns.stream().map(this::quote).collect(Collectors.joining(", "));
    }

    private static String marks(int n) {
        return String.join(", ", java.util.Collections.nCopies(n, "?"));
    }
}

package io.shardgate.cli;

import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.exec.BackendUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * One short JDBC session with a MySQL/MariaDB shard for the admin commands' checks: is it
 * reachable, which of the cluster's tables does its database hold, how many rows do they have.
 */
final class ShardDatabase implements AutoCloseable {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final int QUERY_TIMEOUT_SECONDS = 60;

    private final Connection connection;
    private final String database;

    private ShardDatabase(Connection connection, String database) {
        this.connection = connection;
        this.database = database;
    }

    /** The database part of a shard URL; empty when the URL names none. */
    static String database(String jdbcUrl) {
        return BackendUrl.parse(jdbcUrl).database();
    }

    /**
     * Connects within {@link #CONNECT_TIMEOUT} (and gives up on a silent server after twice that).
     *
     * @throws SQLException with the driver's reason when the shard cannot be reached or refuses the login
     */
    static ShardDatabase connect(ShardDefinition shard) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", shard.user());
        p.setProperty("password", shard.password());
        p.setProperty("connectTimeout", Long.toString(CONNECT_TIMEOUT.toMillis()));
        p.setProperty("socketTimeout", Long.toString(CONNECT_TIMEOUT.toMillis() * 2));
        p.setProperty("sslMode", "DISABLED");
        p.setProperty("allowPublicKeyRetrieval", "true");
        String url = shard.jdbcUrl().replaceFirst("^jdbc:mariadb:", "jdbc:mysql:");
        Connection c = DriverManager.getConnection(url, p);
        try {
            c.setNetworkTimeout(Runnable::run, (QUERY_TIMEOUT_SECONDS + 5) * 1000);
            return new ShardDatabase(c, database(shard.jdbcUrl()));
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Every base table of the shard's database (lower-case names), sorted. */
    List<String> tables() throws SQLException {
        List<String> found = new ArrayList<>();
        try (PreparedStatement st = connection.prepareStatement("SELECT table_name FROM information_schema.tables"
                + " WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name")) {
            st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            st.setString(1, database);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    found.add(rs.getString(1).toLowerCase(Locale.ROOT));
                }
            }
        }
        return found;
    }

    /** Which of {@code tables} (lower-case names) exist in the shard's database, sorted. */
    List<String> existing(Collection<String> tables) throws SQLException {
        List<String> found = new ArrayList<>();
        try (PreparedStatement st = connection.prepareStatement(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name")) {
            st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            st.setString(1, database);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    String name = rs.getString(1).toLowerCase(Locale.ROOT);
                    if (tables.contains(name)) {
                        found.add(name);
                    }
                }
            }
        }
        return found;
    }

    /** Exact row counts ({@code SELECT COUNT(*)}) of those of {@code tables} that exist, by table. */
    Map<String, Long> rowCounts(Collection<String> tables) throws SQLException {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String table : existing(tables)) {
            try (Statement st = connection.createStatement()) {
                st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
                try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM `" + table.replace("`", "``") + "`")) {
                    rs.next();
                    counts.put(table, rs.getLong(1));
                }
            }
        }
        return counts;
    }

    /** A table's columns (lower-case names) with their {@code DATA_TYPE}, in order; empty if the table does not exist. */
    Map<String, String> columns(String table) throws SQLException {
        Map<String, String> columns = new LinkedHashMap<>();
        try (PreparedStatement st = connection.prepareStatement("SELECT column_name, data_type FROM information_schema.columns"
                + " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position")) {
            st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            st.setString(1, database);
            st.setString(2, table);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    columns.put(rs.getString(1).toLowerCase(Locale.ROOT), rs.getString(2).toLowerCase(Locale.ROOT));
                }
            }
        }
        return columns;
    }

    /**
     * Creates {@code table} here as {@code source} has it (its own DDL, read from its catalog) and returns the statements run.
     *
     * @throws SQLException from either shard, unchanged
     */
    List<String> createLike(ShardDatabase source, String table) throws SQLException {
        return io.shardgate.migrator.TableDdl.copyDefinition(source.connection, connection, table);
    }

    /**
     * Why {@code table.column} cannot hold a string shard key on this shard (its collation holds different strings
     * equal, see {@link io.shardgate.cluster.StringKeyCollation}), or empty when it can or does not exist.
     */
    java.util.Optional<String> stringKeyRefusal(String table, String column) throws SQLException {
        String label = table + "." + column;
        boolean postgres = connection.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres");
        String sql = postgres
                ? "SELECT t.typname, c.collname, COALESCE(c.collisdeterministic, true) FROM pg_attribute a"
                        + " JOIN pg_class r ON r.oid = a.attrelid JOIN pg_namespace n ON n.oid = r.relnamespace"
                        + " JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_collation c ON c.oid = a.attcollation"
                        + " WHERE n.nspname = current_schema() AND r.relname = ? AND a.attname = ? AND a.attnum > 0"
                : "SELECT data_type, character_set_name, collation_name FROM information_schema.columns"
                        + " WHERE table_schema = ? AND table_name = ? AND column_name = ?";
        try (PreparedStatement st = connection.prepareStatement(sql)) {
            st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            int i = 1;
            if (!postgres) {
                st.setString(i++, database);
            }
            st.setString(i++, table);
            st.setString(i, column);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    return java.util.Optional.empty();
                }
                return postgres ? io.shardgate.cluster.StringKeyCollation.postgresRefusal(label, rs.getString(1), rs.getString(2),
                        rs.getBoolean(3))
                        : io.shardgate.cluster.StringKeyCollation.mysqlRefusal(label, rs.getString(1), rs.getString(2), rs.getString(3));
            }
        }
    }

    /**
     * The column the server generates for {@code table}: MySQL's AUTO_INCREMENT, PostgreSQL's serial (a
     * {@code nextval(…)} default) or identity column; empty when it has none or does not exist.
     */
    java.util.Optional<String> generatedColumn(String table) throws SQLException {
        boolean postgres = connection.getMetaData().getURL().startsWith("jdbc:postgresql:");
        String sql = postgres
                ? "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?"
                        + " AND (column_default LIKE 'nextval(%' OR is_identity = 'YES') ORDER BY ordinal_position"
                : "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
                        + " AND extra LIKE '%auto_increment%' ORDER BY ordinal_position";
        try (PreparedStatement st = connection.prepareStatement(sql)) {
            st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            int i = 1;
            if (!postgres) {
                st.setString(i++, database);
            }
            st.setString(i, table);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? java.util.Optional.of(rs.getString(1).toLowerCase(Locale.ROOT)) : java.util.Optional.empty();
            }
        }
    }

    /** The largest value of an integer column of {@code table} (0 when the table is empty or does not exist). */
    long maxValue(String table, String column) throws SQLException {
        if (existing(List.of(table)).isEmpty()) {
            return 0;
        }
        try (Statement st = connection.createStatement()) {
            st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            try (ResultSet rs = st.executeQuery("SELECT MAX(" + column + ") FROM " + table)) {
                return rs.next() ? Math.max(0, rs.getLong(1)) : 0;
            }
        }
    }

    /** A round trip: {@code SELECT 1}. */
    void ping() throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.setQueryTimeout(5);
            st.execute("SELECT 1");
        }
    }

    /** Whether a table has a primary key. */
    boolean hasPrimaryKey(String table) throws SQLException {
        try (PreparedStatement st = connection.prepareStatement("SELECT COUNT(*) FROM information_schema.statistics"
                + " WHERE table_schema = ? AND table_name = ? AND index_name = 'PRIMARY'")) {
            st.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            st.setString(1, database);
            st.setString(2, table);
            try (ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    /** The driver's reason in one line, without its advice paragraphs. */
    static String reason(SQLException e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String first = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
        String rootMessage = root == e || root.getMessage() == null ? "" : root.getMessage().lines().findFirst().orElse("");
        return rootMessage.isEmpty() || first.contains(rootMessage) ? first : first + " (" + rootMessage + ")";
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            // nothing was written; a failed close loses nothing
        }
    }
}

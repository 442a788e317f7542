package io.shardgate.migrator;

import io.shardgate.cluster.ShardDefinition;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * Opens the worker's sessions to a shard. Each session runs READ COMMITTED (no gap locks: the worker
 * must not block inserts next to the rows it copies), with a short InnoDB lock wait timeout so the
 * worker is the one that gives way when its share locks meet application writes, and in the text
 * protocol so {@code getString} is the server's own text of each value.
 */
final class ShardConnections {
    private final Duration connectTimeout;
    private final Duration lockWaitTimeout;

    ShardConnections(Duration connectTimeout, Duration lockWaitTimeout) {
        this.connectTimeout = connectTimeout;
        this.lockWaitTimeout = lockWaitTimeout;
    }

    Connection open(ShardDefinition shard) throws SQLException {
        boolean postgres = shard.jdbcUrl().startsWith("jdbc:postgresql:");
        Properties p = new Properties();
        p.setProperty("user", shard.user());
        p.setProperty("password", shard.password());
        String url;
        if (postgres) {
            p.setProperty("connectTimeout", Long.toString(Math.max(1, connectTimeout.toSeconds())));
            p.setProperty("sslmode", "disable");
            p.setProperty("stringtype", "unspecified");   // text values take their column's type, as the proxy sends them
            p.setProperty("ApplicationName", "shardgate-migrator");
            url = shard.jdbcUrl();
        } else {
            p.setProperty("connectTimeout", Long.toString(connectTimeout.toMillis()));
            p.setProperty("sslMode", "DISABLED");
            p.setProperty("allowPublicKeyRetrieval", "true");
            p.setProperty("rewriteBatchedStatements", "true");
            p.setProperty("useServerPrepStmts", "false");
            p.setProperty("tinyInt1isBit", "false");
            p.setProperty("yearIsDateType", "false");   // getString of a YEAR is its text (2155), not a date (2155-01-01)
            p.setProperty("characterEncoding", "UTF-8");
            p.setProperty("jdbcCompliantTruncation", "false");
            p.setProperty("zeroDateTimeBehavior", "CONVERT_TO_NULL");
            url = shard.jdbcUrl().replaceFirst("^jdbc:mariadb:", "jdbc:mysql:");
        }
        Connection c = DriverManager.getConnection(url, p);
        try {
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            (postgres ? ShardSql.POSTGRES : ShardSql.MYSQL).prepareSession(c, Math.max(1, lockWaitTimeout.toSeconds()));
            c.setAutoCommit(false);
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }
}

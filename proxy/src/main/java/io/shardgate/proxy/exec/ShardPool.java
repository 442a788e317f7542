package io.shardgate.proxy.exec;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * The connection pool of one shard. Created with {@code initializationFailTimeout=-1}, so a shard that is
 * down neither blocks start-up nor stays dead: the pool keeps trying, and borrowing fails after the
 * borrow timeout with the pool's counts in the message.
 */
public final class ShardPool implements AutoCloseable {
    private final ShardDefinition shard;
    private final BackendUrl url;
    private final HikariDataSource dataSource;

    ShardPool(ShardDefinition shard, ProxyPoolSettings settings) {
        this.shard = shard;
        this.url = BackendUrl.parse(shard.jdbcUrl());
        HikariConfig c = new HikariConfig();
        c.setPoolName("shardgate-" + shard.name());
        c.setJdbcUrl(url.connectorUrl(settings.connectTimeout(), settings.statementCacheSize()));
        c.setUsername(shard.user());
        c.setPassword(shard.password());
        c.setMaximumPoolSize(Math.max(1, shard.poolSize()));
        c.setMinimumIdle(Math.min(settings.minimumIdle(), Math.max(1, shard.poolSize())));
        c.setConnectionTimeout(settings.borrowTimeout().toMillis());
        c.setValidationTimeout(Math.max(250, Math.min(1000, settings.borrowTimeout().toMillis() - 1)));
        c.setInitializationFailTimeout(-1);
        c.setAutoCommit(true);
        this.dataSource = new HikariDataSource(c);
    }

    /** The settings of every shard's pool. */
    public record ProxyPoolSettings(Duration connectTimeout, Duration borrowTimeout, int minimumIdle, int statementCacheSize) {}

    public ShardDefinition definition() {
        return shard;
    }

    public String name() {
        return shard.name();
    }

    public BackendUrl url() {
        return url;
    }

    /** A connection, or SHARD_UNAVAILABLE within the borrow timeout. */
    public Connection borrow() {
        long start = System.nanoTime();
        try {
            return dataSource.getConnection();
        } catch (SQLException e) {
            throw BackendErrors.translate(e, this, start);
        }
    }

    /** Closes {@code c} instead of giving it back: the pool makes a new connection in its place. */
    public void discard(Connection c) {
        dataSource.evictConnection(c);
    }

    /** {@code active=…, idle=…, waiting=…} for error messages. */
    public String counts() {
        HikariPoolMXBean bean = dataSource.getHikariPoolMXBean();
        if (bean == null) {
            return "pool not started";
        }
        return "pool active=" + bean.getActiveConnections() + ", idle=" + bean.getIdleConnections() + ", waiting="
                + bean.getThreadsAwaitingConnection();
    }

    /** Connections of the pool now: in use, idle, threads waiting for one, and the most it keeps. */
    public record Stats(int active, int idle, int waiting, int max) {}

    public Stats stats() {
        HikariPoolMXBean bean = dataSource.getHikariPoolMXBean();
        return bean == null ? new Stats(0, 0, 0, shard.poolSize())
                : new Stats(bean.getActiveConnections(), bean.getIdleConnections(), bean.getThreadsAwaitingConnection(), shard.poolSize());
    }

    /** {@code s1 (127.0.0.1:3317)}. */
    public String describe() {
        return "shard " + shard.name() + " (" + url.hostPort() + ")";
    }

    @Override
    public void close() {
        dataSource.close();
    }

    static ProxyException unknown(String name) {
        return new ProxyException(ErrorCode.INTERNAL, "shard " + name + " is not in the cluster definition this proxy knows");
    }
}

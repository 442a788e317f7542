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
    private final Duration poolWait;
    private final ShardBudget budget;
    private final boolean foundRows;

    /**
     * {@code foundRows}: the connections log in with {@code CLIENT_FOUND_ROWS} (see {@link ShardPools#pool(String, boolean)});
     * {@code sharedBudget}: the budget of the shard's other pool, which this one's connections count against too (null:
     * a budget of its own).
     */
    ShardPool(ShardDefinition shard, ProxyPoolSettings settings, boolean foundRows, ShardBudget sharedBudget) {
        this.shard = shard;
        this.url = BackendUrl.parse(shard.jdbcUrl());
        this.foundRows = foundRows;
        HikariConfig c = new HikariConfig();
        c.setPoolName("shardgate-" + shard.name() + (foundRows ? "" : "-affected-rows"));
        c.setJdbcUrl(url.connectorUrl(settings.connectTimeout(), settings.statementCacheSize(), foundRows));
        c.setUsername(shard.user());
        c.setPassword(shard.password());
        c.setMaximumPoolSize(Math.max(1, shard.poolSize()));
        c.setMinimumIdle(Math.min(settings.minimumIdle(), Math.max(1, shard.poolSize())));
        long attempt = Math.min(settings.borrowTimeout().toMillis(), settings.poolWait().toMillis());
        c.setConnectionTimeout(attempt);
        c.setValidationTimeout(Math.max(250, Math.min(1000, attempt - 1)));
        c.setInitializationFailTimeout(-1);
        c.setAutoCommit(true);
        if (!url.postgres()) {
            c.setConnectionInitSql(BackendUrl.RESULTS_UTF8MB4);
        }
        this.dataSource = new HikariDataSource(c);
        this.poolWait = settings.poolWait();
        if (sharedBudget == null) {
            this.budget = new ShardBudget(shard.name(), Math.max(1, shard.poolSize()), this::jdbcInUse);
        } else {
            this.budget = sharedBudget;
            sharedBudget.countAlso(this::jdbcInUse);
        }
    }

    /** The shard's connection budget, shared with the native pools ({@code backend.native}). */
    public ShardBudget budget() {
        return budget;
    }

    private int jdbcInUse() {
        if (dataSource.isClosed()) {
            return 0; // a pool replaced or closed lends nothing (its budget may outlive it)
        }
        HikariPoolMXBean bean = dataSource.getHikariPoolMXBean();
        return bean == null ? 0 : bean.getActiveConnections();
    }

    /**
     * The settings of every shard's pool.
     *
     * @param borrowTimeout how long one attempt to get a connection waits (HikariCP's {@code connectionTimeout}): a shard
     *                      that cannot be reached fails within it
     * @param poolWait      how long a statement keeps waiting while every connection is in use by other sessions
     */
    public record ProxyPoolSettings(Duration connectTimeout, Duration borrowTimeout, int minimumIdle, int statementCacheSize,
            Duration poolWait) {}

    public ShardDefinition definition() {
        return shard;
    }

    public String name() {
        return shard.name();
    }

    public BackendUrl url() {
        return url;
    }

    /** Whether this pool's connections count found rows ({@code CLIENT_FOUND_ROWS}) or changed rows. */
    public boolean foundRows() {
        return foundRows;
    }

    /**
     * A connection. When every connection of the pool is in use (other sessions' transactions hold them), waits for one
     * up to the pool wait, as a statement waits for a row lock on a server, then fails with SHARD_BUSY naming the limit;
     * otherwise (the shard cannot be reached) fails with SHARD_UNAVAILABLE within one attempt (the borrow timeout). Every
     * wait also ends at the running statement's deadline ({@link StatementDeadline}), and when its thread is interrupted
     * (a cancel's last resort): a statement waiting for a connection to a hung shard fails then, not one attempt later.
     */
    public Connection borrow() {
        long start = System.nanoTime();
        long deadline = start + poolWait.toNanos();
        while (true) {
            long left = StatementDeadline.leftNanos();
            if (left <= 0 || Thread.currentThread().isInterrupted()) {
                throw stopped(start, null);
            }
            Connection c;
            try {
                c = getConnection(left);
            } catch (SQLException e) {
                if (StatementDeadline.leftNanos() <= 0 || Thread.currentThread().isInterrupted()) {
                    throw stopped(start, e);
                }
                HikariPoolMXBean bean = dataSource.getHikariPoolMXBean();
                // a full pool of live connections means the shard answers and other sessions hold them all: wait on
                if (bean == null || bean.getTotalConnections() < shard.poolSize()) {
                    throw BackendErrors.translate(e, this, start);
                }
                if (System.nanoTime() - start >= poolWait.toNanos()) {
                    throw busy(start, bean);
                }
                continue;
            }
            if (budget.admitsJdbc()) {
                return keepServerColumnDefinitions(c);
            }
            // the native path holds the rest of the shard's budget: give this one back and wait for a place
            try {
                c.close();
            } catch (SQLException ignored) {
                // back in the pool either way
            }
            left = StatementDeadline.leftNanos();
            long until = left < deadline - System.nanoTime() ? System.nanoTime() + left : deadline;
            if (!budget.awaitFree(until)) {
                if (until != deadline) {
                    throw stopped(start, null);
                }
                throw busy(start, dataSource.getHikariPoolMXBean());
            }
        }
    }

    /**
     * One attempt at a connection of the pool, waiting at most the borrow timeout and the {@code leftNanos} the statement
     * has left (HikariCP may overrun it by one validation of an idle connection, at most its validation timeout).
     */
    private Connection getConnection(long leftNanos) throws SQLException {
        if (leftNanos != Long.MAX_VALUE && !dataSource.isClosed() && dataSource.getHikariPoolMXBean() instanceof com.zaxxer.hikari.pool.HikariPool pool) {
            long millis = Math.max(1, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(leftNanos));
            return pool.getConnection(Math.min(millis, dataSource.getConnectionTimeout()));
        }
        return dataSource.getConnection();
    }

    /**
     * The statement waiting for a connection was stopped (its deadline passed, it was cancelled, or its thread was
     * interrupted): the statement's end maps this to its deadline's or cancel's error.
     */
    private ProxyException stopped(long start, SQLException cause) {
        long millis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        String message = describe() + ": the statement was stopped (deadline, cancel or interrupt) after waiting " + millis
                + " ms for a connection (" + counts() + ")" + (cause == null ? "" : ": " + cause.getMessage());
        return cause == null ? new ProxyException(ErrorCode.SHARD_UNAVAILABLE, message)
                : new ProxyException(ErrorCode.SHARD_UNAVAILABLE, message, cause);
    }

    /** {@code c}, reading MySQL column definitions as the server sent them (see {@link ServerColumnDefinitions}). */
    private Connection keepServerColumnDefinitions(Connection c) {
        if (!url.postgres()) {
            try {
                ServerColumnDefinitions.install(c);
            } catch (SQLException | RuntimeException e) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // back in the pool either way
                }
                throw new IllegalStateException("cannot read column definitions as shard " + shard.name() + " sends them: " + e, e);
            }
        }
        return c;
    }

    private ProxyException busy(long start, HikariPoolMXBean bean) {
        long millis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return budget.busy(describe(), millis, poolWait.toMillis(), bean == null ? 0 : bean.getThreadsAwaitingConnection());
    }

    /**
     * Takes a connection this pool lent out of service for good: evicted (closed physically, never lent again) instead
     * of going back to the pool. For a connection whose protocol state is unknown: an exception that is not the
     * server's own error escaped while it was in use, so the driver may have stopped halfway through a reply, and
     * the next borrower would read the rest of it (pgJDBC's {@code Unexpected packet type}).
     */
    public void discard(Connection c) {
        dataSource.evictConnection(c);
        try {
            // cut the socket first: closing the pool's wrapper would otherwise roll back on the desynchronised connection
            c.unwrap(Connection.class).abort(Runnable::run);
        } catch (SQLException | RuntimeException ignored) {
            // closed already
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // evicted already: nothing goes back to the pool
        }
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

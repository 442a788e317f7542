package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.config.ShardgateConfig;
import io.shardgate.local.CommandRunner;
import io.shardgate.proxy.ProxyServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every statement ends on PostgreSQL shards too (issue 15 item 5), through pgJDBC and psql: the statement deadline
 * ({@code limits.statement-timeout-ms}, 2 s here) cancels a {@code pg_sleep(30)} on its shard with a CancelRequest,
 * whose backend is then idle in {@code pg_stat_activity}, and the client gets PostgreSQL's own statement_timeout error;
 * inside a transaction the transaction is then aborted, as on the server; a client that goes away has its statement
 * cancelled. (A client's own CancelRequest: {@code PostgresClientsIT}.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgStatementCancelIT {
    private static final int TIMEOUT_MS = 2000;
    private static final long PROMPT_MS = TIMEOUT_MS + 1500;
    private PgShardedCluster cluster;
    private ProxyServer proxy;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(1, """
                tables:
                  - {name: kv, kind: sharded, key: id, key-type: int}
                """, "scram-sha-256");
        proxy = cluster.startProxy(ShardgateConfig.defaults().limits().withStatementTimeoutMs(TIMEOUT_MS));
        try (Connection c = connect()) {
            Sql.update(c, "CREATE TABLE kv (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)");
            Sql.update(c, "INSERT INTO kv (id, n) VALUES (1, 0)");
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private Connection connect() throws SQLException {
        return cluster.proxyConnection(proxy, "");
    }

    /**
     * A simple-protocol connection whose {@link #sleeping} query is relayed from the client's event loop (no session
     * thread waits for it): its template was analysed by the runs here (which match no row, so sleep not at all), and
     * their connection, left idle on that loop, carries the session's settings.
     */
    private Connection relayingFromTheEventLoop(String marker) throws SQLException {
        Connection c = cluster.proxyConnection(proxy, "preferQueryMode=simple");
        for (int i = 0; i < 3; i++) {
            assertThat(Sql.query(c, sleeping(marker, 99))).isEmpty();
        }
        return c;
    }

    /** Sleeps 30 s on the shard when {@code n} is kv's n for id 1 (0); returns at once with no row otherwise. */
    private static String sleeping(String marker, int n) {
        return "SELECT pg_sleep(30) FROM kv WHERE id = 1 AND n = " + n + " /* " + marker + " */";
    }

    private long active(String marker) throws SQLException {
        try (Connection c = cluster.shardConnection(0)) {
            return Sql.count(c, "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%" + marker
                    + "%' AND query NOT LIKE '%pg_stat_activity%'");
        }
    }

    private void awaitIdle(String marker, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (active(marker) > 0) {
            assertThat(System.nanoTime()).as("the statement (%s) still runs on the shard", marker).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @Test
    void theDeadlineCancelsTheStatementWithPostgresqlsTimeoutError() throws Exception {
        SQLException server;
        try (Connection direct = cluster.shardConnection(0); Statement st = direct.createStatement()) {
            st.execute("SET statement_timeout = 1000");
            server = catchThrowableOfType(SQLException.class, () -> st.executeQuery("SELECT pg_sleep(3)"));
        }
        try (Connection c = connect(); Statement st = c.createStatement()) {
            long start = System.nanoTime();
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> st.executeQuery("SELECT pg_sleep(30) FROM kv WHERE id = 1 /* pg-deadline-1 */"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat((Throwable) e).isNotNull();
            assertThat(ms).isBetween((long) TIMEOUT_MS - 50, PROMPT_MS);
            assertThat(e.getSQLState()).isEqualTo(server.getSQLState()).isEqualTo("57014");
            String serverText = ((org.postgresql.util.PSQLException) server).getServerErrorMessage().getMessage();
            assertThat(serverText).isEqualTo("canceling statement due to statement timeout");
            assertThat(((org.postgresql.util.PSQLException) e).getServerErrorMessage().getMessage()).startsWith(serverText)
                    .contains("limits.statement-timeout-ms (" + TIMEOUT_MS + " ms)").contains("shard s0");
            awaitIdle("pg-deadline-1", Duration.ofSeconds(1));
            assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = 1")).containsExactly(List.of("0"));
        }
    }

    @Test
    void aTimedOutStatementAbortsItsTransactionAsOnTheServer() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.executeUpdate("UPDATE kv SET n = 5 WHERE id = 1");
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> st.executeQuery("SELECT pg_sleep(30) FROM kv WHERE id = 1 /* pg-deadline-2 */"));
            assertThat(e.getSQLState()).isEqualTo("57014");
            SQLException aborted = catchThrowableOfType(SQLException.class, () -> st.executeQuery("SELECT n FROM kv WHERE id = 1"));
            assertThat(aborted.getSQLState()).isEqualTo("25P02");
            c.rollback();
            assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = 1")).containsExactly(List.of("0"));
            c.commit();
        }
        awaitIdle("pg-deadline-2", Duration.ofSeconds(1));
    }

    @Test
    void psqlPrintsTheTimeoutError() {
        CommandRunner.Result r = CommandRunner.of(List.of("psql", "-X", "-h", "127.0.0.1", "-p", Integer.toString(proxy.postgresPort()),
                        "-U", PgShardedCluster.USER, "-d", PgShardedCluster.DATABASE, "-c", "SELECT pg_sleep(30) FROM kv WHERE id = 1"))
                .env("PGPASSWORD", PgShardedCluster.PASSWORD).env("PGSSLMODE", "disable").timeout(Duration.ofSeconds(20)).run();
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.output()).contains("ERROR:  canceling statement due to statement timeout");
    }

    @Test
    void theDeadlineEndsAQueryRelayedFromTheEventLoop() throws Exception {
        try (Connection c = relayingFromTheEventLoop("pg-loop-1"); Statement st = c.createStatement()) {
            long start = System.nanoTime();
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> st.executeQuery(sleeping("pg-loop-1", 0)));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat((Throwable) e).isNotNull();
            assertThat(ms).isBetween((long) TIMEOUT_MS - 50, PROMPT_MS);
            assertThat(e.getSQLState()).isEqualTo("57014");
            assertThat(((org.postgresql.util.PSQLException) e).getServerErrorMessage().getMessage())
                    .startsWith("canceling statement due to statement timeout")
                    .contains("limits.statement-timeout-ms (" + TIMEOUT_MS + " ms)").contains("shard s0");
            awaitIdle("pg-loop-1", Duration.ofSeconds(1));
            // the session goes on, relaying again
            assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = 1")).containsExactly(List.of("0"));
            assertThat(Sql.query(c, sleeping("pg-loop-1", 99))).isEmpty();
        }
    }

    @Test
    void theClientsCancelRequestEndsAQueryRelayedFromTheEventLoop() throws Exception {
        try (Connection c = relayingFromTheEventLoop("pg-loop-2"); Statement st = c.createStatement()) {
            CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                    () -> st.executeQuery(sleeping("pg-loop-2", 0))),
                    Executors.newVirtualThreadPerTaskExecutor());
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (active("pg-loop-2") == 0) {
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(20);
            }
            st.cancel();
            SQLException e = failed.get(5, TimeUnit.SECONDS);
            assertThat((Throwable) e).isNotNull();
            assertThat(e.getSQLState()).isEqualTo("57014");
            assertThat(((org.postgresql.util.PSQLException) e).getServerErrorMessage().getMessage())
                    .isEqualTo("canceling statement due to user request");
            awaitIdle("pg-loop-2", Duration.ofSeconds(1));
            assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = 1")).containsExactly(List.of("0"));
        }
    }

    @Test
    void aClientThatGoesAwayHasItsQueryRelayedFromTheEventLoopCancelled() throws Exception {
        Connection c = relayingFromTheEventLoop("pg-loop-3");
        CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                () -> Sql.query(c, sleeping("pg-loop-3", 0))), Executors.newVirtualThreadPerTaskExecutor());
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (active("pg-loop-3") == 0) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(20);
        }
        c.abort(Runnable::run);
        failed.get(5, TimeUnit.SECONDS);
        awaitIdle("pg-loop-3", Duration.ofMillis(1500));
    }

    @Test
    void aClientThatGoesAwayHasItsStatementCancelled() throws Exception {
        Connection c = connect();
        CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                () -> Sql.query(c, "SELECT pg_sleep(30) FROM kv WHERE id = 1 /* pg-gone-3 */")), Executors.newVirtualThreadPerTaskExecutor());
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (active("pg-gone-3") == 0) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(20);
        }
        c.abort(Runnable::run);
        failed.get(5, TimeUnit.SECONDS);
        awaitIdle("pg-gone-3", Duration.ofMillis(1500));
    }
}

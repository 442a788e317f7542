package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.cluster.KeyType;
import io.shardgate.config.ShardgateConfig;
import io.shardgate.local.CommandRunner;
import io.shardgate.proxy.ProxyServer;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Every statement ends (issue 15 item 5), on real MariaDB shards through Connector/J and the {@code mariadb} client: the
 * statement deadline ({@code limits.statement-timeout-ms}, 2 s here) cancels a {@code SLEEP(30)} on its shard, whose
 * thread is then gone from the processlist, with MariaDB's own max_statement_time error; {@code KILL QUERY} and
 * {@code KILL} of a proxy connection id from another connection; a client that goes away; a stopped (SIGSTOP) shard.
 * Run with {@code -Dshardgate.it.backend-native=true} too: single-shard SELECTs then take the native relay.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StatementCancelIT {
    private static final int TIMEOUT_MS = 2000;
    /** The deadline plus the grace a shard has to take the cancel, plus scheduling slack on a busy 2-core machine. */
    private static final long PROMPT_MS = TIMEOUT_MS + 1500;
    private ShardedCluster cluster;
    private ProxyServer proxy;
    private long onS0;
    private long onS1;
    /** Keys of s0 and s1 with no row: a SLEEP over their rows answers at once. */
    private long emptyOnS0;
    private long emptyOnS1;

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.startWithPoolSize(2, 4, """
                tables:
                  - {name: kv, kind: sharded, key: id, key-type: int}
                """);
        // the default pool wait: a shorter one lowers HikariCP's connectionTimeout, which it also sets as the JVM-wide
        // DriverManager login timeout, and this test's own logins to the proxy then fail under load
        proxy = cluster.startProxy(ShardgateConfig.defaults().limits().withStatementTimeoutMs(TIMEOUT_MS));
        SlotMap map = cluster.store().readSlotMap().value();
        onS0 = -1;
        onS1 = -1;
        emptyOnS0 = -1;
        emptyOnS1 = -1;
        for (long id = 1; onS0 < 0 || onS1 < 0 || emptyOnS0 < 0 || emptyOnS1 < 0; id++) {
            String owner = map.owner(SlotFunction.slot(ShardKeys.normalize(KeyType.INT, id), map.slotCount()));
            if (owner.equals("s0") && onS0 < 0) {
                onS0 = id;
            } else if (owner.equals("s1") && onS1 < 0) {
                onS1 = id;
            } else if (owner.equals("s0") && emptyOnS0 < 0) {
                emptyOnS0 = id;
            } else if (owner.equals("s1") && emptyOnS1 < 0) {
                emptyOnS1 = id;
            }
        }
        try (Connection c = connect()) {
            Sql.update(c, "CREATE TABLE kv (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)");
            Sql.update(c, "INSERT INTO kv (id, n) VALUES (" + onS0 + ", 0), (" + onS1 + ", 0)");
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

    private String sleepOn(long id, int seconds) {
        return "SELECT SLEEP(" + seconds + ") FROM kv WHERE id = " + id;
    }

    /** Threads of shard {@code i} running a statement that contains {@code marker}. */
    private long running(int shard, String marker) throws SQLException {
        try (Connection c = cluster.shardConnection(shard)) {
            return Sql.count(c, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%" + marker
                    + "%' AND INFO NOT LIKE '%PROCESSLIST%'");
        }
    }

    private void awaitGone(int shard, String marker, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (running(shard, marker) > 0) {
            assertThat(System.nanoTime()).as("the statement (%s) is still running on shard s%d", marker, shard).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @Test
    @Order(1)
    void theDeadlineCancelsTheStatementOnItsShardWithMariaDbsTimeoutError() throws Exception {
        SQLException server;
        try (Connection direct = cluster.shardConnection(0); Statement st = direct.createStatement()) {
            st.execute("SET max_statement_time = 1");
            server = catchThrowableOfType(SQLException.class, () -> st.executeQuery("SELECT SLEEP(3)"));
        }
        try (Connection c = connect(); Statement st = c.createStatement()) {
            long start = System.nanoTime();
            SQLException e = catchThrowableOfType(SQLException.class, () -> st.executeQuery(sleepOn(onS0, 30) + " /* deadline-1 */"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat((Throwable) e).as("a statement past the deadline fails").isNotNull();
            System.out.printf("StatementCancelIT: deadline %d ms, error after %d ms%n", TIMEOUT_MS, ms);
            assertThat(ms).as("it fails at its deadline").isBetween((long) TIMEOUT_MS - 50, PROMPT_MS);
            assertThat(e.getErrorCode()).isEqualTo(server.getErrorCode()).isEqualTo(1969);
            assertThat(e.getSQLState()).isEqualTo(server.getSQLState()).isEqualTo("70100");
            assertThat(e.getMessage()).startsWith(server.getMessage())
                    .contains("limits.statement-timeout-ms (" + TIMEOUT_MS + " ms)").contains("shard s0");
            awaitGone(0, "deadline-1", Duration.ofSeconds(1));
            // the session and its connection go on
            assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = " + onS0)).containsExactly(List.of("0"));
        }
    }

    @Test
    @Order(2)
    void aTimedOutStatementInATransactionLeavesTheTransactionOpenAsOnTheServer() throws Exception {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.executeUpdate("UPDATE kv SET n = n + 1 WHERE id = " + onS0);
            SQLException e = catchThrowableOfType(SQLException.class, () -> st.executeQuery(sleepOn(onS0, 30) + " /* deadline-2 */"));
            assertThat(e.getErrorCode()).isEqualTo(1969);
            assertThat(Sql.query(c, "SELECT @@in_transaction")).containsExactly(List.of("1"));
            st.executeUpdate("UPDATE kv SET n = n + 10 WHERE id = " + onS0);
            c.commit();
        }
        try (Connection c = connect()) {
            assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = " + onS0)).containsExactly(List.of("11"));
            Sql.update(c, "UPDATE kv SET n = 0 WHERE id = " + onS0);
        }
        awaitGone(0, "deadline-2", Duration.ofSeconds(1));
    }

    @Test
    @Order(3)
    void theMariaDbClientGetsTheTimeoutError() {
        CommandRunner.Result r = CommandRunner.of("mariadb", "--no-defaults", "--batch", "-A", "-h127.0.0.1", "-P" + proxy.mysqlPort(),
                "-u" + ShardedCluster.USER, "-p" + ShardedCluster.PASSWORD, ShardedCluster.DATABASE, "-e", sleepOn(onS1, 30))
                .timeout(Duration.ofSeconds(20)).run();
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.output()).contains("ERROR 1969 (70100)").contains("Query execution was interrupted (max_statement_time exceeded)");
        assertThat(r.elapsed()).isLessThan(Duration.ofMillis(PROMPT_MS + 2000));
    }

    @Test
    @Order(4)
    void connectionIdIsTheHandshakeId() throws Exception {
        try (Connection c = connect()) {
            long handshake = c.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).getId();
            assertThat(Sql.query(c, "SELECT CONNECTION_ID()")).containsExactly(List.of(Long.toString(handshake)));
        }
    }

    @Test
    @Order(5)
    void killQueryFromAnotherConnectionInterruptsTheStatementAsTheServerDoes() throws Exception {
        SQLException server = serverKillQuery();
        try (Connection victim = connect(); Connection killer = connect()) {
            long id = Long.parseLong(Sql.query(victim, "SELECT CONNECTION_ID()").getFirst().getFirst());
            CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                    () -> Sql.query(victim, sleepOn(onS1, 30) + " /* killed-5 */")), Executors.newVirtualThreadPerTaskExecutor());
            awaitRunning(1, "killed-5");
            long start = System.nanoTime();
            assertThat(Sql.update(killer, "KILL QUERY " + id)).isZero();
            SQLException e = failed.get(5, TimeUnit.SECONDS);
            System.out.printf("StatementCancelIT: KILL QUERY answered the victim after %d ms%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1000);
            assertThat(e.getErrorCode()).isEqualTo(server.getErrorCode()).isEqualTo(1317);
            assertThat(e.getSQLState()).isEqualTo(server.getSQLState()).isEqualTo("70100");
            assertThat(e.getMessage()).isEqualTo(server.getMessage()).isEqualTo("Query execution was interrupted");
            awaitGone(1, "killed-5", Duration.ofSeconds(1));
            assertThat(Sql.query(victim, "SELECT n FROM kv WHERE id = " + onS1)).containsExactly(List.of("0"));
        }
    }

    /** What MariaDB sends a client whose SLEEP another connection stopped with KILL QUERY. */
    private SQLException serverKillQuery() throws Exception {
        try (Connection victim = cluster.shardConnection(0); Connection killer = cluster.shardConnection(0)) {
            long id = Long.parseLong(Sql.query(victim, "SELECT CONNECTION_ID()").getFirst().getFirst());
            CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                    () -> Sql.query(victim, "SELECT SLEEP(30) /* reference-kill */")), Executors.newVirtualThreadPerTaskExecutor());
            awaitRunning(0, "reference-kill");
            Sql.update(killer, "KILL QUERY " + id);
            return failed.get(5, TimeUnit.SECONDS);
        }
    }

    private void awaitRunning(int shard, String marker) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (running(shard, marker) == 0) {
            assertThat(System.nanoTime()).as("the statement (%s) never started on s%d", marker, shard).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    @Order(6)
    void killClosesTheConnectionAndRollsItsTransactionBack() throws Exception {
        try (Connection victim = connect(); Connection killer = connect()) {
            long id = Long.parseLong(Sql.query(victim, "SELECT CONNECTION_ID()").getFirst().getFirst());
            victim.setAutoCommit(false);
            Sql.update(victim, "UPDATE kv SET n = 99 WHERE id = " + onS1);
            CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                    () -> Sql.query(victim, sleepOn(onS1, 30) + " /* killed-6 */")), Executors.newVirtualThreadPerTaskExecutor());
            awaitRunning(1, "killed-6");
            assertThat(Sql.update(killer, "KILL " + id)).isZero();
            SQLException e = failed.get(5, TimeUnit.SECONDS);
            assertThat((Throwable) e).isInstanceOf(com.mysql.cj.jdbc.exceptions.CommunicationsException.class);
            awaitGone(1, "killed-6", Duration.ofSeconds(2));
            // its transaction ends on the shard, rolled back (not committed by the pool's reset of the connection)
            long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            try (Connection shard = cluster.shardConnection(1)) {
                while (Sql.count(shard, "SELECT COUNT(*) FROM information_schema.INNODB_TRX") > 0) {
                    assertThat(System.nanoTime()).as("the killed connection's transaction is still open on s1").isLessThan(deadline);
                    Thread.sleep(50);
                }
                assertThat(Sql.query(shard, "SELECT n FROM kv WHERE id = " + onS1)).containsExactly(List.of("0"));
            }
        }
    }

    @Test
    @Order(7)
    void killOfAnUnknownIdIsTheServersErrorAndIsNeverForwarded() throws Exception {
        SQLException server;
        try (Connection direct = cluster.shardConnection(0)) {
            server = catchThrowableOfType(SQLException.class, () -> Sql.update(direct, "KILL QUERY 99999999"));
        }
        try (Connection c = connect()) {
            SQLException e = catchThrowableOfType(SQLException.class, () -> Sql.update(c, "KILL QUERY 99999999"));
            assertThat(e.getErrorCode()).isEqualTo(server.getErrorCode()).isEqualTo(1094);
            assertThat(e.getSQLState()).isEqualTo(server.getSQLState());
            assertThat(e.getMessage()).isEqualTo(server.getMessage()).isEqualTo("Unknown thread id: 99999999");
            SQLException inMulti = catchThrowableOfType(SQLException.class, () -> Sql.query(c, "/* x */ KILL 1"));
            assertThat((Throwable) inMulti).isNotNull();
        }
    }

    @Test
    @Order(8)
    void aClientThatGoesAwayHasItsStatementCancelled() throws Exception {
        Connection c = connect();
        CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                () -> Sql.query(c, sleepOn(onS0, 30) + " /* gone-8 */")), Executors.newVirtualThreadPerTaskExecutor());
        awaitRunning(0, "gone-8");
        c.abort(Runnable::run); // the socket closes without COM_QUIT
        failed.get(5, TimeUnit.SECONDS);
        awaitGone(0, "gone-8", Duration.ofMillis(1500));
    }

    @Test
    @Order(9)
    void aStoppedShardFailsItsStatementsAtTheirDeadlineAndTheOtherShardServes() throws Exception {
        aStoppedShardFailsItsStatementsAtTheirDeadline(proxy);
    }

    /**
     * As {@link #aStoppedShardFailsItsStatementsAtTheirDeadlineAndTheOtherShardServes} through a proxy whose native pools
     * keep an idle connection ready ({@code backend.native-min-idle: 1}): the floor's opens to the stopped shard hold
     * places in its budget, so statements fall back to the JDBC pool, whose wait for a connection (HikariCP validating
     * idle connections to the stopped shard) must end at the statement's deadline too.
     */
    @Test
    @Order(13)
    void withAnIdleFloorAStoppedShardFailsItsStatementsAtTheirDeadline() throws Exception {
        ProxyServer withFloor = cluster.startProxy(ShardgateConfig.defaults().limits().withStatementTimeoutMs(TIMEOUT_MS), 1);
        aStoppedShardFailsItsStatementsAtTheirDeadline(withFloor);
    }

    private void aStoppedShardFailsItsStatementsAtTheirDeadline(ProxyServer server) throws Exception {
        long pid = cluster.shard(1).pid();
        try (Connection warm = cluster.proxyConnection(server, "")) {
            Sql.query(warm, "SELECT n FROM kv WHERE id = " + onS1); // the pool has live connections to s1
        }
        signal("STOP", pid);
        try {
            List<CompletableFuture<Long>> clients = new ArrayList<>();
            var threads = Executors.newVirtualThreadPerTaskExecutor();
            for (int i = 0; i < 6; i++) { // more clients than s1's pool (4) has connections
                clients.add(CompletableFuture.supplyAsync(() -> {
                    try (Connection c = cluster.proxyConnection(server, "")) {
                        long start = System.nanoTime();
                        SQLException e = catchThrowableOfType(SQLException.class,
                                () -> Sql.query(c, "SELECT n FROM kv WHERE id = " + onS1));
                        assertThat((Throwable) e).as("a statement on the stopped shard fails").isNotNull();
                        assertThat(e.getErrorCode()).as(e.getMessage()).isIn(1969, 7106, 7101);
                        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }, threads));
            }
            try (Connection c = cluster.proxyConnection(server, "")) {
                assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = " + onS0)).containsExactly(List.of("0"));
            }
            for (CompletableFuture<Long> client : clients) {
                System.out.printf("StatementCancelIT: a client of the stopped shard had its answer after %d ms%n",
                        client.get(15, TimeUnit.SECONDS));
                assertThat(client.get(15, TimeUnit.SECONDS)).as("each client of the stopped shard has its answer promptly")
                        .isLessThan(PROMPT_MS + 1000);
            }
        } finally {
            signal("CONT", pid);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try (Connection c = cluster.proxyConnection(server, "")) {
                assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = " + onS1)).containsExactly(List.of("0"));
                break;
            } catch (SQLException | AssertionError e) {
                assertThat(System.nanoTime()).as("s1 serves again after SIGCONT: " + e).isLessThan(deadline);
                Thread.sleep(200);
            }
        }
    }

    /**
     * Runs {@code sleepOn(emptyId, 30)} with {@code marker} (no row there: it answers at once) on {@code c} until a
     * statement of that shape is relayed from the client's event loop (its analysis, shared by every key since the key
     * is a templated literal, is cached and a connection on that loop is ready), so that the same statement on a key
     * that has a row starts there too: the loop path has its own start and end of a statement, cancelled like any.
     */
    private void warmTheLoopPath(Connection c, long emptyId, String marker) throws Exception {
        for (int i = 0; i < 20; i++) {
            long before = proxy.core().metrics().relayedCount(true);
            assertThat(Sql.query(c, sleepOn(emptyId, 30) + " /* " + marker + " */")).isEmpty();
            if (proxy.core().metrics().relayedCount(true) > before) {
                return;
            }
        }
        throw new AssertionError("a warm point select was never relayed from the event loop");
    }

    @Test
    @Order(10)
    void onTheLoopPathTheDeadlineCancelsTheStatementWithTheTimeoutError() throws Exception {
        try (Connection c = connect()) {
            warmTheLoopPath(c, emptyOnS0, "loop-deadline-10");
            long fromLoop = proxy.core().metrics().relayedCount(true);
            long start = System.nanoTime();
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> Sql.query(c, sleepOn(onS0, 30) + " /* loop-deadline-10 */"));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(proxy.core().metrics().relayedCount(true)).as("relayed from the loop").isEqualTo(fromLoop + 1);
            assertThat((Throwable) e).as("a statement past the deadline fails").isNotNull();
            assertThat(ms).as("it fails at its deadline").isBetween((long) TIMEOUT_MS - 50, PROMPT_MS);
            assertThat(e.getErrorCode()).isEqualTo(1969);
            assertThat(e.getSQLState()).isEqualTo("70100");
            assertThat(e.getMessage()).contains("limits.statement-timeout-ms (" + TIMEOUT_MS + " ms)").contains("shard s0");
            awaitGone(0, "loop-deadline-10", Duration.ofSeconds(1));
            assertThat(Sql.query(c, "SELECT n FROM kv WHERE id = " + onS0)).containsExactly(List.of("0"));
        }
    }

    @Test
    @Order(11)
    void onTheLoopPathKillQueryInterruptsTheStatementAsTheServerDoes() throws Exception {
        SQLException server = serverKillQuery();
        try (Connection victim = connect(); Connection killer = connect()) {
            long id = Long.parseLong(Sql.query(victim, "SELECT CONNECTION_ID()").getFirst().getFirst());
            warmTheLoopPath(victim, emptyOnS1, "loop-killed-11");
            long fromLoop = proxy.core().metrics().relayedCount(true);
            CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                    () -> Sql.query(victim, sleepOn(onS1, 30) + " /* loop-killed-11 */")), Executors.newVirtualThreadPerTaskExecutor());
            awaitRunning(1, "SLEEP(30) FROM kv WHERE id = " + onS1 + " /* loop-killed-11");
            assertThat(Sql.update(killer, "KILL QUERY " + id)).isZero();
            SQLException e = failed.get(5, TimeUnit.SECONDS);
            assertThat(proxy.core().metrics().relayedCount(true)).as("relayed from the loop").isGreaterThan(fromLoop);
            assertThat(e.getErrorCode()).isEqualTo(server.getErrorCode()).isEqualTo(1317);
            assertThat(e.getSQLState()).isEqualTo(server.getSQLState());
            assertThat(e.getMessage()).isEqualTo(server.getMessage());
            awaitGone(1, "loop-killed-11", Duration.ofSeconds(1));
            // the session goes on, on the loop path too
            assertThat(Sql.query(victim, sleepOn(emptyOnS1, 30) + " /* loop-killed-11 */")).isEmpty();
        }
    }

    @Test
    @Order(12)
    void onTheLoopPathAClientThatGoesAwayHasItsStatementCancelled() throws Exception {
        Connection c = connect();
        warmTheLoopPath(c, emptyOnS0, "loop-gone-12");
        long fromLoop = proxy.core().metrics().relayedCount(true);
        CompletableFuture<SQLException> failed = CompletableFuture.supplyAsync(() -> catchThrowableOfType(SQLException.class,
                () -> Sql.query(c, sleepOn(onS0, 30) + " /* loop-gone-12 */")), Executors.newVirtualThreadPerTaskExecutor());
        awaitRunning(0, "SLEEP(30) FROM kv WHERE id = " + onS0 + " /* loop-gone-12");
        assertThat(proxy.core().metrics().relayedCount(true)).as("relayed from the loop").isGreaterThan(fromLoop);
        c.abort(Runnable::run); // the socket closes without COM_QUIT
        failed.get(5, TimeUnit.SECONDS);
        awaitGone(0, "loop-gone-12", Duration.ofMillis(1500));
        try (Connection next = connect()) {
            assertThat(Sql.query(next, sleepOn(emptyOnS0, 30) + " /* loop-gone-12 */")).isEmpty();
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(p.waitFor()).isZero();
    }
}

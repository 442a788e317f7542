package io.shardgate.proxy.backend.pg;

import io.shardgate.proxy.backend.BackendEventLoops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalPostgres;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.ShardPool;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The per-shard pool of native PostgreSQL connections against a real server. */
class PgPoolTest {
    private static final String DB = "shop";
    private static LocalPostgres pg;
    private static BackendEventLoops loops;

    @BeforeAll
    static void start() {
        assumeTrue(LocalPostgres.isAvailable(), "PostgreSQL binaries are not installed");
        pg = LocalPostgres.temporary();
        loops = new BackendEventLoops(1);
        pg.createDatabase(DB);
        pg.createDatabaseUser(DB, "app", "secret");
    }

    @AfterAll
    static void stop() {
        if (loops != null) {
            loops.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private static PgBackendSettings connection(int port) {
        return new PgBackendSettings("s0", LocalPostgres.HOST, port, "app", "secret", DB, "shardgate", "UTC",
                Duration.ofSeconds(2), Duration.ofSeconds(5));
    }

    private static PgPool pool(PgPool.Settings settings) {
        return new PgPool(loops, connection(pg.port()), settings);
    }

    private static PgPool.Settings settings(int max) {
        return new PgPool.Settings(max, Duration.ofMillis(300), Duration.ofMinutes(5), Duration.ofMinutes(5),
                Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    private static String value(PgBackendConnection c, String sql) throws Exception {
        String[] out = new String[1];
        PgRecordingSink sink = new PgRecordingSink();
        c.send(PgBackendConnection.queryMessage(sql.getBytes(java.nio.charset.StandardCharsets.UTF_8)), "Query", sink);
        for (PgRecordingSink.Message m : sink.done.get(10, TimeUnit.SECONDS)) {
            if (m.type() == 'D') {
                // one column: field count (2), length (4), value
                int len = java.nio.ByteBuffer.wrap(m.bytes(), 7, 4).getInt();
                out[0] = len < 0 ? null : new String(m.bytes(), 11, len, java.nio.charset.StandardCharsets.UTF_8);
            } else if (m.type() == 'E') {
                throw new AssertionError(sql + " failed");
            }
        }
        return out[0];
    }

    private static void ok(PgBackendConnection c, String sql) throws Exception {
        PgReply r = c.query(sql).get(10, TimeUnit.SECONDS);
        assertThat(r.ok()).as(sql + ": " + r.error()).isTrue();
    }

    @Test
    void aReleasedConnectionIsLentAgainAndCounted() throws Exception {
        try (PgPool pool = pool(settings(2))) {
            PgBackendConnection first = pool.borrow();
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(1, 0, 0, 2));
            int pid = first.processId();
            pool.release(first, false);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 1, 0, 2));
            PgBackendConnection again = pool.borrow();
            assertThat(again.processId()).isEqualTo(pid);
            pool.release(again, false);
            assertThat(pool.counters().opened()).isEqualTo(1);
            assertThat(pool.counters().borrowed()).isEqualTo(2);
            var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                    io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
            pool.register(registry);
            assertThat(registry.scrape())
                    .contains("shardgate_native_pool_connections{eof=\"postgres\",shard=\"s0\",state=\"idle\"} 1.0")
                    .contains("shardgate_native_pool_events_total{eof=\"postgres\",event=\"borrowed\",shard=\"s0\"} 2.0");
        }
    }

    @Test
    void aFullPoolFailsTheBorrowWithShardBusyAfterThePoolWait() throws Exception {
        try (PgPool pool = pool(settings(2))) {
            PgBackendConnection a = pool.borrow();
            PgBackendConnection b = pool.borrow();
            long start = System.nanoTime();
            assertThatThrownBy(pool::borrow).isInstanceOf(ProxyException.class)
                    .satisfies(e -> assertThat(((ProxyException) e).code()).isEqualTo(ErrorCode.SHARD_BUSY))
                    .satisfies(e -> assertThat(((ProxyException) e).error().sqlState()).isEqualTo("HY000"))
                    .hasMessageContaining("shard s0 (127.0.0.1:" + pg.port() + "): no connection free after")
                    .hasMessageContaining("all 2 connections");
            assertThat(ErrorCode.SHARD_BUSY.pgSqlState()).isEqualTo("53300");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(290);

            CompletableFuture<PgBackendConnection> waiter = CompletableFuture.supplyAsync(pool::borrow);
            while (pool.stats().waiting() == 0) {
                Thread.sleep(5);
            }
            pool.release(a, false);
            PgBackendConnection c = waiter.get(5, TimeUnit.SECONDS);
            assertThat(c.processId()).isEqualTo(a.processId());
            assertThat(pool.counters().busyTimeouts()).isEqualTo(1);
            pool.release(b, false);
            pool.release(c, false);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 2, 0, 2));
        }
    }

    @Test
    void anUnreachableShardFailsTheBorrowAtOnceAndFreesTheSlot() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LocalPostgres.HOST))) {
            port = s.getLocalPort();
        }
        try (PgPool pool = new PgPool(loops, connection(port), settings(1))) {
            assertThatThrownBy(pool::borrow).isInstanceOf(ProxyException.class)
                    .satisfies(e -> assertThat(((ProxyException) e).code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE))
                    .hasMessageContaining("shard s0 (127.0.0.1:" + port + "): cannot connect")
                    .hasMessageContaining("pool lent=0, idle=0");
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 1));
            assertThat(pool.counters().openFailures()).isEqualTo(1);
        }
    }

    @Test
    void aDirtyConnectionIsResetBeforeItIsLentAgain() throws Exception {
        try (PgPool pool = pool(settings(1))) {
            PgBackendConnection c = pool.borrow();
            ok(c, "SET search_path = pg_catalog");
            ok(c, "SET DateStyle = 'German'");
            c.sessionTag("SET search_path = pg_catalog");
            pool.release(c, true);
            PgBackendConnection again = pool.borrow(); // waits for the reset: the pool has one connection
            assertThat(again.processId()).isEqualTo(c.processId());
            assertThat(value(again, "SELECT current_setting('search_path')")).isEqualTo("\"$user\", public");
            // RESET ALL goes back to the StartupMessage's values, not the server's defaults
            assertThat(value(again, "SELECT current_setting('DateStyle')")).isEqualTo("ISO, MDY");
            assertThat(again.sessionTag()).isEmpty();
            assertThat(pool.counters().resets()).isEqualTo(1);

            // a statement that changed the session unseen (a reported parameter): DISCARD ALL drops the rest too
            ok(again, "SELECT set_config('TimeZone', 'Asia/Tokyo', false)");
            ok(again, "CREATE TEMP TABLE scratch (a int)");
            assertThat(again.sessionTag()).isEqualTo(PgBackendConnection.UNKNOWN_SESSION);
            pool.release(again, true);
            PgBackendConnection third = pool.borrow();
            assertThat(value(third, "SELECT current_setting('TimeZone')")).isEqualTo("UTC");
            assertThat(third.query("SELECT * FROM scratch").get(10, TimeUnit.SECONDS).error().sqlState()).isEqualTo("42P01");
            pool.release(third, false);
        }
    }

    @Test
    void aConnectionInATransactionOrBrokenIsDiscardedNotLent() throws Exception {
        try (PgPool pool = pool(settings(2))) {
            PgBackendConnection inTx = pool.borrow();
            ok(inTx, "BEGIN");
            pool.release(inTx, false);
            assertThat(inTx.isUsable()).isFalse();
            assertThat(pool.counters().discardedBroken()).isEqualTo(1);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 2));

            try (PgPool impatient = new PgPool(loops, connection(pg.port()).withReplyTimeout(Duration.ofMillis(200)), settings(1))) {
                PgBackendConnection hung = impatient.borrow();
                assertThatThrownBy(() -> hung.query("SELECT pg_sleep(2)").get(10, TimeUnit.SECONDS)).hasMessageContaining("no answer");
                impatient.release(hung, false);
                assertThat(impatient.counters().discardedBroken()).isEqualTo(1);
                assertThat(impatient.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 1));
            }
            PgBackendConnection fresh = pool.borrow();
            assertThat(fresh.processId()).isNotEqualTo(inTx.processId());
            assertThat(fresh.transactionStatus()).isEqualTo('I');
            pool.release(fresh, false);
        }
    }

    @Test
    void anIdleConnectionKilledOnTheServerFailsValidationAndIsReplaced() throws Exception {
        PgPool.Settings validateAlways = new PgPool.Settings(1, Duration.ofMillis(300), Duration.ofMinutes(5),
                Duration.ofMinutes(5), Duration.ZERO, Duration.ofSeconds(10));
        try (PgPool pool = pool(validateAlways)) {
            PgBackendConnection c = pool.borrow();
            int pid = c.processId();
            pool.release(c, false);
            pg.execute("SELECT pg_terminate_backend(" + pid + ")");
            PgBackendConnection replaced = pool.borrow();
            assertThat(replaced.processId()).isNotEqualTo(pid);
            assertThat(replaced.query("").get(5, TimeUnit.SECONDS).ok()).isTrue();
            assertThat(pool.counters().validationFailures() + pool.counters().discardedBroken()).isEqualTo(1);
            assertThat(pool.counters().opened()).isEqualTo(2);
            pool.release(replaced, false);
        }
    }

    @Test
    void idleAndOldConnectionsAreClosed() throws Exception {
        PgPool.Settings shortIdle = new PgPool.Settings(2, Duration.ofMillis(300), Duration.ofMillis(200),
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofMillis(50));
        try (PgPool pool = pool(shortIdle)) {
            PgBackendConnection c = pool.borrow();
            pool.release(c, false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (pool.stats().idle() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(pool.stats().idle()).isZero();
            assertThat(pool.counters().closedIdle()).isEqualTo(1);
        }
        PgPool.Settings shortLife = new PgPool.Settings(2, Duration.ofMillis(300), Duration.ofMinutes(5),
                Duration.ofMillis(300), Duration.ofSeconds(5), Duration.ofSeconds(10));
        try (PgPool pool = pool(shortLife)) {
            PgBackendConnection c = pool.borrow();
            Thread.sleep(400);
            pool.release(c, false);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 2));
            assertThat(pool.counters().closedLifetime()).isEqualTo(1);
        }
    }
    /** Waits until {@code pool} has {@code n} idle connections (the idle floor opens them in the background). */
    private static void awaitIdle(PgPool pool, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.stats().idle() != n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(pool.stats().idle()).as("idle connections; %s", pool.counters()).isEqualTo(n);
    }

    @Test
    void theIdleFloorIsOpenedAtStartRefilledAfterACutAndNeverPassesThePoolSize() throws Exception {
        try (PgPool pool = pool(settings(3).withMinIdle(2))) {
            awaitIdle(pool, 2);
            assertThat(pool.counters().warmed()).isEqualTo(2);
            assertThat(pool.counters().opened()).isEqualTo(2);

            PgBackendConnection a = pool.borrow();
            assertThat(pool.counters().opened()).as("lent from the floor").isEqualTo(2);
            assertThat(value(a, "SELECT 1")).isEqualTo("1");
            awaitIdle(pool, 2); // one more behind it
            PgBackendConnection b = pool.borrow();
            Thread.sleep(200);
            assertThat(pool.stats()).as("at the pool's size: no more opened").isEqualTo(new ShardPool.Stats(2, 1, 0, 3));

            // a read ended early cuts its connection; the floor opens a replacement in the background
            long borrowerOpened = pool.counters().opened() - pool.counters().warmed();
            a.close();
            pool.release(a, false);
            b.close();
            pool.release(b, false);
            awaitIdle(pool, 2);
            PgBackendConnection next = pool.borrow();
            assertThat(pool.counters().opened() - pool.counters().warmed()).as("the borrow did not connect").isEqualTo(borrowerOpened);
            assertThat(value(next, "SELECT 2")).isEqualTo("2");
            pool.release(next, false);

            var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                    io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
            pool.register(registry);
            assertThat(registry.scrape())
                    .contains("shardgate_native_pool_connections{eof=\"postgres\",shard=\"s0\",state=\"min_idle\"} 2.0")
                    .contains("shardgate_native_pool_events_total{eof=\"postgres\",event=\"warmed\",shard=\"s0\"}");
        }
    }

    @Test
    void theHousekeeperClosesIdleConnectionsDownToTheFloorOnly() throws Exception {
        PgPool.Settings shortIdle = new PgPool.Settings(3, Duration.ofMillis(300), Duration.ofMillis(200),
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofMillis(50), 1);
        try (PgPool pool = pool(shortIdle)) {
            awaitIdle(pool, 1);
            PgBackendConnection a = pool.borrow();
            PgBackendConnection b = pool.borrow();
            pool.release(a, false);
            pool.release(b, false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (pool.counters().closedIdle() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300);
            assertThat(pool.stats().idle()).isEqualTo(1);
            assertThat(pool.counters().closedIdle()).isEqualTo(2);
        }
        assertThatThrownBy(() -> new PgPool.Settings(1, Duration.ofMillis(300), Duration.ofMinutes(5), Duration.ofMinutes(5),
                Duration.ofSeconds(5), Duration.ofSeconds(10), 2)).hasMessageContaining("minIdle must be 0..1 (maxSize), was 2");
    }
}

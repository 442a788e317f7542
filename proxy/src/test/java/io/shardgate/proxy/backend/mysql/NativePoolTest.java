package io.shardgate.proxy.backend.mysql;

import io.shardgate.proxy.backend.BackendEventLoops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.ShardPool;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The per-shard pool of native connections against a real MariaDB. */
class NativePoolTest {
    private static final String DB = "shop";
    private static LocalMariaDb db;
    private static BackendEventLoops loops;

    @BeforeAll
    static void start() {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        db = LocalMariaDb.temporary();
        loops = new BackendEventLoops(1);
        db.createDatabase(DB);
        db.createDatabase("other");
        db.createDatabaseUser(DB, "app", "secret");
        db.execute("GRANT ALL PRIVILEGES ON other.* TO 'app'@'127.0.0.1'");
    }

    @AfterAll
    static void stop() {
        if (loops != null) {
            loops.close();
        }
        if (db != null) {
            db.close();
        }
    }

    private static BackendSettings connection(int port) {
        return new BackendSettings("s0", LocalMariaDb.HOST, port, "app", "secret", DB, BackendSettings.UTF8MB4_GENERAL_CI,
                true, false, false, Duration.ofSeconds(2), Duration.ofSeconds(5));
    }

    private static NativePool pool(NativePool.Settings settings) {
        return new NativePool(loops, connection(db.port()), settings);
    }

    private static NativePool.Settings settings(int max) {
        return new NativePool.Settings(max, Duration.ofMillis(300), Duration.ofMinutes(5), Duration.ofMinutes(5),
                Duration.ofSeconds(5), Duration.ofSeconds(10));
    }

    /** The text values of the first row of {@code sql}. */
    private static List<String> row(MySqlBackendConnection c, String sql) throws Exception {
        RecordingSink sink = new RecordingSink();
        c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, sql.getBytes(StandardCharsets.UTF_8)), sink);
        List<RecordingSink.Packet> packets = sink.done.get(10, TimeUnit.SECONDS);
        RecordingSink.Packet row = packets.stream().filter(p -> p.kind() == PacketKind.ROW).findFirst().orElseThrow(
                () -> new AssertionError("no row from " + sql + ": " + packets.stream().map(RecordingSink.Packet::kind).toList()));
        ByteBuf p = Unpooled.wrappedBuffer(row.bytes(), 4, row.bytes().length - 4);
        List<String> out = new ArrayList<>();
        while (p.isReadable()) {
            if (p.getUnsignedByte(p.readerIndex()) == 0xFB) {
                p.skipBytes(1);
                out.add(null);
            } else {
                out.add(io.shardgate.proxy.mysql.codec.Wire.readLenEncString(p, "value"));
            }
        }
        return out;
    }

    private static void ok(MySqlBackendConnection c, String sql) throws Exception {
        BackendReply r = c.query(sql).get(10, TimeUnit.SECONDS);
        assertThat(r.ok()).as("%s: %s", sql, r.error()).isTrue();
    }

    @Test
    void aReleasedConnectionIsLentAgain() throws Exception {
        try (NativePool pool = pool(settings(2))) {
            MySqlBackendConnection first = pool.borrow();
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(1, 0, 0, 2));
            long id = first.connectionId();
            pool.release(first, false);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 1, 0, 2));
            MySqlBackendConnection again = pool.borrow();
            assertThat(again.connectionId()).isEqualTo(id);
            pool.release(again, false);
            assertThat(pool.counters().opened()).isEqualTo(1);
            assertThat(pool.counters().borrowed()).isEqualTo(2);
            var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                    io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
            pool.register(registry);
            assertThat(registry.scrape())
                    .contains("shardgate_native_pool_connections{eof=\"deprecated_changed_rows\",shard=\"s0\",state=\"idle\"} 1.0")
                    .contains("shardgate_native_pool_events_total{eof=\"deprecated_changed_rows\",event=\"borrowed\",shard=\"s0\"} 2.0");
        }
    }

    @Test
    void aFullPoolFailsTheBorrowWithShardBusyAfterThePoolWait() throws Exception {
        try (NativePool pool = pool(settings(2))) {
            MySqlBackendConnection a = pool.borrow();
            MySqlBackendConnection b = pool.borrow();
            long start = System.nanoTime();
            assertThatThrownBy(pool::borrow).isInstanceOf(ProxyException.class)
                    .satisfies(e -> assertThat(((ProxyException) e).code()).isEqualTo(ErrorCode.SHARD_BUSY))
                    .satisfies(e -> assertThat(((ProxyException) e).error().mysqlErrno()).isEqualTo(7106))
                    .hasMessageContaining("shard s0 (127.0.0.1:" + db.port() + "): no connection free after")
                    .hasMessageContaining("all 2 connections");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(290);

            // a borrower that waits gets the connection released meanwhile
            CompletableFuture<MySqlBackendConnection> waiter = CompletableFuture.supplyAsync(pool::borrow);
            while (pool.stats().waiting() == 0) {
                Thread.sleep(5);
            }
            pool.release(a, false);
            MySqlBackendConnection c = waiter.get(5, TimeUnit.SECONDS);
            assertThat(c.connectionId()).isEqualTo(a.connectionId());
            assertThat(pool.counters().waited()).isEqualTo(2);
            assertThat(pool.counters().busyTimeouts()).isEqualTo(1);
            pool.release(b, false);
            pool.release(c, false);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 2, 0, 2));
        }
    }

    @Test
    void anUnreachableShardFailsTheBorrowAtOnceAndFreesTheSlot() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LocalMariaDb.HOST))) {
            port = s.getLocalPort();
        }
        try (NativePool pool = new NativePool(loops, connection(port), settings(1))) {
            long start = System.nanoTime();
            assertThatThrownBy(pool::borrow).isInstanceOf(ProxyException.class)
                    .satisfies(e -> assertThat(((ProxyException) e).code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE))
                    .hasMessageContaining("shard s0 (127.0.0.1:" + port + "): cannot connect")
                    .hasMessageContaining("pool lent=0, idle=0");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2000);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 1));
            assertThat(pool.counters().openFailures()).isEqualTo(1);
            assertThatThrownBy(pool::borrow).hasMessageContaining("cannot connect");
        }
    }

    @Test
    void aDirtyConnectionIsResetToThePoolsSessionBeforeItIsLentAgain() throws Exception {
        try (NativePool pool = pool(settings(1))) {
            MySqlBackendConnection c = pool.borrow();
            String globalMode = row(c, "SELECT @@GLOBAL.sql_mode").getFirst();
            ok(c, "SET @x = 1");
            ok(c, "SET NAMES latin1");
            ok(c, "SET SESSION sql_mode = 'ANSI_QUOTES'");
            ok(c, "USE other");
            ok(c, "CREATE TEMPORARY TABLE tmp (a INT)");
            assertThat(row(c, "SELECT @x, @@character_set_client, DATABASE(), @@sql_mode"))
                    .containsExactly("1", "latin1", "other", "ANSI_QUOTES");
            pool.release(c, true);
            MySqlBackendConnection again = pool.borrow(); // waits for the reset: the pool has one connection
            assertThat(again.connectionId()).isEqualTo(c.connectionId());
            assertThat(row(again, "SELECT @x, @@character_set_client, @@collation_connection, @@character_set_results, DATABASE(), @@sql_mode"))
                    .containsExactly(null, "utf8mb4", "utf8mb4_general_ci", "utf8mb4", DB, globalMode);
            assertThat(again.query("SELECT * FROM other.tmp").get(10, TimeUnit.SECONDS).error().errno()).isEqualTo(1146);
            assertThat(pool.counters().resets()).isEqualTo(1);

            // without dirty the state stays: the caller says whether it changed anything
            ok(again, "SET @y = 2");
            pool.release(again, false);
            MySqlBackendConnection third = pool.borrow();
            assertThat(row(third, "SELECT @y")).containsExactly("2");
            pool.release(third, true);
        }
    }

    @Test
    void aConnectionInATransactionOrBrokenIsDiscardedNotLent() throws Exception {
        try (NativePool pool = pool(settings(2))) {
            MySqlBackendConnection inTx = pool.borrow();
            ok(inTx, "BEGIN");
            pool.release(inTx, false);
            assertThat(inTx.isUsable()).isFalse();
            assertThat(pool.counters().discardedBroken()).isEqualTo(1);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 2));

            try (NativePool impatient = new NativePool(loops, connection(db.port()).withReplyTimeout(Duration.ofMillis(200)),
                    settings(1))) {
                MySqlBackendConnection hung = impatient.borrow();
                assertThatThrownBy(() -> hung.query("SELECT SLEEP(2)").get(10, TimeUnit.SECONDS)).hasMessageContaining("no answer");
                impatient.release(hung, false);
                assertThat(impatient.counters().discardedBroken()).isEqualTo(1);
                assertThat(impatient.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 1));
            }
            MySqlBackendConnection fresh = pool.borrow();
            assertThat(fresh.connectionId()).isNotEqualTo(inTx.connectionId());
            assertThat(fresh.inTransaction()).isFalse();
            pool.release(fresh, false);
        }
    }

    @Test
    void anIdleConnectionKilledOnTheServerFailsItsPingAndIsReplaced() throws Exception {
        NativePool.Settings validateAlways = new NativePool.Settings(1, Duration.ofMillis(300), Duration.ofMinutes(5),
                Duration.ofMinutes(5), Duration.ZERO, Duration.ofSeconds(10));
        try (NativePool pool = pool(validateAlways)) {
            MySqlBackendConnection c = pool.borrow();
            long id = c.connectionId();
            pool.release(c, false);
            db.execute("KILL " + id);
            MySqlBackendConnection replaced = pool.borrow();
            assertThat(replaced.connectionId()).isNotEqualTo(id);
            assertThat(replaced.ping().get(5, TimeUnit.SECONDS).ok()).isTrue();
            assertThat(pool.counters().validationFailures() + pool.counters().discardedBroken()).isEqualTo(1);
            assertThat(pool.counters().opened()).isEqualTo(2);
            pool.release(replaced, false);
        }
    }

    @Test
    void idleAndOldConnectionsAreClosed() throws Exception {
        NativePool.Settings shortIdle = new NativePool.Settings(2, Duration.ofMillis(300), Duration.ofMillis(200),
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofMillis(50));
        try (NativePool pool = pool(shortIdle)) {
            MySqlBackendConnection c = pool.borrow();
            long id = c.connectionId();
            pool.release(c, false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (pool.stats().idle() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(pool.stats().idle()).isZero();
            assertThat(pool.counters().closedIdle()).isEqualTo(1);
            awaitGoneOnServer(id);
        }
        NativePool.Settings shortLife = new NativePool.Settings(2, Duration.ofMillis(300), Duration.ofMinutes(5),
                Duration.ofMillis(300), Duration.ofSeconds(5), Duration.ofSeconds(10));
        try (NativePool pool = pool(shortLife)) {
            MySqlBackendConnection c = pool.borrow();
            Thread.sleep(400);
            pool.release(c, false);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 2));
            assertThat(pool.counters().closedLifetime()).isEqualTo(1);
            awaitGoneOnServer(c.connectionId());
        }
    }

    private static void awaitGoneOnServer(long id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        String count;
        do {
            count = db.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + id).strip();
            if (count.equals("0")) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("connection " + id + " is still open on the server");
    }

    @Test
    void borrowReadyLendsOnlyAnIdleConnectionThatFitsAndNeverConnects() throws Exception {
        try (NativePool pool = pool(settings(2))) {
            assertThat(pool.borrowReady(null, c -> true)).as("nothing idle: no connection is opened").isNull();
            assertThat(pool.counters().opened()).isZero();
            MySqlBackendConnection c = pool.borrow();
            c.sessionTag("settings-a");
            pool.release(c, false);
            long borrowed = pool.counters().borrowed();
            assertThat(pool.borrowReady(null, x -> x.sessionTag().equals("settings-b"))).as("none fits").isNull();
            assertThat(pool.counters().borrowed()).as("a connection that does not fit is not lent").isEqualTo(borrowed);
            MySqlBackendConnection ready = pool.borrowReady(c.eventLoop(), x -> x.sessionTag().equals("settings-a"));
            assertThat(ready).isSameAs(c);
            assertThat(pool.stats().active()).isEqualTo(1);
            assertThat(row(ready, "SELECT 1")).containsExactly("1");
            pool.release(ready, false);
            assertThat(pool.stats().idle()).isEqualTo(1);
            assertThat(pool.counters().opened()).isEqualTo(1);
        }
    }
    /** Waits until {@code pool} has {@code n} idle connections (the idle floor opens them in the background). */
    private static void awaitIdle(NativePool pool, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.stats().idle() != n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(pool.stats().idle()).as("idle connections; %s", pool.counters()).isEqualTo(n);
    }

    @Test
    void theIdleFloorIsOpenedAtStartAndLentWithoutConnecting() throws Exception {
        try (NativePool pool = pool(settings(4).withMinIdle(2))) {
            awaitIdle(pool, 2);
            assertThat(pool.counters().opened()).isEqualTo(2);
            assertThat(pool.counters().warmed()).isEqualTo(2);
            assertThat(pool.counters().borrowed()).isZero();

            MySqlBackendConnection a = pool.borrow();
            MySqlBackendConnection b = pool.borrow();
            assertThat(row(a, "SELECT 1")).containsExactly("1");
            assertThat(row(b, "SELECT 1")).containsExactly("1");
            // both were lent from the floor, which opens two more behind them: up to the pool's size, never past it
            awaitIdle(pool, 2);
            assertThat(pool.counters().opened()).isEqualTo(4);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(2, 2, 0, 4));
            MySqlBackendConnection c = pool.borrow();
            MySqlBackendConnection d = pool.borrow();
            Thread.sleep(200);
            assertThat(pool.stats()).as("all 4 lent: no more opened").isEqualTo(new ShardPool.Stats(4, 0, 0, 4));
            assertThat(pool.counters().opened()).isEqualTo(4);
            for (MySqlBackendConnection x : List.of(a, b, c, d)) {
                pool.release(x, false);
            }
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 4, 0, 4));

            var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                    io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
            pool.register(registry);
            assertThat(registry.scrape())
                    .contains("shardgate_native_pool_connections{eof=\"deprecated_changed_rows\",shard=\"s0\",state=\"min_idle\"} 2.0")
                    .contains("shardgate_native_pool_events_total{eof=\"deprecated_changed_rows\",event=\"warmed\",shard=\"s0\"} 4.0");
        }
    }

    @Test
    void aCutConnectionIsReplacedInTheBackground() throws Exception {
        try (NativePool pool = pool(settings(3).withMinIdle(1))) {
            awaitIdle(pool, 1);
            MySqlBackendConnection c = pool.borrow();
            awaitIdle(pool, 1); // the floor again, behind the one lent
            long opened = pool.counters().opened();
            // a read ended early: the connection is cut, and the next statement finds one ready
            c.close();
            pool.release(c, false);
            assertThat(pool.counters().discardedBroken()).isEqualTo(1);
            MySqlBackendConnection next = pool.borrow();
            assertThat(pool.counters().opened()).as("the borrow took the idle one").isEqualTo(opened);
            assertThat(row(next, "SELECT 1")).containsExactly("1");
            awaitIdle(pool, 1);
            pool.release(next, false);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 2, 0, 3));
        }
    }

    @Test
    void theHousekeeperKeepsTheFloorAndReplacesExpiredConnections() throws Exception {
        NativePool.Settings shortIdle = new NativePool.Settings(3, Duration.ofMillis(300), Duration.ofMillis(200),
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofMillis(50), 1);
        try (NativePool pool = pool(shortIdle)) {
            awaitIdle(pool, 1);
            MySqlBackendConnection a = pool.borrow();
            MySqlBackendConnection b = pool.borrow();
            pool.release(a, false);
            pool.release(b, false);
            // idle past the timeout: closed down to the floor, not below
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (pool.counters().closedIdle() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            Thread.sleep(300);
            assertThat(pool.stats().idle()).isEqualTo(1);
            assertThat(pool.counters().closedIdle()).isEqualTo(2);
        }
        NativePool.Settings shortLife = new NativePool.Settings(2, Duration.ofMillis(300), Duration.ofMinutes(5),
                Duration.ofMillis(300), Duration.ofSeconds(5), Duration.ofMillis(50), 1);
        try (NativePool pool = pool(shortLife)) {
            awaitIdle(pool, 1);
            MySqlBackendConnection first = pool.borrow();
            long id = first.connectionId();
            pool.release(first, false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (pool.counters().closedLifetime() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            awaitIdle(pool, 1);
            MySqlBackendConnection replacement = pool.borrow();
            assertThat(replacement.connectionId()).isNotEqualTo(id);
            pool.release(replacement, false);
        }
    }

    @Test
    void anUnreachableShardFailsTheFloorQuietlyAndTheBorrowAtOnce() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(LocalMariaDb.HOST))) {
            port = s.getLocalPort();
        }
        try (NativePool pool = new NativePool(loops, connection(port), settings(2).withMinIdle(2))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (pool.counters().openFailures() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(pool.counters().openFailures()).isEqualTo(2);
            assertThat(pool.stats()).isEqualTo(new ShardPool.Stats(0, 0, 0, 2));
            long start = System.nanoTime();
            assertThatThrownBy(pool::borrow).isInstanceOf(ProxyException.class)
                    .satisfies(e -> assertThat(((ProxyException) e).code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE))
                    .hasMessageContaining("cannot connect");
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2000);
        }
    }

    @Test
    void theFloorMustFitThePool() {
        assertThatThrownBy(() -> new NativePool.Settings(2, Duration.ofMillis(300), Duration.ofMinutes(5), Duration.ofMinutes(5),
                Duration.ofSeconds(5), Duration.ofSeconds(10), 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minIdle must be 0..2 (maxSize), was 3");
        assertThatThrownBy(() -> settings(2).withMinIdle(-1)).hasMessageContaining("was -1");
        assertThat(settings(2).withMinIdle(8).minIdle()).as("capped by the pool size, as Hikari's minimumIdle").isEqualTo(2);
    }
}

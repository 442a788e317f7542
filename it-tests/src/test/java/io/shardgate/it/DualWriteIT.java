package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.ProxyServer;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ProxyInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The proxy's side of a slot move, driven by publishing the slot map by hand (the migrator's own tests
 * and the rebalance test drive it for real): dual writes copy the current image of every touched key,
 * the cutover pause holds writes to the moving slots only and releases them to the target, reverse dual
 * writes copy back, and a proxy cut off from ZooKeeper fences itself.
 */
class DualWriteIT {
    private static final int SLOTS = 4096;
    /** Half of s0's slots (s0 owns 0..2047) move to s1. */
    private static final List<Integer> MOVING = IntStream.rangeClosed(0, 1023).boxed().toList();
    private static final String TABLES = """
            tables:
              - {name: counters, kind: sharded, key: k, key-type: int}
            """;

    @Test
    void dualWritesCopyTouchedKeysAndTheCutoverHoldsOnlyMovingSlots() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, TABLES)) {
            ProxyServer second = cluster.startProxy();
            try (Connection a = cluster.proxyConnection(""); Connection b = cluster.proxyConnection(second, "useServerPrepStmts=true");
                    Connection s0 = cluster.shardConnection(0); Connection s1 = cluster.shardConnection(1)) {
                Sql.update(a, "CREATE TABLE counters (k BIGINT NOT NULL, part INT NOT NULL, n INT NOT NULL, PRIMARY KEY (k, part))");
                for (long k = 1; k <= 200; k++) {
                    Sql.update(a, "INSERT INTO counters (k, part, n) VALUES (?, 0, 0), (?, 1, 0)", k, k);
                }
                List<Long> moving = keys(1, 200, true);
                List<Long> staying = keys(1, 200, false);
                assertThat(moving).hasSizeGreaterThan(20);
                assertThat(staying).hasSizeGreaterThan(20);

                long e1 = publish(cluster, MigrationPhase.DUAL_WRITE);
                List<Long> touched = new ArrayList<>();
                // known keys, both proxies, text and prepared
                for (int i = 0; i < 10; i++) {
                    Connection c = i % 2 == 0 ? a : b;
                    Sql.update(c, "UPDATE counters SET n = n + 1 WHERE k = ?", moving.get(i));
                    Sql.update(c, "UPDATE counters SET n = n + 1 WHERE k = " + moving.get(i) + " AND part = 1");
                    touched.add(moving.get(i));
                }
                // new keys, one multi-row INSERT over both shards
                Sql.update(a, "INSERT INTO counters (k, part, n) VALUES " + String.join(", ",
                        IntStream.range(1000, 1040).mapToObj(k -> "(" + k + ", 0, 7)").toList()));
                touched.addAll(keys(1000, 1039, true));
                // deletes, of one part and of a whole key
                Sql.update(b, "DELETE FROM counters WHERE k = ? AND part = 1", moving.get(10));
                Sql.update(a, "DELETE FROM counters WHERE k = ?", moving.get(11));
                touched.add(moving.get(10));
                touched.add(moving.get(11));
                // no shard key in the statement: the affected keys are looked up first
                Sql.update(a, "UPDATE counters SET n = n + 100 WHERE part = 0 AND k BETWEEN 150 AND 170");
                touched.addAll(keys(150, 170, true));
                // a committed and a rolled-back transaction
                long t = moving.get(12);
                long r = moving.get(13);
                a.setAutoCommit(false);
                Sql.update(a, "UPDATE counters SET n = n - 5 WHERE k = ? AND part = 0", t);
                Sql.update(a, "UPDATE counters SET n = n + 5 WHERE k = ? AND part = 1", t);
                a.commit();
                Sql.update(a, "UPDATE counters SET n = n + 1000 WHERE k = ?", r);
                a.rollback();
                a.setAutoCommit(true);
                touched.add(t);

                for (long k : touched) {
                    assertThat(rowsOf(s1, k)).as("image of key %d on the target", k).isEqualTo(rowsOf(s0, k));
                }
                assertThat(rowsOf(s0, t)).containsExactly(List.of(String.valueOf(t), "0", "-5"), List.of(String.valueOf(t), "1", "5"));
                assertThat(rowsOf(s1, r)).as("a rolled-back write leaves no copy").isEmpty();
                assertThat(rowsOf(s1, moving.get(11))).isEmpty();
                assertThat(Sql.count(s1, "SELECT COUNT(*) FROM counters WHERE k IN (" + join(staying) + ")"))
                        .as("keys of slots that stay on s0 are never copied").isZero();
                assertThat(rowsOf(s1, moving.stream().filter(k -> !touched.contains(k) && k != r).findFirst().orElseThrow())).as("an untouched key is left to the backfill").isEmpty();

                // the migrator's backfill, by hand, then the cutover
                copyAll(s0, s1, moving);
                long e2 = publish(cluster, MigrationPhase.CUTOVER_PAUSE);
                assertThat(e2).isGreaterThan(e1);
                List<Long> untouched = moving.stream().filter(k -> k < 150 && !touched.contains(k) && k != r).toList();
                long heldKey = untouched.getFirst();
                CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> {
                    try (Connection c = cluster.proxyConnection(second, "")) {
                        return Sql.update(c, "UPDATE counters SET n = n + 1 WHERE k = ? AND part = 0", heldKey);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(400);
                assertThat(held).as("a write to a moving slot waits during the pause").isNotDone();
                long start = System.nanoTime();
                Sql.update(a, "UPDATE counters SET n = n + 1 WHERE k = ?", staying.getFirst());
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("slots that do not move never pause")
                        .isLessThan(1_000);
                assertThat(Sql.query(a, "SELECT n FROM counters WHERE k = ? AND part = 0", heldKey))
                        .as("reads of moving slots go on during the pause").containsExactly(List.of("0"));

                publish(cluster, MigrationPhase.REVERSE_DUAL_WRITE);
                assertThat(held.get(20, TimeUnit.SECONDS)).isEqualTo(1);
                assertThat(rowsOf(s1, heldKey)).contains(List.of(String.valueOf(heldKey), "0", "1"));
                assertThat(rowsOf(s0, heldKey)).as("the reverse copy keeps the source exact").isEqualTo(rowsOf(s1, heldKey));
                assertThat(second.core().holds().count()).isGreaterThanOrEqualTo(1);

                long after = untouched.get(1);
                Sql.update(b, "UPDATE counters SET n = n + 3 WHERE k = ?", after);
                assertThat(rowsOf(s1, after)).containsExactly(List.of(String.valueOf(after), "0", "3"), List.of(String.valueOf(after), "1", "3"));
                assertThat(rowsOf(s0, after)).isEqualTo(rowsOf(s1, after));
                assertThat(Sql.query(a, "SELECT SUM(n) FROM counters WHERE k = ?", after)).containsExactly(List.of("6"));
            }
        }
    }

    @Test
    void aProxyCutOffFromZooKeeperFencesWritesToMovingSlotsAndComesBackOnTheNewMap() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, TABLES);
                TcpRelay relay = new TcpRelay(port(cluster.zooKeeperConnect()))) {
            ProxyServer cutOff = cluster.startProxy(relay.connectString(), 4_000);
            try (Connection a = cluster.proxyConnection(""); Connection s0 = cluster.shardConnection(0);
                    Connection s1 = cluster.shardConnection(1)) {
                Sql.update(a, "CREATE TABLE counters (k BIGINT NOT NULL, part INT NOT NULL, n INT NOT NULL, PRIMARY KEY (k, part))");
                for (long k = 1; k <= 100; k++) {
                    Sql.update(a, "INSERT INTO counters (k, part, n) VALUES (?, 0, 0)", k);
                }
                long movingKey = keys(1, 100, true).getFirst();
                long stayingKey = keys(1, 100, false).getFirst();
                publish(cluster, MigrationPhase.DUAL_WRITE);

                try (Connection c = cluster.proxyConnection(cutOff, "")) {
                    Sql.update(c, "UPDATE counters SET n = n + 1 WHERE k = ?", movingKey);
                    relay.cut();
                    awaitFenced(c, movingKey, Duration.ofSeconds(10));
                    // still within the session: slots that are not moving (in its last map) take writes
                    Sql.update(c, "UPDATE counters SET n = n + 1 WHERE k = ?", stayingKey);

                    // the cluster goes on without it once its session has expired
                    await(() -> cluster.store().liveProxies().stream().map(ProxyInfo::id).noneMatch(cutOff.proxyId()::equals),
                            Duration.ofSeconds(30), "the cut-off proxy's session to expire");
                    copyAll(s0, s1, keys(1, 100, true));
                    publish(cluster, MigrationPhase.CUTOVER_PAUSE);
                    publish(cluster, MigrationPhase.REVERSE_DUAL_WRITE);
                    Sql.update(a, "UPDATE counters SET n = n + 10 WHERE k = ?", movingKey);

                    // having lost its session, it refuses every sharded write, and nothing it refused reached a shard
                    await(() -> fenced(c, stayingKey), Duration.ofSeconds(30), "the cut-off proxy to fence every write");
                    assertThatThrownBy(() -> Sql.update(c, "UPDATE counters SET n = n + 1 WHERE k = ?", movingKey))
                            .isInstanceOf(SQLException.class).hasMessageContaining("ZooKeeper");
                    assertThat(rowsOf(s1, movingKey)).containsExactly(List.of(String.valueOf(movingKey), "0", "11"));
                    assertThat(rowsOf(s0, movingKey)).isEqualTo(rowsOf(s1, movingKey));

                    relay.restore();
                    await(() -> !fenced(c, stayingKey), Duration.ofSeconds(30), "the proxy to reconnect and re-read the map");
                    Sql.update(c, "UPDATE counters SET n = n + 100 WHERE k = ?", movingKey);
                    assertThat(rowsOf(s1, movingKey)).as("back on the new map: the target owns the slot")
                            .containsExactly(List.of(String.valueOf(movingKey), "0", "111"));
                    assertThat(rowsOf(s0, movingKey)).isEqualTo(rowsOf(s1, movingKey));
                }
            }
        }
    }

    /**
     * A write to a moving slot whose shadow shard cannot be reached commits nothing: neither in the transaction the proxy
     * opened for an autocommit statement (turning autocommit back on would commit the pending write without its copy) nor
     * in the client's transaction, which is rolled back on every shard.
     */
    @Test
    void aWriteWhoseCopyCannotBeMadeCommitsNothing() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, TABLES);
                Connection a = cluster.proxyConnection(""); Connection s0 = cluster.shardConnection(0)) {
            Sql.update(a, "CREATE TABLE counters (k BIGINT NOT NULL, part INT NOT NULL, n INT NOT NULL, PRIMARY KEY (k, part))");
            List<Long> moving = keys(1, 200, true);
            for (long k : moving.subList(0, 2)) {
                Sql.update(a, "INSERT INTO counters (k, part, n) VALUES (?, 0, 0)", k);
            }
            publish(cluster, MigrationPhase.DUAL_WRITE);
            cluster.shard(1).stop(); // the shadow of the moving slots is gone

            long auto = moving.get(0);
            assertThatThrownBy(() -> Sql.update(a, "UPDATE counters SET n = n + 1 WHERE k = ?", auto))
                    .isInstanceOf(SQLException.class).hasMessageContaining("s1");
            assertThat(rowsOf(s0, auto)).as("the autocommit write did not commit without its copy")
                    .containsExactly(List.of(String.valueOf(auto), "0", "0"));

            long inTx = moving.get(1);
            a.setAutoCommit(false);
            assertThatThrownBy(() -> Sql.update(a, "UPDATE counters SET n = n + 1 WHERE k = ?", inTx))
                    .isInstanceOf(SQLException.class).hasMessageContaining("s1");
            try {
                a.commit();
            } catch (SQLException ignored) {
                // the transaction is over already; what matters is what the source holds
            }
            a.setAutoCommit(true);
            assertThat(rowsOf(s0, inTx)).as("the client's transaction did not commit the write without its copy")
                    .containsExactly(List.of(String.valueOf(inTx), "0", "0"));
        }
    }

    /**
     * A proxy acknowledges an epoch that starts a cleanup only when no client transaction holds dual-write copies made
     * before it (the cleanup's delete could not see a row such a transaction inserted), whether the transaction ends by
     * ROLLBACK or by its client going away. The cutover does not wait for such transactions: one that copied in VERIFY
     * and then writes during the pause is held until the release epoch, which must not wait for it in turn.
     */
    @Test
    void aCleanupEpochWaitsForTransactionsHoldingCopiesButTheCutoverDoesNot() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, TABLES);
                Connection a = cluster.proxyConnection(""); Connection s0 = cluster.shardConnection(0);
                Connection s1 = cluster.shardConnection(1)) {
            Sql.update(a, "CREATE TABLE counters (k BIGINT NOT NULL, part INT NOT NULL, n INT NOT NULL, PRIMARY KEY (k, part))");
            List<Long> moving = keys(1, 200, true);
            for (long k : moving.subList(0, 3)) {
                Sql.update(a, "INSERT INTO counters (k, part, n) VALUES (?, 0, 0)", k);
            }
            publish(cluster, MigrationPhase.DUAL_WRITE);
            copyAll(s0, s1, moving);
            publish(cluster, MigrationPhase.VERIFY);

            Connection t = cluster.proxyConnection("");
            t.setAutoCommit(false);
            Sql.update(t, "UPDATE counters SET n = n + 1 WHERE k = ?", moving.get(0)); // copied to s1, uncommitted
            publish(cluster, MigrationPhase.CUTOVER_PAUSE); // does not wait for t
            CompletableFuture<Integer> held = CompletableFuture.supplyAsync(() -> {
                try {
                    return Sql.update(t, "UPDATE counters SET n = n + 1 WHERE k = ?", moving.get(1));
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(300);
            assertThat(held).as("t's write to a moving slot is held by the pause").isNotDone();
            publish(cluster, MigrationPhase.REVERSE_DUAL_WRITE); // nor does the release
            assertThat(held.get(20, TimeUnit.SECONDS)).isEqualTo(1);

            long cleanup = publishOnly(cluster, MigrationPhase.CLEANUP);
            assertThatThrownBy(() -> cluster.store().awaitEpoch(cleanup, Duration.ofSeconds(2)))
                    .as("CLEANUP acknowledged while t holds copies").isInstanceOf(io.shardgate.state.BarrierTimeoutException.class);
            t.rollback();
            cluster.store().awaitEpoch(cleanup, Duration.ofSeconds(20));
            assertThat(rowsOf(s0, moving.get(1))).as("the rolled-back reverse copy").containsExactly(
                    List.of(String.valueOf(moving.get(1)), "0", "0"));

            // again, for a transaction whose client goes away without COMMIT or ROLLBACK
            publish(cluster, MigrationPhase.REVERSE_DUAL_WRITE);
            Sql.update(t, "INSERT INTO counters (k, part, n) VALUES (?, 0, 5)", moving.get(3)); // new to s0, copied there
            long again = publishOnly(cluster, MigrationPhase.CLEANUP);
            assertThatThrownBy(() -> cluster.store().awaitEpoch(again, Duration.ofSeconds(2)))
                    .isInstanceOf(io.shardgate.state.BarrierTimeoutException.class);
            t.close();
            cluster.store().awaitEpoch(again, Duration.ofSeconds(20));
            assertThat(rowsOf(s0, moving.get(3))).isEmpty();
            assertThat(rowsOf(s1, moving.get(3))).isEmpty();
        }
    }

    // ---- helpers

    /** Publishes the moving slots in {@code phase} without waiting for the proxies; returns the epoch. */
    private static long publishOnly(ShardedCluster cluster, MigrationPhase phase) {
        var current = cluster.store().readSlotMap();
        long epoch = current.value().epoch() + 1;
        cluster.store().casSlotMap(current.value().withMoving(epoch, MOVING, new MovingSlot("m-test", phase, "s0", "s1")),
                current.version());
        return epoch;
    }

    /**
     * A latin1 session's dual writes: its statements run in latin1 on the source, and the copies of the touched keys
     * (the proxy's own statements) must carry the same characters and bytes to the target, also for a write whose keys
     * are looked up by a string predicate.
     */
    @Test
    void aLatin1SessionsCopiesCarryTheSameCharacters() throws Exception {
        String tables = """
                tables:
                  - {name: names, kind: sharded, key: k, key-type: int}
                """;
        try (ShardedCluster cluster = ShardedCluster.start(2, tables);
                Connection a = cluster.proxyConnection("characterEncoding=latin1");
                Connection p = cluster.proxyConnection("characterEncoding=latin1&useServerPrepStmts=true");
                Connection s0 = cluster.shardConnection(0); Connection s1 = cluster.shardConnection(1)) {
            Sql.update(a, "CREATE TABLE names (k BIGINT NOT NULL PRIMARY KEY, u VARCHAR(32) CHARACTER SET utf8mb4,"
                    + " l VARCHAR(32) CHARACTER SET latin1, b VARBINARY(8))");
            List<Long> moving = keys(1, 200, true);
            publish(cluster, MigrationPhase.DUAL_WRITE);
            for (int i = 0; i < 6; i++) {
                Sql.update(i % 2 == 0 ? a : p, "INSERT INTO names (k, u, l, b) VALUES (?, ?, ?, ?)", moving.get(i), "café " + i,
                        "crème " + i, new byte[] {(byte) 0xE9, (byte) 0xFF, (byte) i});
            }
            Sql.update(a, "INSERT INTO names (k, u, l) VALUES (" + moving.get(6) + ", 'déjà', 'déjà')");
            // no shard key: the keys are looked up by the string predicate, in utf8mb4, on the source
            Sql.update(a, "UPDATE names SET l = 'naïve' WHERE u = 'café 2' OR u = 'déjà'");
            Sql.update(p, "UPDATE names SET u = ? WHERE k = ?", "Ünï €", moving.get(3));
            for (int i = 0; i <= 6; i++) {
                String q = "SELECT k, HEX(u), HEX(l), HEX(b) FROM names WHERE k = " + moving.get(i);
                assertThat(Sql.query(s1, q)).as("copy of key %d", moving.get(i)).isEqualTo(Sql.query(s0, q)).hasSize(1);
            }
            assertThat(Sql.query(s0, "SELECT HEX(u), HEX(l) FROM names WHERE k = " + moving.get(2)))
                    .containsExactly(List.of("636166C3A92032", "6E61EF7665"));
            assertThat(Sql.query(a, "SELECT u, l FROM names WHERE k = " + moving.get(6))).containsExactly(List.of("déjà", "naïve"));
        }
    }

    /**
     * Autocommit writes of every type during a move: the copy on the target is the source's row, column by column as
     * the server's text and bytes (the JDBC copy through Java objects lost DATETIME/TIMESTAMP fractions, failed on a
     * TIME beyond a day, and FLOAT kept 6 digits).
     */
    @Test
    void autocommitCopiesCarryEveryTypeExactly() throws Exception {
        String tables = """
                tables:
                  - {name: wide, kind: sharded, key: k, key-type: int}
                """;
        String columns = "k, dt3, dt6, t6, ts6, dc, dbl, CAST(dbl AS CHAR), flt, CAST(flt AS DOUBLE), HEX(bt), j, HEX(vb), HEX(bl),"
                + " e, st, l1, HEX(l1), y, d, u, tx, HEX(tx)";
        try (ShardedCluster cluster = ShardedCluster.start(2, tables);
                Connection a = cluster.proxyConnection("characterEncoding=UTF-8");
                Connection p = cluster.proxyConnection("characterEncoding=UTF-8&useServerPrepStmts=true");
                Connection s0 = cluster.shardConnection(0); Connection s1 = cluster.shardConnection(1)) {
            Sql.update(a, "CREATE TABLE wide (k BIGINT PRIMARY KEY, dt3 DATETIME(3), dt6 DATETIME(6), t6 TIME(6),"
                    + " ts6 TIMESTAMP(6) NULL DEFAULT NULL, dc DECIMAL(30,10), dbl DOUBLE, flt FLOAT, bt BIT(10), j JSON,"
                    + " vb VARBINARY(20), bl BLOB, e ENUM('a','b c'), st SET('x','y','z'), l1 VARCHAR(20) CHARACTER SET latin1,"
                    + " y YEAR, d DATE, u BIGINT UNSIGNED, tx TEXT CHARACTER SET utf8mb4)");
            List<Long> moving = keys(1, 200, true);
            publish(cluster, MigrationPhase.DUAL_WRITE);
            Sql.update(a, "INSERT INTO wide VALUES (" + moving.get(0) + ", '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.123456',"
                    + " '-838:59:58.999999', '2026-01-02 03:04:05.000001', '12345678901234567890.0123456789',"
                    + " 0.30000000000000004, 1.0000001, b'1011111111', '{\"a\": [1, 2.50, \"é\"]}', x'00FF80C3', x'FE00FF27',"
                    + " 'b c', 'x,z', 'Ærø ÿ', 2155, '1000-01-01', 18446744073709551615, 'één 💡 \\\\ ''q''')");
            Sql.update(a, "INSERT INTO wide VALUES (" + moving.get(1) + ", '9999-12-31 23:59:59.999', '1000-01-01 00:00:00.000001',"
                    + " '838:59:59.000001', '2038-01-18 03:14:07.999999', '-0.0000000001', 4.9E-324, 3.40282e38, b'0',"
                    + " '[]', '', '', 'a', '', '', 1901, '9999-12-31', 0, '')");
            Sql.update(a, "INSERT INTO wide (k) VALUES (" + moving.get(2) + ")");
            // an update copies the whole row again, bound through a server-side prepared statement
            Sql.update(p, "UPDATE wide SET dt6 = ?, flt = flt * 1 WHERE k = ?", "2030-05-06 07:08:09.987654", moving.get(1));
            for (int i = 0; i < 3; i++) {
                String q = "SELECT " + columns + " FROM wide WHERE k = " + moving.get(i);
                assertThat(Sql.query(s1, q)).as("copy of key %d (%s)", moving.get(i), columns).isEqualTo(Sql.query(s0, q)).hasSize(1);
            }
            assertThat(Sql.query(s0, "SELECT dt3, CAST(flt AS DOUBLE) FROM wide WHERE k = " + moving.get(0)))
                    .containsExactly(List.of("2026-01-02 03:04:05.678", "1.0000001192092896"));
        }
    }

    /** Publishes the moving slots in {@code phase} (owner following the phase) and waits for every live proxy. */
    static long publish(ShardedCluster cluster, MigrationPhase phase) throws InterruptedException {
        var current = cluster.store().readSlotMap();
        long epoch = current.value().epoch() + 1;
        SlotMap next = current.value().withMoving(epoch, MOVING, new MovingSlot("m-test", phase, "s0", "s1"));
        cluster.store().casSlotMap(next, current.version());
        cluster.store().awaitEpoch(epoch, Duration.ofSeconds(30));
        return epoch;
    }

    private static List<Long> keys(long from, long to, boolean moving) {
        List<Long> out = new ArrayList<>();
        for (long k = from; k <= to; k++) {
            int slot = SlotFunction.slot(Long.toString(k), SLOTS);
            if (MOVING.contains(slot) == moving && (moving || slot < 2048)) {
                out.add(k);
            }
        }
        return out;
    }

    private static List<List<String>> rowsOf(Connection shard, long k) throws SQLException {
        return Sql.query(shard, "SELECT k, part, n FROM counters WHERE k = ? ORDER BY part", k);
    }

    private static void copyAll(Connection from, Connection to, List<Long> keys) throws SQLException {
        for (long k : keys) {
            Sql.update(to, "DELETE FROM counters WHERE k = ?", k);
            for (List<String> row : rowsOf(from, k)) {
                Sql.update(to, "INSERT INTO counters (k, part, n) VALUES (?, ?, ?)", row.get(0), row.get(1), row.get(2));
            }
        }
    }

    private static String join(List<Long> keys) {
        return String.join(", ", keys.stream().map(String::valueOf).toList());
    }

    private static int port(String connectString) {
        return Integer.parseInt(connectString.substring(connectString.lastIndexOf(':') + 1));
    }

    /** True if a write of {@code k} through {@code c} is refused as fenced (7102); false if it succeeds. */
    private static boolean fenced(Connection c, long k) {
        try {
            Sql.update(c, "UPDATE counters SET n = n WHERE k = ?", k);
            return false;
        } catch (SQLException e) {
            if (e.getErrorCode() == 7102) {
                return true;
            }
            throw new IllegalStateException("expected success or FENCED (7102), got " + e.getErrorCode() + ": " + e.getMessage(), e);
        }
    }

    private static void awaitFenced(Connection c, long k, Duration timeout) throws InterruptedException {
        await(() -> fenced(c, k), timeout, "writes to moving slots to be fenced");
    }

    private static void await(java.util.function.BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}

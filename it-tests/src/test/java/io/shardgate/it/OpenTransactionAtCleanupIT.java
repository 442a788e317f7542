package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.migrator.Migrations;
import io.shardgate.migrator.MigrationWorker;
import io.shardgate.migrator.WorkerSettings;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotFunction;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A client transaction open across the barrier into a cleanup, on MariaDB and PostgreSQL, with the real migration
 * worker: the transaction's dual writes change a key the cleaned shard has and insert one that is new to it, and it
 * stays open while the migration moves on to CLEANUP (after the cutover: the source's rows are deleted) or to
 * ABORT_CLEANUP (after an abort during the backfill: the target's copies are deleted). The cleanup's chunked delete
 * cannot see an uncommitted insert, so if it ran before the transaction committed the new key's row would survive it
 * and be counted twice by scatter reads once the slots settle. The proxy must hold the barrier until the transaction
 * ends: the worker's barrier times out meanwhile and is retried, nothing is deleted while the transaction is open, and
 * afterwards the cleaned shard holds no row of the moved slots and the scatter COUNT and SUM are exact.
 */
class OpenTransactionAtCleanupIT {
    private static final int SLOTS = 4096;
    /** Existing rows, ids 101..500; the slots 0..1023 move from s0 to the spare s2. */
    private static final int FIRST = 101;
    private static final int LAST = 500;
    private static final long BALANCE = 1_000;
    /** How long the transaction stays open after the cleanup was published: longer than the worker's barrier timeout. */
    private static final Duration OPEN_AFTER_PUBLISHED = Duration.ofSeconds(5);
    private static final Duration BARRIER_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration MIGRATION_TIMEOUT = Duration.ofMinutes(3);

    /** What a test needs of a MariaDB or PostgreSQL cluster. */
    private interface Cluster {
        Connection proxy() throws SQLException;

        Connection shard(int i) throws SQLException;

        ClusterStore store();

        String zooKeeperConnect();

        String name();
    }

    @Test
    void mariaDbCleanupWaitsForATransactionHoldingReverseCopies() throws Exception {
        try (ShardedCluster c = ShardedCluster.start(2, 1, "tables:\n  - {name: accounts, kind: sharded, key: id, key-type: int}\n")) {
            cleanupWaitsForTheTransaction(mariaDb(c));
        }
    }

    @Test
    void postgresCleanupWaitsForATransactionHoldingReverseCopies() throws Exception {
        try (PgShardedCluster c = PgShardedCluster.start(2, 1, "tables:\n  - {name: accounts, kind: sharded, key: id, key-type: int}\n",
                "md5")) {
            cleanupWaitsForTheTransaction(postgres(c));
        }
    }

    @Test
    void mariaDbAbortCleanupWaitsForATransactionHoldingForwardCopies() throws Exception {
        try (ShardedCluster c = ShardedCluster.start(2, 1, "tables:\n  - {name: accounts, kind: sharded, key: id, key-type: int}\n")) {
            abortCleanupWaitsForTheTransaction(mariaDb(c));
        }
    }

    @Test
    void postgresAbortCleanupWaitsForATransactionHoldingForwardCopies() throws Exception {
        try (PgShardedCluster c = PgShardedCluster.start(2, 1, "tables:\n  - {name: accounts, kind: sharded, key: id, key-type: int}\n",
                "md5")) {
            abortCleanupWaitsForTheTransaction(postgres(c));
        }
    }

    /** After the cutover (reverse dual writes: the target owns the slots, copies go back to the source), then CLEANUP. */
    private static void cleanupWaitsForTheTransaction(Cluster cluster) throws Exception {
        load(cluster);
        long existing = movingKeys(FIRST, LAST).getLast(); // the cleanup's delete reaches it last
        long fresh = movingKeys(1, FIRST - 1).getFirst();  // new to the source; its first chunk
        try (MigrationWorker worker = startWorker(cluster)) {
            reshard(cluster, "start", "--slots", "0-1023", "--to", "s2", "--chunk-rows", "10");
            awaitPhase(cluster, MigrationPhase.REVERSE_DUAL_WRITE);
            try (Connection t = cluster.proxy()) {
                t.setAutoCommit(false);
                assertThat(Sql.update(t, "UPDATE accounts SET balance = balance + 5 WHERE id = ?", existing)).isEqualTo(1);
                Sql.update(t, "INSERT INTO accounts (id, balance) VALUES (?, 7)", fresh);

                reshard(cluster, "complete");
                Observed seen = observeWhileOpen(cluster, MigrationPhase.CLEANUP, 0);
                t.commit();

                awaitRecord(cluster, r -> r.phase().equals("DONE"), "the move to end");
                assertSettled(cluster, 0, 2, existing, fresh);
                seen.assertTheCleanupWaited(MigrationPhase.CLEANUP);
            }
        }
    }

    /** An abort during the backfill (dual writes: the source owns the slots, copies go to the target), then ABORT_CLEANUP. */
    private static void abortCleanupWaitsForTheTransaction(Cluster cluster) throws Exception {
        load(cluster);
        long existing = movingKeys(FIRST, LAST).getLast(); // the throttled backfill has not reached it
        long fresh = movingKeys(1, FIRST - 1).getFirst();  // new to the target and to the source
        try (MigrationWorker worker = startWorker(cluster)) {
            reshard(cluster, "start", "--slots", "0-1023", "--to", "s2", "--chunk-rows", "5", "--rows-per-second", "20");
            awaitRecord(cluster, r -> r.phase().equals("BACKFILL") && rowsCopied(r) > 0, "a backfill under way");
            try (Connection t = cluster.proxy()) {
                t.setAutoCommit(false);
                assertThat(Sql.update(t, "UPDATE accounts SET balance = balance + 5 WHERE id = ?", existing)).isEqualTo(1);
                Sql.update(t, "INSERT INTO accounts (id, balance) VALUES (?, 7)", fresh);

                reshard(cluster, "abort");
                Observed seen = observeWhileOpen(cluster, MigrationPhase.ABORT_CLEANUP, 2);
                t.commit();

                awaitRecord(cluster, r -> r.phase().equals("ABORTED"), "the abort to end");
                assertSettled(cluster, 2, 0, existing, fresh);
                seen.assertTheCleanupWaited(MigrationPhase.ABORT_CLEANUP);
            }
        }
    }

    // ---- steps

    private static void load(Cluster cluster) throws SQLException {
        try (Connection p = cluster.proxy()) {
            Sql.update(p, "CREATE TABLE accounts (id INT NOT NULL PRIMARY KEY, balance BIGINT NOT NULL)");
            StringBuilder insert = new StringBuilder("INSERT INTO accounts (id, balance) VALUES ");
            for (int id = FIRST; id <= LAST; id++) {
                insert.append(id > FIRST ? ", " : "").append('(').append(id).append(", ").append(BALANCE).append(')');
            }
            Sql.update(p, insert.toString());
        }
    }

    private static MigrationWorker startWorker(Cluster cluster) {
        return MigrationWorker.start(cluster.store(), WorkerSettings.defaults("cleanup-race-it").withBarrierTimeout(BARRIER_TIMEOUT)
                .withCutoverRetryBackoff(Duration.ofMillis(500)).withPollInterval(Duration.ofMillis(200)));
    }

    private static void reshard(Cluster cluster, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("reshard"));
        command.addAll(List.of(args));
        command.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", cluster.name()));
        ShardgateProcess.Result result = ShardgateProcess.run(Duration.ofSeconds(60), command.toArray(String[]::new));
        assertThat(result.exitCode()).as("reshard %s: %s%s", args[0], result.stdout(), result.stderr()).isZero();
    }

    /** What happened while the transaction stayed open after {@code phase} was published. */
    private record Observed(boolean deletedWhileOpen, Optional<String> barrierError) {
        void assertTheCleanupWaited(MigrationPhase phase) {
            assertThat(deletedWhileOpen).as("rows of the moved slots deleted from the cleaned shard while a transaction held copies")
                    .isFalse();
            assertThat(barrierError).as("the worker's barrier for %s failed while the transaction was open (and was retried)", phase)
                    .hasValueSatisfying(e -> assertThat(e).contains("barrier for " + phase));
        }
    }

    /**
     * Waits until {@code phase} is published, then keeps the transaction open for {@link #OPEN_AFTER_PUBLISHED}, watching
     * the committed rows of the moved slots on {@code cleaned} (a delete there means the cleanup ran) and the worker's
     * last error.
     */
    private static Observed observeWhileOpen(Cluster cluster, MigrationPhase phase, int cleaned) throws Exception {
        awaitPublished(cluster, phase);
        long before;
        try (Connection s = cluster.shard(cleaned)) {
            before = movedRows(s).size();
        }
        boolean deleted = false;
        Optional<String> barrierError = Optional.empty();
        long deadline = System.nanoTime() + OPEN_AFTER_PUBLISHED.toNanos();
        try (Connection s = cluster.shard(cleaned)) {
            while (System.nanoTime() < deadline) {
                deleted |= movedRows(s).size() < before;
                MigrationRecord r = migration(cluster);
                Optional<String> error = Optional.ofNullable(r.details().get(Migrations.LAST_ERROR)).filter(e -> e.contains("barrier for"));
                barrierError = error.isPresent() ? error : barrierError;
                Thread.sleep(100);
            }
        }
        return new Observed(deleted, barrierError);
    }

    /**
     * The move has settled: {@code cleaned} holds no row of the moved slots, {@code owner} holds both keys the transaction
     * wrote, and the scatter COUNT and SUM through the proxy count each row once.
     */
    private static void assertSettled(Cluster cluster, int cleaned, int owner, long existing, long fresh) throws SQLException {
        assertThat(cluster.store().readSlotMap().value().movingSlots()).isEmpty();
        try (Connection s = cluster.shard(cleaned)) {
            assertThat(movedRows(s)).as("rows of the moved slots left on s%d", cleaned).isEmpty();
        }
        try (Connection s = cluster.shard(owner)) {
            assertThat(Sql.query(s, "SELECT id, balance FROM accounts WHERE id IN (?, ?) ORDER BY id", fresh, existing))
                    .containsExactly(List.of(Long.toString(fresh), "7"), List.of(Long.toString(existing), Long.toString(BALANCE + 5)));
        }
        try (Connection p = cluster.proxy()) {
            assertThat(Sql.query(p, "SELECT COUNT(*), SUM(balance) FROM accounts")).as("scatter COUNT and SUM")
                    .containsExactly(List.of(Long.toString(LAST - FIRST + 2), Long.toString((LAST - FIRST + 1) * BALANCE + 5 + 7)));
        }
    }

    // ---- helpers

    private static List<Long> movingKeys(long from, long to) {
        List<Long> keys = new ArrayList<>();
        for (long k = from; k <= to; k++) {
            if (SlotFunction.slot(Long.toString(k), SLOTS) < 1024) {
                keys.add(k);
            }
        }
        assertThat(keys).as("keys of the moving slots in %d..%d", from, to).isNotEmpty();
        return keys;
    }

    private static List<Long> movedRows(Connection shard) throws SQLException {
        List<Long> moved = new ArrayList<>();
        for (List<String> row : Sql.query(shard, "SELECT id FROM accounts")) {
            long id = Long.parseLong(row.getFirst());
            if (SlotFunction.slot(Long.toString(id), SLOTS) < 1024) {
                moved.add(id);
            }
        }
        return moved;
    }

    private static long rowsCopied(MigrationRecord r) {
        return r.details().entrySet().stream().filter(e -> e.getKey().startsWith(Migrations.ROWS_COPIED))
                .mapToLong(e -> Long.parseLong(e.getValue())).sum();
    }

    private static MigrationRecord migration(Cluster cluster) {
        List<MigrationRecord> records = cluster.store().listMigrations();
        assertThat(records).hasSize(1);
        return records.getFirst();
    }

    private static void awaitRecord(Cluster cluster, Predicate<MigrationRecord> condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + MIGRATION_TIMEOUT.toNanos();
        while (true) {
            List<MigrationRecord> records = cluster.store().listMigrations();
            if (records.size() == 1 && condition.test(records.getFirst())) {
                return;
            }
            if (records.size() == 1 && records.getFirst().phase().equals("FAILED") || System.nanoTime() > deadline) {
                throw new AssertionError("waiting for " + what + ": " + records);
            }
            Thread.sleep(50);
        }
    }

    /** Waits until every live proxy routes with a map whose moving slots are in {@code phase}. */
    private static void awaitPhase(Cluster cluster, MigrationPhase phase) throws InterruptedException {
        long epoch = awaitPublished(cluster, phase);
        try {
            cluster.store().awaitEpoch(epoch, MIGRATION_TIMEOUT);
        } catch (io.shardgate.state.BarrierTimeoutException e) {
            throw new AssertionError("proxies did not acknowledge " + phase + ": " + e.getMessage(), e);
        }
    }

    /** Waits until the slot map shows the moving slots in {@code phase}; returns its epoch. */
    private static long awaitPublished(Cluster cluster, MigrationPhase phase) throws InterruptedException {
        long deadline = System.nanoTime() + MIGRATION_TIMEOUT.toNanos();
        while (true) {
            var map = cluster.store().readSlotMap().value();
            if (map.moving(0).map(MovingSlot::phase).filter(phase::equals).isPresent()) {
                return map.epoch();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the slot map never showed " + phase + ": " + map + "; " + cluster.store().listMigrations());
            }
            Thread.sleep(50);
        }
    }

    private static Cluster mariaDb(ShardedCluster c) {
        return new Cluster() {
            @Override
            public Connection proxy() throws SQLException {
                return c.proxyConnection("");
            }

            @Override
            public Connection shard(int i) throws SQLException {
                return c.shardConnection(i);
            }

            @Override
            public ClusterStore store() {
                return c.store();
            }

            @Override
            public String zooKeeperConnect() {
                return c.zooKeeperConnect();
            }

            @Override
            public String name() {
                return ShardedCluster.CLUSTER;
            }
        };
    }

    private static Cluster postgres(PgShardedCluster c) {
        return new Cluster() {
            @Override
            public Connection proxy() throws SQLException {
                return c.proxyConnection("");
            }

            @Override
            public Connection shard(int i) throws SQLException {
                return c.shardConnection(i);
            }

            @Override
            public ClusterStore store() {
                return c.store();
            }

            @Override
            public String zooKeeperConnect() {
                return c.zooKeeperConnect();
            }

            @Override
            public String name() {
                return PgShardedCluster.CLUSTER;
            }
        };
    }
}

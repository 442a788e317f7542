package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.migrator.MigrationWorker;
import io.shardgate.migrator.Migrations;
import io.shardgate.migrator.WorkerSettings;
import io.shardgate.slot.SlotFunction;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Client transactions open across the start of a slot move, on MariaDB and PostgreSQL, with the real migration worker.
 * Before the move is published one transaction inserts a key new to the moving slots and another updates one existing
 * row of them and deletes another; both run on the source alone (nothing moves yet, so no dual-write copies) and stay
 * open while the move is started. The backfill and the verify read each chunk without locks first and cannot see an
 * uncommitted insert, so if they ran while the inserting transaction was open, its row, committed afterwards, would
 * never reach the target: after the cutover the target lacks it and the cleanup deletes it from the source (a lost
 * write). The updating transaction is the case that was already safe: its row locks make the backfill's share-locked
 * read wait (it fails with lock wait timeouts and is retried) until it ends.
 *
 * <p>The proxy must not acknowledge the epoch that starts dual writes until transactions that wrote the source's rows
 * under an older snapshot have ended: the worker's barrier for DUAL_WRITE fails meanwhile and is retried, nothing is
 * copied while either transaction is open, and afterwards the target holds exactly the committed rows and the proxy
 * answers with them.
 */
class OpenTransactionAtMoveStartIT {
    private static final int SLOTS = 4096;
    /** Existing rows, ids 101..500; the slots 0..1023 move from s0 to the spare s2. */
    private static final int FIRST = 101;
    private static final int LAST = 500;
    private static final long BALANCE = 1_000;
    /** How long both transactions stay open after the move was started: longer than the worker's barrier timeout. */
    private static final Duration BOTH_OPEN = Duration.ofSeconds(5);
    /** How long the inserting transaction may stay open alone, at most: the old code reaches the cutover in this time. */
    private static final Duration INSERT_OPEN = Duration.ofSeconds(12);
    private static final Duration BARRIER_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration MIGRATION_TIMEOUT = Duration.ofMinutes(3);
    private static final String TABLES = "tables:\n  - {name: accounts, kind: sharded, key: id, key-type: int}\n";

    /** What a test needs of a MariaDB or PostgreSQL cluster. */
    private interface Cluster {
        Connection proxy() throws SQLException;

        Connection shard(int i) throws SQLException;

        ClusterStore store();

        String zooKeeperConnect();

        String name();
    }

    @Test
    void mariaDbMoveWaitsForTransactionsThatWroteBeforeIt() throws Exception {
        try (ShardedCluster c = ShardedCluster.start(2, 1, TABLES)) {
            moveWaitsForTheTransactions(mariaDb(c));
        }
    }

    @Test
    void postgresMoveWaitsForTransactionsThatWroteBeforeIt() throws Exception {
        try (PgShardedCluster c = PgShardedCluster.start(2, 1, TABLES, "md5")) {
            moveWaitsForTheTransactions(postgres(c));
        }
    }

    private static void moveWaitsForTheTransactions(Cluster cluster) throws Exception {
        load(cluster);
        List<Long> existing = movingKeys(FIRST, LAST);
        long updated = existing.getFirst();        // the backfill's first chunks reach it
        long deleted = existing.get(1);
        long fresh = movingKeys(1, FIRST - 1).getFirst(); // new to the source; in the backfill's first chunk
        try (MigrationWorker worker = startWorker(cluster);
                Connection inserting = cluster.proxy();
                Connection updating = cluster.proxy()) {
            inserting.setAutoCommit(false);
            Sql.update(inserting, "INSERT INTO accounts (id, balance) VALUES (?, 7)", fresh);
            updating.setAutoCommit(false);
            assertThat(Sql.update(updating, "UPDATE accounts SET balance = balance + 5 WHERE id = ?", updated)).isEqualTo(1);
            assertThat(Sql.update(updating, "DELETE FROM accounts WHERE id = ?", deleted)).isEqualTo(1);

            reshard(cluster, "start", "--slots", "0-1023", "--to", "s2", "--chunk-rows", "10");
            Observed bothOpen = observe(cluster, BOTH_OPEN, r -> false);
            updating.commit();
            Observed insertOpen = observe(cluster, INSERT_OPEN, r -> r.phase().equals("REVERSE_DUAL_WRITE"));
            inserting.commit();

            awaitRecord(cluster, r -> r.phase().equals("REVERSE_DUAL_WRITE"), "the cutover");
            reshard(cluster, "complete");
            awaitRecord(cluster, r -> r.phase().equals("DONE"), "the move to end");

            assertSettled(cluster, fresh, updated, deleted, "both open: " + bothOpen + "; the insert's alone: " + insertOpen);
            bothOpen.assertTheMoveWaited();
            insertOpen.assertTheMoveWaited();
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
        return MigrationWorker.start(cluster.store(), WorkerSettings.defaults("move-start-race-it").withBarrierTimeout(BARRIER_TIMEOUT)
                .withCutoverRetryBackoff(Duration.ofMillis(500)).withPollInterval(Duration.ofMillis(200)));
    }

    private static void reshard(Cluster cluster, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("reshard"));
        command.addAll(List.of(args));
        command.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", cluster.name()));
        ShardgateProcess.Result result = ShardgateProcess.run(Duration.ofSeconds(60), command.toArray(String[]::new));
        assertThat(result.exitCode()).as("reshard %s: %s%s", args[0], result.stdout(), result.stderr()).isZero();
    }

    /** What the migration did while a transaction that wrote before it stayed open. */
    private record Observed(TreeSet<String> phases, long rowsCopied, Optional<String> barrierError) {
        void assertTheMoveWaited() {
            assertThat(rowsCopied).as("rows copied while a transaction that wrote before the move was open (phases seen: %s)", phases)
                    .isZero();
            assertThat(phases).as("phases of the move while a transaction that wrote before it was open").isSubsetOf("PENDING", "DUAL_WRITE");
            assertThat(barrierError).as("the worker's barrier for DUAL_WRITE failed while the transaction was open (and was retried)")
                    .hasValueSatisfying(e -> assertThat(e).contains("barrier for DUAL_WRITE"));
        }
    }

    /** Watches the migration's phase, rows copied and last error for {@code time}, or until {@code done}. */
    private static Observed observe(Cluster cluster, Duration time, Predicate<MigrationRecord> done) throws Exception {
        TreeSet<String> phases = new TreeSet<>();
        long copied = 0;
        Optional<String> barrierError = Optional.empty();
        long deadline = System.nanoTime() + time.toNanos();
        while (System.nanoTime() < deadline) {
            List<MigrationRecord> records = cluster.store().listMigrations();
            if (records.size() == 1) {
                MigrationRecord r = records.getFirst();
                phases.add(r.phase());
                copied = Math.max(copied, rowsCopied(r));
                Optional<String> error = Optional.ofNullable(r.details().get(Migrations.LAST_ERROR)).filter(e -> e.contains("barrier for"));
                barrierError = error.isPresent() ? error : barrierError;
                if (done.test(r)) {
                    break;
                }
            }
            Thread.sleep(100);
        }
        return new Observed(phases, copied, barrierError);
    }

    /**
     * The move has settled: the source holds no row of the moved slots, the target holds exactly the committed rows of
     * the transactions, and the proxy answers point reads and the scatter COUNT and SUM with them.
     */
    private static void assertSettled(Cluster cluster, long fresh, long updated, long deleted, String observed) throws SQLException {
        assertThat(cluster.store().readSlotMap().value().movingSlots()).isEmpty();
        try (Connection s = cluster.shard(0)) {
            assertThat(movedRows(s)).as("rows of the moved slots left on s0").isEmpty();
        }
        try (Connection s = cluster.shard(2)) {
            assertThat(Sql.query(s, "SELECT id, balance FROM accounts WHERE id IN (?, ?, ?) ORDER BY id", fresh, updated, deleted))
                    .as("the transactions' keys on the target s2 (the move while they were open: %s)", observed).containsExactly(List.of(Long.toString(fresh), "7"),
                            List.of(Long.toString(updated), Long.toString(BALANCE + 5)));
            assertThat(movedRows(s)).as("rows of the moved slots on s2").hasSize(movingKeys(FIRST, LAST).size());
        }
        try (Connection p = cluster.proxy()) {
            assertThat(Sql.query(p, "SELECT balance FROM accounts WHERE id = ?", fresh)).as("the inserted row through the proxy")
                    .containsExactly(List.of("7"));
            assertThat(Sql.query(p, "SELECT balance FROM accounts WHERE id = ?", updated)).as("the updated row through the proxy")
                    .containsExactly(List.of(Long.toString(BALANCE + 5)));
            assertThat(Sql.query(p, "SELECT balance FROM accounts WHERE id = ?", deleted)).as("the deleted row through the proxy")
                    .isEmpty();
            assertThat(Sql.query(p, "SELECT COUNT(*), SUM(balance) FROM accounts")).as("scatter COUNT and SUM")
                    .containsExactly(List.of(Long.toString(LAST - FIRST + 1), Long.toString((LAST - FIRST) * BALANCE + 5 + 7)));
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
        assertThat(keys).as("keys of the moving slots in %d..%d", from, to).hasSizeGreaterThan(1);
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

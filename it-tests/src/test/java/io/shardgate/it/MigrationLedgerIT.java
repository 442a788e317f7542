package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.MigrationRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Online resharding end to end, with the real command line: {@code shardgate migrator} workers as
 * processes, {@code shardgate reshard start --rebalance} from 2 to 4 shards, two proxies, and ledger
 * clients running without pause (see {@link Ledger}). At the end every account, counter and item matches
 * the ledgers exactly, every row lives on the shard that owns its slot, and nothing failed that a client
 * did not retry by design.
 */
class MigrationLedgerIT {
    private static final Duration MIGRATION_TIMEOUT = Duration.ofMinutes(4);

    @ParameterizedTest(name = "seed {0}, chunks of {1} rows, {2} rows/s")
    @CsvSource({"11, 1000, 0", "23, 97, 4000"})
    void rebalanceFromTwoToFourShardsUnderLoadKeepsEveryLedgerExact(long seed, int chunkRows, int rowsPerSecond) throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, 2, Ledger.TABLES)) {
            cluster.startProxy();
            Ledger ledger = new Ledger(cluster);
            ledger.load(3);
            ledger.start(2, seed);
            Thread.sleep(500);
            try (Worker worker = Worker.start(cluster, "w1")) {
                startRebalance(cluster, chunkRows, rowsPerSecond);
                awaitAll(cluster, worker, r -> r.phase().equals("DONE"), "every migration DONE");
                Thread.sleep(500);
                ledger.stop();
            }
            assertExact(cluster, ledger);
        }
    }

    @Test
    void aWorkerKilledDuringBackfillAndAnotherDuringVerifyAreResumedAndTheResultIsExact() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, 2, Ledger.TABLES)) {
            cluster.startProxy();
            Ledger ledger = new Ledger(cluster);
            ledger.load(3);
            ledger.start(1, 7);
            Worker first = Worker.start(cluster, "w1");
            try {
                startRebalance(cluster, 50, 600);
                awaitAny(cluster, first, r -> r.phase().equals("BACKFILL") && rowsCopied(r) > 0, "a backfill under way");
            } finally {
                first.kill();
            }
            Worker second = Worker.start(cluster, "w2");
            try {
                awaitAny(cluster, second, r -> r.phase().equals("VERIFY"), "a verify under way");
            } finally {
                second.kill();
            }
            try (Worker third = Worker.start(cluster, "w3")) {
                awaitAll(cluster, third, r -> r.phase().equals("DONE"), "every migration DONE after two kills");
            }
            ledger.stop();
            assertExact(cluster, ledger);
        }
    }

    @Test
    void rollbackAfterTheCutoverAndAbortDuringBackfillKeepTheSourceExactAndLeaveTheTargetsEmpty() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, 2, Ledger.TABLES)) {
            cluster.startProxy();
            SlotMap before = cluster.store().readSlotMap().value();
            Ledger ledger = new Ledger(cluster);
            ledger.load(3);
            ledger.start(1, 5);
            try (Worker worker = Worker.start(cluster, "w1")) {
                reshard(cluster, "start", "--slots", "0-1023", "--to", "s2");
                awaitAll(cluster, worker, r -> r.phase().equals("REVERSE_DUAL_WRITE"), "the cutover to s2");
                Thread.sleep(500); // writes land on s2 and are copied back to s0
                reshard(cluster, "rollback");
                awaitAll(cluster, worker, r -> r.phase().equals("ROLLED_BACK"), "the rollback");

                reshard(cluster, "start", "--slots", "2048-3071", "--to", "s3", "--rows-per-second", "300", "--chunk-rows", "50");
                awaitAny(cluster, worker, r -> r.phase().equals("BACKFILL") && rowsCopied(r) > 0, "a backfill under way");
                reshard(cluster, "abort");
                awaitAny(cluster, worker, r -> r.phase().equals("ABORTED"), "the abort");
            }
            ledger.stop();
            ledger.assertMatches();
            SlotMap after = cluster.store().readSlotMap().value();
            assertThat(after.movingSlots()).isEmpty();
            assertThat(after.ranges()).isEqualTo(before.ranges());
            for (int target : new int[] {2, 3}) {
                try (Connection c = cluster.shardConnection(target)) {
                    for (String table : List.of("accounts", "items", "counters")) {
                        assertThat(Sql.count(c, "SELECT COUNT(*) FROM " + table)).as("%s rows left on s%d", table, target).isZero();
                    }
                }
            }
        }
    }

    @Test
    void aCutoverThatAProxyCannotAcknowledgeInTimeIsRetriedWithNothingLost() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, 1, Ledger.TABLES)) {
            var slow = cluster.startProxy();
            Ledger ledger = new Ledger(cluster);
            ledger.load(3);
            ledger.start(1, 3);
            Process process = ShardgateProcess.builder("migrator", "--zk", cluster.zooKeeperConnect(), "--cluster",
                    ShardedCluster.CLUSTER, "--barrier-timeout-ms", "2000").redirectErrorStream(true)
                    .redirectOutput(java.lang.ProcessBuilder.Redirect.DISCARD).start();
            try {
                // 100 rows/s makes backfill and verify take several seconds each, so the slow statement below is
                // surely running before verify ends; that is checked, not assumed
                reshard(cluster, "start", "--slots", "0-1023", "--to", "s2", "--auto-complete", "--rows-per-second", "100",
                        "--chunk-rows", "50");
                Worker view = new Worker(process, Files.createTempFile("unused", ".log"));
                // rows verified means the VERIFY epoch's barrier has passed: the statement cannot hold that one up
                awaitAny(cluster, view, r -> r.phase().equals("VERIFY")
                        && r.details().keySet().stream().anyMatch(k -> k.startsWith("rowsVerified.")), "the verify");
                // a statement that outlives the barrier timeout: the proxy cannot acknowledge the pause until it ends
                var slowStatement = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try (Connection c = cluster.proxyConnection(slow, "")) {
                        Sql.query(c, "SELECT SLEEP(16) FROM accounts WHERE user_id = 1 AND acct = 0");
                    } catch (java.sql.SQLException e) {
                        throw new java.io.UncheckedIOException(new java.io.IOException(e));
                    }
                });
                awaitSleepingStatement(cluster);
                assertThat(cluster.store().listMigrations().getFirst().phase())
                        .as("the slow statement must start before verify ends, or the test proves nothing").isEqualTo("VERIFY");
                slowStatement.get(60, java.util.concurrent.TimeUnit.SECONDS);
                awaitAll(cluster, view, r -> r.phase().equals("DONE"), "the retried cutover");
                MigrationRecord done = cluster.store().listMigrations().getFirst();
                assertThat(Long.parseLong(done.details().get("cutoverAttempts"))).isGreaterThanOrEqualTo(2);
            } finally {
                process.destroy();
                process.waitFor();
            }
            ledger.stop();
            assertExactOn(cluster, ledger, List.of("s0", "s1", "s2"));
        }
    }

    // ---- helpers

    /** Waits until some shard runs the test's SLEEP statement. */
    private static void awaitSleepingStatement(ShardedCluster cluster) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < cluster.shardCount(); i++) {
                try (Connection c = cluster.shardConnection(i)) {
                    for (List<String> row : Sql.query(c, "SELECT info FROM information_schema.processlist"
                            + " WHERE info LIKE '%SLEEP(16)%' AND id <> CONNECTION_ID()")) {
                        if (!row.isEmpty()) {
                            return;
                        }
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the SLEEP statement never reached a shard");
    }

    private static void startRebalance(ShardedCluster cluster, int chunkRows, int rowsPerSecond) throws Exception {
        List<String> args = new ArrayList<>(List.of("reshard", "start", "--rebalance", "--auto-complete",
                "--chunk-rows", Integer.toString(chunkRows), "--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        if (rowsPerSecond > 0) {
            args.addAll(List.of("--rows-per-second", Integer.toString(rowsPerSecond)));
        }
        ShardgateProcess.Result started = ShardgateProcess.run(Duration.ofSeconds(60), args.toArray(String[]::new));
        assertThat(started.exitCode()).as("reshard start: %s%s", started.stdout(), started.stderr()).isZero();
    }

    private static void reshard(ShardedCluster cluster, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("reshard"));
        all.addAll(List.of(args));
        all.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        ShardgateProcess.Result r = ShardgateProcess.run(Duration.ofSeconds(60), all.toArray(String[]::new));
        assertThat(r.exitCode()).as("shardgate %s: %s%s", String.join(" ", all), r.stdout(), r.stderr()).isZero();
    }

    private static long rowsCopied(MigrationRecord r) {
        return r.details().entrySet().stream().filter(e -> e.getKey().startsWith("rowsCopied."))
                .mapToLong(e -> Long.parseLong(e.getValue())).sum();
    }

    private static void awaitAll(ShardedCluster cluster, Worker worker, Predicate<MigrationRecord> done, String what) throws Exception {
        await(cluster, worker, records -> !records.isEmpty() && records.stream().allMatch(done), what);
    }

    private static void awaitAny(ShardedCluster cluster, Worker worker, Predicate<MigrationRecord> seen, String what) throws Exception {
        await(cluster, worker, records -> records.stream().anyMatch(seen), what);
    }

    private static void await(ShardedCluster cluster, Worker worker, Predicate<List<MigrationRecord>> condition, String what)
            throws Exception {
        long deadline = System.nanoTime() + MIGRATION_TIMEOUT.toNanos();
        while (true) {
            List<MigrationRecord> records = cluster.store().listMigrations();
            if (condition.test(records)) {
                return;
            }
            for (MigrationRecord r : records) {
                if (r.phase().equals("FAILED")) {
                    throw new AssertionError("migration " + r.id() + " FAILED: " + r.details() + "\nworker output:\n" + worker.output());
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; migrations: " + records + "\nworker output:\n"
                        + worker.output());
            }
            Thread.sleep(50);
        }
    }

    private static void assertExact(ShardedCluster cluster, Ledger ledger) throws Exception {
        assertExactOn(cluster, ledger, List.of("s0", "s1", "s2", "s3"));
    }

    private static void assertExactOn(ShardedCluster cluster, Ledger ledger, List<String> owners) throws Exception {
        ledger.assertMatches();
        assertThat(ledger.operations.get()).as("operations the clients completed").isGreaterThan(100);
        assertThat(ledger.totalsRead.get()).as("scatter reads during the migration").isGreaterThan(10);
        SlotMap map = cluster.store().readSlotMap().value();
        assertThat(map.movingSlots()).isEmpty();
        assertThat(map.slotCounts()).containsOnlyKeys(owners.toArray(String[]::new));
        for (int i = 0; i < cluster.shardCount(); i++) {
            String shard = "s" + i;
            try (Connection c = cluster.shardConnection(i)) {
                for (String[] table : new String[][] {{"accounts", "user_id"}, {"items", "user_id"}, {"counters", "name"}}) {
                    for (List<String> row : Sql.query(c, "SELECT DISTINCT " + table[1] + " FROM " + table[0])) {
                        int slot = SlotFunction.slot(row.getFirst(), map.slotCount());
                        assertThat(map.owner(slot)).as("%s key %s (slot %d) found on %s", table[0], row.getFirst(), slot, shard)
                                .isEqualTo(shard);
                    }
                }
            }
        }
        System.out.printf("ledger: %d operations, %d retried by design, %d scatter reads%n", ledger.operations.get(),
                ledger.retries.get(), ledger.totalsRead.get());
    }

    /** A {@code shardgate migrator} process. */
    static final class Worker implements AutoCloseable {
        private final Process process;
        private final Path log;

        private Worker(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        static Worker start(ShardedCluster cluster, String id) throws Exception {
            Path log = Files.createTempFile("shardgate-migrator-" + id, ".log");
            Process p = ShardgateProcess.builder("migrator", "--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER)
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            return new Worker(p, log);
        }

        String output() throws Exception {
            return Files.readString(log, StandardCharsets.UTF_8);
        }

        /** kill -9: no chance to release the latch or finish a chunk. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            Files.deleteIfExists(log);
        }
    }
}

package io.shardgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.migrator.Migrations;
import io.shardgate.migrator.Migrations.Status;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.Versioned;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code reshard start | status | abort | complete | rollback} against an in-process ZooKeeper. No
 * migrator runs: where a test needs the worker's side, it writes the records the way the
 * {@link Migrations} contract says the worker does (these are fixtures of the contract).
 */
class ReshardWorkflowCliTest {
    @RegisterExtension
    static final ZooKeeperCli zk = new ZooKeeperCli();

    @TempDir
    Path tmp;

    private static CliRun run(String cluster, String... args) {
        return zk.run(cluster, args);
    }

    /** The example cluster: s0 0-2047, s1 2048-4095, spare s2; a rebalance is two moves to s2. */
    private static String exampleCluster() {
        return zk.exampleCluster("reshard-flow-");
    }

    private static ClusterStore store(String cluster) {
        return zk.store(cluster, Duration.ofSeconds(5));
    }

    private static List<MigrationRecord> migrations(String cluster) {
        try (ClusterStore store = store(cluster)) {
            return store.listMigrations().stream().sorted(Migrations.RUN_ORDER).toList();
        }
    }

    /** Writes what a worker would: a new status and some details, by compare-and-set. */
    private static void workerWrites(String cluster, String id, Status status, Map<String, String> details) {
        try (ClusterStore store = store(cluster)) {
            Versioned<MigrationRecord> current = store.readMigration(id).orElseThrow();
            MigrationRecord r = Migrations.withDetails(current.value(), details, System.currentTimeMillis());
            store.casMigration(new MigrationRecord(r.id(), r.slots(), r.source(), r.target(), status.name(), r.checkpoints(),
                    r.details(), r.updatedAtMillis()), current.version());
        }
    }

    private static void workerWrites(String cluster, String id, Status status) {
        workerWrites(cluster, id, status, Map.of());
    }

    private static void assertOneErrorLine(CliRun r, int exit, String... texts) {
        assertThat(r.exit()).as(r.toString()).isEqualTo(exit);
        assertThat(r.errLines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).as(r.toString()).startsWith("shardgate: error: ").contains(texts);
    }

    @Test
    void startRecordsOnePendingMigrationPerPlannedMove() throws Exception {
        String c = exampleCluster();
        JsonNode planned = new ObjectMapper().readTree(run(c, "reshard", "plan", "--rebalance", "--json").out()).get("moves");
        assertThat(planned).hasSize(2);

        CliRun start = run(c, "reshard", "start", "--rebalance", "--rows-per-second", "5000", "--chunk-rows", "200");
        assertThat(start.exit()).as(start.toString()).isZero();

        List<MigrationRecord> records = migrations(c);
        assertThat(records).hasSize(2);
        String batch = records.getFirst().id();
        assertThat(batch).matches("m-\\d{8}-\\d{6}-1");
        for (int i = 0; i < records.size(); i++) {
            MigrationRecord r = records.get(i);
            JsonNode move = planned.get(i);
            assertThat(r.id()).isEqualTo(batch.substring(0, batch.length() - 1) + (i + 1));
            assertThat(r.slots()).isEqualTo(IntStream.rangeClosed(move.get("from").asInt(), move.get("to").asInt()).boxed().toList());
            assertThat(r.source()).isEqualTo(move.get("source").asText());
            assertThat(r.target()).isEqualTo(move.get("target").asText());
            assertThat(Status.of(r)).isEqualTo(Status.PENDING);
            assertThat(r.checkpoints()).isEmpty();
            assertThat(r.details()).containsEntry(Migrations.ORDER, Integer.toString(i))
                    .containsEntry(Migrations.BATCH, batch)
                    .containsEntry(Migrations.AUTO_COMPLETE, "false")
                    .containsEntry(Migrations.ROWS_PER_SECOND_LIMIT, "5000")
                    .containsEntry(Migrations.CHUNK_ROWS, "200")
                    .containsKey(Migrations.CREATED_AT_MILLIS)
                    .doesNotContainKey(Migrations.REQUEST);
        }
        assertThat(start.outLines().getFirst()).isEqualTo("started batch " + batch + " in cluster '" + c
                + "' (rebalance over s0, s1, s2): 2 migrations, 1365 slots");
        assertThat(start.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+" + records.get(0).id() + "\\s+1366-2047 \\(682\\)\\s+s0\\s+s2"));
        assertThat(start.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+" + records.get(1).id() + "\\s+3413-4095 \\(683\\)\\s+s1\\s+s2"));
        assertThat(start.out()).contains("throttle 5,000 rows/s, chunks of 200 rows, auto-complete off",
                "follow with: shardgate reshard status --watch");
        assertThat(run(c, "status").out()).as("the slot map is the worker's to change").contains("epoch      1");
    }

    @Test
    void startRefusesWhileAMigrationHasNotEnded() {
        String c = exampleCluster();
        assertThat(run(c, "reshard", "start", "--slots", "0-9", "--to", "s2").exit()).isZero();
        String first = migrations(c).getFirst().id();
        workerWrites(c, first, Status.BACKFILL);

        assertOneErrorLine(run(c, "reshard", "start", "--slots", "100-109", "--to", "s2"), 1,
                "migration " + first + " (s0 -> s2, slots 0-9) is backfill and has not ended", "reshard abort");

        workerWrites(c, first, Status.FAILED, Map.of(Migrations.LAST_ERROR, "boom"));
        assertOneErrorLine(run(c, "reshard", "start", "--rebalance"), 1, "migration " + first, "is failed");

        workerWrites(c, first, Status.ABORTED);
        CliRun again = run(c, "reshard", "start", "--slots", "100-109", "--to", "s2", "--auto-complete");
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(migrations(c)).hasSize(2);
        assertThat(migrations(c).getLast().details()).containsEntry(Migrations.AUTO_COMPLETE, "true");
    }

    @Test
    void startRefusesEmptyPlansUnknownShardsAndBadSettings() throws IOException {
        String balanced = zk.newName("reshard-flow-");
        Path file = tmp.resolve("balanced.yaml");
        Files.writeString(file, "dialect: mysql\nslots: 64\nshards:\n"
                + "  - name: a\n    url: jdbc:mysql://127.0.0.1:1/x\n    user: root\n"
                + "  - name: b\n    url: jdbc:mysql://127.0.0.1:1/x\n    user: root\n");
        assertThat(run(balanced, "cluster", "init", "--file", file.toString()).exit()).isZero();
        assertOneErrorLine(run(balanced, "reshard", "start", "--rebalance"), 1,
                "nothing to move (rebalance over a, b): the slots are spread evenly already");

        String c = exampleCluster();
        assertOneErrorLine(run(c, "reshard", "start", "--slots", "0-9", "--to", "s9"), 1, "unknown shard 's9'; the shards are s0, s1, s2");
        assertOneErrorLine(run(c, "reshard", "start", "--slots", "0-9", "--to", "s0"), 1, "slots 0-9 are on s0 already");
        assertOneErrorLine(run(c, "reshard", "start", "--rebalance", "--chunk-rows", "0"), 1, "--chunk-rows must be in 1..1000000, was 0");
        assertOneErrorLine(run(c, "reshard", "start", "--rebalance", "--rows-per-second", "-1"), 1, "--rows-per-second must be 0");
        assertOneErrorLine(run(c, "reshard", "start"), 2, "--rebalance");
        assertThat(migrations(c)).isEmpty();
        assertThat(migrations(balanced)).isEmpty();
    }

    @Test
    void statusSaysSoWhenThereAreNoMigrations() {
        String c = exampleCluster();
        CliRun r = run(c, "reshard", "status");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("no migrations in cluster '" + c + "'");
    }

    /** A batch of two: the first in backfill with progress from a worker, the second not picked up yet. */
    private static List<String> batchInBackfill(String c) {
        assertThat(run(c, "reshard", "start", "--rebalance").exit()).isZero();
        List<String> ids = migrations(c).stream().map(MigrationRecord::id).toList();
        Map<String, String> progress = new HashMap<>();
        progress.put(Migrations.WORKER, "w-7");
        progress.put(Migrations.ROWS_COPIED + "users", "12345");
        progress.put(Migrations.ROWS_TOTAL + "users", "40000");
        progress.put(Migrations.ROWS_COPIED + "likes", "0");
        progress.put(Migrations.ROWS_TOTAL + "likes", "10000");
        progress.put(Migrations.ROWS_PER_SECOND, "1234.4");
        progress.put(Migrations.ETA_SECONDS, "200");
        progress.put(Migrations.CUTOVER_ATTEMPTS, "1");
        progress.put(Migrations.LAST_PAUSE_MILLIS, "41");
        progress.put(Migrations.LAST_ERROR, "backfill: shard s2 timed out after 5000 ms; retrying");
        workerWrites(c, ids.getFirst(), Status.BACKFILL, progress);
        return ids;
    }

    @Test
    void statusShowsTheWorkersProgressPerMigrationAndTable() {
        String c = exampleCluster();
        List<String> ids = batchInBackfill(c);

        CliRun r = run(c, "reshard", "status");
        assertThat(r.exit()).as(r.toString()).isZero();
        List<String> lines = r.outLines();
        assertThat(lines.getFirst()).startsWith("batch " + ids.getFirst() + ": 2 migrations, created ")
                .endsWith(", auto-complete off, throttle none, chunks of 1,000 rows");
        assertThat(lines).contains(
                "  " + ids.get(0) + "  backfill  s0 -> s2  slots 1366-2047 (682)",
                "    copied 24.7% (12,345/50,000 rows), 1,234 rows/s, ETA 3m20s",
                "    cutover: 1 attempt, last pause 41 ms",
                "    last error: backfill: shard s2 timed out after 5000 ms; retrying",
                "  " + ids.get(1) + "  pending  s1 -> s2  slots 3413-4095 (683)",
                "    waiting for a migrator worker");
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("\\s+users\\s+12,345\\s+40,000\\s+30\\.9%\\s+-"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("\\s+likes\\s+0\\s+10,000\\s+0\\.0%\\s+-"));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("    worker w-7"));

        CliRun status = run(c, "status");
        assertThat(status.outLines()).anySatisfy(l -> assertThat(l)
                .matches("\\s+" + ids.get(0) + "\\s+BACKFILL\\s+s0\\s+s2\\s+682\\s+\\S+\\s+copied 24\\.7% .*"));
    }

    @Test
    void statusJsonHasTheSameFacts() throws Exception {
        String c = exampleCluster();
        List<String> ids = batchInBackfill(c);
        CliRun r = run(c, "reshard", "status", "--json");
        assertThat(r.exit()).as(r.toString()).isZero();
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertThat(doc.get("cluster").asText()).isEqualTo(c);
        JsonNode first = doc.get("migrations").get(0);
        assertThat(first.get("id").asText()).isEqualTo(ids.getFirst());
        assertThat(first.get("batch").asText()).isEqualTo(ids.getFirst());
        assertThat(first.get("status").asText()).isEqualTo("backfill");
        assertThat(first.get("source").asText()).isEqualTo("s0");
        assertThat(first.get("target").asText()).isEqualTo("s2");
        assertThat(first.get("slots").asText()).isEqualTo("1366-2047");
        assertThat(first.get("slotCount").asInt()).isEqualTo(682);
        assertThat(first.get("tables")).hasSize(2);
        assertThat(first.get("tables").get(1).get("table").asText()).isEqualTo("users");
        assertThat(first.get("tables").get(1).get("rowsCopied").asLong()).isEqualTo(12345);
        assertThat(first.get("tables").get(1).get("rowsTotal").asLong()).isEqualTo(40000);
        assertThat(first.get("tables").get(1).get("rowsVerified").isNull()).isTrue();
        assertThat(first.get("rowsPerSecond").asDouble()).isEqualTo(1234.4);
        assertThat(first.get("etaSeconds").asLong()).isEqualTo(200);
        assertThat(first.get("lastPauseMillis").asLong()).isEqualTo(41);
        assertThat(first.get("cutoverAttempts").asLong()).isEqualTo(1);
        assertThat(first.get("lastError").asText()).contains("timed out");
        assertThat(first.get("request").isNull()).isTrue();
        assertThat(first.get("worker").asText()).isEqualTo("w-7");
        JsonNode second = doc.get("migrations").get(1);
        assertThat(second.get("status").asText()).isEqualTo("pending");
        assertThat(second.get("tables")).isEmpty();
        assertThat(second.get("etaSeconds").isNull()).isTrue();
    }

    @Test
    void abortWithoutIdAsksEveryMigrationOfTheBatchThatCanStillAbort() {
        String c = exampleCluster();
        List<String> ids = batchInBackfill(c);
        workerWrites(c, ids.getFirst(), Status.CLEANUP);

        CliRun abort = run(c, "reshard", "abort");
        assertThat(abort.exit()).as(abort.toString()).isZero();
        assertThat(abort.out()).contains("skipped: cannot abort migration " + ids.get(0) + " (s0 -> s2): it is cleanup: "
                        + "the moved rows are being deleted from the source, too late to abort",
                "requested abort of " + ids.get(1) + " (pending, s1 -> s2, slots 3413-4095)");
        assertThat(migrations(c).get(0).details()).doesNotContainKey(Migrations.REQUEST);
        assertThat(migrations(c).get(1).details()).containsEntry(Migrations.REQUEST, "abort");

        CliRun twice = run(c, "reshard", "abort", "--id", ids.get(1));
        assertThat(twice.exit()).as(twice.toString()).isZero();
        assertThat(twice.out()).contains("already requested: abort of " + ids.get(1));

        assertOneErrorLine(run(c, "reshard", "abort", "--id", ids.get(0)), 1,
                "cannot abort migration " + ids.get(0) + " (s0 -> s2): it is cleanup");
        assertOneErrorLine(run(c, "reshard", "abort", "--id", "m-nope"), 1, "no migration 'm-nope' in cluster '" + c + "'");
        assertOneErrorLine(run(c, "reshard", "complete", "--id", ids.get(1)), 1,
                "cannot complete migration " + ids.get(1) + " (s1 -> s2): it is pending and has not cut over yet");
    }

    @Test
    void completeAndRollbackOnlyInReverseDualWrite() {
        String c = exampleCluster();
        List<String> ids = batchInBackfill(c);
        assertOneErrorLine(run(c, "reshard", "complete"), 1, "nothing to complete in batch " + ids.getFirst() + ": ",
                "it is backfill and has not cut over yet", "it is pending");
        assertOneErrorLine(run(c, "reshard", "rollback"), 1, "nothing to rollback in batch");

        workerWrites(c, ids.get(0), Status.REVERSE_DUAL_WRITE);
        CliRun complete = run(c, "reshard", "complete");
        assertThat(complete.exit()).as(complete.toString()).isZero();
        assertThat(complete.out()).contains("requested complete of " + ids.get(0) + " (reverse-dual-write, s0 -> s2");
        assertOneErrorLine(run(c, "reshard", "rollback", "--id", ids.get(0)), 1,
                "cannot rollback migration " + ids.get(0) + " (s0 -> s2): 'complete' is requested already");
        assertThat(run(c, "reshard", "status").out()).contains("    request: complete (pending: the worker has not acted on it yet)");

        workerWrites(c, ids.get(0), Status.DONE, Map.of(Migrations.REQUEST, ""));
        assertOneErrorLine(run(c, "reshard", "rollback", "--id", ids.get(0)), 1, "it is done: it has ended");
    }

    @Test
    void startWaitEndsWhenTheWorkerFinishesTheBatch() throws Exception {
        String c = exampleCluster();
        CompletableFuture<CliRun> start = CompletableFuture.supplyAsync(() -> run(c, "reshard", "start", "--rebalance", "--wait"));
        List<MigrationRecord> records = awaitMigrations(c, 2);
        workerWrites(c, records.get(0).id(), Status.BACKFILL, Map.of(Migrations.ROWS_COPIED + "users", "5", Migrations.ROWS_TOTAL + "users", "10"));
        workerWrites(c, records.get(0).id(), Status.DONE);
        workerWrites(c, records.get(1).id(), Status.DONE);

        CliRun r = start.get(20, TimeUnit.SECONDS);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.outLines().getLast()).isEqualTo("all 2 migrations are done");
        assertThat(r.out()).contains(records.get(1).id() + "  done  s1 -> s2  683 slots  done");
    }

    @Test
    void startWaitStopsAtTheOperatorsTurnAndAbortWaitFollowsTheRequest() throws Exception {
        String c = exampleCluster();
        CompletableFuture<CliRun> start = CompletableFuture.supplyAsync(() -> run(c, "reshard", "start", "--slots", "0-9", "--to", "s2", "--wait"));
        String id = awaitMigrations(c, 1).getFirst().id();
        workerWrites(c, id, Status.REVERSE_DUAL_WRITE, Map.of(Migrations.LAST_PAUSE_MILLIS, "12"));
        CliRun started = start.get(20, TimeUnit.SECONDS);
        assertThat(started.exit()).as(started.toString()).isZero();
        assertThat(started.outLines().getLast()).startsWith("migration " + id + " waits in reverse-dual-write")
                .contains("'shardgate reshard complete'", "'shardgate reshard rollback'");

        CompletableFuture<CliRun> rollback = CompletableFuture.supplyAsync(() -> run(c, "reshard", "rollback", "--wait"));
        awaitRequest(c, id, "rollback");
        workerWrites(c, id, Status.ROLLING_BACK, Map.of(Migrations.REQUEST, ""));
        workerWrites(c, id, Status.ROLLED_BACK);
        CliRun r = rollback.get(20, TimeUnit.SECONDS);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.outLines().getLast()).isEqualTo("rollback carried out: " + id + " rolled-back");
    }

    @Test
    void aWaitEndsWithAnErrorWhenTheMigrationFails() throws Exception {
        String c = exampleCluster();
        CompletableFuture<CliRun> start = CompletableFuture.supplyAsync(() -> run(c, "reshard", "start", "--slots", "0-9", "--to", "s2", "--wait"));
        String id = awaitMigrations(c, 1).getFirst().id();
        workerWrites(c, id, Status.FAILED, Map.of(Migrations.LAST_ERROR, "verify: 3 rows differ after 5 passes"));
        assertOneErrorLine(start.get(20, TimeUnit.SECONDS), 1,
                "migration " + id + " failed: verify: 3 rows differ after 5 passes; 'shardgate reshard abort --id " + id + "' undoes it");
    }

    @Test
    void statusWatchPrintsALinePerChangeUntilTheBatchSettles() throws Exception {
        String c = exampleCluster();
        assertThat(run(c, "reshard", "start", "--slots", "0-9", "--to", "s2").exit()).isZero();
        String id = migrations(c).getFirst().id();
        CompletableFuture<CliRun> watch = CompletableFuture.supplyAsync(() -> run(c, "reshard", "status", "--watch"));
        Thread.sleep(2 * MigrationFollower.POLL.toMillis());
        workerWrites(c, id, Status.DUAL_WRITE, Map.of(Migrations.WORKER, "w-1"));
        Thread.sleep(2 * MigrationFollower.POLL.toMillis());
        workerWrites(c, id, Status.DONE);
        CliRun r = watch.get(20, TimeUnit.SECONDS);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).doesNotContain("\u001b[");
        assertThat(r.outLines()).anySatisfy(l -> assertThat(l).matches("\\d\\d:\\d\\d:\\d\\d  " + id + "  done .*"));
        assertThat(r.outLines().getLast()).isEqualTo("migration " + id + " is done");
    }

    private static List<MigrationRecord> awaitMigrations(String cluster, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            List<MigrationRecord> records = migrations(cluster);
            if (records.size() == count) {
                return records;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no " + count + " migrations in " + cluster + " within 20 s");
    }

    private static void awaitRequest(String cluster, String id, String request) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (request.equals(migrations(cluster).stream().filter(r -> r.id().equals(id)).findFirst().orElseThrow()
                    .details().get(Migrations.REQUEST))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no request " + request + " on " + id + " within 20 s");
    }
}

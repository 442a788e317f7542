package io.shardgate.migrator;

import static io.shardgate.migrator.TestCluster.MOVING;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.migrator.Migrations.Status;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.ProxyInfo;
import io.shardgate.state.memory.InMemoryClusterStore;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The worker on a real MariaDB (two databases as two shards) and the in-memory store. */
class MigrationWorkerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aFullMoveCopiesExactlyTheMovingRowsThenCleansTheSource() throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            var before = c.snapshot();
            c.newMigration("m1", Map.of());

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("m1", Status.DONE, WAIT);
            }

            var after = c.snapshot();
            for (String table : TestCluster.KEYS.keySet()) {
                assertThat(before.get("s0." + table).get(true)).as("%s has moving rows to move", table).isNotEmpty();
                assertThat(after.get("s0." + table).get(true)).as("s0.%s moving rows after cleanup", table).isEmpty();
                assertThat(after.get("s0." + table).get(false)).as("s0.%s other rows", table)
                        .isEqualTo(before.get("s0." + table).get(false));
                assertThat(after.get("s1." + table).get(true)).as("s1.%s moved rows", table)
                        .isEqualTo(before.get("s0." + table).get(true));
                assertThat(after.get("s1." + table).get(false)).as("s1.%s own rows", table)
                        .isEqualTo(before.get("s1." + table).get(false));
            }
            TestCluster.assertMapSettled(c.store.readSlotMap().value(), "s1");
            MigrationRecord r = c.record("m1");
            assertThat(r.details()).containsEntry(Migrations.TABLES_CREATED, "tags")
                    .containsKeys(Migrations.LAST_PAUSE_MILLIS, Migrations.PAUSE_HISTORY_MILLIS, Migrations.ROWS_TOTAL + "users")
                    .containsEntry(Migrations.ROWS_COPIED + "users", Integer.toString(before.get("s0.users").get(true).size()))
                    .containsEntry(Migrations.ROWS_COPIED + "orders", Integer.toString(before.get("s0.orders").get(true).size()))
                    .containsEntry(Migrations.ROWS_REPAIRED, "0")
                    .containsEntry(Migrations.VERIFY_PASSES, "1")
                    .containsEntry(Migrations.CUTOVER_ATTEMPTS, "1")
                    .doesNotContainKey(Migrations.LAST_ERROR);
            assertThat(r.checkpoints()).containsKeys(Migrations.BACKFILL_CHECKPOINT + "orders", Migrations.CLEANUP_CHECKPOINT + "tags");
        }
    }

    @Test
    void verifyRepairsChangedMissingAndExtraRowsAndWaitsForCompletion() throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            c.copyMovingRowsToTarget();
            var source = c.snapshot();
            String changed = firstId(source.get("s0.users").get(true));
            String missing = firstId(source.get("s0.orders").get(true));
            c.exec(c.db1, "UPDATE users SET name = 'stale' WHERE id = " + changed,
                    "DELETE FROM orders WHERE user_id = " + missing + " AND order_no = 2",
                    "INSERT INTO tags VALUES ('" + extraTag() + "', X'00')");
            c.migrationIn("m1", Status.VERIFY, Map.of(), Map.of(Migrations.AUTO_COMPLETE, "false"));

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                TestCluster.await(WAIT, () -> "cutover of m1: " + c.record("m1"),
                        () -> "true".equals(c.record("m1").checkpoints().get(Migrations.REVERSE_ACKED)));
                assertThat(c.status("m1")).isEqualTo(Status.REVERSE_DUAL_WRITE);
                assertThat(c.record("m1").details()).containsEntry(Migrations.ROWS_REPAIRED, "3");
                for (String table : TestCluster.KEYS.keySet()) {
                    assertThat(c.rows(c.db1, table).get(true)).as("s1.%s after verify", table)
                            .isEqualTo(source.get("s0." + table).get(true));
                }
                assertThat(c.rows(c.db0, "users").get(true)).as("source untouched until complete")
                        .isEqualTo(source.get("s0.users").get(true));

                c.request("m1", Migrations.Request.COMPLETE);
                c.awaitStatus("m1", Status.DONE, WAIT);
            }
            assertThat(c.rows(c.db0, "users").get(true)).isEmpty();
            TestCluster.assertMapSettled(c.store.readSlotMap().value(), "s1");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Status.class, names = {"DUAL_WRITE", "BACKFILL", "VERIFY", "CUTOVER_PAUSE", "REVERSE_DUAL_WRITE"})
    void abortInAnyPhaseKeepsTheSourceAndEmptiesTheTargetOfTheMovingSlots(Status phase) throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            c.copyMovingRowsToTarget();
            var before = c.snapshot();
            Map<String, String> checkpoints = phase == Status.REVERSE_DUAL_WRITE ? Map.of(Migrations.REVERSE_ACKED, "true") : Map.of();
            c.migrationIn("m1", phase, checkpoints, Map.of(Migrations.REQUEST, "abort"));

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("m1", Status.ABORTED, WAIT);
            }

            var after = c.snapshot();
            for (String table : TestCluster.KEYS.keySet()) {
                assertThat(after.get("s0." + table)).as("s0.%s", table).isEqualTo(before.get("s0." + table));
                assertThat(after.get("s1." + table).get(true)).as("s1.%s copies", table).isEmpty();
                assertThat(after.get("s1." + table).get(false)).as("s1.%s own rows", table).isEqualTo(before.get("s1." + table).get(false));
            }
            TestCluster.assertMapSettled(c.store.readSlotMap().value(), "s0");
        }
    }

    @Test
    void rollbackAfterTheCutoverGivesTheSlotsBackToTheSource() throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            c.newMigration("m1", Map.of(Migrations.AUTO_COMPLETE, "false"));
            var before = c.snapshot();

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                TestCluster.await(WAIT, () -> "cutover of m1: " + c.record("m1"),
                        () -> "true".equals(c.record("m1").checkpoints().get(Migrations.REVERSE_ACKED)));
                assertThat(c.store.readSlotMap().value().owner(MOVING.getFirst())).isEqualTo("s1");
                c.request("m1", Migrations.Request.ROLLBACK);
                c.awaitStatus("m1", Status.ROLLED_BACK, WAIT);
            }

            assertThat(c.snapshot()).isEqualTo(before);
            TestCluster.assertMapSettled(c.store.readSlotMap().value(), "s0");
        }
    }

    @Test
    void aWorkerClosedMidBackfillIsResumedFromItsCheckpointWithAnExactResult() throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            var before = c.snapshot();
            c.newMigration("m1", Map.of(Migrations.ROWS_PER_SECOND_LIMIT, "80", Migrations.CHUNK_ROWS, "10"));

            try (MigrationWorker first = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                TestCluster.await(WAIT, () -> "a backfill checkpoint of m1: " + c.record("m1"),
                        () -> c.record("m1").checkpoints().keySet().stream().anyMatch(k -> k.startsWith(Migrations.BACKFILL_CHECKPOINT)));
            }
            MigrationRecord stopped = c.record("m1");
            assertThat(Migrations.Status.of(stopped)).isEqualTo(Status.BACKFILL);
            assertThat(stopped.details()).containsEntry(Migrations.WORKER, "w1");

            try (MigrationWorker second = MigrationWorker.start(c.store, TestCluster.settings("w2"))) {
                c.awaitStatus("m1", Status.DONE, WAIT);
            }

            var after = c.snapshot();
            for (String table : TestCluster.KEYS.keySet()) {
                assertThat(after.get("s1." + table).get(true)).as("s1.%s", table).isEqualTo(before.get("s0." + table).get(true));
                assertThat(after.get("s0." + table).get(true)).as("s0.%s", table).isEmpty();
            }
            assertThat(c.record("m1").details()).containsEntry(Migrations.WORKER, "w2");
        }
    }

    @Test
    void anAbortRequestedDuringTheBackfillStopsItBetweenChunks() throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            var before = c.snapshot();
            c.newMigration("m1", Map.of(Migrations.ROWS_PER_SECOND_LIMIT, "60", Migrations.CHUNK_ROWS, "10"));

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("m1", Status.BACKFILL, WAIT);
                c.request("m1", Migrations.Request.ABORT);
                c.awaitStatus("m1", Status.ABORTED, WAIT);
            }

            var after = c.snapshot();
            for (String table : TestCluster.KEYS.keySet()) {
                assertThat(after.get("s0." + table)).isEqualTo(before.get("s0." + table));
                assertThat(after.get("s1." + table).get(true)).isEmpty();
            }
        }
    }

    @Test
    void aTableWithoutPrimaryKeyFailsThePreflightNamingItAndPublishesNothing() throws Exception {
        try (TestCluster c = TestCluster.seeded("  - {name: events, kind: sharded, key: user_id, key-type: int}\n"
                + "  - {name: audit, kind: sharded, key: user_id, key-type: int}\n")) {
            c.exec(c.db0, "CREATE TABLE events (user_id BIGINT, what VARCHAR(20))",
                    "CREATE TABLE audit (user_id BIGINT, at INT)");
            long epoch = c.store.readSlotMap().value().epoch();
            c.newMigration("m1", Map.of());

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("m1", Status.FAILED, WAIT);
            }

            assertThat(c.record("m1").details().get(Migrations.LAST_ERROR))
                    .contains("tables without a primary key on source shard s0: audit, events");
            assertThat(c.store.readSlotMap().value().epoch()).isEqualTo(epoch);
            assertThat(c.store.readSlotMap().value().movingSlots()).isEmpty();
        }
    }

    @Test
    void aProxyThatNeverAcknowledgesThePauseSendsTheCutoverBackToVerify() throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            InMemoryClusterStore proxySession = (InMemoryClusterStore) c.newSession();
            proxySession.registerProxy(new ProxyInfo("p-stuck", "127.0.0.1:1", 0, 1L));
            // acknowledges every epoch except one that pauses the moving slots
            proxySession.watch(() -> {
                var map = proxySession.readSlotMap().value();
                boolean paused = map.movingSlots().values().stream().anyMatch(m -> m.phase() == MigrationPhase.CUTOVER_PAUSE);
                if (!paused) {
                    proxySession.updateProxyEpoch("p-stuck", map.epoch());
                }
            });
            c.newMigration("m1", Map.of());
            WorkerSettings settings = TestCluster.settings("w1").withBarrierTimeout(Duration.ofMillis(700))
                    .withCutoverRetryBackoff(Duration.ofMinutes(5));

            try (MigrationWorker worker = MigrationWorker.start(c.store, settings)) {
                TestCluster.await(WAIT, () -> "a failed cutover of m1: " + c.record("m1"),
                        () -> c.record("m1").details().containsKey(Migrations.LAST_ERROR) && c.status("m1") == Status.VERIFY);
                MigrationRecord r = c.record("m1");
                assertThat(r.details().get(Migrations.LAST_ERROR)).contains("CUTOVER_PAUSE").contains("p-stuck")
                        .contains("timed out");
                assertThat(r.details()).containsEntry(Migrations.CUTOVER_ATTEMPTS, "1");
                TestCluster.await(WAIT, () -> "slot map back in VERIFY", () -> c.store.readSlotMap().value().moving(MOVING.getFirst())
                        .map(MovingSlot::phase).orElse(null) == MigrationPhase.VERIFY);
                assertThat(c.store.readSlotMap().value().owner(MOVING.getFirst())).isEqualTo("s0");
            }
        }
    }

    @Test
    void aProxyLostAfterTheVerifyPassMakesTheWorkerVerifyAgainBeforeTheCutover() throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            c.copyMovingRowsToTarget();
            c.migrationIn("m1", Status.VERIFY, Map.of(Migrations.VERIFY_DONE, "true",
                    Migrations.VERIFY_PROXIES, "p-gone@1"), Map.of());

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("m1", Status.DONE, WAIT);
            }

            assertThat(c.record("m1").details()).containsEntry(Migrations.VERIFY_PASSES, "1");
        }
    }

    @Test
    void aProxyThatCameBackAfterBeingCutOffMakesTheWorkerVerifyAgain() throws Exception {
        try (TestCluster c = TestCluster.seeded()) {
            c.copyMovingRowsToTarget();
            // the pass started at t=5000 without p-back, which had started at t=1 and was cut off then
            c.migrationIn("m1", Status.VERIFY, Map.of(Migrations.VERIFY_DONE, "true",
                    Migrations.VERIFY_PROXIES, "5000;"), Map.of());
            c.store.registerProxy(new io.shardgate.state.ProxyInfo("p-back", "127.0.0.1:1", 0, 1));
            c.store.unregisterProxy("p-back");
            c.store.registerProxy(new io.shardgate.state.ProxyInfo("p-back", "127.0.0.1:1", Long.MAX_VALUE / 2, 1));

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("m1", Status.DONE, WAIT);
            }

            assertThat(c.record("m1").details()).containsEntry(Migrations.VERIFY_PASSES, "1");
        }
    }

    private static String firstId(Set<String> rows) {
        return rows.iterator().next().split("\\|")[0];
    }

    /** A tag in the moving slots that the source does not have. */
    private static String extraTag() {
        for (int i = 1000; ; i++) {
            if (MOVING.contains(TestCluster.slot(io.shardgate.cluster.KeyType.STRING, "tag-" + i))) {
                return "tag-" + i;
            }
        }
    }
}

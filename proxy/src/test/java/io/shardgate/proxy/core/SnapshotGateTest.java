package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.TableSharding;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The gate's holds: statements (every epoch waits for them), client transactions holding dual-write copies (only an epoch
 * that starts a cleanup waits for them, so that a cutover cannot deadlock on a transaction whose next write it holds), and
 * client transactions that wrote rows on a shard before slots start moving from it (only the epoch that starts the move
 * waits for them).
 */
class SnapshotGateTest {
    private static final ClusterDefinition CLUSTER = ClusterDefinitionCodec.parseYaml("""
            dialect: mysql
            slots: 64
            shards:
              - {name: s0, url: 'jdbc:mysql://127.0.0.1:3306/app', user: app, password: secret}
              - {name: s1, url: 'jdbc:mysql://127.0.0.1:3307/app', user: app, password: secret}
            tables:
              - {name: accounts, kind: sharded, key: id, key-type: int}
            """, "test");
    private static final SlotMap SETTLED = SlotMap.initial(64, List.of("s0"));
    private static final List<Integer> MOVING = List.of(0, 1, 2, 3);
    private static final Duration SHORT = Duration.ofMillis(200);
    private static final Duration LONG = Duration.ofSeconds(10);

    private final SnapshotGate gate = new SnapshotGate();
    private long epoch;

    /** The next epoch, with the moving slots in {@code phase} (null: not moving). */
    private RoutingSnapshot next(MigrationPhase phase) {
        epoch++;
        SlotMap map = phase == null ? SETTLED.withEpoch(epoch)
                : SETTLED.withMoving(epoch, MOVING, new MovingSlot("m1", phase, "s0", "s1"));
        return new RoutingSnapshot(CLUSTER, map);
    }

    /**
     * The next epoch, with the slots owned by s1 and the table sharding of items, single on s0 until now, moving the
     * moving slots in {@code phase} (null: its rows of every slot still at home).
     */
    private RoutingSnapshot nextInTableSharding(MigrationPhase phase) {
        epoch++;
        TableSharding sharding = new TableSharding(List.of("items"), "s0", java.util.Set.of(4, 5), Map.of());
        if (phase != null) {
            sharding = sharding.withMoving(MOVING, new MovingSlot("t-items-s1", phase, "s0", "s1"));
        }
        return new RoutingSnapshot(CLUSTER, SlotMap.initial(64, List.of("s1")).withTableSharding(epoch, sharding));
    }

    /** A session's transaction that wrote rows on {@code shards} with the current snapshot; its statement has ended. */
    private SnapshotGate.TransactionHold transactionThatWrote(String session, String... shards) {
        SnapshotGate.TransactionHold hold = gate.transactionHold(session);
        try (SnapshotGate.Ticket ticket = gate.enter().orElseThrow()) {
            hold.wrote(ticket, List.of(shards));
        }
        return hold;
    }

    /** A session's transaction that made a dual write with the current snapshot; its statement has ended. */
    private SnapshotGate.TransactionHold transactionWithCopies(String session) {
        SnapshotGate.TransactionHold hold = gate.transactionHold(session);
        dualWrite(hold);
        return hold;
    }

    /** One more dual write of the transaction {@code hold}, with the current snapshot. */
    private void dualWrite(SnapshotGate.TransactionHold hold) {
        try (SnapshotGate.Ticket ticket = gate.enter().orElseThrow()) {
            hold.wrote(ticket, List.of("s0"));
            hold.copied(ticket);
        }
    }

    @Test
    void anEpochWaitsForStatementsRoutedWithAnOlderSnapshot() throws Exception {
        gate.advance(next(null), SHORT);
        SnapshotGate.Ticket running = gate.enter().orElseThrow();
        RoutingSnapshot dualWrite = next(MigrationPhase.DUAL_WRITE);

        assertThatThrownBy(() -> gate.advance(dualWrite, SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("1 statement(s) routed with epoch 1").hasMessageContaining("epoch 2 is not acknowledged")
                .hasMessageNotContaining("transaction");
        assertThat(gate.current()).contains(dualWrite);
        CompletableFuture<Void> retried = CompletableFuture.runAsync(() -> advance(dualWrite, LONG));
        Thread.sleep(100);
        assertThat(retried).as("a retried acknowledgement of the same epoch waits too").isNotDone();
        running.close();
        retried.get(5, TimeUnit.SECONDS);
    }

    @Test
    void cleanupWaitsForTransactionsHoldingCopiesUntilTheyEnd() throws Exception {
        gate.advance(next(MigrationPhase.REVERSE_DUAL_WRITE), SHORT);
        SnapshotGate.TransactionHold open = transactionWithCopies("connection 7");
        SnapshotGate.TransactionHold committed = transactionWithCopies("connection 8");
        committed.release();
        RoutingSnapshot cleanup = next(MigrationPhase.CLEANUP);

        assertThatThrownBy(() -> gate.advance(cleanup, SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("0 statement(s)")
                .hasMessageContaining("1 client transaction(s) holding uncommitted dual-write copies")
                .hasMessageContaining("sessions connection 7)").hasMessageNotContaining("connection 8")
                .hasMessageContaining("epoch 2 is not acknowledged");

        CompletableFuture<Void> retried = CompletableFuture.runAsync(() -> advance(cleanup, LONG));
        Thread.sleep(100);
        assertThat(retried).isNotDone();
        open.release(); // COMMIT, ROLLBACK or the session's end
        retried.get(5, TimeUnit.SECONDS);
        open.release(); // idempotent
    }

    @Test
    void abortCleanupWaitsForTransactionsHoldingForwardCopies() throws Exception {
        gate.advance(next(MigrationPhase.BACKFILL), SHORT);
        SnapshotGate.TransactionHold open = transactionWithCopies("connection 3");

        assertThatThrownBy(() -> gate.advance(next(MigrationPhase.ABORT_CLEANUP), SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("1 client transaction(s)").hasMessageContaining("connection 3");
        open.release();
        gate.advance(gate.current().orElseThrow(), SHORT);
    }

    /**
     * The deadlock the rule avoids: a transaction copies in VERIFY, then its next write to a moving slot is held by the
     * cutover pause until the release epoch. Neither the pause nor the release may wait for the transaction.
     */
    @Test
    void theCutoverDoesNotWaitForTransactionsHoldingCopies() throws Exception {
        gate.advance(next(MigrationPhase.VERIFY), SHORT);
        SnapshotGate.TransactionHold transaction = transactionWithCopies("connection 5");

        RoutingSnapshot pause = next(MigrationPhase.CUTOVER_PAUSE);
        gate.advance(pause, SHORT);
        CompletableFuture<Boolean> heldWrite = CompletableFuture.supplyAsync(() -> awaitNewerThan(pause.epoch()));
        Thread.sleep(100);
        assertThat(heldWrite).isNotDone();
        gate.advance(next(MigrationPhase.REVERSE_DUAL_WRITE), SHORT);
        assertThat(heldWrite.get(5, TimeUnit.SECONDS)).as("the held write is released").isTrue();

        // the transaction goes on (a reverse dual write) and is still open when the cleanup begins
        dualWrite(transaction);
        assertThatThrownBy(() -> gate.advance(next(MigrationPhase.CLEANUP), SHORT)).isInstanceOf(TimeoutException.class);
        transaction.release();
        gate.advance(gate.current().orElseThrow(), SHORT);
    }

    @Test
    void aCleanupThatDidNotDrainIsOwedByLaterEpochs() throws Exception {
        gate.advance(next(MigrationPhase.REVERSE_DUAL_WRITE), SHORT);
        SnapshotGate.TransactionHold open = transactionWithCopies("connection 9");
        assertThatThrownBy(() -> gate.advance(next(MigrationPhase.CLEANUP), SHORT)).isInstanceOf(TimeoutException.class);

        // acknowledging a later epoch would acknowledge the cleanup's too
        RoutingSnapshot later = next(MigrationPhase.CLEANUP);
        assertThatThrownBy(() -> gate.advance(later, SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("connection 9");
        open.release();
        gate.advance(later, SHORT);

        // owed no more: an epoch that starts no cleanup ignores copies again
        gate.advance(next(MigrationPhase.DUAL_WRITE), SHORT);
        SnapshotGate.TransactionHold another = transactionWithCopies("connection 10");
        gate.advance(next(MigrationPhase.BACKFILL), SHORT);
        another.release();
    }

    @Test
    void copiesOfSeveralEpochsAreAllReleasedAtTheTransactionsEnd() throws Exception {
        gate.advance(next(MigrationPhase.DUAL_WRITE), SHORT);
        SnapshotGate.TransactionHold hold = gate.transactionHold("connection 4");
        for (MigrationPhase phase : List.of(MigrationPhase.BACKFILL, MigrationPhase.VERIFY)) {
            try (SnapshotGate.Ticket ticket = gate.enter().orElseThrow()) {
                hold.copied(ticket);
                hold.copied(ticket); // a second dual write with the same snapshot holds it once
            }
            gate.advance(next(phase), SHORT);
        }
        assertThatThrownBy(() -> gate.advance(next(MigrationPhase.ABORT_CLEANUP), SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("1 client transaction(s)");
        hold.release();
        gate.advance(gate.current().orElseThrow(), SHORT);
    }

    @Test
    void copiesAreHeldOnlyWhileTheirStatementHoldsTheSnapshot() throws Exception {
        gate.advance(next(MigrationPhase.DUAL_WRITE), SHORT);
        SnapshotGate.Ticket ticket = gate.enter().orElseThrow();
        ticket.close();

        assertThatThrownBy(() -> gate.transactionHold("connection 1").copied(ticket)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anEpochThatAlreadyShowsTheCleanupStartsNone() {
        SlotMap rdw = SETTLED.withMoving(1, MOVING, new MovingSlot("m1", MigrationPhase.REVERSE_DUAL_WRITE, "s0", "s1"));
        SlotMap cleanup = rdw.withMoving(2, MOVING, new MovingSlot("m1", MigrationPhase.CLEANUP, "s0", "s1"));
        SlotMap abort = SETTLED.withMoving(2, MOVING, new MovingSlot("m1", MigrationPhase.ABORT_CLEANUP, "s0", "s1"));

        assertThat(CleanupStart.between(rdw, cleanup)).isTrue();
        assertThat(CleanupStart.between(SETTLED, abort)).isTrue();
        assertThat(CleanupStart.between(cleanup, cleanup.withEpoch(3))).isFalse();
        assertThat(CleanupStart.between(cleanup, cleanup.withOwner(3, MOVING, "s1"))).as("the end of the move").isFalse();
        assertThat(CleanupStart.between(SETTLED, rdw)).isFalse();
        assertThat(CleanupStart.between(rdw, rdw.withMoving(2, MOVING, new MovingSlot("m1", MigrationPhase.CUTOVER_PAUSE, "s0", "s1"))))
                .isFalse();
    }

    // ---- transactions that wrote before a move started

    /**
     * The lost write the rule closes: a transaction inserts a row of a slot before it moves (no copy: nothing moves yet)
     * and stays open; the backfill and the verify cannot see the uncommitted row. The epoch that starts the move waits for
     * it, and only for transactions that wrote on the move's source.
     */
    @Test
    void aMoveStartWaitsForTransactionsThatWroteOnItsSourceBefore() throws Exception {
        gate.advance(next(null), SHORT);
        SnapshotGate.TransactionHold onSource = transactionThatWrote("connection 7", "s0");
        SnapshotGate.TransactionHold elsewhere = transactionThatWrote("connection 8", "s1");
        SnapshotGate.TransactionHold reader = gate.transactionHold("connection 9"); // read only: records nothing
        try (SnapshotGate.Ticket read = gate.enter().orElseThrow()) {
            assertThat(read.snapshot().epoch()).isEqualTo(1);
        }
        RoutingSnapshot dualWrite = next(MigrationPhase.DUAL_WRITE);

        assertThatThrownBy(() -> gate.advance(dualWrite, SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("0 statement(s)")
                .hasMessageContaining("1 client transaction(s) open that wrote rows on s0 with a slot map older than epoch 2")
                .hasMessageContaining("sessions connection 7)").hasMessageNotContaining("connection 8")
                .hasMessageNotContaining("connection 9").hasMessageNotContaining("copies made before a cleanup")
                .hasMessageContaining("epoch 2 is not acknowledged");

        CompletableFuture<Void> retried = CompletableFuture.runAsync(() -> advance(dualWrite, LONG));
        Thread.sleep(100);
        assertThat(retried).as("a retried acknowledgement of the move's start waits too").isNotDone();
        // the transaction goes on meanwhile: its next write routes with the new snapshot (a dual write) and is not held
        dualWrite(onSource);
        assertThat(retried).isNotDone();
        onSource.release(); // COMMIT, ROLLBACK or the session's end
        retried.get(5, TimeUnit.SECONDS);
        onSource.release(); // idempotent
        elsewhere.release();
        reader.release();
    }

    @Test
    void writesWithTheMovesSnapshotDoNotHoldItsStart() throws Exception {
        gate.advance(next(null), SHORT);
        SnapshotGate.TransactionHold before = transactionThatWrote("connection 1", "s0");
        RoutingSnapshot dualWrite = next(MigrationPhase.DUAL_WRITE);
        assertThatThrownBy(() -> gate.advance(dualWrite, SHORT)).isInstanceOf(TimeoutException.class);

        SnapshotGate.TransactionHold copying = gate.transactionHold("connection 2");
        dualWrite(copying); // routed with the move's epoch: its copies reach the target in its own transaction
        before.release();
        gate.advance(dualWrite, SHORT);
        gate.advance(next(MigrationPhase.BACKFILL), SHORT);
        copying.release();
    }

    @Test
    void aMoveStartThatDidNotDrainIsOwedByLaterEpochs() throws Exception {
        gate.advance(next(null), SHORT);
        SnapshotGate.TransactionHold open = transactionThatWrote("connection 3", "s0");
        assertThatThrownBy(() -> gate.advance(next(MigrationPhase.DUAL_WRITE), SHORT)).isInstanceOf(TimeoutException.class);

        // acknowledging a later epoch would acknowledge the move's start too
        RoutingSnapshot backfill = next(MigrationPhase.BACKFILL);
        assertThatThrownBy(() -> gate.advance(backfill, SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("connection 3");
        open.release();
        gate.advance(backfill, SHORT);

        // owed no more: a transaction that wrote on the source with the move's snapshots holds no later epoch
        SnapshotGate.TransactionHold during = transactionThatWrote("connection 4", "s0");
        gate.advance(next(MigrationPhase.VERIFY), SHORT);
        during.release();
    }

    /**
     * The cutover must not wait for transactions that wrote: one that wrote during the dual writes may have its next write
     * held by the pause until the release epoch.
     */
    @Test
    void theCutoverDoesNotWaitForTransactionsThatWrote() throws Exception {
        gate.advance(next(null), SHORT);
        gate.advance(next(MigrationPhase.DUAL_WRITE), SHORT);
        SnapshotGate.TransactionHold transaction = transactionThatWrote("connection 5", "s0", "s1");
        gate.advance(next(MigrationPhase.VERIFY), SHORT);
        gate.advance(next(MigrationPhase.CUTOVER_PAUSE), SHORT);
        gate.advance(next(MigrationPhase.REVERSE_DUAL_WRITE), SHORT);
        transaction.release();
    }

    @Test
    void aTableShardingsMoveWaitsForTransactionsThatWroteOnTheHome() throws Exception {
        gate.advance(nextInTableSharding(null), SHORT);
        SnapshotGate.TransactionHold single = transactionThatWrote("connection 6", "s0"); // as single, on the home s0
        RoutingSnapshot dualWrite = nextInTableSharding(MigrationPhase.DUAL_WRITE);

        assertThatThrownBy(() -> gate.advance(dualWrite, SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("wrote rows on s0").hasMessageContaining("connection 6");
        single.release();
        gate.advance(dualWrite, SHORT);
    }

    @Test
    void writesAreRecordedOnlyWhileTheirStatementHoldsTheSnapshot() throws Exception {
        gate.advance(next(null), SHORT);
        SnapshotGate.Ticket ticket = gate.enter().orElseThrow();
        ticket.close();

        assertThatThrownBy(() -> gate.transactionHold("connection 1").wrote(ticket, List.of("s0")))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void anEpochThatStartsAMoveNamesItsSources() {
        MovingSlot dualWrite = new MovingSlot("m1", MigrationPhase.DUAL_WRITE, "s0", "s1");
        SlotMap moving = SETTLED.withMoving(2, MOVING, dualWrite);

        assertThat(MoveStart.sources(SETTLED, moving)).containsExactly("s0");
        assertThat(MoveStart.sources(moving, moving.withMoving(3, MOVING, new MovingSlot("m1", MigrationPhase.BACKFILL, "s0", "s1"))))
                .as("the same move going on").isEmpty();
        assertThat(MoveStart.sources(SETTLED, SETTLED.withMoving(3, MOVING, new MovingSlot("m1", MigrationPhase.BACKFILL, "s0", "s1"))))
                .as("a proxy that did not see DUAL_WRITE").containsExactly("s0");
        assertThat(MoveStart.sources(moving, moving.withMoving(3, MOVING, new MovingSlot("m2", MigrationPhase.DUAL_WRITE, "s0", "s1"))))
                .as("another migration of the same slots").containsExactly("s0");
        assertThat(MoveStart.sources(SETTLED, SETTLED.withMoving(3, MOVING, new MovingSlot("m1", MigrationPhase.CUTOVER_PAUSE, "s0", "s1"))))
                .as("a pause never waits for transactions").isEmpty();
        assertThat(MoveStart.sources(SETTLED, SETTLED.withMoving(3, MOVING, new MovingSlot("m1", MigrationPhase.ABORT_CLEANUP, "s0", "s1"))))
                .isEmpty();
        assertThat(MoveStart.sources(moving, moving.withOwner(3, MOVING, "s1"))).as("the end of the move").isEmpty();
        assertThat(MoveStart.sources(nextInTableSharding(null).slotMap(), nextInTableSharding(MigrationPhase.DUAL_WRITE).slotMap()))
                .as("a table sharding's move").containsExactly("s0");
    }

    private void advance(RoutingSnapshot snapshot, Duration timeout) {
        try {
            gate.advance(snapshot, timeout);
        } catch (TimeoutException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private boolean awaitNewerThan(long epoch) {
        try {
            return gate.awaitNewerThan(epoch, LONG);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}

package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The gate's two holds: statements (every epoch waits for them) and client transactions holding dual-write copies (only
 * an epoch that starts a cleanup waits for them, so that a cutover cannot deadlock on a transaction whose next write it
 * holds).
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

    /** A session's transaction that made a dual write with the current snapshot; its statement has ended. */
    private SnapshotGate.CopyHold transactionWithCopies(String session) {
        SnapshotGate.CopyHold hold = gate.copyHold(session);
        dualWrite(hold);
        return hold;
    }

    /** One more dual write of the transaction {@code hold}, with the current snapshot. */
    private void dualWrite(SnapshotGate.CopyHold hold) {
        try (SnapshotGate.Ticket ticket = gate.enter().orElseThrow()) {
            hold.add(ticket);
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
        SnapshotGate.CopyHold open = transactionWithCopies("connection 7");
        SnapshotGate.CopyHold committed = transactionWithCopies("connection 8");
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
        SnapshotGate.CopyHold open = transactionWithCopies("connection 3");

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
        SnapshotGate.CopyHold transaction = transactionWithCopies("connection 5");

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
        SnapshotGate.CopyHold open = transactionWithCopies("connection 9");
        assertThatThrownBy(() -> gate.advance(next(MigrationPhase.CLEANUP), SHORT)).isInstanceOf(TimeoutException.class);

        // acknowledging a later epoch would acknowledge the cleanup's too
        RoutingSnapshot later = next(MigrationPhase.CLEANUP);
        assertThatThrownBy(() -> gate.advance(later, SHORT)).isInstanceOf(TimeoutException.class)
                .hasMessageContaining("connection 9");
        open.release();
        gate.advance(later, SHORT);

        // owed no more: an epoch that starts no cleanup ignores copies again
        gate.advance(next(MigrationPhase.DUAL_WRITE), SHORT);
        SnapshotGate.CopyHold another = transactionWithCopies("connection 10");
        gate.advance(next(MigrationPhase.BACKFILL), SHORT);
        another.release();
    }

    @Test
    void copiesOfSeveralEpochsAreAllReleasedAtTheTransactionsEnd() throws Exception {
        gate.advance(next(MigrationPhase.DUAL_WRITE), SHORT);
        SnapshotGate.CopyHold hold = gate.copyHold("connection 4");
        for (MigrationPhase phase : List.of(MigrationPhase.BACKFILL, MigrationPhase.VERIFY)) {
            try (SnapshotGate.Ticket ticket = gate.enter().orElseThrow()) {
                hold.add(ticket);
                hold.add(ticket); // a second dual write with the same snapshot holds it once
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

        assertThatThrownBy(() -> gate.copyHold("connection 1").add(ticket)).isInstanceOf(IllegalStateException.class);
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

package io.shardgate.state;

import static io.shardgate.state.StateFixtures.await;
import static io.shardgate.state.StateFixtures.definition;
import static io.shardgate.state.StateFixtures.initialMap;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore.ConnectionState;
import io.shardgate.state.memory.InMemoryClusterStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RoutingSnapshotWatcherTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    private final InMemoryClusterStore store = new InMemoryClusterStore("demo");
    private final ClusterDefinition definition = definition();
    private RoutingSnapshotWatcher watcher;

    @BeforeEach
    void createClusterAndStartWatcher() throws Exception {
        store.createCluster(definition, initialMap(definition), false);
        watcher = RoutingSnapshotWatcher.start(store, "proxy-1", "127.0.0.1:3306");
        watcher.awaitSnapshot(1, WAIT);
    }

    @AfterEach
    void close() {
        watcher.close();
        store.close();
    }

    private long appliedEpoch() {
        return store.liveProxies().stream().filter(p -> p.id().equals("proxy-1")).findFirst().orElseThrow().appliedEpoch();
    }

    @Test
    void slotMapChangeIsSwappedInThenAcknowledged() throws Exception {
        await(WAIT, "epoch 1 acknowledged", () -> appliedEpoch() == 1);
        SlotMap moved = store.readSlotMap().value().withOwner(2, List.of(0, 1), "s1");

        store.casSlotMap(moved, 0);

        RoutingSnapshot snapshot = watcher.awaitSnapshot(2, WAIT);
        assertThat(snapshot.slotMap()).isEqualTo(moved);
        assertThat(snapshot.cluster()).isEqualTo(definition);
        assertThat(watcher.current()).contains(snapshot);
        store.awaitEpoch(2, WAIT);
        assertThat(appliedEpoch()).isEqualTo(2);
    }

    @Test
    void listenersRunBeforeTheEpochIsAcknowledged() throws Exception {
        // the snapshot of epoch 1 is current before its acknowledgement is written: wait for that, or a loaded machine
        // lets the listener below see epoch 0 applied
        await(WAIT, "epoch 1 acknowledged", () -> appliedEpoch() == 1);
        BlockingQueue<Long> appliedWhenNotified = new LinkedBlockingQueue<>();
        watcher.onSnapshot(s -> appliedWhenNotified.add(appliedEpoch()));

        store.casSlotMap(store.readSlotMap().value().withEpoch(2), 0);

        assertThat(appliedWhenNotified.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(1L);
        store.awaitEpoch(2, WAIT);
    }

    @Test
    void failingListenerWithholdsTheAcknowledgement() throws Exception {
        store.awaitEpoch(1, WAIT);
        watcher.onSnapshot(s -> {
            throw new IllegalStateException("cannot drain in-flight writes");
        });

        store.casSlotMap(store.readSlotMap().value().withEpoch(2), 0);

        watcher.awaitSnapshot(2, WAIT);
        assertThatThrownBy(() -> store.awaitEpoch(2, Duration.ofMillis(300)))
                .isInstanceOfSatisfying(BarrierTimeoutException.class,
                        e -> assertThat(e.lagging()).containsEntry("proxy-1", 1L));
    }

    /**
     * A listener that refused an epoch (in-flight work did not end within its drain timeout) is asked again without any
     * change of the store, so the epoch is acknowledged once it accepts: the migrator's retry of the same barrier (its map
     * already published) can then pass.
     */
    @Test
    void aRefusedEpochIsDeliveredAgainUntilTheListenersAcceptIt() throws Exception {
        store.awaitEpoch(1, WAIT);
        java.util.concurrent.atomic.AtomicInteger refusals = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean drained = new java.util.concurrent.atomic.AtomicBoolean();
        watcher.onSnapshot(s -> {
            if (s.epoch() == 2 && !drained.get()) {
                refusals.incrementAndGet();
                throw new IllegalStateException("a transaction still holds dual-write copies");
            }
        });

        store.casSlotMap(store.readSlotMap().value().withEpoch(2), 0);
        StateFixtures.await(WAIT, "the epoch to be refused twice", () -> refusals.get() >= 2);
        assertThat(appliedEpoch()).isEqualTo(1);
        drained.set(true);

        store.awaitEpoch(2, WAIT);
        assertThat(appliedEpoch()).isEqualTo(2);
    }

    @Test
    void olderEpochIsIgnored() throws Exception {
        store.casSlotMap(store.readSlotMap().value().withEpoch(5), 0);
        watcher.awaitSnapshot(5, WAIT);
        BlockingQueue<RoutingSnapshot> changes = new LinkedBlockingQueue<>();
        watcher.onSnapshot(changes::add);
        ClusterDefinition wider = definition(64, 3);

        store.createCluster(wider, initialMap(wider).withEpoch(3), true);
        store.casDefinition(wider, store.readDefinition().version());
        store.casSlotMap(initialMap(wider).withEpoch(6), store.readSlotMap().version());

        List<RoutingSnapshot> seen = awaitEpoch(changes, 6);
        assertThat(seen).extracting(RoutingSnapshot::epoch).as("epoch 3 must never become current").isSorted()
                .doesNotContain(3L);
        assertThat(watcher.current().orElseThrow().cluster()).isEqualTo(wider);
    }

    @Test
    void unusableStateKeepsTheLastGoodSnapshot() throws Exception {
        BlockingQueue<RoutingSnapshot> changes = new LinkedBlockingQueue<>();
        watcher.onSnapshot(changes::add);

        store.casDefinition(definition(128, 2), 0); // 128 slots against a 64-slot map: no snapshot can be built
        store.casSlotMap(store.readSlotMap().value().withEpoch(2), 0);
        store.casDefinition(definition, 1);

        List<RoutingSnapshot> seen = awaitEpoch(changes, 2);
        assertThat(seen).extracting(RoutingSnapshot::cluster).containsOnly(definition);
        assertThat(watcher.current().orElseThrow().epoch()).isEqualTo(2);
    }

    /**
     * Collects snapshots until one with {@code epoch} arrives. A listener added after the first
     * snapshot may still receive that one, so earlier snapshots are returned for inspection.
     */
    private static List<RoutingSnapshot> awaitEpoch(BlockingQueue<RoutingSnapshot> changes, long epoch)
            throws InterruptedException {
        List<RoutingSnapshot> seen = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            RoutingSnapshot next = changes.poll(100, TimeUnit.MILLISECONDS);
            if (next != null) {
                seen.add(next);
                if (next.epoch() == epoch) {
                    return seen;
                }
            }
        }
        throw new AssertionError("no snapshot with epoch " + epoch + " within " + WAIT.toMillis() + " ms; saw " + seen);
    }

    @Test
    void fencedFromSuspensionUntilReReadAfterReconnect() throws Exception {
        await(WAIT, "unfenced after the first read", () -> !watcher.fenced());
        BlockingQueue<ConnectionState> forwarded = new LinkedBlockingQueue<>();
        watcher.onConnectionChange(forwarded::add);

        store.simulateConnectionState(ConnectionState.SUSPENDED);

        assertThat(forwarded.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(ConnectionState.SUSPENDED);
        assertThat(watcher.fenced()).isTrue();

        store.simulateConnectionState(ConnectionState.RECONNECTED);

        assertThat(forwarded.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(ConnectionState.RECONNECTED);
        await(WAIT, "unfenced after the re-read", () -> !watcher.fenced());
    }

    @Test
    void closeUnregistersTheProxyOnce() {
        watcher.close();
        watcher.close();

        assertThat(store.liveProxies()).isEmpty();
    }
}

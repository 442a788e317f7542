package io.shardgate.state;

import static io.shardgate.state.StateFixtures.definition;
import static io.shardgate.state.StateFixtures.hotKeys;
import static io.shardgate.state.StateFixtures.initialMap;
import static io.shardgate.state.StateFixtures.migration;
import static io.shardgate.state.StateFixtures.proxy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.slot.SlotMap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link ClusterStore} must show, run against the in-memory twin and against a
 * real ZooKeeper. A subclass opens stores; each test works on a cluster of its own.
 */
public abstract class ClusterStoreContract {
    /** Generous: the machine running the suite may be loaded. Outcomes are asserted strictly. */
    protected static final Duration WAIT = Duration.ofSeconds(15);
    private static final AtomicInteger CLUSTERS = new AtomicInteger();

    private final List<ClusterStore> opened = new ArrayList<>();
    protected String cluster;
    protected ClusterStore store;

    /**
     * Opens a new client (a new session) of the same backing state as every other store this test
     * opened for {@code clusterName}; closing it ends the session and its ephemeral proxies.
     */
    protected abstract ClusterStore openStore(String clusterName);

    protected final ClusterStore open(String clusterName) {
        ClusterStore opened = openStore(clusterName);
        this.opened.add(opened);
        return opened;
    }

    @BeforeEach
    void openStoreForTest() {
        cluster = "c" + CLUSTERS.incrementAndGet() + "-" + getClass().getSimpleName().toLowerCase();
        store = open(cluster);
    }

    @AfterEach
    void closeStores() {
        opened.forEach(ClusterStore::close);
    }

    private ClusterDefinition created() {
        ClusterDefinition definition = definition();
        store.createCluster(definition, initialMap(definition), false);
        return definition;
    }

    // ---- cluster, definition, slot map

    @Test
    void createThenReadReturnsWhatWasWrittenAtVersionZero() {
        ClusterDefinition definition = definition(128, 3);
        SlotMap map = initialMap(definition).withEpoch(4);

        assertThat(store.clusterExists()).isFalse();
        store.createCluster(definition, map, false);

        assertThat(store.clusterExists()).isTrue();
        assertThat(store.clusterName()).isEqualTo(cluster);
        assertThat(store.readDefinition()).isEqualTo(new Versioned<>(definition, 0));
        assertThat(store.readSlotMap()).isEqualTo(new Versioned<>(map, 0));
    }

    @Test
    void readsAndWritesBeforeCreateAreNotFound() {
        ClusterDefinition definition = definition();
        assertThatThrownBy(store::readDefinition).isInstanceOf(StoreException.NotFound.class).hasMessageContaining(cluster);
        assertThatThrownBy(store::readSlotMap).isInstanceOf(StoreException.NotFound.class).hasMessageContaining(cluster);
        assertThatThrownBy(() -> store.casSlotMap(initialMap(definition).withEpoch(2), 0))
                .isInstanceOf(StoreException.NotFound.class);
        assertThatThrownBy(() -> store.casDefinition(definition, 0)).isInstanceOf(StoreException.NotFound.class);
        assertThatThrownBy(store::listMigrations).isInstanceOf(StoreException.NotFound.class);
        assertThatThrownBy(() -> store.readMigration("m1")).isInstanceOf(StoreException.NotFound.class);
        assertThatThrownBy(() -> store.createMigration(migration("m1", "PLANNED")))
                .isInstanceOf(StoreException.NotFound.class);
    }

    @Test
    void createTwiceIsAlreadyExistsAndKeepsTheFirst() {
        ClusterDefinition first = created();
        ClusterDefinition second = definition(64, 3);

        assertThatThrownBy(() -> store.createCluster(second, initialMap(second), false))
                .isInstanceOf(StoreException.AlreadyExists.class)
                .hasMessageContaining(cluster);
        assertThat(store.readDefinition().value()).isEqualTo(first);
        assertThat(store.readSlotMap().value()).isEqualTo(initialMap(first));
    }

    @Test
    void forceReplacesDefinitionAndMapDeletesMigrationsAndStalesOldVersions() {
        created();
        store.createMigration(migration("m1", "BACKFILL"));
        store.registerProxy(proxy("p1", 1));
        ClusterDefinition replacement = definition(64, 3);
        SlotMap replacementMap = initialMap(replacement).withEpoch(9);

        store.createCluster(replacement, replacementMap, true);

        assertThat(store.readDefinition().value()).isEqualTo(replacement);
        Versioned<SlotMap> map = store.readSlotMap();
        assertThat(map.value()).isEqualTo(replacementMap);
        assertThat(map.version()).isEqualTo(1);
        assertThat(store.listMigrations()).isEmpty();
        assertThat(store.liveProxies()).extracting(ProxyInfo::id).containsExactly("p1");
        assertThatThrownBy(() -> store.casSlotMap(replacementMap.withEpoch(10), 0))
                .isInstanceOf(StoreException.VersionConflict.class);
    }

    @Test
    void casSlotMapBumpsVersionByOne() {
        created();
        Versioned<SlotMap> before = store.readSlotMap();
        SlotMap next = before.value().withOwner(2, List.of(0, 1, 2), "s1");

        int version = store.casSlotMap(next, before.version());

        assertThat(version).isEqualTo(before.version() + 1);
        assertThat(store.readSlotMap()).isEqualTo(new Versioned<>(next, before.version() + 1));
    }

    @Test
    void casSlotMapWithStaleVersionIsVersionConflict() {
        created();
        Versioned<SlotMap> before = store.readSlotMap();
        store.casSlotMap(before.value().withEpoch(2), before.version());

        assertThatThrownBy(() -> store.casSlotMap(before.value().withEpoch(3), before.version()))
                .isInstanceOf(StoreException.VersionConflict.class)
                .hasMessageContaining(cluster);
        assertThat(store.readSlotMap().value().epoch()).isEqualTo(2);
    }

    @Test
    void casSlotMapWithoutGrowingEpochIsVersionConflict() {
        ClusterDefinition definition = definition();
        store.createCluster(definition, initialMap(definition).withEpoch(5), false);
        Versioned<SlotMap> before = store.readSlotMap();

        assertThatThrownBy(() -> store.casSlotMap(before.value().withOwner(5, List.of(0), "s1"), before.version()))
                .isInstanceOf(StoreException.VersionConflict.class)
                .hasMessageContaining("epoch 5");
        assertThatThrownBy(() -> store.casSlotMap(before.value().withEpoch(4), before.version()))
                .isInstanceOf(StoreException.VersionConflict.class);
        assertThat(store.readSlotMap()).isEqualTo(before);
    }

    @Test
    void casDefinitionBumpsVersionAndRefusesStaleVersion() {
        ClusterDefinition definition = created();
        ClusterDefinition changed = definition(64, 3);

        int version = store.casDefinition(changed, 0);

        assertThat(version).isEqualTo(1);
        assertThat(store.readDefinition()).isEqualTo(new Versioned<>(changed, 1));
        assertThatThrownBy(() -> store.casDefinition(definition, 0)).isInstanceOf(StoreException.VersionConflict.class);
        assertThat(store.readDefinition().value()).isEqualTo(changed);
    }

    // ---- migrations

    @Test
    void migrationLifecycle() {
        created();
        MigrationRecord planned = migration("m2", "PLANNED");
        store.createMigration(planned);
        store.createMigration(migration("m1", "DONE"));

        assertThat(store.readMigration("m2")).contains(new Versioned<>(planned, 0));
        MigrationRecord backfill = migration("m2", "BACKFILL");
        assertThat(store.casMigration(backfill, 0)).isEqualTo(1);
        assertThatThrownBy(() -> store.casMigration(migration("m2", "VERIFY"), 0))
                .isInstanceOf(StoreException.VersionConflict.class);
        assertThat(store.readMigration("m2")).contains(new Versioned<>(backfill, 1));
        assertThat(store.listMigrations()).extracting(MigrationRecord::id).containsExactly("m1", "m2");

        store.deleteMigration("m2");

        assertThat(store.readMigration("m2")).isEmpty();
        assertThat(store.listMigrations()).extracting(MigrationRecord::id).containsExactly("m1");
    }

    @Test
    void migrationErrors() {
        created();
        store.createMigration(migration("m1", "PLANNED"));

        assertThatThrownBy(() -> store.createMigration(migration("m1", "BACKFILL")))
                .isInstanceOf(StoreException.AlreadyExists.class)
                .hasMessageContaining("m1");
        assertThat(store.readMigration("m1").map(v -> v.value().phase())).contains("PLANNED");
        assertThat(store.readMigration("unknown")).isEqualTo(Optional.empty());
        assertThatThrownBy(() -> store.casMigration(migration("unknown", "BACKFILL"), 0))
                .isInstanceOf(StoreException.NotFound.class)
                .hasMessageContaining("unknown");
        assertThatThrownBy(() -> store.deleteMigration("unknown")).isInstanceOf(StoreException.NotFound.class);
    }

    // ---- operation documents

    @Test
    void operationDocumentsAreCreatedReplacedByCasAndDeleted() {
        created();
        assertThat(store.readOperation("fold-likes-42")).isEmpty();
        assertThat(store.writeOperation("fold-likes-42", new byte[] {1, 2}, -1)).isZero();
        assertThatThrownBy(() -> store.writeOperation("fold-likes-42", new byte[] {9}, -1))
                .isInstanceOf(StoreException.AlreadyExists.class);
        assertThat(store.writeOperation("fold-likes-42", new byte[] {3}, 0)).isEqualTo(1);
        assertThatThrownBy(() -> store.writeOperation("fold-likes-42", new byte[] {4}, 0))
                .isInstanceOf(StoreException.VersionConflict.class);
        assertThat(store.readOperation("fold-likes-42")).hasValueSatisfying(v -> {
            assertThat(v.value()).containsExactly(3);
            assertThat(v.version()).isEqualTo(1);
        });
        store.deleteOperation("fold-likes-42");
        store.deleteOperation("fold-likes-42");
        assertThat(store.readOperation("fold-likes-42")).isEmpty();
        assertThatThrownBy(() -> store.writeOperation("missing", new byte[] {1}, 0)).isInstanceOf(StoreException.NotFound.class);
    }

    // ---- sequences

    @Test
    void sequencesAreCreatedMovedForwardByCasAndDeleted() {
        created();
        assertThat(store.readSequence("users")).isEmpty();
        assertThat(store.sequences()).isEmpty();
        assertThat(store.writeSequence("users", 1, -1)).isZero();
        assertThatThrownBy(() -> store.writeSequence("users", 5, -1)).isInstanceOf(StoreException.AlreadyExists.class);
        assertThat(store.writeSequence("users", 1001, 0)).isEqualTo(1);
        assertThatThrownBy(() -> store.writeSequence("users", 2001, 0)).isInstanceOf(StoreException.VersionConflict.class);
        assertThatThrownBy(() -> store.writeSequence("users", 500, 1))
                .isInstanceOf(StoreException.VersionConflict.class).hasMessageContaining("never goes back");
        store.writeSequence("orders", 7, -1);
        assertThat(store.readSequence("users")).hasValue(new Versioned<>(1001L, 1));
        assertThat(store.sequences()).containsExactly(Map.entry("orders", 7L), Map.entry("users", 1001L));
        store.deleteSequence("users");
        store.deleteSequence("users");
        assertThat(store.readSequence("users")).isEmpty();
        assertThatThrownBy(() -> store.writeSequence("missing", 1, 0)).isInstanceOf(StoreException.NotFound.class);
    }

    @Test
    void sequenceBlocksHandOutIncreasingIdsThatNoOtherProxyGets() throws Exception {
        created();
        store.writeSequence("users", 1, -1);
        ClusterStore other = open(cluster);
        SequenceBlocks a = new SequenceBlocks(store, 10);
        SequenceBlocks b = new SequenceBlocks(other, 10);
        ConcurrentHashMap<Long, String> seen = new ConcurrentHashMap<>();
        List<String> duplicates = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> increasing = new ArrayList<>();
            for (SequenceBlocks blocks : List.of(a, b, a, b)) {
                increasing.add(pool.submit(() -> {
                    long last = 0;
                    boolean up = true;
                    for (int i = 0; i < 200; i++) {
                        int count = 1 + i % 3;
                        long first = blocks.reserve("users", count);
                        up &= first > last;
                        last = first + count - 1;
                        for (long id = first; id <= last; id++) {
                            if (seen.put(id, Thread.currentThread().getName()) != null) {
                                duplicates.add(Long.toString(id));
                            }
                        }
                    }
                    return up;
                }));
            }
            for (Future<Boolean> f : increasing) {
                assertThat(f.get(WAIT.toSeconds(), TimeUnit.SECONDS)).as("ids increase per thread").isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(duplicates).isEmpty();
        assertThat(seen).hasSize(4 * (200 / 3 * 6 + 1 + 2)); // counts 1,2,3 repeating over 200 reservations
        // a new process (a restarted proxy) starts above every id handed out before
        long after = new SequenceBlocks(open(cluster), 10).reserve("users", 1);
        assertThat(after).isGreaterThan(seen.keySet().stream().mapToLong(Long::longValue).max().orElseThrow());
    }

    @Test
    void sequenceBlocksMovePastExplicitIdsAndTakeRunsLongerThanABlock() {
        created();
        store.writeSequence("users", 100, -1);
        SequenceBlocks blocks = new SequenceBlocks(store, 10);
        assertThat(blocks.reserve("users", 1)).isEqualTo(100);
        blocks.movePast("users", 104);                       // inside the block: skip it
        assertThat(blocks.reserve("users", 1)).isEqualTo(105);
        blocks.movePast("users", 50);                        // below: nothing moves
        assertThat(blocks.reserve("users", 1)).isEqualTo(106);
        blocks.movePast("users", 500);                       // above the block: the cluster sequence moves past it
        assertThat(store.readSequence("users").orElseThrow().value()).isEqualTo(511);
        assertThat(blocks.reserve("users", 1)).isEqualTo(501);
        assertThat(blocks.reserve("users", 25)).as("a run longer than the rest of the block starts a new one").isEqualTo(511);
        assertThat(store.readSequence("users").orElseThrow().value()).isEqualTo(536);
        assertThat(new SequenceBlocks(store, 10).reserve("users", 1)).isEqualTo(536);
        assertThatThrownBy(() -> blocks.reserve("orders", 1)).isInstanceOf(StoreException.NotFound.class)
                .hasMessageContaining("orders has no cluster sequence");
    }

    // ---- proxies and the barrier

    @Test
    void proxiesRegisterUpdateListAndUnregister() {
        created();
        store.registerProxy(proxy("p2", 0));
        store.registerProxy(proxy("p1", 3));

        assertThat(store.liveProxies()).containsExactly(proxy("p1", 3), proxy("p2", 0));

        store.updateProxyEpoch("p2", 7);
        assertThat(store.liveProxies()).containsExactly(proxy("p1", 3), proxy("p2", 7));

        store.unregisterProxy("p1");
        assertThat(store.liveProxies()).containsExactly(proxy("p2", 7));
        assertThatThrownBy(() -> store.unregisterProxy("p1")).isInstanceOf(StoreException.NotFound.class);
        assertThatThrownBy(() -> store.updateProxyEpoch("p1", 8)).isInstanceOf(StoreException.NotFound.class);
    }

    @Test
    void proxiesMayRegisterBeforeTheClusterExists() {
        store.registerProxy(proxy("early", 0));

        assertThat(store.liveProxies()).extracting(ProxyInfo::id).containsExactly("early");
        assertThat(store.clusterExists()).isFalse();
    }

    @Test
    void reRegisteringTheSameIdReplacesTheEntry() {
        store.registerProxy(proxy("p1", 1));
        store.registerProxy(proxy("p1", 4));

        assertThat(store.liveProxies()).containsExactly(proxy("p1", 4));
    }

    @Test
    void proxyOfAClosedSessionDisappearsAndNoLongerHoldsTheBarrier() throws Exception {
        created();
        ClusterStore peer = open(cluster);
        peer.registerProxy(proxy("peer", 1));
        store.registerProxy(proxy("self", 2));
        assertThat(store.liveProxies()).extracting(ProxyInfo::id).containsExactly("peer", "self");
        assertThatThrownBy(() -> store.awaitEpoch(2, Duration.ofMillis(200)))
                .isInstanceOfSatisfying(BarrierTimeoutException.class,
                        e -> assertThat(e.lagging()).isEqualTo(Map.of("peer", 1L)));

        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Future<?> barrier = executor.submit(() -> {
                store.awaitEpoch(2, WAIT);
                return null;
            });

            peer.close();

            barrier.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(store.liveProxies()).extracting(ProxyInfo::id).containsExactly("self");
        } finally {
            executor.shutdownNow();
        }
    }

    // ---- hot-key reports

    @Test
    void hotKeyReportsArePublishedListedByProxyAndReplaced() {
        created();
        assertThat(store.hotKeyReports()).isEmpty();
        store.publishHotKeys(hotKeys("p2", "7", 300));
        store.publishHotKeys(hotKeys("p1", "42", 1000, "7", 20));

        assertThat(store.hotKeyReports()).containsExactly(hotKeys("p1", "42", 1000, "7", 20), hotKeys("p2", "7", 300));

        store.publishHotKeys(hotKeys("p1", "9", 5));
        assertThat(store.hotKeyReports()).containsExactly(hotKeys("p1", "9", 5), hotKeys("p2", "7", 300));
    }

    @Test
    void hotKeysMayBePublishedBeforeTheClusterExistsAndWithdrawn() {
        store.publishHotKeys(hotKeys("early", "1", 10));
        assertThat(store.hotKeyReports()).extracting(HotKeyReport::proxyId).containsExactly("early");

        store.withdrawHotKeys("early");
        store.withdrawHotKeys("never-published");

        assertThat(store.hotKeyReports()).isEmpty();
    }

    @Test
    void hotKeyReportOfAClosedSessionDisappears() throws Exception {
        created();
        ClusterStore peer = open(cluster);
        peer.publishHotKeys(hotKeys("peer", "1", 10));
        store.publishHotKeys(hotKeys("self", "2", 20));
        assertThat(store.hotKeyReports()).extracting(HotKeyReport::proxyId).containsExactly("peer", "self");

        peer.close();

        StateFixtures.await(WAIT, "the closed session's report to vanish",
                () -> store.hotKeyReports().stream().map(HotKeyReport::proxyId).toList().equals(List.of("self")));
    }

    @Test
    void awaitEpochWithoutLiveProxiesReturnsAtOnce() throws Exception {
        created();
        long started = System.nanoTime();

        store.awaitEpoch(42, Duration.ofSeconds(10));

        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void awaitEpochReturnsOnceEveryProxyAcknowledged() throws Exception {
        created();
        store.registerProxy(proxy("p1", 1));
        store.registerProxy(proxy("p2", 1));
        CountDownLatch waiting = new CountDownLatch(1);
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try {
            Future<?> barrier = executor.submit(() -> {
                waiting.countDown();
                store.awaitEpoch(3, WAIT);
                return null;
            });
            assertThat(waiting.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            store.updateProxyEpoch("p1", 3);
            assertThatThrownBy(() -> store.awaitEpoch(3, Duration.ofMillis(200)))
                    .isInstanceOfSatisfying(BarrierTimeoutException.class,
                            e -> assertThat(e.lagging()).isEqualTo(Map.of("p2", 1L)));

            store.updateProxyEpoch("p2", 4);

            barrier.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void awaitEpochTimesOutNamingTheLaggard() {
        created();
        store.registerProxy(proxy("fast", 3));
        store.registerProxy(proxy("slow", 1));
        Duration timeout = Duration.ofMillis(300);
        long started = System.nanoTime();

        assertThatThrownBy(() -> store.awaitEpoch(3, timeout))
                .isInstanceOfSatisfying(BarrierTimeoutException.class, e -> {
                    assertThat(e.epoch()).isEqualTo(3);
                    assertThat(e.lagging()).isEqualTo(Map.of("slow", 1L));
                })
                .hasMessageContaining("slow")
                .hasMessageNotContaining("fast");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(timeout);
    }

    // ---- watches and connection

    @Test
    void watchFiresAtOnceAndAfterSlotMapAndDefinitionChanges() throws Exception {
        created();
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        ClusterStore.Subscription subscription = store.watch(
                () -> seen.add("epoch=" + store.readSlotMap().value().epoch() + " def=" + store.readDefinition().version()));
        try {
            awaitSeen(seen, "epoch=1 def=0");

            store.casSlotMap(store.readSlotMap().value().withEpoch(2), 0);
            awaitSeen(seen, "epoch=2 def=0");

            store.casDefinition(definition(64, 3), 0);
            awaitSeen(seen, "epoch=2 def=1");
        } finally {
            subscription.close();
        }
    }

    @Test
    void watchSeesChangesMadeThroughAnotherSession() throws Exception {
        created();
        ClusterStore other = open(cluster);
        BlockingQueue<String> seen = new LinkedBlockingQueue<>();
        ClusterStore.Subscription subscription = store.watch(
                () -> seen.add("epoch=" + store.readSlotMap().value().epoch()));
        try {
            awaitSeen(seen, "epoch=1");

            other.casSlotMap(other.readSlotMap().value().withEpoch(5), 0);

            awaitSeen(seen, "epoch=5");
        } finally {
            subscription.close();
        }
    }

    private static void awaitSeen(BlockingQueue<String> seen, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<String> got = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            String next = seen.poll(100, TimeUnit.MILLISECONDS);
            if (expected.equals(next)) {
                return;
            }
            if (next != null) {
                got.add(next);
            }
        }
        throw new AssertionError("no notification showing " + expected + " within " + WAIT.toMillis() + " ms; saw " + got);
    }

    @Test
    void connectionListenerHearsConnectedFirst() throws Exception {
        BlockingQueue<ClusterStore.ConnectionState> states = new LinkedBlockingQueue<>();
        ClusterStore.Subscription subscription = store.onConnectionChange(states::add);
        try {
            assertThat(states.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(ClusterStore.ConnectionState.CONNECTED);
        } finally {
            subscription.close();
        }
    }

    // ---- leader election

    @Test
    void firstParticipantLeadsAndTheNextTakesOverWhenItLeaves() throws Exception {
        ClusterStore other = open(cluster);
        Leadership first = store.lead("migrator", "w1");
        assertThat(first.awaitLeadership(WAIT)).isTrue();
        Leadership second = other.lead("migrator", "w2");

        assertThat(second.awaitLeadership(Duration.ofMillis(300))).as("w2 while w1 leads").isFalse();
        assertThat(first.isLeader()).isTrue();
        assertThat(second.currentLeader()).contains("w1");

        first.close();

        assertThat(first.isLeader()).isFalse();
        assertThat(second.awaitLeadership(WAIT)).isTrue();
        assertThat(store.lead("migrator", "w3").awaitLeadership(Duration.ofMillis(300))).as("w3 while w2 leads").isFalse();
        second.close();
    }

    @Test
    void rolesAreElectedIndependently() throws Exception {
        Leadership migrator = store.lead("migrator", "w1");
        Leadership splitter = open(cluster).lead("splitter", "w2");

        assertThat(migrator.awaitLeadership(WAIT)).isTrue();
        assertThat(splitter.awaitLeadership(WAIT)).isTrue();
    }

    @Test
    void endOfTheLeadersSessionElectsTheNext() throws Exception {
        ClusterStore leaderSession = open(cluster);
        Leadership leader = leaderSession.lead("migrator", "w1");
        assertThat(leader.awaitLeadership(WAIT)).isTrue();
        Leadership next = store.lead("migrator", "w2");

        leaderSession.close();

        assertThat(next.awaitLeadership(WAIT)).isTrue();
        assertThat(leader.isLeader()).isFalse();
    }

    @Test
    void awaitingAClosedElectionIsUnavailable() {
        Leadership leadership = store.lead("migrator", "w1");
        leadership.close();
        leadership.close();

        assertThat(leadership.isLeader()).isFalse();
        assertThatThrownBy(() -> leadership.awaitLeadership(Duration.ofMillis(100)))
                .isInstanceOf(StoreException.Unavailable.class).hasMessageContaining("w1");
    }

    // ---- races

    @Test
    void concurrentCasSlotMapHasExactlyOneWinnerPerVersion() throws Exception {
        created();
        int threads = 6;
        int attemptsPerThread = 12;
        Map<Integer, AtomicInteger> winnersByVersion = new ConcurrentHashMap<>();
        AtomicInteger conflicts = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                workers.add(executor.submit(() -> {
                    start.await();
                    for (int i = 0; i < attemptsPerThread; i++) {
                        Versioned<SlotMap> read = store.readSlotMap();
                        try {
                            store.casSlotMap(read.value().withEpoch(read.value().epoch() + 1), read.version());
                            winnersByVersion.computeIfAbsent(read.version(), v -> new AtomicInteger()).incrementAndGet();
                        } catch (StoreException.VersionConflict lost) {
                            conflicts.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> worker : workers) {
                worker.get(60, TimeUnit.SECONDS);
            }
        } finally {
            executor.shutdownNow();
        }

        int wins = winnersByVersion.values().stream().mapToInt(AtomicInteger::get).sum();
        assertThat(winnersByVersion.values()).allSatisfy(w -> assertThat(w.get()).isEqualTo(1));
        assertThat(wins + conflicts.get()).isEqualTo(threads * attemptsPerThread);
        assertThat(wins).isPositive();
        Versioned<SlotMap> last = store.readSlotMap();
        assertThat(last.version()).isEqualTo(wins);
        assertThat(last.value().epoch()).isEqualTo(1 + wins);
    }
}

package io.shardgate.state.memory;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.BarrierTimeoutException;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.HotKeyReport;
import io.shardgate.state.Leadership;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.ProxyInfo;
import io.shardgate.state.StoreException;
import io.shardgate.state.Versioned;
import io.shardgate.state.support.ListenerThread;
import io.shardgate.state.support.Names;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The in-memory twin of the ZooKeeper store, for unit tests and single-process demos. It passes
 * the same contract suite. Each instance is one "session": {@link #newSession()} opens another
 * client of the same state, and closing a session removes the proxies it registered and its
 * leader-election participants, as the end of a ZooKeeper session removes its ephemeral nodes.
 *
 * <p>Node versions start at 0 and grow by one per write, as znode versions do; replacing the
 * cluster with {@code force} overwrites in place, so versions keep growing.
 */
public final class InMemoryClusterStore implements ClusterStore {
    private static final AtomicInteger SUBSCRIPTIONS = new AtomicInteger();

    private final SharedState state;
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
    private final List<ConnectionSubscription> connectionSubscribers = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private record Watcher(ListenerThread thread, Runnable listener) {
        void signal() {
            thread.signal(listener);
        }
    }

    private record ConnectionSubscription(ListenerThread thread, ConnectionListener listener) {}

    private record LiveProxy(ProxyInfo info, InMemoryClusterStore session) {}

    private record LiveReport(HotKeyReport report, InMemoryClusterStore session) {}

    /** Everything the sessions of one cluster share, guarded by one lock. */
    private static final class SharedState {
        final String cluster;
        final ReentrantLock lock = new ReentrantLock();
        final Condition proxiesChanged = lock.newCondition();
        final TreeMap<String, Versioned<MigrationRecord>> migrations = new TreeMap<>();
        final TreeMap<String, Versioned<byte[]>> operations = new TreeMap<>();
        final TreeMap<String, Versioned<Long>> sequences = new TreeMap<>();
        final TreeMap<String, LiveProxy> proxies = new TreeMap<>();
        final TreeMap<String, LiveReport> hotKeys = new TreeMap<>();
        /** Participants per role in joining order; the first is the leader. */
        final Map<String, List<MemoryLeadership>> elections = new java.util.HashMap<>();
        final Condition leadersChanged = lock.newCondition();
        final List<InMemoryClusterStore> sessions = new CopyOnWriteArrayList<>();
        Versioned<ClusterDefinition> definition;
        Versioned<SlotMap> slotMap;

        SharedState(String cluster) {
            this.cluster = Names.requireSegment("cluster name", cluster);
        }
    }

    /** A fresh, empty cluster state and a first session on it. */
    public InMemoryClusterStore(String clusterName) {
        this(new SharedState(clusterName));
    }

    private InMemoryClusterStore(SharedState state) {
        this.state = state;
        state.sessions.add(this);
    }

    /** Another session on the same state, with its own proxies and subscriptions. */
    public InMemoryClusterStore newSession() {
        requireOpen();
        return new InMemoryClusterStore(state);
    }

    @Override
    public String clusterName() {
        return state.cluster;
    }

    @Override
    public boolean clusterExists() {
        return locked(() -> state.definition != null);
    }

    @Override
    public void createCluster(ClusterDefinition definition, SlotMap slotMap, boolean force) {
        Objects.requireNonNull(definition, "definition");
        Objects.requireNonNull(slotMap, "slotMap");
        locked(() -> {
            if (state.definition != null && !force) {
                throw new StoreException.AlreadyExists("cluster " + state.cluster
                        + " already exists (create it with force to replace it)");
            }
            state.definition = next(state.definition, definition);
            state.slotMap = next(state.slotMap, slotMap);
            if (force) {
                state.migrations.clear();
                state.operations.clear();
            }
            return null;
        });
        notifyAllWatchers();
    }

    private static <T> Versioned<T> next(Versioned<T> current, T value) {
        return new Versioned<>(value, current == null ? 0 : current.version() + 1);
    }

    @Override
    public Versioned<ClusterDefinition> readDefinition() {
        return locked(() -> requireCluster().definition);
    }

    @Override
    public int casDefinition(ClusterDefinition definition, int expectedVersion) {
        Objects.requireNonNull(definition, "definition");
        int version = locked(() -> {
            requireVersion("definition", requireCluster().definition.version(), expectedVersion);
            state.definition = next(state.definition, definition);
            return state.definition.version();
        });
        notifyAllWatchers();
        return version;
    }

    @Override
    public Versioned<SlotMap> readSlotMap() {
        return locked(() -> requireCluster().slotMap);
    }

    @Override
    public int casSlotMap(SlotMap slotMap, int expectedVersion) {
        Objects.requireNonNull(slotMap, "slotMap");
        int version = locked(() -> {
            Versioned<SlotMap> current = requireCluster().slotMap;
            requireVersion("slot map", current.version(), expectedVersion);
            if (slotMap.epoch() <= current.value().epoch()) {
                throw new StoreException.VersionConflict("slot map epoch " + slotMap.epoch()
                        + " is not greater than the stored epoch " + current.value().epoch() + " (cluster " + state.cluster + ")");
            }
            state.slotMap = next(current, slotMap);
            return state.slotMap.version();
        });
        notifyAllWatchers();
        return version;
    }

    @Override
    public void createMigration(MigrationRecord record) {
        Objects.requireNonNull(record, "record");
        Names.requireSegment("migration id", record.id());
        locked(() -> {
            requireCluster();
            if (state.migrations.containsKey(record.id())) {
                throw new StoreException.AlreadyExists("migration " + record.id() + " already exists (cluster " + state.cluster + ")");
            }
            state.migrations.put(record.id(), new Versioned<>(record, 0));
            return null;
        });
    }

    @Override
    public Optional<Versioned<MigrationRecord>> readMigration(String id) {
        Names.requireSegment("migration id", id);
        return locked(() -> Optional.ofNullable(requireCluster().migrations.get(id)));
    }

    @Override
    public int casMigration(MigrationRecord record, int expectedVersion) {
        Objects.requireNonNull(record, "record");
        Names.requireSegment("migration id", record.id());
        return locked(() -> {
            Versioned<MigrationRecord> current = requireMigration(record.id());
            requireVersion("migration " + record.id(), current.version(), expectedVersion);
            Versioned<MigrationRecord> updated = next(current, record);
            state.migrations.put(record.id(), updated);
            return updated.version();
        });
    }

    @Override
    public List<MigrationRecord> listMigrations() {
        return locked(() -> requireCluster().migrations.values().stream().map(Versioned::value).toList());
    }

    @Override
    public void deleteMigration(String id) {
        Names.requireSegment("migration id", id);
        locked(() -> {
            requireMigration(id);
            state.migrations.remove(id);
            return null;
        });
    }

    @Override
    public Optional<Versioned<byte[]>> readOperation(String name) {
        Names.requireSegment("operation name", name);
        return locked(() -> Optional.ofNullable(requireCluster().operations.get(name))
                .map(v -> new Versioned<>(v.value().clone(), v.version())));
    }

    @Override
    public int writeOperation(String name, byte[] data, int expectedVersion) {
        Names.requireSegment("operation name", name);
        byte[] copy = data.clone();
        return locked(() -> {
            Versioned<byte[]> current = requireCluster().operations.get(name);
            if (expectedVersion == -1) {
                if (current != null) {
                    throw new StoreException.AlreadyExists("operation " + name + " already exists (cluster " + state.cluster + ")");
                }
                state.operations.put(name, new Versioned<>(copy, 0));
                return 0;
            }
            if (current == null) {
                throw new StoreException.NotFound("operation " + name + " does not exist (cluster " + state.cluster + ")");
            }
            requireVersion("operation " + name, current.version(), expectedVersion);
            state.operations.put(name, new Versioned<>(copy, current.version() + 1));
            return current.version() + 1;
        });
    }

    @Override
    public void deleteOperation(String name) {
        Names.requireSegment("operation name", name);
        locked(() -> requireCluster().operations.remove(name));
    }

    @Override
    public Optional<Versioned<Long>> readSequence(String table) {
        Names.requireSegment("table name", table);
        return locked(() -> Optional.ofNullable(requireCluster().sequences.get(table)));
    }

    @Override
    public int writeSequence(String table, long next, int expectedVersion) {
        Names.requireSegment("table name", table);
        return locked(() -> {
            Versioned<Long> current = requireCluster().sequences.get(table);
            if (expectedVersion == -1) {
                if (current != null) {
                    throw new StoreException.AlreadyExists("sequence of " + table + " already exists (cluster " + state.cluster + ")");
                }
                state.sequences.put(table, new Versioned<>(next, 0));
                return 0;
            }
            if (current == null) {
                throw new StoreException.NotFound("sequence of " + table + " does not exist (cluster " + state.cluster + ")");
            }
            requireVersion("sequence of " + table, current.version(), expectedVersion);
            if (next < current.value()) {
                throw new StoreException.VersionConflict("sequence of " + table + " (cluster " + state.cluster + ") is at "
                        + current.value() + "; it never goes back to " + next);
            }
            state.sequences.put(table, new Versioned<>(next, current.version() + 1));
            return current.version() + 1;
        });
    }

    @Override
    public java.util.SortedMap<String, Long> sequences() {
        return locked(() -> {
            java.util.TreeMap<String, Long> out = new java.util.TreeMap<>();
            requireCluster().sequences.forEach((t, v) -> out.put(t, v.value()));
            return out;
        });
    }

    @Override
    public void deleteSequence(String table) {
        Names.requireSegment("table name", table);
        locked(() -> requireCluster().sequences.remove(table));
    }

    @Override
    public void registerProxy(ProxyInfo proxy) {
        Objects.requireNonNull(proxy, "proxy");
        Names.requireSegment("proxy id", proxy.id());
        locked(() -> {
            state.proxies.put(proxy.id(), new LiveProxy(proxy, this));
            state.proxiesChanged.signalAll();
            return null;
        });
    }

    @Override
    public void updateProxyEpoch(String proxyId, long appliedEpoch) {
        Names.requireSegment("proxy id", proxyId);
        locked(() -> {
            LiveProxy live = state.proxies.get(proxyId);
            if (live == null || live.session() != this) {
                throw new StoreException.NotFound("proxy " + proxyId + " is not registered through this store (cluster "
                        + state.cluster + ")");
            }
            state.proxies.put(proxyId, new LiveProxy(live.info().withAppliedEpoch(appliedEpoch), this));
            state.proxiesChanged.signalAll();
            return null;
        });
    }

    @Override
    public void unregisterProxy(String proxyId) {
        Names.requireSegment("proxy id", proxyId);
        locked(() -> {
            if (state.proxies.remove(proxyId) == null) {
                throw new StoreException.NotFound("proxy " + proxyId + " is not registered (cluster " + state.cluster + ")");
            }
            state.proxiesChanged.signalAll();
            return null;
        });
    }

    @Override
    public List<ProxyInfo> liveProxies() {
        return locked(() -> state.proxies.values().stream().map(LiveProxy::info).toList());
    }

    @Override
    public void publishHotKeys(HotKeyReport report) {
        Objects.requireNonNull(report, "report");
        Names.requireSegment("proxy id", report.proxyId());
        locked(() -> state.hotKeys.put(report.proxyId(), new LiveReport(report, this)));
    }

    @Override
    public void withdrawHotKeys(String proxyId) {
        Names.requireSegment("proxy id", proxyId);
        locked(() -> state.hotKeys.remove(proxyId));
    }

    @Override
    public List<HotKeyReport> hotKeyReports() {
        return locked(() -> state.hotKeys.values().stream().map(LiveReport::report).toList());
    }

    @Override
    public void awaitEpoch(long epoch, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        requireOpen();
        long deadline = System.nanoTime() + timeout.toNanos();
        state.lock.lock();
        try {
            Map<String, Long> lagging = lagging(epoch);
            while (!lagging.isEmpty()) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new BarrierTimeoutException(epoch, timeout, lagging);
                }
                state.proxiesChanged.awaitNanos(remaining);
                lagging = lagging(epoch);
            }
        } finally {
            state.lock.unlock();
        }
    }

    private Map<String, Long> lagging(long epoch) {
        Map<String, Long> lagging = new TreeMap<>();
        state.proxies.values().stream().map(LiveProxy::info).filter(p -> p.appliedEpoch() < epoch)
                .forEach(p -> lagging.put(p.id(), p.appliedEpoch()));
        return lagging;
    }

    @Override
    public Subscription watch(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        requireOpen();
        Watcher watcher = new Watcher(
                new ListenerThread("shardgate-watch-" + state.cluster + "-" + SUBSCRIPTIONS.incrementAndGet()), listener);
        watchers.add(watcher);
        watcher.signal();
        return () -> {
            watchers.remove(watcher);
            watcher.thread().close();
        };
    }

    private void notifyAllWatchers() {
        state.sessions.forEach(session -> session.watchers.forEach(Watcher::signal));
    }

    @Override
    public Leadership lead(String role, String participantId) {
        Names.requireSegment("leader role", role);
        Objects.requireNonNull(participantId, "participantId");
        return locked(() -> {
            MemoryLeadership leadership = new MemoryLeadership(role, participantId, this);
            state.elections.computeIfAbsent(role, r -> new ArrayList<>()).add(leadership);
            state.leadersChanged.signalAll();
            return leadership;
        });
    }

    /** A participant of an in-memory election; leads while first in its role's queue. */
    private static final class MemoryLeadership implements Leadership {
        private final String role;
        private final String participantId;
        private final InMemoryClusterStore session;

        MemoryLeadership(String role, String participantId, InMemoryClusterStore session) {
            this.role = role;
            this.participantId = participantId;
            this.session = session;
        }

        @Override
        public String role() {
            return role;
        }

        @Override
        public String participantId() {
            return participantId;
        }

        @Override
        public boolean isLeader() {
            SharedState state = session.state;
            state.lock.lock();
            try {
                return leads(state);
            } finally {
                state.lock.unlock();
            }
        }

        private boolean leads(SharedState state) {
            List<MemoryLeadership> queue = state.elections.getOrDefault(role, List.of());
            return !queue.isEmpty() && queue.getFirst() == this;
        }

        private boolean joined(SharedState state) {
            return state.elections.getOrDefault(role, List.of()).contains(this);
        }

        @Override
        public boolean awaitLeadership(Duration timeout) throws InterruptedException {
            SharedState state = session.state;
            long deadline = System.nanoTime() + timeout.toNanos();
            state.lock.lock();
            try {
                while (!leads(state)) {
                    if (!joined(state)) {
                        throw new StoreException.Unavailable("leader election " + role + " of " + participantId
                                + " is closed (cluster " + state.cluster + ")", null);
                    }
                    long remaining = deadline - System.nanoTime();
                    if (remaining <= 0) {
                        return false;
                    }
                    state.leadersChanged.awaitNanos(remaining);
                }
                return true;
            } finally {
                state.lock.unlock();
            }
        }

        @Override
        public Optional<String> currentLeader() {
            SharedState state = session.state;
            state.lock.lock();
            try {
                List<MemoryLeadership> queue = state.elections.getOrDefault(role, List.of());
                return queue.isEmpty() ? Optional.empty() : Optional.of(queue.getFirst().participantId);
            } finally {
                state.lock.unlock();
            }
        }

        @Override
        public void close() {
            SharedState state = session.state;
            state.lock.lock();
            try {
                List<MemoryLeadership> queue = state.elections.get(role);
                if (queue != null && queue.remove(this)) {
                    state.leadersChanged.signalAll();
                }
            } finally {
                state.lock.unlock();
            }
        }
    }

    /** Reports CONNECTED once: memory is always reachable (see {@link #simulateConnectionState}). */
    @Override
    public Subscription onConnectionChange(ConnectionListener listener) {
        Objects.requireNonNull(listener, "listener");
        requireOpen();
        ListenerThread thread = new ListenerThread("shardgate-connection-" + state.cluster + "-"
                + SUBSCRIPTIONS.incrementAndGet());
        ConnectionSubscription subscription = new ConnectionSubscription(thread, listener);
        connectionSubscribers.add(subscription);
        thread.submit(() -> listener.stateChanged(ConnectionState.CONNECTED));
        return () -> {
            connectionSubscribers.remove(subscription);
            thread.close();
        };
    }

    /** Closes this session: its subscriptions end and the proxies it registered disappear. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        watchers.forEach(w -> w.thread().close());
        watchers.clear();
        connectionSubscribers.forEach(s -> s.thread().close());
        connectionSubscribers.clear();
        state.lock.lock();
        try {
            state.proxies.values().removeIf(p -> p.session() == this);
            state.hotKeys.values().removeIf(r -> r.session() == this);
            state.proxiesChanged.signalAll();
            state.elections.values().forEach(queue -> queue.removeIf(l -> l.session == this));
            state.leadersChanged.signalAll();
        } finally {
            state.lock.unlock();
        }
        state.sessions.remove(this);
    }

    // ---- test hooks

    /** Test hook: the proxy (and its hot-key report) vanishes as if its process died and its session expired. */
    public void expireProxy(String proxyId) {
        locked(() -> {
            state.hotKeys.remove(proxyId);
            if (state.proxies.remove(proxyId) == null) {
                throw new StoreException.NotFound("proxy " + proxyId + " is not registered (cluster " + state.cluster + ")");
            }
            state.proxiesChanged.signalAll();
            return null;
        });
    }

    /**
     * Test hook: tells this session's connection listeners that the connection changed, as a
     * partition would; after {@code RECONNECTED} watchers are signalled, as the ZooKeeper store does.
     */
    public void simulateConnectionState(ConnectionState connectionState) {
        Objects.requireNonNull(connectionState, "connectionState");
        connectionSubscribers.forEach(s -> s.thread().submit(() -> s.listener().stateChanged(connectionState)));
        if (connectionState == ConnectionState.RECONNECTED) {
            watchers.forEach(Watcher::signal);
        }
    }

    // ---- plumbing

    private SharedState requireCluster() {
        if (state.definition == null) {
            throw new StoreException.NotFound("cluster " + state.cluster + " does not exist");
        }
        return state;
    }

    private Versioned<MigrationRecord> requireMigration(String id) {
        Versioned<MigrationRecord> current = state.migrations.get(id);
        if (current == null) {
            throw new StoreException.NotFound("migration " + id + " does not exist (cluster " + state.cluster + ")");
        }
        return current;
    }

    private void requireVersion(String what, int actual, int expected) {
        if (actual != expected) {
            throw new StoreException.VersionConflict(what + " of cluster " + state.cluster + " is at version " + actual
                    + ", not the expected " + expected);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new StoreException.Unavailable("in-memory store session for cluster " + state.cluster + " is closed", null);
        }
    }

    private <T> T locked(Supplier<T> action) {
        requireOpen();
        state.lock.lock();
        try {
            return action.get();
        } finally {
            state.lock.unlock();
        }
    }
}

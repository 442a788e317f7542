package io.shardgate.state;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.slot.SlotMap;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A proxy's view of the cluster: registers the proxy, follows the definition and slot map, and
 * keeps the newest {@link RoutingSnapshot} for the router.
 *
 * <p>On every change it reads both nodes, builds a snapshot, swaps it in, runs the snapshot
 * listeners, and only then publishes the epoch in the proxy's node. The acknowledgement therefore
 * means "every listener has returned": a listener that must finish in-flight writes before an epoch
 * counts as applied (the cutover pause) does so before returning. If a listener throws, the epoch
 * is not acknowledged, so the migrator's barrier times out and aborts the step rather than proceed; the watcher reads
 * and delivers the state again after a pause ({@link #REDELIVERY_PAUSE_MILLIS}), so the epoch is acknowledged once the
 * listeners accept it (e.g. the statements they waited for have ended) even if nothing changes in the store meanwhile,
 * and the migrator's retry of the same barrier can pass.
 *
 * <p>A snapshot with a lower epoch than the current one is ignored; a node that does not decode is
 * logged and the last good snapshot kept. {@link #fenced()} is true from a SUSPENDED or LOST
 * connection until the state has been read again on a new connection.
 */
public final class RoutingSnapshotWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RoutingSnapshotWatcher.class);
    private static final int READ_ATTEMPTS = 5;
    private static final long RETRY_PAUSE_MILLIS = 200;
    /** Pause before delivering a snapshot again that a listener refused. */
    static final long REDELIVERY_PAUSE_MILLIS = 1_000;

    private final ClusterStore store;
    private final ProxyInfo self;
    private final AtomicReference<RoutingSnapshot> current = new AtomicReference<>();
    private final List<Consumer<RoutingSnapshot>> snapshotListeners = new CopyOnWriteArrayList<>();
    private final List<ClusterStore.ConnectionListener> connectionListeners = new CopyOnWriteArrayList<>();
    private final Object refreshLock = new Object();
    private final Object fenceLock = new Object();
    private final Object snapshotSignal = new Object();
    private boolean connected;
    private long connectionGeneration;
    private volatile boolean fenced = true;
    private volatile boolean sessionLost;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean redeliveryScheduled = new AtomicBoolean();
    private long publishedEpoch;
    private RoutingSnapshot delivered; // last snapshot every listener accepted; only its epoch may be acknowledged
    private ClusterStore.Subscription connectionSubscription;
    private ClusterStore.Subscription watchSubscription;

    private RoutingSnapshotWatcher(ClusterStore store, ProxyInfo self) {
        this.store = store;
        this.self = self;
        this.publishedEpoch = self.appliedEpoch();
    }

    /** Registers {@code proxyId} (epoch 0, started now) and starts following the cluster. */
    public static RoutingSnapshotWatcher start(ClusterStore store, String proxyId, String address) {
        return start(store, new ProxyInfo(proxyId, address, 0, System.currentTimeMillis()));
    }

    /**
     * Registers {@code self} as a live proxy and starts following the cluster. The first snapshot
     * arrives asynchronously; see {@link #awaitSnapshot}.
     */
    public static RoutingSnapshotWatcher start(ClusterStore store, ProxyInfo self) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(self, "self");
        RoutingSnapshotWatcher watcher = new RoutingSnapshotWatcher(store, self);
        store.registerProxy(self);
        watcher.connectionSubscription = store.onConnectionChange(watcher::onConnectionChange);
        watcher.watchSubscription = store.watch(watcher::refresh);
        return watcher;
    }

    /** The snapshot to route with, or empty before the cluster exists or was first read. */
    public Optional<RoutingSnapshot> current() {
        return Optional.ofNullable(current.get());
    }

    /** Waits until a snapshot with epoch of at least {@code minEpoch} is current. */
    public RoutingSnapshot awaitSnapshot(long minEpoch, Duration timeout) throws InterruptedException, TimeoutException {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (snapshotSignal) {
            while (true) {
                RoutingSnapshot snapshot = current.get();
                if (snapshot != null && snapshot.epoch() >= minEpoch) {
                    return snapshot;
                }
                long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (remainingMillis <= 0) {
                    throw new TimeoutException("proxy " + self.id() + " of cluster " + store.clusterName()
                            + " saw no snapshot with epoch >= " + minEpoch + " within " + timeout.toMillis() + " ms (current: "
                            + (snapshot == null ? "none" : "epoch " + snapshot.epoch()) + ")");
                }
                snapshotSignal.wait(remainingMillis);
            }
        }
    }

    /** True while writes to moving slots must stop: connection suspended or lost, or state not yet re-read. */
    public boolean fenced() {
        return fenced;
    }

    /**
     * True from a LOST connection (the session may have expired, so the migrator may have moved on
     * without this proxy: any slot may be moving) until the state has been re-read on a new connection.
     */
    public boolean sessionLost() {
        return sessionLost;
    }

    public String proxyId() {
        return self.id();
    }

    /** The store this watcher follows: the proxy reserves its blocks of the cluster sequences there. */
    public ClusterStore store() {
        return store;
    }

    /**
     * Calls {@code listener} with each new snapshot, on the watcher's thread, before the epoch is
     * acknowledged. Must not block longer than the migrator's barrier timeout.
     */
    public ClusterStore.Subscription onSnapshot(Consumer<RoutingSnapshot> listener) {
        Objects.requireNonNull(listener, "listener");
        snapshotListeners.add(listener);
        return () -> snapshotListeners.remove(listener);
    }

    /** Forwards the store's connection states, after {@link #fenced()} has been updated for them. */
    public ClusterStore.Subscription onConnectionChange(ClusterStore.ConnectionListener listener) {
        Objects.requireNonNull(listener, "listener");
        connectionListeners.add(listener);
        return () -> connectionListeners.remove(listener);
    }

    // ---- connection and fencing

    private void onConnectionChange(ClusterStore.ConnectionState state) {
        boolean up = switch (state) {
            case CONNECTED, RECONNECTED -> true;
            case SUSPENDED, LOST -> false;
        };
        synchronized (fenceLock) {
            connected = up;
            connectionGeneration++;
            if (!up) {
                fenced = true;
            }
            if (state == ClusterStore.ConnectionState.LOST) {
                sessionLost = true;
            }
        }
        if (!up) {
            LOG.warn("proxy {} of cluster {}: connection {}, fenced until the state is re-read", self.id(),
                    store.clusterName(), state);
        }
        for (ClusterStore.ConnectionListener listener : connectionListeners) {
            notifyConnectionListener(listener, state);
        }
        if (up) {
            refresh();
        }
    }

    private void notifyConnectionListener(ClusterStore.ConnectionListener listener, ClusterStore.ConnectionState state) {
        try {
            listener.stateChanged(state);
        } catch (RuntimeException e) {
            LOG.warn("connection listener of proxy {} failed on {}", self.id(), state, e);
        }
    }

    private long generationIfConnected() {
        synchronized (fenceLock) {
            return connected ? connectionGeneration : -1;
        }
    }

    /** Lifts the fence only if no connection change happened since {@code generation} was taken. */
    private void unfence(long generation) {
        synchronized (fenceLock) {
            if (generation >= 0 && connected && connectionGeneration == generation && fenced) {
                fenced = false;
                sessionLost = false;
                LOG.info("proxy {} of cluster {}: state re-read, fence lifted", self.id(), store.clusterName());
            }
        }
    }

    // ---- reading and applying

    private void refresh() {
        synchronized (refreshLock) {
            for (int attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
                long generation = generationIfConnected();
                try {
                    readAndApply();
                    unfence(generation);
                    return;
                } catch (StoreException.Unavailable e) {
                    if (Thread.currentThread().isInterrupted()) {
                        LOG.debug("proxy {}: refresh interrupted (watcher closing)", self.id(), e);
                        return;
                    }
                    LOG.warn("proxy {} of cluster {} could not read the state (attempt {} of {}): {}", self.id(),
                            store.clusterName(), attempt, READ_ATTEMPTS, e.getMessage());
                    if (!pauseBeforeRetry()) {
                        return;
                    }
                }
            }
        }
    }

    private boolean pauseBeforeRetry() {
        try {
            Thread.sleep(RETRY_PAUSE_MILLIS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Reads and applies the state; every outcome but Unavailable counts as "state known". */
    private void readAndApply() {
        RoutingSnapshot snapshot;
        try {
            Versioned<ClusterDefinition> definition = store.readDefinition();
            Versioned<SlotMap> slotMap = store.readSlotMap();
            snapshot = new RoutingSnapshot(definition.value(), slotMap.value());
        } catch (StoreException.NotFound e) {
            LOG.info("proxy {}: cluster {} does not exist yet ({})", self.id(), store.clusterName(), e.getMessage());
            return;
        } catch (StoreException.Corrupt | IllegalArgumentException e) {
            LOG.error("proxy {}: state of cluster {} is unusable, keeping the snapshot with epoch {}: {}", self.id(),
                    store.clusterName(), current().map(RoutingSnapshot::epoch).orElse(-1L), e.getMessage(), e);
            return;
        }
        apply(snapshot);
    }

    private void apply(RoutingSnapshot snapshot) {
        RoutingSnapshot previous = current.get();
        if (previous != null && snapshot.epoch() < previous.epoch()) {
            LOG.warn("proxy {}: ignoring slot map epoch {} of cluster {}, older than the current epoch {}", self.id(),
                    snapshot.epoch(), store.clusterName(), previous.epoch());
            return;
        }
        if (!snapshot.equals(previous)) {
            current.set(snapshot);
            synchronized (snapshotSignal) {
                snapshotSignal.notifyAll();
            }
            LOG.info("proxy {}: cluster {} now routes with epoch {}", self.id(), store.clusterName(), snapshot.epoch());
        }
        if (!snapshot.equals(delivered)) {
            if (!notifySnapshotListeners(snapshot)) {
                redeliverLater();
                return;
            }
            delivered = snapshot;
        }
        publishEpoch(snapshot.epoch());
    }

    private boolean notifySnapshotListeners(RoutingSnapshot snapshot) {
        for (Consumer<RoutingSnapshot> listener : snapshotListeners) {
            try {
                listener.accept(snapshot);
            } catch (RuntimeException e) {
                LOG.error("proxy {}: snapshot listener failed on epoch {}; the epoch is not acknowledged", self.id(),
                        snapshot.epoch(), e);
                return false;
            }
        }
        return true;
    }

    /**
     * A listener refused the snapshot: read the state again shortly and deliver it (or a newer one) again. Without
     * this the epoch would stay unacknowledged until the store changed, and a migrator retrying the same barrier (its
     * map already published) would wait for ever.
     */
    private void redeliverLater() {
        if (closed.get() || !redeliveryScheduled.compareAndSet(false, true)) {
            return;
        }
        Thread.ofVirtual().name("shardgate-redeliver-" + self.id()).start(() -> {
            try {
                Thread.sleep(REDELIVERY_PAUSE_MILLIS);
            } catch (InterruptedException e) {
                return;
            } finally {
                redeliveryScheduled.set(false);
            }
            if (!closed.get()) {
                refresh();
            }
        });
    }

    private void publishEpoch(long epoch) {
        if (epoch <= publishedEpoch) {
            return;
        }
        try {
            store.updateProxyEpoch(self.id(), epoch);
        } catch (StoreException.NotFound gone) {
            LOG.warn("proxy {} of cluster {} was no longer registered; registering again with epoch {}", self.id(),
                    store.clusterName(), epoch, gone);
            store.registerProxy(self.withAppliedEpoch(epoch));
        }
        publishedEpoch = epoch;
        LOG.debug("proxy {} of cluster {} acknowledged epoch {}", self.id(), store.clusterName(), epoch);
    }

    /**
     * Publishes this proxy's hot-key report ({@link ClusterStore#publishHotKeys}), taken now.
     *
     * @throws StoreException when the store cannot take it
     */
    public void publishHotKeys(double windowSeconds, List<HotKeyReport.KeyRate> keys) {
        store.publishHotKeys(new HotKeyReport(self.id(), System.currentTimeMillis(), windowSeconds, keys));
    }

    /**
     * Removes this proxy's hot-key report.
     *
     * @throws StoreException when the store cannot be reached
     */
    public void withdrawHotKeys() {
        store.withdrawHotKeys(self.id());
    }

    /** Stops following the cluster and removes the proxy's node. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (watchSubscription != null) {
            watchSubscription.close();
        }
        if (connectionSubscription != null) {
            connectionSubscription.close();
        }
        try {
            store.unregisterProxy(self.id());
        } catch (StoreException e) {
            LOG.warn("proxy {} of cluster {}: could not unregister; its node goes with the session: {}", self.id(),
                    store.clusterName(), e.getMessage());
        }
    }
}

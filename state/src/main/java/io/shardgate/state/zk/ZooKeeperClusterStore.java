package io.shardgate.state.zk;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.config.ConfigException;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SlotMapCodec;
import io.shardgate.state.BarrierTimeoutException;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.HotKeyReport;
import io.shardgate.state.Leadership;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.ProxyInfo;
import io.shardgate.state.StoreException;
import io.shardgate.state.Versioned;
import io.shardgate.state.support.ListenerThread;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.nodes.PersistentNode;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real {@link ClusterStore}: one Curator client bound to one cluster under
 * {@code /shardgate/<cluster>/}. See the package documentation for the layout and the timeouts.
 */
public final class ZooKeeperClusterStore implements ClusterStore {
    private static final Logger LOG = LoggerFactory.getLogger(ZooKeeperClusterStore.class);
    private static final long BARRIER_POLL_MILLIS = 5;
    private static final AtomicInteger SUBSCRIPTIONS = new AtomicInteger();

    private final CuratorFramework client;
    private final ZooKeeperSettings settings;
    private final ClusterPaths paths;
    private final Map<String, RegisteredProxy> ownProxies = new ConcurrentHashMap<>();
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
    private final List<ConnectionSubscription> connectionSubscribers = new CopyOnWriteArrayList<>();
    private final Object connectionLock = new Object();
    private final Object cacheLock = new Object();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final java.util.Set<ZooKeeperLeadership> leaderships = ConcurrentHashMap.newKeySet();
    private List<CuratorCache> caches = List.of();

    private record RegisteredProxy(PersistentNode node, ProxyInfo info) {}

    private record Watcher(ListenerThread thread, Runnable listener) {
        void signal() {
            thread.signal(listener);
        }
    }

    private record ConnectionSubscription(ListenerThread thread, ConnectionListener listener) {}

    private record Node(byte[] data, int version) {}

    @FunctionalInterface
    private interface ZkCall<T> {
        T call() throws Exception;
    }

    private ZooKeeperClusterStore(CuratorFramework client, ZooKeeperSettings settings, ClusterPaths paths) {
        this.client = client;
        this.settings = settings;
        this.paths = paths;
        client.getConnectionStateListenable().addListener((c, state) -> onCuratorState(state));
    }

    /**
     * Connects with the default session (15 s) and operation (5 s) timeouts.
     *
     * @throws StoreException.Unavailable when no connection is made within {@code connectTimeout}
     */
    public static ZooKeeperClusterStore connect(String connectString, String clusterName, Duration connectTimeout) {
        return connect(ZooKeeperSettings.of(connectString, connectTimeout), clusterName);
    }

    /**
     * Starts a Curator client and blocks until it is connected; the cluster itself need not exist.
     *
     * @throws StoreException.Unavailable when no connection is made within the connect timeout
     */
    public static ZooKeeperClusterStore connect(ZooKeeperSettings settings, String clusterName) {
        Objects.requireNonNull(settings, "settings");
        ClusterPaths paths = new ClusterPaths(clusterName);
        CuratorFramework client = newClient(settings);
        client.start();
        long waitMillis = settings.connectTimeout().toMillis();
        try {
            if (client.blockUntilConnected((int) waitMillis, TimeUnit.MILLISECONDS)) {
                return new ZooKeeperClusterStore(client, settings, paths);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            client.close();
            throw new StoreException.Unavailable("interrupted while connecting to ZooKeeper at "
                    + settings.connectString() + " for cluster " + clusterName, e);
        }
        client.close();
        throw new StoreException.Unavailable("ZooKeeper at " + settings.connectString() + " not reachable within "
                + waitMillis + " ms (cluster " + clusterName + ")", null);
    }

    /** The longest pause between two "still waiting" reports of {@link #connectWaiting}. */
    private static final Duration LONGEST_REPORT_INTERVAL = Duration.ofSeconds(60);

    /**
     * For long-running processes (proxy, migrator): connects like {@link #connect(ZooKeeperSettings, String)} but never
     * gives up. The client keeps retrying in the background, and each time the connect timeout passes without a session
     * (then at doubling intervals, at most a minute apart) {@code waiting} hears how long it has waited, so the process
     * says so instead of exiting: a ZooKeeper that is down, restarting or too loaded to answer in time is a reason to
     * wait, not to die.
     *
     * @throws StoreException.Unavailable only when interrupted while waiting
     */
    public static ZooKeeperClusterStore connectWaiting(ZooKeeperSettings settings, String clusterName,
            java.util.function.Consumer<String> waiting) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(waiting, "waiting");
        ClusterPaths paths = new ClusterPaths(clusterName);
        CuratorFramework client = newClient(settings);
        client.start();
        long started = System.nanoTime();
        Duration interval = settings.connectTimeout();
        try {
            while (!client.blockUntilConnected((int) interval.toMillis(), TimeUnit.MILLISECONDS)) {
                long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
                waiting.accept("waiting for ZooKeeper at " + settings.connectString() + " (cluster " + clusterName + "): no session after "
                        + waited + " s; still trying");
                interval = interval.multipliedBy(2).compareTo(LONGEST_REPORT_INTERVAL) > 0 ? LONGEST_REPORT_INTERVAL : interval.multipliedBy(2);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            client.close();
            throw new StoreException.Unavailable("interrupted while waiting for ZooKeeper at " + settings.connectString()
                    + " for cluster " + clusterName, e);
        }
        return new ZooKeeperClusterStore(client, settings, paths);
    }

    private static CuratorFramework newClient(ZooKeeperSettings settings) {
        int operationMillis = (int) settings.operationTimeout().toMillis();
        ZKClientConfig zkConfig = new ZKClientConfig();
        // Bounds each request while connected but unanswered; the retry policy bounds the rest.
        zkConfig.setProperty(ZKClientConfig.ZOOKEEPER_REQUEST_TIMEOUT, Integer.toString(operationMillis));
        return CuratorFrameworkFactory.builder()
                .connectString(settings.connectString())
                .sessionTimeoutMs((int) settings.sessionTimeout().toMillis())
                .connectionTimeoutMs(operationMillis)
                .retryPolicy(new ExponentialBackoffRetry(100, 2, 1000))
                .ensembleTracker(false)
                .zkClientConfig(zkConfig)
                .build();
    }

    /** The settings this store was connected with. */
    public ZooKeeperSettings settings() {
        return settings;
    }

    /** The znode layout of this store's cluster. */
    public ClusterPaths paths() {
        return paths;
    }

    @Override
    public String clusterName() {
        return paths.cluster();
    }

    @Override
    public boolean clusterExists() {
        return exists("check cluster", paths.definition());
    }

    // ---- cluster definition and slot map

    @Override
    public void createCluster(ClusterDefinition definition, SlotMap slotMap, boolean force) {
        Objects.requireNonNull(definition, "definition");
        Objects.requireNonNull(slotMap, "slotMap");
        byte[] definitionBytes = ClusterDefinitionCodec.toJson(definition);
        byte[] slotMapBytes = SlotMapCodec.encode(slotMap);
        ensurePath(paths.migrations());
        ensurePath(paths.proxies());
        if (force) {
            replaceCluster(definitionBytes, slotMapBytes);
            deleteAllMigrations();
            deleteChildren("delete operations", paths.operations());
        } else {
            createNewCluster(definitionBytes, slotMapBytes);
        }
    }

    private void createNewCluster(byte[] definitionBytes, byte[] slotMapBytes) {
        try {
            run("create cluster", paths.root(), () -> client.transaction().forOperations(
                    client.transactionOp().create().forPath(paths.definition(), definitionBytes),
                    client.transactionOp().create().forPath(paths.slotMap(), slotMapBytes)));
        } catch (StoreException.AlreadyExists e) {
            throw new StoreException.AlreadyExists("cluster " + clusterName() + " already exists at " + paths.root()
                    + " (create it with force to replace it)");
        }
    }

    /** Overwrites in place so node versions keep growing: a compare-and-set prepared before the replace fails. */
    private void replaceCluster(byte[] definitionBytes, byte[] slotMapBytes) {
        CuratorOp definitionOp = replaceOp(paths.definition(), definitionBytes);
        CuratorOp slotMapOp = replaceOp(paths.slotMap(), slotMapBytes);
        run("replace cluster", paths.root(), () -> client.transaction().forOperations(definitionOp, slotMapOp));
    }

    private CuratorOp replaceOp(String path, byte[] data) {
        Stat stat = run("replace cluster", path, () -> client.checkExists().forPath(path));
        return run("replace cluster", path, () -> stat == null
                ? client.transactionOp().create().forPath(path, data)
                : client.transactionOp().setData().withVersion(stat.getVersion()).forPath(path, data));
    }

    private void deleteAllMigrations() {
        for (String id : children("delete migrations", paths.migrations())) {
            String path = paths.migrations() + "/" + id;
            try {
                run("delete migration", path, () -> client.delete().forPath(path));
            } catch (StoreException.NotFound alreadyGone) {
                LOG.debug("migration {} of cluster {} was deleted concurrently", id, clusterName(), alreadyGone);
            }
        }
    }

    private void deleteChildren(String action, String parent) {
        for (String name : children(action, parent)) {
            String path = parent + "/" + name;
            try {
                run(action, path, () -> client.delete().forPath(path));
            } catch (StoreException.NotFound alreadyGone) {
                LOG.debug("{} of cluster {} was deleted concurrently", path, clusterName(), alreadyGone);
            }
        }
    }

    @Override
    public Versioned<ClusterDefinition> readDefinition() {
        Node node = readClusterNode("read definition", paths.definition());
        return new Versioned<>(decodeDefinition(node.data()), node.version());
    }

    @Override
    public int casDefinition(ClusterDefinition definition, int expectedVersion) {
        Objects.requireNonNull(definition, "definition");
        byte[] bytes = ClusterDefinitionCodec.toJson(definition);
        return setClusterNode("update definition", paths.definition(), bytes, expectedVersion);
    }

    @Override
    public Versioned<SlotMap> readSlotMap() {
        Node node = readClusterNode("read slot map", paths.slotMap());
        return new Versioned<>(decodeSlotMap(node.data()), node.version());
    }

    @Override
    public int casSlotMap(SlotMap slotMap, int expectedVersion) {
        Objects.requireNonNull(slotMap, "slotMap");
        byte[] bytes = SlotMapCodec.encode(slotMap);
        Node current = readClusterNode("update slot map", paths.slotMap());
        requireVersion("slot map", paths.slotMap(), current.version(), expectedVersion);
        long storedEpoch = decodeSlotMap(current.data()).epoch();
        if (slotMap.epoch() <= storedEpoch) {
            throw new StoreException.VersionConflict("slot map epoch " + slotMap.epoch() + " is not greater than the stored epoch "
                    + storedEpoch + " at " + paths.slotMap() + " (cluster " + clusterName() + ")");
        }
        return setClusterNode("update slot map", paths.slotMap(), bytes, expectedVersion);
    }

    private Node readClusterNode(String action, String path) {
        try {
            return readNode(action, path);
        } catch (StoreException.NotFound e) {
            throw clusterMissing(path);
        }
    }

    private int setClusterNode(String action, String path, byte[] bytes, int expectedVersion) {
        try {
            return run(action, path, () -> client.setData().withVersion(expectedVersion).forPath(path, bytes)).getVersion();
        } catch (StoreException.NotFound e) {
            throw clusterMissing(path);
        }
    }

    private void requireVersion(String what, String path, int actual, int expected) {
        if (actual != expected) {
            throw new StoreException.VersionConflict(what + " at " + path + " (cluster " + clusterName() + ") is at version "
                    + actual + ", not the expected " + expected);
        }
    }

    private ClusterDefinition decodeDefinition(byte[] bytes) {
        try {
            return ClusterDefinitionCodec.parseJson(bytes, paths.definition());
        } catch (ConfigException | IllegalArgumentException e) {
            throw new StoreException.Corrupt("cluster definition at " + paths.definition() + " (cluster " + clusterName()
                    + ") does not decode: " + e.getMessage(), e);
        }
    }

    private SlotMap decodeSlotMap(byte[] bytes) {
        try {
            return SlotMapCodec.decode(bytes);
        } catch (IllegalArgumentException e) {
            throw new StoreException.Corrupt("slot map at " + paths.slotMap() + " (cluster " + clusterName()
                    + ") does not decode: " + e.getMessage(), e);
        }
    }

    private StoreException.NotFound clusterMissing(String path) {
        return new StoreException.NotFound("cluster " + clusterName() + " does not exist (no node " + path + ")");
    }

    private void requireCluster() {
        if (!clusterExists()) {
            throw clusterMissing(paths.definition());
        }
    }

    // ---- migrations

    @Override
    public void createMigration(MigrationRecord record) {
        Objects.requireNonNull(record, "record");
        String path = paths.migration(record.id());
        byte[] bytes = RecordJson.encode(record);
        requireCluster();
        try {
            run("create migration", path, () -> client.create().creatingParentsIfNeeded().forPath(path, bytes));
        } catch (StoreException.AlreadyExists e) {
            throw new StoreException.AlreadyExists("migration " + record.id() + " already exists at " + path
                    + " (cluster " + clusterName() + ")");
        }
    }

    @Override
    public Optional<Versioned<MigrationRecord>> readMigration(String id) {
        String path = paths.migration(id);
        try {
            Node node = readNode("read migration", path);
            return Optional.of(new Versioned<>(RecordJson.decode(node.data(), MigrationRecord.class, path), node.version()));
        } catch (StoreException.NotFound e) {
            requireCluster();
            return Optional.empty();
        }
    }

    @Override
    public int casMigration(MigrationRecord record, int expectedVersion) {
        Objects.requireNonNull(record, "record");
        String path = paths.migration(record.id());
        byte[] bytes = RecordJson.encode(record);
        try {
            return run("update migration", path, () -> client.setData().withVersion(expectedVersion).forPath(path, bytes))
                    .getVersion();
        } catch (StoreException.NotFound e) {
            throw migrationMissing(record.id(), path);
        }
    }

    @Override
    public List<MigrationRecord> listMigrations() {
        requireCluster();
        List<MigrationRecord> records = new ArrayList<>();
        for (String id : children("list migrations", paths.migrations())) {
            String path = paths.migrations() + "/" + id;
            readIfPresent("read migration", path)
                    .map(node -> RecordJson.decode(node.data(), MigrationRecord.class, path))
                    .ifPresent(records::add);
        }
        records.sort(Comparator.comparing(MigrationRecord::id));
        return List.copyOf(records);
    }

    @Override
    public void deleteMigration(String id) {
        String path = paths.migration(id);
        try {
            run("delete migration", path, () -> client.delete().forPath(path));
        } catch (StoreException.NotFound e) {
            throw migrationMissing(id, path);
        }
    }

    private StoreException.NotFound migrationMissing(String id, String path) {
        return new StoreException.NotFound("migration " + id + " does not exist (no node " + path + ", cluster "
                + clusterName() + ")");
    }

    // ---- operation documents

    @Override
    public Optional<Versioned<byte[]>> readOperation(String name) {
        String path = paths.operation(name);
        try {
            Node node = readNode("read operation", path);
            return Optional.of(new Versioned<>(node.data(), node.version()));
        } catch (StoreException.NotFound e) {
            requireCluster();
            return Optional.empty();
        }
    }

    @Override
    public int writeOperation(String name, byte[] data, int expectedVersion) {
        String path = paths.operation(name);
        if (expectedVersion == -1) {
            requireCluster();
            run("create operation", path, () -> client.create().creatingParentsIfNeeded().forPath(path, data));
            return 0;
        }
        return run("update operation", path, () -> client.setData().withVersion(expectedVersion).forPath(path, data)).getVersion();
    }

    @Override
    public void deleteOperation(String name) {
        String path = paths.operation(name);
        try {
            run("delete operation", path, () -> client.delete().forPath(path));
        } catch (StoreException.NotFound e) {
            // already gone: deleting is idempotent
        }
    }

    // ---- sequences

    @Override
    public Optional<Versioned<Long>> readSequence(String table) {
        String path = paths.sequence(table);
        try {
            Node node = readNode("read sequence", path);
            return Optional.of(new Versioned<>(decodeSequence(path, node.data()), node.version()));
        } catch (StoreException.NotFound e) {
            requireCluster();
            return Optional.empty();
        }
    }

    @Override
    public int writeSequence(String table, long next, int expectedVersion) {
        String path = paths.sequence(table);
        byte[] data = Long.toString(next).getBytes(StandardCharsets.US_ASCII);
        if (expectedVersion == -1) {
            requireCluster();
            run("create sequence", path, () -> client.create().creatingParentsIfNeeded().forPath(path, data));
            return 0;
        }
        Node current = readNode("update sequence", path);
        requireVersion("sequence of " + table, path, current.version(), expectedVersion);
        long stored = decodeSequence(path, current.data());
        if (next < stored) {
            throw new StoreException.VersionConflict("sequence of " + table + " at " + path + " (cluster " + clusterName()
                    + ") is at " + stored + "; it never goes back to " + next);
        }
        return run("update sequence", path, () -> client.setData().withVersion(expectedVersion).forPath(path, data)).getVersion();
    }

    @Override
    public java.util.SortedMap<String, Long> sequences() {
        requireCluster();
        java.util.TreeMap<String, Long> out = new java.util.TreeMap<>();
        for (String table : children("list sequences", paths.sequences())) {
            readSequence(table).ifPresent(v -> out.put(table, v.value()));
        }
        return out;
    }

    @Override
    public void deleteSequence(String table) {
        String path = paths.sequence(table);
        try {
            run("delete sequence", path, () -> client.delete().forPath(path));
        } catch (StoreException.NotFound e) {
            // already gone: deleting is idempotent
        }
    }

    private long decodeSequence(String path, byte[] data) {
        try {
            return Long.parseLong(new String(data, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            throw new StoreException.Corrupt("sequence at " + path + " (cluster " + clusterName() + ") is not a number", e);
        }
    }

    // ---- proxies

    @Override
    public void registerProxy(ProxyInfo proxy) {
        Objects.requireNonNull(proxy, "proxy");
        String path = paths.proxy(proxy.id());
        requireOpen("register proxy", path);
        RegisteredProxy previous = ownProxies.remove(proxy.id());
        if (previous != null) {
            closeNode(previous.node(), proxy.id());
        }
        ensurePath(paths.proxies());
        PersistentNode node = new PersistentNode(client, CreateMode.EPHEMERAL, false, path, RecordJson.encode(proxy));
        node.start();
        awaitCreated(node, path);
        ownProxies.put(proxy.id(), new RegisteredProxy(node, proxy));
    }

    private void awaitCreated(PersistentNode node, String path) {
        long waitMillis = settings.operationTimeout().toMillis();
        try {
            if (node.waitForInitialCreate(waitMillis, TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeNode(node, path);
            throw new StoreException.Unavailable("interrupted while registering proxy node " + path + " (cluster "
                    + clusterName() + ")", e);
        }
        closeNode(node, path);
        throw new StoreException.Unavailable("proxy node " + path + " (cluster " + clusterName() + ") was not created within "
                + waitMillis + " ms", null);
    }

    @Override
    public void updateProxyEpoch(String proxyId, long appliedEpoch) {
        String path = paths.proxy(proxyId);
        RegisteredProxy registered = ownProxies.get(proxyId);
        if (registered == null) {
            throw new StoreException.NotFound("proxy " + proxyId + " is not registered through this store (cluster "
                    + clusterName() + ", " + path + ")");
        }
        ProxyInfo next = registered.info().withAppliedEpoch(appliedEpoch);
        byte[] bytes = RecordJson.encode(next);
        synchronized (registered.node()) {
            // The recipe keeps these bytes and writes them again if it must re-create the node after a session loss.
            run("publish applied epoch", path, () -> {
                registered.node().setData(bytes);
                return null;
            });
            ownProxies.replace(proxyId, registered, new RegisteredProxy(registered.node(), next));
            writeThrough(path, bytes);
        }
    }

    /** The recipe writes in the background; this synchronous write makes the call's outcome visible to the caller. */
    private void writeThrough(String path, byte[] bytes) {
        try {
            run("publish applied epoch", path, () -> client.setData().forPath(path, bytes));
        } catch (StoreException.NotFound e) {
            LOG.info("proxy node {} (cluster {}) is being re-created; it will carry the new epoch", path, clusterName(), e);
        }
    }

    @Override
    public void unregisterProxy(String proxyId) {
        String path = paths.proxy(proxyId);
        RegisteredProxy registered = ownProxies.remove(proxyId);
        if (registered != null) {
            closeNode(registered.node(), proxyId);
            return;
        }
        try {
            run("unregister proxy", path, () -> client.delete().forPath(path));
        } catch (StoreException.NotFound e) {
            throw new StoreException.NotFound("proxy " + proxyId + " is not registered (no node " + path + ", cluster "
                    + clusterName() + ")");
        }
    }

    @Override
    public List<ProxyInfo> liveProxies() {
        List<ProxyInfo> proxies = new ArrayList<>();
        for (String id : children("list proxies", paths.proxies())) {
            String path = paths.proxies() + "/" + id;
            readIfPresent("read proxy", path)
                    .map(node -> RecordJson.decode(node.data(), ProxyInfo.class, path))
                    .ifPresent(proxies::add);
        }
        proxies.sort(Comparator.comparing(ProxyInfo::id));
        return List.copyOf(proxies);
    }

    // ---- hot-key reports

    @Override
    public void publishHotKeys(HotKeyReport report) {
        Objects.requireNonNull(report, "report");
        String path = paths.hotKeyReport(report.proxyId());
        byte[] bytes = RecordJson.encode(report);
        try {
            run("publish hot keys", path, () -> client.setData().forPath(path, bytes));
        } catch (StoreException.NotFound missing) {
            ensurePath(paths.hotKeys());
            try {
                run("publish hot keys", path, () -> client.create().withMode(CreateMode.EPHEMERAL).forPath(path, bytes));
            } catch (StoreException.AlreadyExists raced) {
                run("publish hot keys", path, () -> client.setData().forPath(path, bytes));
            }
        }
    }

    @Override
    public void withdrawHotKeys(String proxyId) {
        String path = paths.hotKeyReport(proxyId);
        try {
            run("withdraw hot keys", path, () -> client.delete().forPath(path));
        } catch (StoreException.NotFound none) {
            LOG.debug("proxy {} of cluster {} had no hot-key report to withdraw", proxyId, clusterName(), none);
        }
    }

    @Override
    public List<HotKeyReport> hotKeyReports() {
        List<HotKeyReport> reports = new ArrayList<>();
        for (String id : children("list hot keys", paths.hotKeys())) {
            String path = paths.hotKeys() + "/" + id;
            readIfPresent("read hot keys", path)
                    .map(node -> RecordJson.decode(node.data(), HotKeyReport.class, path))
                    .ifPresent(reports::add);
        }
        reports.sort(Comparator.comparing(HotKeyReport::proxyId));
        return List.copyOf(reports);
    }

    @Override
    public void awaitEpoch(long epoch, Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, Long> lagging = lagging(liveProxies(), epoch);
            if (lagging.isEmpty()) {
                return;
            }
            long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (remainingMillis <= 0) {
                throw new BarrierTimeoutException(epoch, timeout, lagging);
            }
            Thread.sleep(Math.min(BARRIER_POLL_MILLIS, remainingMillis));
        }
    }

    private static Map<String, Long> lagging(List<ProxyInfo> proxies, long epoch) {
        Map<String, Long> lagging = new TreeMap<>();
        for (ProxyInfo proxy : proxies) {
            if (proxy.appliedEpoch() < epoch) {
                lagging.put(proxy.id(), proxy.appliedEpoch());
            }
        }
        return lagging;
    }

    // ---- leader election

    @Override
    public Leadership lead(String role, String participantId) {
        String path = paths.leader(role);
        requireOpen("join leader election", path);
        ensurePath(path);
        ZooKeeperLeadership leadership = ZooKeeperLeadership.start(client, path, role, participantId, leaderships::remove);
        leaderships.add(leadership);
        return leadership;
    }

    // ---- watches and connection state

    @Override
    public Subscription watch(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        requireOpen("watch", paths.root());
        startCaches();
        Watcher watcher = new Watcher(
                new ListenerThread("shardgate-watch-" + clusterName() + "-" + SUBSCRIPTIONS.incrementAndGet()), listener);
        watchers.add(watcher);
        watcher.signal();
        return () -> {
            watchers.remove(watcher);
            watcher.thread().close();
        };
    }

    private void notifyWatchers() {
        watchers.forEach(Watcher::signal);
    }

    private void startCaches() {
        synchronized (cacheLock) {
            if (!caches.isEmpty()) {
                return;
            }
            CuratorCacheListener listener = CuratorCacheListener.builder()
                    .forAll((type, oldData, data) -> notifyWatchers())
                    .build();
            List<CuratorCache> started = new ArrayList<>();
            for (String path : List.of(paths.definition(), paths.slotMap())) {
                CuratorCache cache = CuratorCache.build(client, path, CuratorCache.Options.SINGLE_NODE_CACHE);
                cache.listenable().addListener(listener);
                cache.start();
                started.add(cache);
            }
            caches = List.copyOf(started);
        }
    }

    @Override
    public Subscription onConnectionChange(ConnectionListener listener) {
        Objects.requireNonNull(listener, "listener");
        requireOpen("watch connection", paths.root());
        ListenerThread thread = new ListenerThread("shardgate-connection-" + clusterName() + "-"
                + SUBSCRIPTIONS.incrementAndGet());
        ConnectionSubscription subscription = new ConnectionSubscription(thread, listener);
        synchronized (connectionLock) {
            ConnectionState initial = client.getZookeeperClient().isConnected() ? ConnectionState.CONNECTED
                    : ConnectionState.SUSPENDED;
            connectionSubscribers.add(subscription);
            thread.submit(() -> listener.stateChanged(initial));
        }
        return () -> {
            connectionSubscribers.remove(subscription);
            thread.close();
        };
    }

    private void onCuratorState(org.apache.curator.framework.state.ConnectionState curatorState) {
        ConnectionState state = map(curatorState);
        LOG.info("ZooKeeper connection for cluster {} at {}: {}", clusterName(), settings.connectString(), curatorState);
        synchronized (connectionLock) {
            for (ConnectionSubscription subscriber : connectionSubscribers) {
                subscriber.thread().submit(() -> subscriber.listener().stateChanged(state));
            }
        }
        if (state == ConnectionState.RECONNECTED) {
            // Changes made while we were away may have been missed; let watchers re-read.
            notifyWatchers();
        }
    }

    static ConnectionState map(org.apache.curator.framework.state.ConnectionState state) {
        return switch (state) {
            case CONNECTED -> ConnectionState.CONNECTED;
            case SUSPENDED, READ_ONLY -> ConnectionState.SUSPENDED;
            case RECONNECTED -> ConnectionState.RECONNECTED;
            case LOST -> ConnectionState.LOST;
        };
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        watchers.forEach(w -> w.thread().close());
        watchers.clear();
        connectionSubscribers.forEach(s -> s.thread().close());
        connectionSubscribers.clear();
        synchronized (cacheLock) {
            caches.forEach(CuratorCache::close);
            caches = List.of();
        }
        List.copyOf(leaderships).forEach(ZooKeeperLeadership::close);
        ownProxies.forEach((id, registered) -> closeNode(registered.node(), id));
        ownProxies.clear();
        client.close();
    }

    // ---- plumbing

    private void closeNode(PersistentNode node, String what) {
        try {
            node.close();
        } catch (IOException | RuntimeException e) {
            LOG.warn("closing proxy node {} of cluster {} failed; the session end will remove it", what, clusterName(), e);
        }
    }

    private boolean exists(String action, String path) {
        return run(action, path, () -> client.checkExists().forPath(path)) != null;
    }

    private void ensurePath(String path) {
        if (exists("create parent", path)) {
            return;
        }
        try {
            run("create parent", path, () -> client.create().creatingParentsIfNeeded().forPath(path));
        } catch (StoreException.AlreadyExists raced) {
            LOG.debug("{} was created concurrently", path, raced);
        }
    }

    private Node readNode(String action, String path) {
        Stat stat = new Stat();
        byte[] data = run(action, path, () -> client.getData().storingStatIn(stat).forPath(path));
        return new Node(data == null ? new byte[0] : data, stat.getVersion());
    }

    private Optional<Node> readIfPresent(String action, String path) {
        try {
            return Optional.of(readNode(action, path));
        } catch (StoreException.NotFound gone) {
            return Optional.empty();
        }
    }

    private List<String> children(String action, String path) {
        try {
            return run(action, path, () -> client.getChildren().forPath(path));
        } catch (StoreException.NotFound none) {
            return List.of();
        }
    }

    private <T> T run(String action, String path, ZkCall<T> call) {
        requireOpen(action, path);
        awaitConnection(action, path);
        try {
            return call.call();
        } catch (KeeperException e) {
            throw ZkErrors.translate(e, clusterName(), action, path);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException.Unavailable(action + " " + path + " (cluster " + clusterName() + ") was interrupted", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new StoreException.Unavailable(action + " " + path + " (cluster " + clusterName() + ") failed: " + e, e);
        }
    }

    /** Fails fast instead of queueing a request on a connection that is down. */
    private void awaitConnection(String action, String path) {
        if (client.getZookeeperClient().isConnected()) {
            return;
        }
        long waitMillis = settings.operationTimeout().toMillis();
        long started = System.nanoTime();
        try {
            if (client.blockUntilConnected((int) waitMillis, TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException.Unavailable(action + " " + path + " (cluster " + clusterName()
                    + ") was interrupted while waiting for ZooKeeper", e);
        }
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        throw new StoreException.Unavailable(action + " " + path + " (cluster " + clusterName() + "): not connected to ZooKeeper at "
                + settings.connectString() + " after waiting " + waited + " ms", null);
    }

    private void requireOpen(String action, String path) {
        if (closed.get()) {
            throw new StoreException.Unavailable(action + " " + path + " (cluster " + clusterName() + "): the store is closed",
                    null);
        }
    }
}

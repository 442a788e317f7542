package io.shardgate.proxy.core;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendUrl;
import io.shardgate.proxy.exec.ConnectionStates;
import io.shardgate.proxy.exec.ShardPool;
import io.shardgate.proxy.exec.ShardPools;
import io.shardgate.proxy.hotkeys.HotKeyPublisher;
import io.shardgate.proxy.hotkeys.HotKeySketch;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.SessionFactory;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.Router;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.RoutingSnapshotWatcher;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's core: users, one connection pool per shard (following the cluster definition in the
 * routing snapshots), the shared statement analysis cache, and the sessions front ends open.
 *
 * <p>The logical database clients see is the database named in the shards' JDBC URLs
 * ({@code jdbc:mysql://host:3316/shardgate} → {@code shardgate}); when shards disagree the default
 * shard's wins (and a warning is logged). Clusters of either dialect are served: MySQL/MariaDB shards through
 * Connector/J, PostgreSQL shards through pgJDBC; the front end of the client's protocol is the caller's business.
 */
public final class ProxyCore implements SessionFactory, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyCore.class);
    private static final long VERSION_RETRY_MILLIS = 5_000;

    private final Map<String, String> users;
    private final RoutingSnapshotWatcher watcher;
    private final ProxyCoreSettings settings;
    private final ShardPools pools;
    /**
     * The proxy's event loops: both front ends' client connections and the native backend connections (one loop per
     * core; session work runs on virtual threads). Sharing them lets a relayed reply reach its client on the same thread.
     */
    private final io.shardgate.proxy.backend.BackendEventLoops eventLoops =
            new io.shardgate.proxy.backend.BackendEventLoops(Math.max(1, Runtime.getRuntime().availableProcessors()));
    private final io.shardgate.proxy.backend.mysql.NativeBackends nativeBackends;
    private final io.shardgate.proxy.backend.pg.PgNativeBackends pgNativeBackends;
    private final ConnectionStates connectionStates = new ConnectionStates();
    private final Router router = new Router();
    private final AnalysisCache analyses;
    private final SnapshotGate gate = new SnapshotGate();
    private final HoldTimes holds = new HoldTimes();
    private final ExecutorService parallel = Executors.newVirtualThreadPerTaskExecutor();
    private final HotKeySketch hotKeys = HotKeySketch.withDefaults();
    private final AnalysedStatement.WrittenKeySink countWrite = hotKeys::record;
    private final AtomicLong connectionIds = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger openSessions = new java.util.concurrent.atomic.AtomicInteger();
    private final io.shardgate.proxy.admin.ProxyMetrics metrics = new io.shardgate.proxy.admin.ProxyMetrics();
    private final PinnedConnections pinned;
    private final CountDownLatch firstVersionAttempt = new CountDownLatch(1);
    private final io.shardgate.state.SequenceBlocks sequences;
    private volatile Topology topology;
    private volatile String serverVersion;
    private volatile boolean versionKnown;
    /** Which MySQL executable comments the shards run: from their version, the fallback's until they tell it. */
    private volatile io.shardgate.router.MySqlLexer.Gate commentGate;
    private volatile boolean closed;
    private ClusterStore.Subscription subscription;
    private Thread versionProbe;
    private HotKeyPublisher hotKeyPublisher;

    /** What the core derives from one cluster definition. */
    record Topology(ClusterDefinition cluster, String logicalDatabase, LocalAnswers localAnswers) {}

    private ProxyCore(Map<String, String> users, RoutingSnapshotWatcher watcher, ProxyCoreSettings settings,
            io.shardgate.router.StatementLimits statementLimits) {
        this.users = Map.copyOf(users);
        this.watcher = watcher;
        this.settings = settings;
        this.serverVersion = settings.fallbackServerVersion();
        this.commentGate = io.shardgate.router.MySqlLexer.Gate.of(serverVersion);
        this.analyses = new AnalysisCache(settings.analysisCacheSize(), statementLimits);
        this.pinned = new PinnedConnections(settings.maxPinnedPerShard(), metrics::pinnedConnections);
        this.sequences = new io.shardgate.state.SequenceBlocks(watcher.store(), io.shardgate.state.SequenceBlocks.DEFAULT_BLOCK_SIZE);
        this.pools = new ShardPools(new ShardPool.ProxyPoolSettings(settings.connectTimeout(), settings.borrowTimeout(),
                settings.minimumIdle(), settings.statementCacheSize(), settings.poolWait()));
        this.nativeBackends = settings.nativeBackends()
                ? new io.shardgate.proxy.backend.mysql.NativeBackends(eventLoops.shared(),
                        settings.connectTimeout(), settings.poolWait(), settings.nativeMinIdle(), pool -> pool.register(metrics.registry()),
                        shard -> pools.pool(shard).budget())
                : null;
        this.pgNativeBackends = settings.nativeBackends()
                ? new io.shardgate.proxy.backend.pg.PgNativeBackends(eventLoops.shared(),
                        settings.connectTimeout(), settings.poolWait(), settings.nativeMinIdle(), pool -> pool.register(metrics.registry()),
                        shard -> pools.pool(shard).budget())
                : null;
        if (nativeTransactions()) {
            LOG.info("MySQL transactions pin native backend connections ({}=false keeps them on JDBC)", NATIVE_TRANSACTIONS);
        }
    }

    /** The native PostgreSQL connections ({@code backend.native}), or null when they are off. */
    io.shardgate.proxy.backend.pg.PgNativeBackends pgNativeBackends() {
        return pgNativeBackends;
    }

    /** The native MySQL connections ({@code backend.native}), or null when they are off. */
    /** The proxy's event loops, for the front ends' client connections (closed with the core). */
    public io.shardgate.proxy.backend.BackendEventLoops eventLoops() {
        return eventLoops;
    }

    io.shardgate.proxy.backend.mysql.NativeBackends nativeBackends() {
        return nativeBackends;
    }

    /**
     * The system property that keeps MySQL sessions' transactions on JDBC connections when {@code false}; by default (and
     * with {@code true}) a transaction pins native connections, and its statements, dual writes, savepoints and
     * COMMIT/ROLLBACK run on them (issue 15, see {@link SessionBackends.NativeLender}).
     */
    static final String NATIVE_TRANSACTIONS = "shardgate.backend.native-transactions";

    /** Whether MySQL transactions pin native connections ({@code backend.native}, unless {@link #NATIVE_TRANSACTIONS} is false). */
    boolean nativeTransactions() {
        return nativeBackends != null && !"false".equalsIgnoreCase(System.getProperty(NATIVE_TRANSACTIONS, "true"));
    }

    public static ProxyCore start(Map<String, String> users, RoutingSnapshotWatcher watcher) {
        return start(users, watcher, ProxyCoreSettings.defaults());
    }

    /**
     * Starts following {@code watcher}'s snapshots (pools are created as shards appear) and probes the
     * default shard's version in the background, waiting at most the connect timeout for a first answer.
     * A dead shard does not block start-up.
     */
    public static ProxyCore start(Map<String, String> users, RoutingSnapshotWatcher watcher, ProxyCoreSettings settings) {
        return start(users, watcher, settings, io.shardgate.router.StatementLimits.DEFAULTS);
    }

    /** As {@link #start(Map, RoutingSnapshotWatcher, ProxyCoreSettings)}, refusing statements past {@code statementLimits}. */
    public static ProxyCore start(Map<String, String> users, RoutingSnapshotWatcher watcher, ProxyCoreSettings settings,
            io.shardgate.router.StatementLimits statementLimits) {
        Objects.requireNonNull(users, "users");
        Objects.requireNonNull(watcher, "watcher");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(statementLimits, "statementLimits");
        ProxyCore core = new ProxyCore(users, watcher, settings, statementLimits);
        core.subscription = watcher.onSnapshot(core::apply);
        watcher.current().ifPresent(core::apply);
        core.hotKeyPublisher = HotKeyPublisher.start(core.hotKeys, new HotKeyPublisher.Sink() {
            @Override
            public void publish(HotKeySketch.Top top) {
                watcher.publishHotKeys(top.windowSeconds(), top.keys());
            }

            @Override
            public void withdraw() {
                watcher.withdrawHotKeys();
            }
        }, settings.hotKeyPublishInterval(), watcher.proxyId());
        core.versionProbe = Thread.ofVirtual().name("shardgate-version-probe").start(core::probeVersion);
        try {
            core.firstVersionAttempt.await(settings.connectTimeout().toMillis() + settings.borrowTimeout().toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return core;
    }

    /** This proxy's blocks of the cluster sequences. */
    io.shardgate.state.SequenceBlocks sequences() {
        return sequences;
    }

    /** The store the proxy follows (for registering a sequence when CREATE TABLE makes one). */
    ClusterStore store() {
        return watcher.store();
    }

    @Override
    public Optional<String> password(String user) {
        return Optional.ofNullable(users.get(user));
    }

    @Override
    public FrontendSession open(ClientInfo client) {
        Objects.requireNonNull(client, "client");
        Topology t = topology();
        String schema = client.schema() == null || client.schema().isEmpty() ? null : requireDatabase(client.schema(), t);
        // the front end's id when it gave one (what the client was told in the handshake, and KILL takes)
        long id = client.connectionId() > 0 ? client.connectionId() : connectionIds.incrementAndGet();
        ProxySession session = new ProxySession(this, client, id, schema);
        openSessions.incrementAndGet();
        return session;
    }

    @Override
    public void errorSent(io.shardgate.proxy.error.SqlError error) {
        metrics.error(error.code() != null ? error.code().name()
                : "backend-" + (error.mysqlErrno() != 0 ? Integer.toString(error.mysqlErrno()) : error.sqlState()));
    }

    /** This proxy's counters (statements, shard latency, errors), for the admin port. */
    public io.shardgate.proxy.admin.ProxyMetrics metrics() {
        return metrics;
    }

    /** Client sessions open now. */
    public int openSessions() {
        return openSessions.get();
    }

    void sessionClosed() {
        openSessions.decrementAndGet();
    }

    /** Backend connections of {@code shard} pinned to sessions for their session state now. */
    public int pinnedConnections(String shard) {
        return pinned.pinned(shard);
    }

    /** Those connections by the kind of state that pinned them. */
    public Map<String, Integer> pinnedReasons(String shard) {
        return pinned.reasons(shard);
    }

    /** The most connections of one shard sessions may pin (limits.max-pinned-per-shard). */
    public int pinnedLimitPerShard() {
        return pinned.limitPerShard();
    }

    PinnedConnections pinned() {
        return pinned;
    }

    /** The pools of the shards, by name, with their connection counts. */
    public Map<String, io.shardgate.proxy.exec.ShardPool> shardPools() {
        return pools.all();
    }

    /** The routing snapshot statements use now, if any. */
    public Optional<RoutingSnapshot> currentSnapshot() {
        return gate.current();
    }

    /** The ZooKeeper watcher this core follows (connection state, fencing). */
    public RoutingSnapshotWatcher watcher() {
        return watcher;
    }

    /**
     * The default shard's version as MariaDB announces it ({@code 5.5.5-} prefix) with {@code -shardgate} appended; for a
     * PostgreSQL cluster its {@code server_version} as it is (drivers parse the leading number).
     */
    @Override
    public String serverVersion() {
        return serverVersion;
    }

    @Override
    public Optional<Dialect> dialect() {
        Topology t = topology;
        return t == null ? Optional.empty() : Optional.of(t.cluster().dialect());
    }

    /** The logical database name, or NOT_READY before the first snapshot. */
    public String logicalDatabase() {
        return topology().logicalDatabase();
    }

    // ---- for sessions

    RoutingSnapshot snapshot() {
        return gate.current().orElseThrow(ProxyCore::notReady);
    }

    /** Holds the current snapshot for one statement (see {@link SnapshotGate}). */
    SnapshotGate.Ticket enter() {
        return gate.enter().orElseThrow(ProxyCore::notReady);
    }

    /** Writes per (table, shard key) this proxy routed, published to ZooKeeper every few seconds. */
    public HotKeySketch hotKeys() {
        return hotKeys;
    }

    /** Counts one write of a key in {@link #hotKeys()}. */
    AnalysedStatement.WrittenKeySink countWrite() {
        return countWrite;
    }

    /** Writes this proxy held during cutovers. */
    public HoldTimes holds() {
        return holds;
    }

    SnapshotGate gate() {
        return gate;
    }

    ProxyCoreSettings settings() {
        return settings;
    }

    /** True while writes to moving slots must stop (ZooKeeper connection suspended or lost, state not re-read). */
    boolean fenced() {
        return watcher.fenced();
    }

    /** True while every sharded write must stop: the ZooKeeper session may have expired, so any slot may be moving. */
    boolean fencedEverywhere() {
        return watcher.sessionLost();
    }

    Topology topology() {
        Topology t = topology;
        if (t == null) {
            throw notReady();
        }
        return t;
    }

    Router router() {
        return router;
    }

    AnalysedStatement analyse(String sql, Dialect dialect) {
        return analyses.get(sql, dialect, commentGate);
    }

    /** {@code sql}'s analysis if it is cached, else null (nothing is parsed: for an event loop). */
    AnalysedStatement analysedIfCached(String sql) {
        return analyses.cached(sql);
    }

    ShardPools pools() {
        return pools;
    }

    /**
     * Test seam: called with the lent connection just before a single-shard statement runs on it. A test makes it leave
     * the connection in a state the proxy does not know of and throw, as a driver bug halfway through a reply would, to
     * check that such a connection never serves another session. Null (nothing runs) unless a test sets it.
     */
    @FunctionalInterface
    interface BackendFault {
        void beforeStatement(String shard, java.sql.Connection connection) throws java.sql.SQLException;
    }

    private volatile BackendFault backendFault;

    void injectBackendFault(BackendFault fault) {
        backendFault = fault;
    }

    BackendFault backendFault() {
        return backendFault;
    }

    ConnectionStates connectionStates() {
        return connectionStates;
    }

    /**
     * Fires statement deadlines and cuts connections whose shards do not take a cancel (see {@link RunningStatement}):
     * one thread, whose tasks only start the cancels, which run on virtual threads.
     */
    private final java.util.concurrent.ScheduledThreadPoolExecutor deadlines = deadlineTimer();

    private static java.util.concurrent.ScheduledThreadPoolExecutor deadlineTimer() {
        var timer = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("shardgate-statement-deadlines").factory());
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /** A new session's running statement: its deadline and cancels. */
    RunningStatement runningStatement(boolean postgres) {
        return new RunningStatement(deadlines, settings.statementTimeout(), postgres);
    }

    ExecutorService parallel() {
        return parallel;
    }

    static String requireDatabase(String schema, Topology t) {
        if (!schema.equals(t.logicalDatabase())) {
            throw new ProxyException(ErrorCode.UNKNOWN_DATABASE, "Unknown database '" + schema + "'");
        }
        return schema;
    }

    private static ProxyException notReady() {
        return new ProxyException(ErrorCode.NOT_READY, "Shardgate has no routing state yet: the cluster is not initialised"
                + " or ZooKeeper is unreachable; retry shortly");
    }

    // ---- snapshots

    /**
     * Runs before the watcher acknowledges {@code snapshot}'s epoch: adopts the definition, then swaps the
     * snapshot in and waits for statements routed with older ones (throws, so the epoch is not acknowledged,
     * if they do not finish within the drain timeout).
     */
    private void apply(RoutingSnapshot snapshot) {
        adopt(snapshot.cluster());
        try {
            gate.advance(snapshot, settings.drainTimeout());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while draining statements before acknowledging epoch " + snapshot.epoch(), e);
        }
    }

    private void adopt(ClusterDefinition cluster) {
        Topology current = topology;
        if (current != null && current.cluster().equals(cluster)) {
            return;
        }
        pools.update(cluster);
        topology = new Topology(cluster, logicalDatabase(cluster), new LocalAnswers(versionForClients(), settings.versionComment()));
    }

    static String logicalDatabase(ClusterDefinition cluster) {
        ShardDefinition defaultShard = cluster.shard(cluster.defaultShard()).orElseThrow();
        String name = BackendUrl.parse(defaultShard.jdbcUrl()).database();
        for (ShardDefinition s : cluster.shards()) {
            String other = BackendUrl.parse(s.jdbcUrl()).database();
            if (!other.equals(name)) {
                LOG.warn("shard {} names database '{}' but the default shard {} names '{}'; clients see '{}'", s.name(), other,
                        defaultShard.name(), name, name);
            }
        }
        return name;
    }

    // ---- server version

    private void probeVersion() {
        while (!closed && !versionKnown) {
            Topology t = topology;
            if (t != null) {
                tryVersion(t.cluster().defaultShard());
            }
            firstVersionAttempt.countDown();
            if (versionKnown || !sleep()) {
                return;
            }
        }
    }

    private void tryVersion(String shard) {
        boolean postgres = topology != null && topology.cluster().dialect() == Dialect.POSTGRES;
        try (Connection c = pools.pool(shard).borrow(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(postgres ? "SHOW server_version" : "SELECT VERSION()")) {
            rs.next();
            String v = rs.getString(1);
            serverVersion = postgres ? v : (v.contains("MariaDB") && !v.startsWith("5.5.5-") ? "5.5.5-" + v : v) + "-shardgate";
            versionKnown = true;
            io.shardgate.router.MySqlLexer.Gate gate = io.shardgate.router.MySqlLexer.Gate.of(serverVersion);
            if (!gate.equals(commentGate)) {
                commentGate = gate;
                analyses.clear(); // analyses read with the fallback's gate may have read executable comments otherwise
            }
            Topology t = topology;
            if (t != null) {
                topology = new Topology(t.cluster(), t.logicalDatabase(), new LocalAnswers(versionForClients(), settings.versionComment()));
            }
            LOG.info("announcing server version {} (default shard {})", serverVersion, shard);
        } catch (java.sql.SQLException | RuntimeException e) {
            LOG.warn("default shard {} did not tell its version ({}); announcing {} until it does", shard, e.getMessage(),
                    serverVersion);
        }
    }

    private boolean sleep() {
        try {
            Thread.sleep(VERSION_RETRY_MILLIS);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    /** {@code @@version} / {@code VERSION()} as a server answers them: without the handshake's 5.5.5- prefix. */
    String versionForClients() {
        String v = serverVersion;
        return v.startsWith("5.5.5-") ? v.substring("5.5.5-".length()) : v;
    }

    @Override
    public void close() {
        closed = true;
        if (subscription != null) {
            subscription.close();
        }
        if (versionProbe != null) {
            versionProbe.interrupt();
        }
        if (hotKeyPublisher != null) {
            hotKeyPublisher.close();
        }
        parallel.shutdownNow();
        deadlines.shutdownNow();
        pools.close();
        if (pgNativeBackends != null) {
            pgNativeBackends.close();
        }
        if (nativeBackends != null) {
            nativeBackends.close();
        }
        eventLoops.close();
    }
}

package io.shardgate.proxy;

import io.shardgate.config.ShardgateConfig;
import io.shardgate.proxy.core.ProxyCore;
import io.shardgate.proxy.core.ProxyCoreSettings;
import io.shardgate.proxy.mysql.MySqlFrontend;
import io.shardgate.proxy.pg.PgFrontend;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.RoutingSnapshotWatcher;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import io.shardgate.state.zk.ZooKeeperSettings;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxy process: connects to the cluster's ZooKeeper, follows its routing snapshots, keeps the
 * shard pools, and serves clients on the MySQL port. Parts start in order and stop in reverse.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);
    private static final java.util.concurrent.atomic.AtomicInteger INSTANCES = new java.util.concurrent.atomic.AtomicInteger();

    private final Deque<AutoCloseable> parts = new ArrayDeque<>();
    private final String proxyId;
    private ProxyCore core;
    private MySqlFrontend mysql;
    private io.shardgate.proxy.admin.AdminServer admin;
    private PgFrontend postgres;

    private ProxyServer(String proxyId) {
        this.proxyId = proxyId;
    }

    /**
     * Starts a proxy for {@code config}'s cluster on the ZooKeeper at {@code zooKeeperConnect} (already
     * resolved: "embedded" is the caller's business). A MySQL port of 0 in the config binds a free port.
     */
    public static ProxyServer start(ShardgateConfig config, String zooKeeperConnect) throws InterruptedException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(zooKeeperConnect, "zooKeeperConnect");
        // unique among live proxies even for several in one JVM: the barrier counts proxies by id
        ProxyServer server = new ProxyServer(config.listen().host() + ":" + config.listen().mysqlPort() + "-"
                + ProcessHandle.current().pid() + "-" + INSTANCES.incrementAndGet());
        try {
            server.startParts(config, zooKeeperConnect);
            return server;
        } catch (InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void startParts(ShardgateConfig config, String zooKeeperConnect) throws InterruptedException {
        var zk = config.zookeeper();
        ZooKeeperSettings settings = ZooKeeperSettings.of(zooKeeperConnect, Duration.ofMillis(zk.connectTimeoutMs()))
                .withSessionTimeout(Duration.ofMillis(zk.sessionTimeoutMs()));
        // a proxy is a long-running process: a ZooKeeper that is down or slow at start is waited for, and said so
        ClusterStore store = ZooKeeperClusterStore.connectWaiting(settings, config.cluster(), LOG::warn);
        parts.push(store);
        // the address other tools show for this proxy: its MySQL port, or its PostgreSQL port when that is its only one
        boolean postgresOnly = config.listen().mysqlPort() == 0 && config.listen().postgresPort() != 0;
        String address = config.listen().host() + ":" + (postgresOnly ? config.listen().postgresPort() : config.listen().mysqlPort());
        RoutingSnapshotWatcher watcher = RoutingSnapshotWatcher.start(store, proxyId, address);
        parts.push(watcher);
        awaitFirstSnapshot(watcher, config.cluster(), Duration.ofMillis(zk.connectTimeoutMs()));
        Map<String, String> users = new LinkedHashMap<>();
        config.users().forEach(u -> users.put(u.name(), u.password()));
        core = ProxyCore.start(users, watcher, io.shardgate.proxy.core.ProxyCoreSettings.defaults()
                .withMaxPinnedPerShard(config.limits().maxPinnedPerShard())
                .withPoolWait(Duration.ofMillis(config.limits().poolWaitMs()))
                .withStatementTimeout(config.limits().statementTimeout())
                .withNativeBackends(config.backend().nativeMySql())
                .withNativeMinIdle(config.backend().nativeMinIdle()), config.limits().statementLimits());
        parts.push(core);
        installLastResortHandler();
        // one throttle for both listeners: guessing on one port slows the other down too
        LoginThrottle throttle = LoginThrottle.of(config.limits());
        core.metrics().loginFailures(throttle);
        if (config.listen().mysqlPort() != 0 || config.listen().postgresPort() == 0) {
            ClientAdmission admission = ClientAdmission.of(config.limits(), throttle);
            mysql = MySqlFrontend.start(config.listen().host(), config.listen().mysqlPort(), core,
                    config.listen().mysqlAuth(), config.limits().maxPacketBytes(), admission, core.eventLoops().group());
            parts.push(mysql);
            core.metrics().clientConnections("mysql", admission);
            LOG.info("proxy {} serving cluster '{}' on MySQL port {}:{}", proxyId, config.cluster(),
                    config.listen().host(), mysql.port());
        }
        if (config.listen().postgresPort() != 0) {
            ClientAdmission admission = ClientAdmission.of(config.limits(), throttle);
            postgres = PgFrontend.start(config.listen().host(), config.listen().postgresPort(), core, config.listen().postgresAuth(),
                    config.limits().maxPacketBytes(), admission, core.eventLoops().group(),
                    io.shardgate.proxy.pg.PgTls.of(config.tls()));
            parts.push(postgres);
            core.metrics().clientConnections("postgres", admission);
            LOG.info("proxy {} serving cluster '{}' on PostgreSQL port {}:{}", proxyId, config.cluster(),
                    config.listen().host(), postgres.port());
        }
        if (config.admin().port() != 0) {
            try {
                admin = io.shardgate.proxy.admin.AdminServer.start(config.admin().host(), config.admin().port(), proxyId, core, store);
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot open the admin port " + config.admin().host() + ":" + config.admin().port()
                        + ": " + e.getMessage(), e);
            }
            parts.push(admin);
        }
    }

    /**
     * A thread that dies of an exception nobody caught is logged through the proxy's log (not only printed to stderr):
     * the front ends answer and close their own connections first (their session threads have handlers of their own);
     * this covers every other thread of the process. An embedder's own handler is kept.
     */
    private static void installLastResortHandler() {
        if (Thread.getDefaultUncaughtExceptionHandler() == null) {
            Thread.setDefaultUncaughtExceptionHandler((thread, e) ->
                    LOG.error("thread {} died of an uncaught {}", thread.getName(), e.toString(), e));
        }
    }

    /**
     * Clients are let in once the proxy can route; a cluster that is not initialised yet is not a
     * reason to refuse to start (clients get NOT_READY until it is), so this only waits a while.
     */
    private void awaitFirstSnapshot(RoutingSnapshotWatcher watcher, String cluster, Duration timeout)
            throws InterruptedException {
        try {
            watcher.awaitSnapshot(0, timeout);
        } catch (java.util.concurrent.TimeoutException e) {
            LOG.warn("proxy {}: cluster '{}' has no routing state after {} ms (not initialised yet?); "
                    + "clients get NOT_READY until it has", proxyId, cluster, timeout.toMillis());
        }
    }

    public String proxyId() {
        return proxyId;
    }

    /** Whether the MySQL listener is on: {@code listen.mysql-port} is set, or no PostgreSQL port is. */
    public boolean listensForMySql() {
        return mysql != null;
    }

    /** Whether the PostgreSQL listener is on ({@code listen.postgres-port} is set). */
    public boolean listensForPostgres() {
        return postgres != null;
    }

    /** The bound MySQL port (useful when the config asked for port 0). */
    public int mysqlPort() {
        if (mysql == null) {
            throw new IllegalStateException("the MySQL listener is off");
        }
        return mysql.port();
    }

    /** The bound admin HTTP port; the admin listener must be on. */
    public int adminPort() {
        if (admin == null) {
            throw new IllegalStateException("the admin listener is off (admin.port 0)");
        }
        return admin.port();
    }

    /** The bound PostgreSQL port. */
    public int postgresPort() {
        if (postgres == null) {
            throw new IllegalStateException("the PostgreSQL listener is off");
        }
        return postgres.port();
    }

    public ProxyCore core() {
        return core;
    }

    @Override
    public void close() {
        while (!parts.isEmpty()) {
            AutoCloseable part = parts.pop();
            try {
                part.close();
            } catch (Exception e) {
                LOG.warn("proxy {}: stopping {} failed: {}", proxyId, part.getClass().getSimpleName(), e.toString());
            }
        }
    }
}

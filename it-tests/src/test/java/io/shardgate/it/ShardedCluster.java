package io.shardgate.it;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.config.ShardgateConfig;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.ProxyServer;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.zk.EmbeddedZooKeeper;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole cluster for a test, all real: N MariaDB shards (plus a reference single server holding
 * the same data unsharded, to compare answers with), an embedded ZooKeeper, the cluster definition,
 * and in-process proxies listening on free ports.
 */
final class ShardedCluster implements AutoCloseable {
    static final String DATABASE = "shardgate";
    static final String CLUSTER = "it";
    static final String USER = "app";
    static final String PASSWORD = "app";

    private final List<LocalMariaDb> shards = new ArrayList<>();
    private final List<ProxyServer> proxies = new ArrayList<>();
    private LocalMariaDb reference;
    private EmbeddedZooKeeper zooKeeper;
    private ClusterStore store;
    private Path zkDir;
    private int poolSize = 16;

    private ShardedCluster() {}

    /** As {@link #start(int, String)} with {@code poolSize} connections per shard per proxy ({@code shards[].pool-size}). */
    static ShardedCluster startWithPoolSize(int shardCount, int poolSize, String tablesYaml) throws Exception {
        ShardedCluster c = new ShardedCluster();
        c.poolSize = poolSize;
        try {
            c.startServers(shardCount);
            c.initCluster(shardCount, shardCount, tablesYaml);
            c.startProxy();
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    /** Starts {@code shardCount} shards with the given YAML {@code tables:} section and one proxy. */
    static ShardedCluster start(int shardCount, String tablesYaml) throws Exception {
        return start(shardCount, 0, tablesYaml);
    }

    /** {@code shardCount} shards that own slots plus {@code spares} spare shards (no slots, DDL still reaches them). */
    static ShardedCluster start(int shardCount, int spares, String tablesYaml) throws Exception {
        ShardedCluster c = new ShardedCluster();
        try {
            c.startServers(shardCount + spares);
            c.initCluster(shardCount + spares, shardCount, tablesYaml);
            c.startProxy();
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    /**
     * {@code shardCount} MariaDB servers (each with an empty database), the reference server and ZooKeeper,
     * but no cluster in ZooKeeper and no proxy: for tests that create the cluster themselves (adopting a
     * database); {@link #startProxy()} once it exists.
     */
    static ShardedCluster startWithoutCluster(int shardCount) throws Exception {
        ShardedCluster c = new ShardedCluster();
        try {
            c.startServers(shardCount);
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    private void startServers(int shardCount) throws Exception {
        List<LocalMariaDb> servers = Servers.startAll(shardCount + 1, () -> {
            LocalMariaDb db = LocalMariaDb.temporary();
            try {
                db.createDatabase(DATABASE);
                return db;
            } catch (RuntimeException e) {
                db.close();
                throw e;
            }
        });
        shards.addAll(servers.subList(0, shardCount));
        reference = servers.getLast();
        zkDir = Files.createTempDirectory("shardgate-it-zk");
        zooKeeper = EmbeddedZooKeeper.start(zkDir, 0);
        store = ZooKeeperClusterStore.connect(zooKeeper.connectString(), CLUSTER, Duration.ofSeconds(20));
    }

    private void initCluster(int shardCount, int active, String tablesYaml) {
        StringBuilder yaml = new StringBuilder("dialect: mysql\nslots: 4096\nshards:\n");
        for (int i = 0; i < shardCount; i++) {
            yaml.append("  - {name: s").append(i).append(", url: '").append(shards.get(i).jdbcUrl(DATABASE))
                    .append("', user: root, password: '', pool-size: ").append(poolSize).append(i >= active ? ", spare: true" : "").append("}\n");
        }
        yaml.append(tablesYaml);
        ClusterDefinition def = ClusterDefinitionCodec.parseYaml(yaml.toString(), "test cluster");
        store.createCluster(def, SlotMap.initial(def.slots(), def.activeShardNames()), false);
    }

    /** Starts one more proxy for the cluster and returns it. */
    ProxyServer startProxy() throws InterruptedException {
        return startProxy(zooKeeper.connectString(), 15_000);
    }

    /** Starts one more proxy reaching ZooKeeper at {@code connectString} (e.g. through a relay) with a session timeout. */
    ProxyServer startProxy(String connectString, int sessionTimeoutMillis) throws InterruptedException {
        return startProxy(connectString, sessionTimeoutMillis, 0);
    }

    /** Starts one more proxy with its admin HTTP port (metrics, health, dashboard) on a free port. */
    ProxyServer startProxyWithAdmin() throws InterruptedException {
        return startProxy(zooKeeper.connectString(), 15_000, io.shardgate.local.FreePorts.find());
    }

    /** Starts one more proxy with its admin port and these limits (e.g. a small limit of pinned connections per shard). */
    ProxyServer startProxyWithAdmin(ShardgateConfig.Limits limits) throws InterruptedException {
        return startProxy(zooKeeper.connectString(), 15_000, io.shardgate.local.FreePorts.find(), limits);
    }

    /** Starts one more proxy whose statements wait at most {@code poolWait} for a connection of a busy pool. */
    ProxyServer startProxyWithPoolWait(Duration poolWait) throws InterruptedException {
        return startProxy(zooKeeper.connectString(), 15_000, 0, ShardgateConfig.defaults().limits().withPoolWaitMs((int) poolWait.toMillis()));
    }

    /** Starts one more proxy with these limits (e.g. a short statement deadline). */
    ProxyServer startProxy(ShardgateConfig.Limits limits) throws InterruptedException {
        return startProxy(zooKeeper.connectString(), 15_000, 0, limits);
    }

    /** Starts one more proxy with these limits and {@code backend.native-min-idle} (idle native connections kept ready). */
    ProxyServer startProxy(ShardgateConfig.Limits limits, int nativeMinIdle) throws InterruptedException {
        return startProxy(zooKeeper.connectString(), 15_000, 0, limits, nativeMinIdle);
    }

    private ProxyServer startProxy(String connectString, int sessionTimeoutMillis, int adminPort) throws InterruptedException {
        return startProxy(connectString, sessionTimeoutMillis, adminPort, ShardgateConfig.defaults().limits());
    }

    private ProxyServer startProxy(String connectString, int sessionTimeoutMillis, int adminPort, ShardgateConfig.Limits limits)
            throws InterruptedException {
        return startProxy(connectString, sessionTimeoutMillis, adminPort, limits, ShardgateConfig.Backend.DEFAULTS.nativeMinIdle());
    }

    private ProxyServer startProxy(String connectString, int sessionTimeoutMillis, int adminPort, ShardgateConfig.Limits limits,
            int nativeMinIdle) throws InterruptedException {
        ShardgateConfig d = ShardgateConfig.defaults();
        ShardgateConfig cfg = new ShardgateConfig(CLUSTER,
                new ShardgateConfig.Listen("127.0.0.1", 0, 0, "mysql_native_password"),
                new ShardgateConfig.Admin("127.0.0.1", adminPort),
                new ShardgateConfig.ZooKeeper(connectString, d.zookeeper().embeddedPort(),
                        d.zookeeper().embeddedDataDir(), sessionTimeoutMillis, Math.min(10_000, sessionTimeoutMillis)),
                List.of(new ShardgateConfig.User(USER, PASSWORD)), limits, ShardgateConfig.Tls.OFF,
                // backend.native as a proxy's file has it by default; -Dshardgate.it.backend-native=false|true forces it
                new ShardgateConfig.Backend(Boolean.parseBoolean(System.getProperty("shardgate.it.backend-native",
                        String.valueOf(ShardgateConfig.Backend.DEFAULTS.nativeMySql()))), nativeMinIdle));
        ProxyServer p = ProxyServer.start(cfg, connectString);
        proxies.add(p);
        return p;
    }

    /** Stops the in-process ZooKeeper (for tests of what a ZooKeeper outage looks like); the cluster stays unusable. */
    void stopZooKeeper() {
        zooKeeper.close();
    }

    String zooKeeperConnect() {
        return zooKeeper.connectString();
    }

    List<ProxyServer> proxies() {
        return List.copyOf(proxies);
    }

    Connection proxyConnection(ProxyServer p, String options) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + p.mysqlPort() + "/" + DATABASE + "?user=" + USER
                + "&password=" + PASSWORD + "&sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=10000"
                + (options.isEmpty() ? "" : "&" + options));
    }

    ProxyServer proxy() {
        return proxies.getFirst();
    }

    LocalMariaDb shard(int i) {
        return shards.get(i);
    }

    int shardCount() {
        return shards.size();
    }

    LocalMariaDb reference() {
        return reference;
    }

    ClusterStore store() {
        return store;
    }

    /** Connector/J URL of the first proxy; {@code options} like "useServerPrepStmts=true". */
    String proxyUrl(String options) {
        return "jdbc:mysql://127.0.0.1:" + proxy().mysqlPort() + "/" + DATABASE + "?user=" + USER + "&password=" + PASSWORD
                + "&sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=10000"
                + (options.isEmpty() ? "" : "&" + options);
    }

    String referenceUrl(String options) {
        return reference.jdbcUrl(DATABASE) + (reference.jdbcUrl(DATABASE).contains("?") ? "&" : "?")
                + "user=root&password=&sslMode=DISABLED&allowPublicKeyRetrieval=true" + (options.isEmpty() ? "" : "&" + options);
    }

    Connection proxyConnection(String options) throws SQLException {
        return DriverManager.getConnection(proxyUrl(options));
    }

    Connection referenceConnection(String options) throws SQLException {
        return DriverManager.getConnection(referenceUrl(options));
    }

    Connection shardConnection(int i) throws SQLException {
        LocalMariaDb s = shards.get(i);
        return DriverManager.getConnection(s.jdbcUrl(DATABASE) + "?user=root&password=&sslMode=DISABLED");
    }

    @Override
    public void close() {
        for (ProxyServer p : proxies.reversed()) {
            p.close();
        }
        closeQuietly(store);
        closeQuietly(zooKeeper);
        for (LocalMariaDb s : shards) {
            closeQuietly(s);
        }
        closeQuietly(reference);
        if (zkDir != null) {
            try (var paths = Files.walk(zkDir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (java.io.IOException ignored) {
                // a temp directory left behind is harmless
            }
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing the rest matters more
            }
        }
    }
}

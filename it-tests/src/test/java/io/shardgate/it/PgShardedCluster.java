package io.shardgate.it;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.config.ShardgateConfig;
import io.shardgate.local.FreePorts;
import io.shardgate.local.LocalPostgres;
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
 * A PostgreSQL cluster for a test, all real: N local PostgreSQL shards, a reference PostgreSQL holding the same data
 * unsharded (to compare answers with), an embedded ZooKeeper, a cluster definition with dialect postgres, and an
 * in-process proxy whose PostgreSQL listener is on a free port.
 */
final class PgShardedCluster implements AutoCloseable {
    static final String DATABASE = "shardgate";
    static final String CLUSTER = "it-pg";
    static final String USER = "app";
    static final String PASSWORD = "app-secret";

    private final List<LocalPostgres> shards = new ArrayList<>();
    private LocalPostgres reference;
    private EmbeddedZooKeeper zooKeeper;
    private ClusterStore store;
    private ProxyServer proxy;
    private final List<ProxyServer> moreProxies = new java.util.ArrayList<>();
    private String auth;
    private Path zkDir;

    private PgShardedCluster() {}

    /** {@code shardCount} shards with the given YAML {@code tables:} section and one proxy asking for {@code auth}. */
    static PgShardedCluster start(int shardCount, String tablesYaml, String auth) throws Exception {
        return start(shardCount, 0, tablesYaml, auth);
    }

    /** As {@link #start(int, String, String)} with {@code spares} more shards that own no slot: targets for resharding. */
    static PgShardedCluster start(int shardCount, int spares, String tablesYaml, String auth) throws Exception {
        PgShardedCluster c = new PgShardedCluster();
        try {
            List<LocalPostgres> servers = Servers.startAll(shardCount + spares + 1, () -> {
                LocalPostgres pg = LocalPostgres.temporary();
                try {
                    pg.createDatabase(DATABASE);
                    return pg;
                } catch (RuntimeException e) {
                    pg.close();
                    throw e;
                }
            });
            c.shards.addAll(servers.subList(0, shardCount + spares));
            c.reference = servers.getLast();
            c.zkDir = Files.createTempDirectory("shardgate-it-pg-zk");
            c.zooKeeper = EmbeddedZooKeeper.start(c.zkDir, 0);
            c.store = ZooKeeperClusterStore.connect(c.zooKeeper.connectString(), CLUSTER, Duration.ofSeconds(20));
            StringBuilder yaml = new StringBuilder("dialect: postgres\nslots: 4096\nshards:\n");
            for (int i = 0; i < shardCount + spares; i++) {
                yaml.append("  - {name: s").append(i).append(", url: '").append(c.shards.get(i).jdbcUrl(DATABASE))
                        .append("', user: postgres, password: '', pool-size: 8").append(i >= shardCount ? ", spare: true" : "")
                        .append("}\n");
            }
            yaml.append(tablesYaml);
            ClusterDefinition def = ClusterDefinitionCodec.parseYaml(yaml.toString(), "test cluster");
            c.store.createCluster(def, SlotMap.initial(def.slots(), def.activeShardNames()), false);
            c.auth = auth;
            c.proxy = c.newProxy();
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    private ProxyServer newProxy() throws InterruptedException {
        return newProxy(ShardgateConfig.defaults().limits(), itBackendNative());
    }

    /** backend.native as a proxy's file has it by default; -Dshardgate.it.backend-native=false|true forces it. */
    private static boolean itBackendNative() {
        return Boolean.parseBoolean(System.getProperty("shardgate.it.backend-native",
                String.valueOf(ShardgateConfig.Backend.DEFAULTS.nativeMySql())));
    }

    private ProxyServer newProxy(ShardgateConfig.Limits limits, boolean nativeBackends) throws InterruptedException {
        ShardgateConfig d = ShardgateConfig.defaults();
        ShardgateConfig cfg = new ShardgateConfig(CLUSTER,
                new ShardgateConfig.Listen("127.0.0.1", 0, FreePorts.find(), "mysql_native_password", auth),
                new ShardgateConfig.Admin("127.0.0.1", 0),
                new ShardgateConfig.ZooKeeper(zooKeeper.connectString(), d.zookeeper().embeddedPort(),
                        d.zookeeper().embeddedDataDir(), 15_000, 10_000),
                List.of(new ShardgateConfig.User(USER, PASSWORD)), limits, ShardgateConfig.Tls.OFF,
                new ShardgateConfig.Backend(nativeBackends));
        return ProxyServer.start(cfg, zooKeeper.connectString());
    }

    /** Starts one more proxy for the cluster (closed with the cluster) and returns it. */
    ProxyServer startProxy() throws InterruptedException {
        ProxyServer p = newProxy();
        moreProxies.add(p);
        return p;
    }

    /** Starts one more proxy with these limits (e.g. a short statement deadline), closed with the cluster. */
    ProxyServer startProxy(ShardgateConfig.Limits limits) throws InterruptedException {
        ProxyServer p = newProxy(limits, itBackendNative());
        moreProxies.add(p);
        return p;
    }

    /** As {@link #startProxy()}, with {@code backend.native} on or off whatever the run's default. */
    ProxyServer startProxy(boolean nativeBackends) throws InterruptedException {
        ProxyServer p = newProxy(ShardgateConfig.defaults().limits(), nativeBackends);
        moreProxies.add(p);
        return p;
    }

    /** pgJDBC through {@code p}. */
    Connection proxyConnection(ProxyServer p, String options) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + p.postgresPort() + "/" + DATABASE + "?user=" + USER
                + "&password=" + PASSWORD + "&sslmode=disable" + (options.isEmpty() ? "" : "&" + options));
    }

    ClusterStore store() {
        return store;
    }

    String zooKeeperConnect() {
        return zooKeeper.connectString();
    }

    ProxyServer proxy() {
        return proxy;
    }

    int proxyPort() {
        return proxy.postgresPort();
    }

    LocalPostgres reference() {
        return reference;
    }

    LocalPostgres shard(int i) {
        return shards.get(i);
    }

    /** pgJDBC through the proxy; {@code options} like "prepareThreshold=0". */
    Connection proxyConnection(String options) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxyPort() + "/" + DATABASE + "?user=" + USER
                + "&password=" + PASSWORD + "&sslmode=disable" + (options.isEmpty() ? "" : "&" + options));
    }

    Connection referenceConnection(String options) throws SQLException {
        return DriverManager.getConnection(reference.jdbcUrl(DATABASE) + "?user=postgres&sslmode=disable"
                + (options.isEmpty() ? "" : "&" + options));
    }

    Connection shardConnection(int i) throws SQLException {
        return DriverManager.getConnection(shards.get(i).jdbcUrl(DATABASE) + "?user=postgres&sslmode=disable");
    }

    @Override
    public void close() {
        moreProxies.reversed().forEach(PgShardedCluster::closeQuietly);
        closeQuietly(proxy);
        closeQuietly(store);
        closeQuietly(zooKeeper);
        shards.forEach(PgShardedCluster::closeQuietly);
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
                // best effort
            }
        }
    }
}

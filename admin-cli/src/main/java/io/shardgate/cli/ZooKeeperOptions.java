package io.shardgate.cli;

import io.shardgate.config.ShardgateConfig;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.StoreException;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options of every command that talks to a cluster in ZooKeeper: {@code --config}, {@code --cluster}, {@code --zk}. */
public final class ZooKeeperOptions {
    private static final Duration CONNECT_GRACE = Duration.ofMillis(500);

    @Mixin
    ConfigOptions configOptions;

    @Option(names = "--zk", paramLabel = "CONNECT",
            description = "ZooKeeper connect string host:port[,host:port...] (default: zookeeper.connect in the "
                    + "configuration; 'embedded' means 127.0.0.1:<zookeeper.embedded-port>).")
    String zk;

    public ShardgateConfig config() {
        return configOptions.config();
    }

    public String clusterName() {
        return configOptions.clusterName();
    }

    /** Where to connect: {@code --zk}, else the configuration; "embedded" is the local embedded server's port. */
    public String connectString() {
        ShardgateConfig.ZooKeeper zkConfig = config().zookeeper();
        if (zk == null) {
            return zkConfig.clientConnectString();
        }
        String value = zk.trim();
        try {
            ShardgateConfig.checkConnectString(value);
        } catch (IllegalArgumentException e) {
            throw new CliException("--zk: " + e.getMessage(), e);
        }
        return value.equals(ShardgateConfig.EMBEDDED) ? "127.0.0.1:" + zkConfig.embeddedPort() : value;
    }

    /** As {@link #openStore()}, for commands on an existing cluster: refuses, saying how to create one, when there is none. */
    public ClusterStore openExistingStore() {
        ClusterStore store = openStore();
        if (!store.clusterExists()) {
            store.close();
            throw CliException.notInitialised(store.clusterName(), connectString());
        }
        return store;
    }

    /**
     * For long-running commands (the migrator): connects to the cluster's store however long ZooKeeper takes to answer,
     * printing a line to {@code out} each time the wait grows (see {@link ZooKeeperClusterStore#connectWaiting}).
     */
    public ClusterStore openStoreWaiting(java.io.PrintWriter out) {
        ShardgateConfig.ZooKeeper zkConfig = config().zookeeper();
        var settings = io.shardgate.state.zk.ZooKeeperSettings.of(connectString(), zkConfig.connectTimeout())
                .withSessionTimeout(Duration.ofMillis(zkConfig.sessionTimeoutMs()));
        return ZooKeeperClusterStore.connectWaiting(settings, clusterName(), line -> {
            out.println(line);
            out.flush();
        });
    }

    /** Overrides zookeeper.connect-timeout-ms for one-shot commands (scripts on a loaded machine; the test harness). */
    static final String CONNECT_TIMEOUT_ENV = "SHARDGATE_ZK_CONNECT_TIMEOUT_MS";

    /** The configured timeout, or the environment's when it names a whole number of milliseconds in 100..120000. */
    static Duration commandConnectTimeout(Duration configured, String environment) {
        if (environment == null || environment.isBlank()) {
            return configured;
        }
        try {
            long ms = Long.parseLong(environment.strip());
            if (ms >= 100 && ms <= 120_000) {
                return Duration.ofMillis(ms);
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new CliException(CONNECT_TIMEOUT_ENV + "=" + environment + " is not a number of milliseconds in 100..120000");
    }

    /** Connects to the cluster's store, failing within the configured connect timeout with one clear line. */
    public ClusterStore openStore() {
        String cluster = clusterName();
        String connect = connectString();
        Duration timeout = commandConnectTimeout(config().zookeeper().connectTimeout(), System.getenv(CONNECT_TIMEOUT_ENV));
        if (ConnectProbe.allRefuse(connect)) {
            // Curator would retry for the whole timeout; nothing listening anywhere is worth saying at once
            throw new CliException("cannot reach ZooKeeper at " + connect + ": connection refused (is it running? "
                    + "'bin/shardgate zookeeper' or 'bin/shardgate demo' starts one; --zk names another)");
        }
        // The client may linger after its connect timeout (closing a session that never opened waits for
        // the request timeout); a command promises an answer within the timeout plus a small grace.
        CompletableFuture<ClusterStore> connecting = new CompletableFuture<>();
        Thread.ofVirtual().name("zookeeper-connect").start(() -> {
            try {
                connecting.complete(ZooKeeperClusterStore.connect(connect, cluster, timeout));
            } catch (Throwable t) {
                connecting.completeExceptionally(t);
            }
        });
        try {
            return connecting.get(timeout.toMillis() + CONNECT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            if (cause instanceof StoreException.Unavailable || cause instanceof TimeoutException) {
                connecting.thenAccept(ClusterStore::close); // if it connects after all, let it go
                // not refused (the probe above): something listens but opened no session in time, which is a slow or
                // overloaded server far more often than a missing one
                throw new CliException("cannot reach ZooKeeper at " + connect + " within " + timeout.toMillis()
                        + " ms: it accepts connections but opened no session in time (slow or overloaded, or not ZooKeeper);"
                        + " retry, or raise zookeeper.connect-timeout-ms in the configuration", cause);
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("connecting to ZooKeeper at " + connect + " failed", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted while connecting to ZooKeeper at " + connect, e);
        }
    }
}

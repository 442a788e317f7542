package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.StoreException;
import io.shardgate.state.zk.EmbeddedZooKeeper;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;

/**
 * A whole Shardgate cluster on one machine, started as named steps in order and stopped in reverse.
 * Each step states its plan before it acts, so {@code shardgate demo --dry-run} prints exactly what
 * a run would do. To add a part (shard databases, the proxy, a migrator), add a step to
 * {@link #steps()} whose action returns what must be stopped.
 */
final class DemoCluster implements AutoCloseable {

    /**
     * What the demo is made of.
     *
     * @param clusterName    cluster to create or reuse
     * @param clusterFile    its definition, used when the cluster does not exist yet (or with reset)
     * @param dataDir        everything the demo keeps between runs lives under here
     * @param zooKeeperPort  client port of the embedded ZooKeeper
     * @param connectTimeout how long to wait for the embedded ZooKeeper to accept the store's session
     * @param reset          replace an existing cluster definition and slot map with the file's
     */
    record Settings(String clusterName, Path clusterFile, Path dataDir, int zooKeeperPort, Duration connectTimeout,
            boolean reset) {
        Settings {
            Objects.requireNonNull(clusterName, "clusterName");
            Objects.requireNonNull(clusterFile, "clusterFile");
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(connectTimeout, "connectTimeout");
        }

        Path zooKeeperDataDir() {
            return dataDir.resolve("zookeeper");
        }
    }

    /** One named part of starting the demo; {@link Action#run()} returns what to stop on close, or null. */
    record Step(String name, String plan, Action action) {
        Step {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(plan, "plan");
            Objects.requireNonNull(action, "action");
        }
    }

    @FunctionalInterface
    interface Action {
        AutoCloseable run();
    }

    private record Started(String name, AutoCloseable resource) {}

    private final Settings settings;
    private final PrintWriter log;
    private final Deque<Started> started = new ArrayDeque<>();
    private ClusterDefinition definition;
    private EmbeddedZooKeeper zooKeeper;
    private ClusterStore store;

    DemoCluster(Settings settings, PrintWriter log) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.log = Objects.requireNonNull(log, "log");
    }

    List<Step> steps() {
        return List.of(
                new Step("check", "read and validate " + settings.clusterFile() + "; check that port "
                        + settings.zooKeeperPort() + " is free", this::check),
                new Step("zookeeper", "start ZooKeeper on 127.0.0.1:" + settings.zooKeeperPort() + " with data in "
                        + settings.zooKeeperDataDir(), this::startZooKeeper),
                new Step("store", "connect to it as cluster '" + settings.clusterName() + "'", this::connectStore),
                new Step("cluster", (settings.reset() ? "create or replace" : "create (unless it exists)") + " cluster '"
                        + settings.clusterName() + "' from " + settings.clusterFile(), this::initCluster));
    }

    /** The dry-run twin of {@link #start()}. */
    void printPlan(PrintWriter out) {
        out.println("shardgate demo would:");
        int i = 1;
        for (Step step : steps()) {
            out.println("  " + i++ + ". " + step.name() + ": " + step.plan());
        }
        out.println("then wait for Ctrl-C or SIGTERM and stop what it started, in reverse order.");
        out.flush();
    }

    /** Runs every step; if one fails, stops what the earlier ones started and rethrows. */
    void start() {
        for (Step step : steps()) {
            log.println("demo: " + step.plan());
            log.flush();
            try {
                AutoCloseable resource = step.action().run();
                if (resource != null) {
                    started.push(new Started(step.name(), resource));
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }
    }

    private AutoCloseable check() {
        definition = ConfigErrors.readClusterFile(settings.clusterFile());
        Ports.requireFree(settings.zooKeeperPort(), "the demo's ZooKeeper", "--zk-port");
        return null;
    }

    private AutoCloseable startZooKeeper() {
        zooKeeper = EmbeddedServers.startZooKeeper(settings.zooKeeperDataDir(), settings.zooKeeperPort());
        return zooKeeper;
    }

    private AutoCloseable connectStore() {
        try {
            store = ZooKeeperClusterStore.connect(zooKeeper.connectString(), settings.clusterName(), settings.connectTimeout());
        } catch (StoreException.Unavailable e) {
            throw new CliException("the demo's ZooKeeper at " + zooKeeper.connectString() + " did not accept a session: "
                    + e.getMessage(), e);
        }
        return store;
    }

    private AutoCloseable initCluster() {
        boolean exists = store.clusterExists();
        if (exists && !settings.reset()) {
            log.println("demo: cluster '" + settings.clusterName() + "' already exists in " + settings.zooKeeperDataDir()
                    + "; keeping it (--reset replaces it, or delete " + settings.dataDir() + ")");
            return null;
        }
        ClusterInitCommand.Plan plan = ClusterInitCommand.Plan.of(settings.clusterName(), definition);
        store.createCluster(plan.definition(), plan.slotMap(), settings.reset());
        log.println("demo: " + (exists ? "replaced" : "created") + " cluster '" + settings.clusterName() + "'");
        return null;
    }

    /** Connect string of the running ZooKeeper. */
    String connectString() {
        return requireStarted(zooKeeper).connectString();
    }

    /** The store the demo holds open while it runs. */
    ClusterStore store() {
        return requireStarted(store);
    }

    private static <T> T requireStarted(T part) {
        if (part == null) {
            throw new IllegalStateException("the demo has not been started");
        }
        return part;
    }

    /** Stops what was started, newest first; a part that fails to stop does not keep the others running. */
    @Override
    public void close() {
        while (!started.isEmpty()) {
            Started s = started.pop();
            try {
                s.resource().close();
                log.println("demo: stopped " + s.name());
            } catch (Exception e) {
                log.println("demo: could not stop " + s.name() + ": " + e.getMessage());
            }
        }
        log.flush();
    }
}

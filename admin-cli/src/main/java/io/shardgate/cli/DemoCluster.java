package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.config.ShardgateConfig;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.local.LocalPostgres;
import io.shardgate.local.LocalServer;
import io.shardgate.migrator.MigrationWorker;
import io.shardgate.migrator.WorkerSettings;
import io.shardgate.proxy.ProxyServer;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.StoreException;
import io.shardgate.state.zk.EmbeddedZooKeeper;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
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
     * @param reset          delete the demo's data (ZooKeeper state and shard databases) first and start over
     * @param shards         shards that get slots (0 = control plane only: no shard servers, no proxy)
     * @param spares         extra empty shards registered without slots, targets for resharding
     * @param shardBasePort  shard i listens on shardBasePort + i (stable, so a restart finds its cluster)
     * @param proxy          the proxy's bootstrap configuration (its listen port, users, limits)
     * @param dialect        MYSQL: MariaDB shards and the proxy's MySQL listener; POSTGRES: PostgreSQL shards (run as the
     *                       postgres user when this process is root) and its PostgreSQL listener. The cluster file's
     *                       tables are used either way; the cluster's dialect is this one.
     */
    record Settings(String clusterName, Path clusterFile, Path dataDir, int zooKeeperPort, Duration connectTimeout,
            boolean reset, int shards, int spares, int shardBasePort, ShardgateConfig proxy, Dialect dialect) {
        static final String DATABASE = "shardgate";
        /**
         * The shards' login for the proxy and the migrator: everything inside the demo's database, nothing outside it (no
         * system schema, no global privilege, no grant option), as a production backend user should be.
         */
        static final String BACKEND_USER = "shardgate";
        static final String BACKEND_PASSWORD = "shardgate-backend";

        /** A MySQL-family demo. */
        Settings(String clusterName, Path clusterFile, Path dataDir, int zooKeeperPort, Duration connectTimeout,
                boolean reset, int shards, int spares, int shardBasePort, ShardgateConfig proxy) {
            this(clusterName, clusterFile, dataDir, zooKeeperPort, connectTimeout, reset, shards, spares, shardBasePort, proxy,
                    Dialect.MYSQL);
        }

        Settings {
            Objects.requireNonNull(clusterName, "clusterName");
            Objects.requireNonNull(clusterFile, "clusterFile");
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(proxy, "proxy");
            Objects.requireNonNull(dialect, "dialect");
            if (shards < 0 || spares < 0 || shards + spares > 64) {
                throw new CliException("--shards and --spares must be >= 0 and together at most 64");
            }
            if (shards == 0 && spares > 0) {
                throw new CliException("--spares needs --shards of at least 1");
            }
        }

        Path zooKeeperDataDir() {
            return dataDir.resolve("zookeeper");
        }

        Path shardDir(int i) {
            return dataDir.resolve("shards").resolve(shardName(i));
        }

        static String shardName(int i) {
            return "s" + i;
        }

        int shardPort(int i) {
            return shardBasePort + i;
        }

        boolean withServers() {
            return shards > 0;
        }

        boolean postgres() {
            return dialect == Dialect.POSTGRES;
        }

        /** The port clients connect to: the PostgreSQL listener's for a PostgreSQL demo, else the MySQL one's. */
        int clientPort() {
            return postgres() ? proxy.listen().postgresPort() : proxy.listen().mysqlPort();
        }

        String serverKind() {
            return postgres() ? "PostgreSQL" : "MariaDB";
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
    private final List<LocalServer> shardServers = new ArrayList<>();
    private ProxyServer proxy;

    DemoCluster(Settings settings, PrintWriter log) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.log = Objects.requireNonNull(log, "log");
    }

    List<Step> steps() {
        List<Step> steps = new ArrayList<>();
        steps.add(new Step("check", "read and validate " + settings.clusterFile() + "; check that the ports are free"
                + (settings.reset() ? "; delete " + settings.dataDir() : ""), this::check));
        steps.add(new Step("zookeeper", "start ZooKeeper on 127.0.0.1:" + settings.zooKeeperPort() + " with data in "
                + settings.zooKeeperDataDir(), this::startZooKeeper));
        steps.add(new Step("store", "connect to it as cluster '" + settings.clusterName() + "'", this::connectStore));
        for (int i = 0; i < settings.shards() + settings.spares(); i++) {
            int shard = i;
            steps.add(new Step(Settings.shardName(i), "start " + settings.serverKind() + " shard " + Settings.shardName(i)
                    + (i >= settings.shards() ? " (spare)" : "") + " on 127.0.0.1:" + settings.shardPort(i) + " with data in "
                    + settings.shardDir(i), () -> startShard(shard)));
        }
        steps.add(new Step("cluster", "create (unless it exists) cluster '" + settings.clusterName() + "' with the tables of "
                + settings.clusterFile() + (settings.withServers() ? " on these shards" : ""), this::initCluster));
        if (settings.withServers()) {
            steps.add(new Step("proxy", "start the proxy on " + settings.proxy().listen().host() + ":"
                    + settings.clientPort() + (settings.postgres() ? " (PostgreSQL protocol)" : ""), this::startProxy));
            steps.add(new Step("migrator", "start a migration worker (it runs 'reshard start' moves)", this::startMigrator));
        }
        return steps;
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
        if (settings.withServers()) {
            if (settings.postgres() && !LocalPostgres.isAvailable()) {
                throw new CliException("the demo's shards need PostgreSQL server binaries (initdb, postgres, pg_ctl); "
                        + "install them with: apt-get install postgresql");
            }
            if (!settings.postgres() && !LocalMariaDb.isAvailable()) {
                throw new CliException("the demo's shards need MariaDB server binaries (mariadbd, mariadb-install-db); "
                        + "install them with: apt-get install mariadb-server mariadb-client");
            }
            for (int i = 0; i < settings.shards() + settings.spares(); i++) {
                Ports.requireFree(settings.shardPort(i), "shard " + Settings.shardName(i), "--shard-base-port");
            }
            if (settings.clientPort() != 0) {
                Ports.requireFree(settings.clientPort(), "the proxy", "--port");
            }
            definition = withDemoShards(definition);
        }
        if (settings.reset()) {
            deleteRecursively(settings.dataDir());
        }
        return null;
    }

    /** The file's slots and tables, on the shards this demo starts, in the demo's dialect. */
    private ClusterDefinition withDemoShards(ClusterDefinition fromFile) {
        List<ShardDefinition> shards = new ArrayList<>();
        for (int i = 0; i < settings.shards() + settings.spares(); i++) {
            String url = (settings.postgres() ? "jdbc:postgresql://127.0.0.1:" : "jdbc:mysql://127.0.0.1:") + settings.shardPort(i)
                    + "/" + Settings.DATABASE;
            shards.add(new ShardDefinition(Settings.shardName(i), url, Settings.BACKEND_USER, Settings.BACKEND_PASSWORD, 16,
                    i >= settings.shards()));
        }
        for (TableDefinition t : fromFile.tables().values()) {
            if (t.shard() != null && shards.stream().noneMatch(s -> s.name().equals(t.shard()))) {
                throw new CliException(settings.clusterFile() + ": single table " + t.name() + " lives on shard " + t.shard()
                        + ", which this demo does not start (shards " + Settings.shardName(0) + ".."
                        + Settings.shardName(settings.shards() - 1) + ")");
            }
        }
        return new ClusterDefinition(settings.dialect(), fromFile.slots(), shards, fromFile.tables(),
                Settings.shardName(0), fromFile.unknownTables());
    }

    private AutoCloseable startShard(int i) {
        try {
            LocalServer db = settings.postgres() ? LocalPostgres.start(settings.shardDir(i), settings.shardPort(i), false)
                    : LocalMariaDb.start(settings.shardDir(i), settings.shardPort(i), false);
            shardServers.add(db);
            db.createDatabase(Settings.DATABASE);
            db.createDatabaseUser(Settings.DATABASE, Settings.BACKEND_USER, Settings.BACKEND_PASSWORD);
            return db;
        } catch (RuntimeException e) {
            throw new CliException("shard " + Settings.shardName(i) + " did not start: " + e.getMessage(), e);
        }
    }

    private AutoCloseable startProxy() {
        try {
            proxy = ProxyServer.start(settings.proxy(), zooKeeper.connectString());
            return proxy;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted while starting the proxy", e);
        }
    }

    private AutoCloseable startMigrator() {
        return MigrationWorker.start(store, WorkerSettings.defaults("demo-migrator"));
    }

    Settings settings() {
        return settings;
    }

    /** The running proxy; only when the demo has shards. */
    ProxyServer proxy() {
        return requireStarted(proxy);
    }

    List<LocalServer> shardServers() {
        return List.copyOf(shardServers);
    }

    private static void deleteRecursively(Path dir) {
        if (!java.nio.file.Files.exists(dir)) {
            return;
        }
        try (var paths = java.nio.file.Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        } catch (java.io.IOException e) {
            throw new CliException("cannot delete " + dir + " for --reset: " + e.getMessage(), e);
        }
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
        if (store.clusterExists()) {
            ClusterDefinition stored = store.readDefinition().value();
            if (settings.withServers() && !stored.shards().equals(definition.shards())) {
                throw new CliException("the cluster '" + settings.clusterName() + "' kept in " + settings.dataDir()
                        + " has shards " + stored.shardNames() + " on other ports or in another number than this run's "
                        + definition.shardNames() + "; run again with --reset to start over (deletes the demo's data)");
            }
            log.println("demo: cluster '" + settings.clusterName() + "' already exists in " + settings.zooKeeperDataDir()
                    + "; keeping it and its data (--reset starts over)");
            return null;
        }
        ClusterInitCommand.Plan plan = ClusterInitCommand.Plan.of(settings.clusterName(), definition);
        store.createCluster(plan.definition(), plan.slotMap(), false);
        log.println("demo: created cluster '" + settings.clusterName() + "'");
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

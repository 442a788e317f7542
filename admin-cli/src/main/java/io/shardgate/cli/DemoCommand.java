package io.shardgate.cli;

import io.shardgate.config.ShardgateConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate demo}: everything on one machine, in the foreground. */
@Command(name = "demo",
        description = {
            "Run a demo cluster on this machine in the foreground until Ctrl-C or SIGTERM: an embedded ZooKeeper,",
            "--shards local MariaDB servers (plus --spares empty ones for resharding) and a proxy, with the tables of",
            "conf/cluster-example.yaml. Everything is kept in --data-dir, so the next run finds its data again.",
            "--protocol postgres runs PostgreSQL shards (as the postgres user when run as root) and the proxy's PostgreSQL",
            "listener instead; resharding and hot-key splitting work the same way."
        })
final class DemoCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config;

    @Option(names = "--zk-port", paramLabel = "PORT", description = "ZooKeeper client port (default: zookeeper.embedded-port in the configuration).")
    Integer zkPort;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where the demo keeps its state (default: data/demo, or data/demo-postgres with --protocol postgres).")
    Path dataDir;

    @Option(names = "--protocol", paramLabel = "P", defaultValue = "mysql",
            description = "mysql (MariaDB shards, MySQL protocol) or postgres (PostgreSQL shards and protocol) (default: ${DEFAULT-VALUE}).")
    String protocol;

    @Option(names = "--cluster-file", paramLabel = "FILE", defaultValue = "conf/cluster-example.yaml",
            description = "Cluster definition used to create the cluster (default: ${DEFAULT-VALUE}).")
    Path clusterFile;

    @Option(names = "--reset", description = "Delete the demo's data (ZooKeeper state and shard databases) and start over.")
    boolean reset;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "2",
            description = "MariaDB shards that get slots (default: ${DEFAULT-VALUE}; 0 runs ZooKeeper and the cluster definition only).")
    int shards;

    @Option(names = "--spares", paramLabel = "M", defaultValue = "1",
            description = "Extra empty shards registered without slots, for resharding (default: ${DEFAULT-VALUE}).")
    int spares;

    @Option(names = "--port", paramLabel = "PORT", description = "The proxy's MySQL port (default: listen.mysql-port in the configuration),"
            + " or with --protocol postgres its PostgreSQL port (default: listen.postgres-port, or 5433 when that is 0).")
    Integer port;

    @Option(names = "--admin-port", paramLabel = "PORT",
            description = "The proxy's admin HTTP port: dashboard, /metrics, /health (default: admin.port in the configuration).")
    Integer adminPort;

    @Option(names = "--shard-base-port", paramLabel = "PORT",
            description = "Shard i listens on this port + i (default: 3316, or 5442 with --protocol postgres).")
    Integer shardBasePort;

    @Option(names = "--dry-run", description = "Print the steps the demo would take, and do nothing.")
    boolean dryRun;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        ShardgateConfig cfg = config.config();
        int port = zkPort != null ? zkPort : cfg.zookeeper().embeddedPort();
        if (port < 1 || port > 65535) {
            throw new CliException("--zk-port: must be in 1..65535, was " + port);
        }
        io.shardgate.cluster.Dialect dialect = switch (protocol) {
            case "mysql" -> io.shardgate.cluster.Dialect.MYSQL;
            case "postgres" -> io.shardgate.cluster.Dialect.POSTGRES;
            default -> throw new CliException("--protocol: must be mysql or postgres, was " + protocol);
        };
        boolean postgres = dialect == io.shardgate.cluster.Dialect.POSTGRES;
        Path dir = dataDir != null ? dataDir : Path.of(postgres ? "data/demo-postgres" : "data/demo");
        int basePort = shardBasePort != null ? checkPort("--shard-base-port", shardBasePort) : postgres ? 5442 : 3316;
        DemoCluster demo = new DemoCluster(new DemoCluster.Settings(config.clusterName(), clusterFile, dir, port,
                cfg.zookeeper().connectTimeout(), reset, shards, spares, basePort, proxyConfig(cfg, postgres), dialect), out);
        if (dryRun) {
            demo.printPlan(out);
            return 0;
        }
        demo.start();
        try {
            out.println();
            StatusText.print(ClusterStatus.read(demo.store(), demo.connectString()), out);
            out.println();
            String flags = cliFlags(cfg, demo.connectString());
            if (shards > 0) {
                printEndpoints(demo, out);
            }
            out.println("The demo is running. In another terminal:");
            out.println("  bin/shardgate status" + flags);
            out.println("  bin/shardgate slots" + flags);
            out.println("Ctrl-C stops it; its state stays in " + dir + " (delete it to start over).");
            out.flush();
        } catch (RuntimeException e) {
            demo.close();
            throw e;
        }
        Foreground.runUntilStopped(demo::close);
        return 0;
    }

    /**
     * The proxy's configuration for this run: the demo's cluster, and --port / --admin-port if given. A PostgreSQL demo
     * listens for PostgreSQL clients only (the MySQL listener would refuse them all).
     */
    private ShardgateConfig proxyConfig(ShardgateConfig cfg, boolean postgres) {
        var l = cfg.listen();
        int mysqlPort = postgres ? 0 : port != null ? checkPort("--port", port) : l.mysqlPort();
        int pgPort = !postgres ? l.postgresPort() : port != null ? checkPort("--port", port) : l.postgresPort() != 0 ? l.postgresPort() : 5433;
        var a = cfg.admin();
        int admin = adminPort != null ? checkPort("--admin-port", adminPort) : a.port();
        return new ShardgateConfig(config.clusterName(), new ShardgateConfig.Listen(l.host(), mysqlPort, pgPort, l.mysqlAuth(),
                l.postgresAuth()), new ShardgateConfig.Admin(a.host(), admin), cfg.zookeeper(), cfg.users(), cfg.limits(),
                ShardgateConfig.Tls.OFF, cfg.backend()); // the file's backend.native (false: the JDBC fallback) holds here too
    }

    private static int checkPort(String option, int value) {
        if (value < 0 || value > 65535) {
            throw new CliException(option + ": must be in 0..65535, was " + value);
        }
        return value;
    }

    private static void printEndpoints(DemoCluster demo, PrintWriter out) {
        var proxy = demo.proxy();
        var user = demo.settings().proxy().users().getFirst();
        String host = demo.settings().proxy().listen().host();
        boolean postgres = demo.settings().postgres();
        int clientPort = postgres ? proxy.postgresPort() : proxy.mysqlPort();
        out.println("proxy      " + host + ":" + clientPort + (postgres ? " (PostgreSQL protocol)" : " (MySQL protocol)") + ", user "
                + user.name() + ", password " + user.password() + ", database " + DemoCluster.Settings.DATABASE);
        StringBuilder shardLine = new StringBuilder("shards    ");
        var servers = demo.shardServers();
        for (int i = 0; i < servers.size(); i++) {
            shardLine.append(' ').append(DemoCluster.Settings.shardName(i)).append(" 127.0.0.1:").append(servers.get(i).port())
                    .append(i >= demo.settings().shards() ? " (spare)" : "");
        }
        out.println(shardLine);
        out.println("zookeeper  " + demo.connectString());
        var admin = demo.settings().proxy().admin();
        if (admin.port() != 0) {
            out.println("dashboard  http://" + admin.host() + ":" + proxy.adminPort() + "/  (metrics at /metrics, health at /health)");
        }
        out.println();
        out.println(postgres
                ? "Connect:  PGPASSWORD=" + user.password() + " psql -h " + host + " -p " + clientPort + " -U " + user.name() + " "
                        + DemoCluster.Settings.DATABASE
                : "Connect:  mariadb -h" + host + " -P" + clientPort + " -u" + user.name() + " -p" + user.password() + " "
                        + DemoCluster.Settings.DATABASE);
        out.println();
    }

    /** The options another shardgate command needs to find this demo, beyond its defaults. */
    private String cliFlags(ShardgateConfig cfg, String connectString) {
        List<String> flags = new ArrayList<>();
        if (config.configFile != null) {
            flags.add("--config " + config.configFile);
        }
        if (!connectString.equals(cfg.zookeeper().clientConnectString())) {
            flags.add("--zk " + connectString);
        }
        if (config.cluster != null && !config.cluster.equals(cfg.cluster())) {
            flags.add("--cluster " + config.cluster);
        }
        return flags.isEmpty() ? "" : " " + String.join(" ", flags);
    }
}

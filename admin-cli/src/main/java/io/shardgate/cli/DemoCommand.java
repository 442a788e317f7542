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
            "Run a demo cluster on this machine in the foreground until Ctrl-C or SIGTERM.",
            "It starts an embedded ZooKeeper and creates the cluster from conf/cluster-example.yaml on first run",
            "(kept in --data-dir afterwards)."
        })
final class DemoCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config;

    @Option(names = "--zk-port", paramLabel = "PORT", description = "ZooKeeper client port (default: zookeeper.embedded-port in the configuration).")
    Integer zkPort;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "data/demo", description = "Where the demo keeps its state (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--cluster-file", paramLabel = "FILE", defaultValue = "conf/cluster-example.yaml",
            description = "Cluster definition used to create the cluster (default: ${DEFAULT-VALUE}).")
    Path clusterFile;

    @Option(names = "--reset", description = "Replace the stored cluster with --cluster-file even if it exists.")
    boolean reset;

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
        DemoCluster demo = new DemoCluster(new DemoCluster.Settings(config.clusterName(), clusterFile, dataDir, port,
                cfg.zookeeper().connectTimeout(), reset), out);
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
            out.println("The demo is running. In another terminal:");
            out.println("  bin/shardgate status" + flags);
            out.println("  bin/shardgate slots" + flags);
            out.println("Ctrl-C stops it; its state stays in " + dataDir + " (delete it to start over).");
            out.flush();
        } catch (RuntimeException e) {
            demo.close();
            throw e;
        }
        Foreground.runUntilStopped(demo::close);
        return 0;
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

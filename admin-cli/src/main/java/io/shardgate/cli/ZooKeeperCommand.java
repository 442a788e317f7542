package io.shardgate.cli;

import io.shardgate.state.zk.EmbeddedZooKeeper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate zookeeper}: a one-machine ZooKeeper for trying Shardgate without an ensemble. */
@Command(name = "zookeeper", description = "Run an embedded single-node ZooKeeper in the foreground until Ctrl-C or SIGTERM.")
final class ZooKeeperCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions config;

    @Option(names = "--port", paramLabel = "PORT", description = "Client port (default: zookeeper.embedded-port in the configuration).")
    Integer port;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Data directory (default: zookeeper.embedded-data-dir in the configuration).")
    Path dataDir;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        int p = port != null ? port : config.config().zookeeper().embeddedPort();
        if (p < 1 || p > 65535) {
            throw new CliException("--port: must be in 1..65535, was " + p);
        }
        Path dir = dataDir != null ? dataDir : config.config().zookeeper().embeddedDataDir();
        Ports.requireFree(p, "ZooKeeper", "--port");
        EmbeddedZooKeeper zk = EmbeddedServers.startZooKeeper(dir, p);
        out.println("ZooKeeper running at " + zk.connectString() + " (data in " + dir.toAbsolutePath().normalize()
                + "); Ctrl-C or SIGTERM stops it");
        out.flush();
        Foreground.runUntilStopped(() -> {
            zk.close();
            out.println("ZooKeeper stopped");
            out.flush();
        });
        return 0;
    }
}

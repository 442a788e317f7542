package io.shardgate.cli;

import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate status}: the cluster at a glance. */
@Command(name = "status", description = "Show the cluster: shards and their slots, tables, live proxies and migrations.")
final class StatusCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--json", description = "Print one JSON document with the same facts (stable field names).")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openStore()) {
            if (!store.clusterExists()) {
                throw CliException.notInitialised(store.clusterName(), zk.connectString());
            }
            ClusterStatus status = ClusterStatus.read(store, zk.connectString());
            if (json) {
                out.println(Json.write(status));
                out.flush();
            } else {
                StatusText.print(status, out);
            }
        }
        return 0;
    }
}

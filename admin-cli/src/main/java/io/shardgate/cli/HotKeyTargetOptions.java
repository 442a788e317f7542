package io.shardgate.cli;

import io.shardgate.migrator.HotKeyOperator;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The key a {@code hotkey split} or {@code merge} works on, and how long proxies have for each step. */
final class HotKeyTargetOptions {
    @Option(names = "--table", required = true, description = "Sharded table with a hot-key mode.")
    String table;

    @Option(names = "--key", required = true, description = "The shard-key value.")
    String key;

    @Option(names = "--barrier-timeout-ms", defaultValue = "10000",
            description = "How long every proxy has to apply each step (default ${DEFAULT-VALUE}).")
    long barrierTimeoutMillis;

    /** An operator that prints its progress lines, indented, as they come. */
    HotKeyOperator operator(ClusterStore store, PrintWriter out) {
        HotKeyOperator.Settings d = HotKeyOperator.Settings.defaults();
        return new HotKeyOperator(store, new HotKeyOperator.Settings(Duration.ofMillis(barrierTimeoutMillis), d.connectTimeout(),
                d.lockWaitTimeout(), d.chunkRows(), d.leadershipTimeout()), line -> {
                    out.println("  " + line);
                    out.flush();
                });
    }
}

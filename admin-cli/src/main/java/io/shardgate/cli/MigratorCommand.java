package io.shardgate.cli;

import io.shardgate.migrator.HotKeyPolicy;
import io.shardgate.migrator.MigrationWorker;
import io.shardgate.migrator.WorkerSettings;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate migrator}: a migration worker in the foreground. */
@Command(name = "migrator",
        description = {
            "Run a migration worker in the foreground until Ctrl-C or SIGTERM.",
            "It runs the moves that 'reshard start' records. Several workers may run: one leads, the others take",
            "over from the records' checkpoints if it stops."
        })
final class MigratorCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--worker-id", paramLabel = "ID", description = "Name of this worker in records and status (default: host-pid).")
    String workerId;

    @Option(names = "--barrier-timeout-ms", paramLabel = "MS", defaultValue = "10000",
            description = "How long a phase change waits for every proxy's acknowledgement (default: ${DEFAULT-VALUE}).")
    long barrierTimeoutMillis;

    @Option(names = "--chunk-rows", paramLabel = "ROWS", defaultValue = "1000",
            description = "Rows per chunk when a migration names none (default: ${DEFAULT-VALUE}).")
    int chunkRows;

    @Option(names = "--auto-split-above", paramLabel = "WRITES_PER_S",
            description = "Turn the automatic hot-key policy on: split a key of a table with a hot-key mode once its writes/s, "
                    + "summed over the proxies, stay at or above this (default: off).")
    Double autoSplitAbove;

    @Option(names = "--auto-split-after-s", paramLabel = "S", defaultValue = "30",
            description = "How long a key must stay above the split threshold (default: ${DEFAULT-VALUE}).")
    long autoSplitAfterSeconds;

    @Option(names = "--auto-merge-below", paramLabel = "WRITES_PER_S",
            description = "Merge a split key once its writes/s stay below this; must be under half the split threshold "
                    + "(default: a tenth of it).")
    Double autoMergeBelow;

    @Option(names = "--auto-merge-after-s", paramLabel = "S", defaultValue = "600",
            description = "How long a split key must stay below the merge threshold (default: ${DEFAULT-VALUE}).")
    long autoMergeAfterSeconds;

    @Option(names = "--auto-split-k", paramLabel = "K", defaultValue = "8",
            description = "Sub-keys of an automatic split (default: ${DEFAULT-VALUE}).")
    int autoSplitK;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        WorkerSettings settings = settings();
        ClusterStore store = zk.openStoreWaiting(out); // a worker waits for ZooKeeper rather than exit
        MigrationWorker worker;
        try {
            worker = MigrationWorker.start(store, settings);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        out.println("migration worker " + settings.workerId() + " running for cluster '" + store.clusterName() + "'"
                + (settings.hotKeyPolicy() == null ? "" : "; automatic hot-key policy: " + describe(settings.hotKeyPolicy())));
        out.flush();
        Foreground.runUntilStopped(() -> {
            worker.close();
            store.close();
            out.println("migration worker stopped");
            out.flush();
        });
        return 0;
    }

    private static String describe(HotKeyPolicy.Settings p) {
        return "split at >= " + Math.round(p.splitAbove()) + " writes/s for " + p.splitAfter().toSeconds() + " s (k=" + p.k()
                + "), merge at < " + Math.round(p.mergeBelow()) + " writes/s for " + p.mergeAfter().toSeconds() + " s";
    }

    private WorkerSettings settings() {
        String id = workerId != null ? workerId : ManagementFactory.getRuntimeMXBean().getName().replace('@', '-');
        try {
            WorkerSettings settings = WorkerSettings.defaults(id).withBarrierTimeout(Duration.ofMillis(barrierTimeoutMillis))
                    .withDefaultChunkRows(chunkRows);
            if (autoSplitAbove == null) {
                if (autoMergeBelow != null) {
                    throw new IllegalArgumentException("--auto-merge-below needs --auto-split-above");
                }
                return settings;
            }
            return settings.withHotKeyPolicy(new HotKeyPolicy.Settings(autoSplitAbove, Duration.ofSeconds(autoSplitAfterSeconds),
                    autoMergeBelow != null ? autoMergeBelow : autoSplitAbove / 10, Duration.ofSeconds(autoMergeAfterSeconds), autoSplitK));
        } catch (IllegalArgumentException e) {
            throw new CliException("migrator: " + e.getMessage(), e);
        }
    }
}

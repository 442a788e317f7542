package io.shardgate.cli;

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

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        WorkerSettings settings = settings();
        ClusterStore store = zk.openStore();
        MigrationWorker worker;
        try {
            worker = MigrationWorker.start(store, settings);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        out.println("migration worker " + settings.workerId() + " running for cluster '" + store.clusterName() + "'");
        out.flush();
        Foreground.runUntilStopped(() -> {
            worker.close();
            store.close();
            out.println("migration worker stopped");
            out.flush();
        });
        return 0;
    }

    private WorkerSettings settings() {
        String id = workerId != null ? workerId : ManagementFactory.getRuntimeMXBean().getName().replace('@', '-');
        try {
            return WorkerSettings.defaults(id).withBarrierTimeout(Duration.ofMillis(barrierTimeoutMillis))
                    .withDefaultChunkRows(chunkRows);
        } catch (IllegalArgumentException e) {
            throw new CliException("migrator: " + e.getMessage(), e);
        }
    }
}

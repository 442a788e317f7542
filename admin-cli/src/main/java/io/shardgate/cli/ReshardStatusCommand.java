package io.shardgate.cli;

import io.shardgate.cli.reshard.MigrationView;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import java.io.PrintWriter;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate reshard status}: where the migrations stand, as their worker reports it. */
@Command(name = "status",
        description = {
            "Show the migrations of the latest batch (and any other that has not ended): status, source -> target, slots, "
                    + "rows copied per table, rows/s, ETA, cutover pauses and attempts, the last error and a pending request.",
            "With --watch, follow them until they end, wait for 'reshard complete'/'rollback', or one fails: a progress bar "
                    + "per migration on a terminal, otherwise a line whenever one changes (and every few seconds while one runs)."
        })
final class ReshardStatusCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--json", description = "Print one JSON document (stable field names).")
    boolean json;

    @Option(names = "--watch", description = "Follow the migrations until they settle.")
    boolean watch;

    @Option(names = "--all", description = "Show every migration, also the ended ones of earlier batches.")
    boolean all;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** The {@code --json} document. */
    record Document(String cluster, List<MigrationView> migrations) {}

    @Override
    public Integer call() throws InterruptedException {
        if (json && watch) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--json and --watch do not go together");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            List<MigrationRecord> records = shown(store.listMigrations());
            List<MigrationView> views = records.stream().map(MigrationView::of).sorted(MigrationView.BY_RUN).toList();
            if (json) {
                out.println(Json.write(new Document(store.clusterName(), views)));
                out.flush();
                return 0;
            }
            if (views.isEmpty()) {
                out.println("no migrations in cluster '" + store.clusterName() + "'; 'shardgate reshard plan' shows what a reshard would move");
                out.flush();
                return 0;
            }
            ReshardStatusText.print(views, out);
            if (!watch || MigrationFollower.settled(views).isPresent()) {
                return 0;
            }
            out.println();
            Set<String> ids = new LinkedHashSet<>(views.stream().map(MigrationView::id).toList());
            MigrationFollower.followOrFail(store, out, ids, MigrationFollower::settled);
        }
        return 0;
    }

    private List<MigrationRecord> shown(List<MigrationRecord> records) {
        if (all) {
            return records;
        }
        Set<String> latest = new LinkedHashSet<>(MigrationView.latestBatch(records).stream().map(MigrationRecord::id).toList());
        return records.stream().filter(r -> latest.contains(r.id()) || !MigrationView.terminal(r)).toList();
    }
}

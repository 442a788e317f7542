package io.shardgate.cli;

import io.shardgate.cli.reshard.MigrationView;
import io.shardgate.cli.reshard.RequestRules;
import io.shardgate.migrator.Migrations.Request;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code reshard abort | complete | rollback}: asks the worker for {@link #request()} on one
 * migration ({@code --id}) or on every migration of the latest batch it fits. The CLI only writes
 * the request; the worker carries it out.
 */
abstract class ReshardRequestCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--id", paramLabel = "ID", description = "The migration (default: every migration of the latest batch it fits).")
    String id;

    @Option(names = "--wait", description = "Follow the migrations until the worker has carried the request out.")
    boolean waitForIt;

    @Spec
    CommandLine.Model.CommandSpec spec;

    abstract Request request();

    @Override
    public final Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Request request = request();
        try (ClusterStore store = zk.openExistingStore()) {
            List<MigrationRecord> targets = id != null ? List.of(one(store)) : fitting(store, request, out);
            List<String> asked = new ArrayList<>();
            for (MigrationRecord r : targets) {
                RequestRules.Verdict verdict = MigrationRequests.request(store, r.id(), request);
                MigrationView v = MigrationView.of(r);
                out.println((verdict == RequestRules.Verdict.REQUEST ? "requested " : "already requested: ") + request.value()
                        + " of " + v.id() + " (" + v.status() + ", " + v.source() + " -> " + v.target() + ", slots " + v.slots() + ")");
                asked.add(r.id());
            }
            out.println("the migrator worker carries it out; follow with: shardgate reshard status --watch");
            out.flush();
            if (waitForIt) {
                MigrationFollower.followOrFail(store, out, new LinkedHashSet<>(asked), MigrationFollower.carriedOut(request));
            }
        }
        return 0;
    }

    private MigrationRecord one(ClusterStore store) {
        return store.readMigration(id)
                .orElseThrow(() -> new CliException("no migration '" + id + "' in cluster '" + store.clusterName()
                        + "'; 'shardgate reshard status' lists them"))
                .value();
    }

    /** The latest batch's migrations that {@code request} fits; says which it skips and why. */
    private List<MigrationRecord> fitting(ClusterStore store, Request request, PrintWriter out) {
        List<MigrationRecord> batch = MigrationView.latestBatch(store.listMigrations());
        if (batch.isEmpty()) {
            throw new CliException("no migrations in cluster '" + store.clusterName() + "': nothing to " + request.value());
        }
        List<MigrationRecord> fit = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        for (MigrationRecord r : batch) {
            try {
                MigrationRequests.check(r, request);
                fit.add(r);
            } catch (CliException e) {
                refusals.add(e.getMessage());
            }
        }
        String name = MigrationView.batchOf(batch.getFirst());
        if (fit.isEmpty()) {
            throw new CliException("nothing to " + request.value() + " in batch " + name + ": "
                    + (refusals.size() == 1 ? refusals.getFirst() : String.join("; ", refusals)));
        }
        refusals.forEach(reason -> out.println("skipped: " + reason));
        return fit;
    }
}

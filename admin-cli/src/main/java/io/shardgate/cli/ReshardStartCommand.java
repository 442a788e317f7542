package io.shardgate.cli;

import io.shardgate.cli.reshard.BatchSettings;
import io.shardgate.cli.reshard.MigrationBatch;
import io.shardgate.cli.reshard.MigrationView;
import io.shardgate.cli.reshard.SlotMove;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.migrator.Migrations;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.StoreException;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate reshard start}: records the moves of a plan as pending migrations for the migrator worker. */
@Command(name = "start",
        description = {
            "Start moving slots: compute the same moves as 'reshard plan' and record one pending migration per move; "
                    + "a migrator worker runs them one after the other (dual write, backfill, verify, cutover, then "
                    + "reverse dual write until 'reshard complete' or 'reshard rollback', then cleanup).",
            "Refused while another migration has not ended (see 'reshard status'; 'reshard abort' ends one)."
        })
final class ReshardStartCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @ArgGroup(exclusive = true, multiplicity = "1")
    ReshardMoves.Mode mode;

    @Mixin
    CopyOptions copy;

    @Option(names = "--auto-complete",
            description = "Go on from reverse dual write to cleanup without waiting for 'reshard complete' (no rollback window).")
    boolean autoComplete;

    @Option(names = "--wait",
            description = "Follow the migrations until they are done, or all wait for 'reshard complete' / 'reshard rollback', or one fails.")
    boolean waitForThem;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        BatchSettings settings = copy.settings(autoComplete);
        try (ClusterStore store = zk.openExistingStore()) {
            List<MigrationRecord> existing = store.listMigrations();
            refuseWhileActive(existing);
            ClusterDefinition definition = store.readDefinition().value();
            SlotMap map = store.readSlotMap().value();
            ReshardMoves.Plan plan = ReshardMoves.plan(mode, definition, map);
            if (plan.moves().isEmpty()) {
                throw new CliException("nothing to move (" + plan.description() + "): the slots are spread evenly already");
            }
            List<MigrationRecord> records = MigrationBatch.create(plan.moves(), settings, Instant.now(),
                    existing.stream().map(MigrationRecord::id).toList());
            create(store, records);
            refuseIfRaced(store, records);

            String batch = MigrationView.batchOf(records.getFirst());
            out.println("started batch " + batch + " in cluster '" + store.clusterName() + "' (" + plan.description() + "): "
                    + records.size() + (records.size() == 1 ? " migration, " : " migrations, ") + plan.movingSlots() + " slots");
            TextTable table = new TextTable("ID", "SLOTS", "FROM", "TO");
            for (int i = 0; i < records.size(); i++) {
                SlotMove m = plan.moves().get(i);
                table.row(records.get(i).id(), m.range() + " (" + m.size() + ")", m.source(), m.target());
            }
            table.print(out, "  ");
            out.println("  throttle " + (copy.rowsPerSecond == 0 ? "none" : MigrationView.grouped(copy.rowsPerSecond) + " rows/s")
                    + ", chunks of " + MigrationView.grouped(copy.chunkRows) + " rows, auto-complete "
                    + (autoComplete ? "on" : "off (each waits in reverse-dual-write for 'shardgate reshard complete' or 'rollback')"));
            out.println("  a migrator worker runs them in this order; follow with: shardgate reshard status --watch");
            out.flush();
            if (!waitForThem) {
                return 0;
            }
            Set<String> ids = new LinkedHashSet<>(records.stream().map(MigrationRecord::id).toList());
            MigrationFollower.followOrFail(store, out, ids, MigrationFollower::settled);
        }
        return 0;
    }

    private static void refuseWhileActive(List<MigrationRecord> existing) {
        Optional<MigrationRecord> active = existing.stream().filter(r -> !MigrationView.terminal(r)).sorted(Migrations.RUN_ORDER).findFirst();
        if (active.isPresent()) {
            MigrationView v = MigrationView.of(active.get());
            long others = existing.stream().filter(r -> !MigrationView.terminal(r)).count() - 1;
            throw new CliException("migration " + v.id() + " (" + v.source() + " -> " + v.target() + ", slots " + v.slots() + ") is "
                    + v.status() + (others > 0 ? " and " + others + " more have not ended" : " and has not ended")
                    + "; start a reshard after it ends ('shardgate reshard status' follows it, 'shardgate reshard abort' ends it)");
        }
    }

    private static void create(ClusterStore store, List<MigrationRecord> records) {
        for (MigrationRecord r : records) {
            try {
                store.createMigration(r);
            } catch (StoreException.AlreadyExists e) {
                // only a concurrent start in the same second takes our ids; the active check below sorts it out
                throw new CliException("migration id " + r.id() + " was taken meanwhile by another 'reshard start'; "
                        + "see 'shardgate reshard status'", e);
            }
        }
    }

    /**
     * The store has no lock: two starts at once could both pass the active check. The batch created
     * first (run order) wins; a later one asks its own records to abort (they are still pending).
     */
    private static void refuseIfRaced(ClusterStore store, List<MigrationRecord> ours) {
        String batch = MigrationView.batchOf(ours.getFirst());
        Optional<MigrationRecord> earlier = store.listMigrations().stream()
                .filter(r -> !MigrationView.terminal(r) && !MigrationView.batchOf(r).equals(batch))
                .filter(r -> Migrations.RUN_ORDER.compare(r, ours.getFirst()) < 0)
                .findFirst();
        if (earlier.isPresent()) {
            for (MigrationRecord r : ours) {
                MigrationRequests.request(store, r.id(), Migrations.Request.ABORT);
            }
            throw new CliException("another 'reshard start' created batch " + MigrationView.batchOf(earlier.get())
                    + " at the same time; this one (" + batch + ") was asked to abort");
        }
    }
}

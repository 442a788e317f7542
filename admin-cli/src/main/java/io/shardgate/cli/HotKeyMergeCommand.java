package io.shardgate.cli;

import io.shardgate.migrator.HotKeyOperator;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/** {@code shardgate hotkey merge}: bring a split key back to its home shard. */
@Command(name = "merge",
        description = {
            "Merge a split key back into its home shard: holds statements on that key only, folds the counter sub-rows into "
                    + "home (or moves the append rows home), publishes the map without the split and releases the key.",
            "Rerunning the same command finishes a merge that stopped half-way, without counting anything twice."
        })
final class HotKeyMergeCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Mixin
    HotKeyTargetOptions target;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            HotKeyOperator.Result r = target.operator(store, out).merge(target.table, target.key);
            out.println("merged: " + r.key().table() + " key " + r.key().key() + " is whole again on " + r.shards().getFirst()
                    + "; key held " + r.heldMillis() + " ms");
            out.flush();
        }
        return 0;
    }
}

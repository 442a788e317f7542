package io.shardgate.cli;

import io.shardgate.migrator.HotKeyOperator;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate hotkey split}: spread one key over k sub-keys on several shards. */
@Command(name = "split",
        description = {
            "Split one key of a table with a hot-key mode over k sub-keys: holds statements on that key only (milliseconds "
                    + "for counter tables; the time to move the key's rows for append tables), creates the zeroed sub-rows or "
                    + "moves each row to its sub-key's shard, publishes the split and releases the key.",
            "Rerunning the same command finishes a split that stopped half-way."
        })
final class HotKeySplitCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Mixin
    HotKeyTargetOptions target;

    @Option(names = "--k", required = true, description = "Number of sub-keys (2.." + SplitKey.MAX_K + ").")
    int k;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (k < 2 || k > SplitKey.MAX_K) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--k must be in 2.." + SplitKey.MAX_K + ", was " + k);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            HotKeyOperator.Result r = target.operator(store, out).split(target.table, target.key, k);
            out.println("split: " + r.key().table() + " key " + r.key().key() + " over " + r.key().k() + " sub-keys on "
                    + String.join(", ", r.shards()) + "; key held " + r.heldMillis() + " ms");
            out.flush();
        }
        return 0;
    }
}

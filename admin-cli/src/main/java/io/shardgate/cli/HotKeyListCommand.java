package io.shardgate.cli;

import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate hotkey list}: the split keys of the slot map. */
@Command(name = "list", description = "List the split keys: table, key, k, state and the shards holding their sub-keys.")
final class HotKeyListCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--json", description = "Print one JSON document.")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** One split key as listed. */
    record Entry(String table, String key, int k, String state, List<String> shards) {}

    /** The {@code --json} document. */
    record Document(String cluster, long epoch, List<Entry> splitKeys) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            SlotMap map = store.readSlotMap().value();
            List<Entry> entries = map.splitKeys().stream()
                    .map(s -> new Entry(s.table(), s.key(), s.k(), s.state().name().toLowerCase(Locale.ROOT), map.shardsOf(s)))
                    .toList();
            if (json) {
                out.println(Json.write(new Document(store.clusterName(), map.epoch(), entries)));
            } else if (entries.isEmpty()) {
                out.println("no split keys in cluster '" + store.clusterName() + "' (epoch " + map.epoch() + ")");
            } else {
                TextTable t = new TextTable("TABLE", "KEY", "K", "STATE", "SHARDS");
                for (Entry e : entries) {
                    t.row(e.table(), e.key(), Integer.toString(e.k()), e.state(), String.join(",", e.shards()));
                }
                t.print(out, "");
            }
            out.flush();
        }
        return 0;
    }
}

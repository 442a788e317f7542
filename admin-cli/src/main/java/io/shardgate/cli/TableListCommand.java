package io.shardgate.cli;

import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.config.ConfigNode;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate table list}: the declared tables. */
@Command(name = "list", description = "List the declared tables: kind, shard key and type, shard of a single table, hot-key mode.")
final class TableListCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--json", description = "Print one JSON document.")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** One declared table as listed (null fields do not apply to its kind). */
    record Entry(String name, String kind, String key, String keyType, String shard, String hotKey, String sequence) {
        static Entry of(TableDefinition t) {
            return new Entry(t.name(), ConfigNode.spell(t.kind()), t.shardKey(), t.keyType() == null ? null : ConfigNode.spell(t.keyType()),
                    t.shard(), TableListCommand.hotKey(t.hotKey()), t.sequence());
        }
    }

    /** The {@code --json} document. */
    record Document(String cluster, String defaultShard, String unknownTables, List<Entry> tables) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            var definition = store.readDefinition().value();
            List<Entry> entries = definition.tables().values().stream().map(Entry::of)
                    .sorted(java.util.Comparator.comparing(Entry::name)).toList();
            if (json) {
                out.println(Json.write(new Document(store.clusterName(), definition.defaultShard(),
                        ConfigNode.spell(definition.unknownTables()), entries)));
            } else {
                TextTable t = new TextTable("TABLE", "KIND", "KEY", "TYPE", "SHARD", "HOT-KEY", "SEQUENCE");
                entries.forEach(e -> t.row(e.name(), e.kind(), e.key(), e.keyType(), e.shard(), e.hotKey(), e.sequence()));
                t.print(out, "");
                out.println("undeclared tables: " + ConfigNode.spell(definition.unknownTables())
                        + (definition.unknownTables() == io.shardgate.cluster.UnknownTablePolicy.SINGLE ? " on " + definition.defaultShard() : ""));
            }
            out.flush();
        }
        return 0;
    }

    static String hotKey(HotKeyMode mode) {
        return switch (mode) {
            case HotKeyMode.None n -> null;
            case HotKeyMode.Append a -> "append by " + a.splitBy();
            case HotKeyMode.Counter c -> "counter " + String.join(",", c.counterColumns());
        };
    }

    /** "likes (sharded by post_id, int; hot keys append by user_id)" and the like. */
    static String describe(TableDefinition t) {
        String hot = hotKey(t.hotKey());
        return t.name() + " (" + switch (t.kind()) {
            case SHARDED -> "sharded by " + t.shardKey() + ", " + ConfigNode.spell(t.keyType()) + (hot == null ? "" : "; hot keys " + hot)
                    + (t.sequence() == null ? "" : "; " + t.sequence() + " from the cluster sequence");
            case BROADCAST -> "broadcast";
            case SINGLE -> "single on " + t.shard();
        } + ")";
    }
}

package io.shardgate.cli;

import io.shardgate.cluster.TableDefinition;
import io.shardgate.config.ConfigNode;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code shardgate table show}: one table's declaration and where it exists, with row counts. */
@Command(name = "show", description = "Show a table's declaration (or that it is undeclared) and, per shard, whether it exists and its rows.")
final class TableShowCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--json", description = "Print one JSON document.")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** The {@code --json} document; {@code table} is null for an undeclared table. */
    record Document(String cluster, String name, TableListCommand.Entry table, String placement, List<TableRows.OnShard> shards) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        String table = name.toLowerCase(Locale.ROOT);
        try (ClusterStore store = zk.openExistingStore()) {
            var definition = store.readDefinition().value();
            Optional<TableDefinition> declared = definition.table(table);
            String placement = declared.map(TableListCommand::describe).orElse(table + " is not declared: "
                    + (definition.unknownTables() == io.shardgate.cluster.UnknownTablePolicy.SINGLE ? "a single table on the default shard " + definition.defaultShard()
                    : "statements on it are rejected (unknown-tables: " + ConfigNode.spell(definition.unknownTables()) + ")"));
            placement += store.readSlotMap().value().tableSharding(table).map(TableShowCommand::shardingState).orElse("");
            placement += store.readSequence(table).map(v -> "; next id of its cluster sequence " + v.value()).orElse("");
            List<TableRows.OnShard> shards = TableRows.of(definition, table);
            if (json) {
                out.println(Json.write(new Document(store.clusterName(), table, declared.map(TableListCommand.Entry::of).orElse(null),
                        placement, shards)));
            } else {
                out.println(placement);
                TextTable t = new TextTable("SHARD", "EXISTS", "ROWS");
                shards.forEach(s -> t.row(s.shard(), s.error() != null ? "unreachable: " + s.error() : s.exists() ? "yes" : "no",
                        s.rows()));
                t.print(out, "  ");
            }
            out.flush();
        }
        return 0;
    }

    /** "; being sharded from s0: …" for a table that 'table shard' is moving. */
    static String shardingState(io.shardgate.slot.TableSharding t) {
        return "; being sharded from " + t.home() + " (with " + String.join(", ", t.tables()) + "): " + t.atHome().size()
                + " slots still at home, " + t.moving().size() + " moving"
                + t.moving().values().stream().map(m -> " in " + m.migrationId() + " (" + m.phase() + ")").distinct()
                        .reduce("", String::concat);
    }
}

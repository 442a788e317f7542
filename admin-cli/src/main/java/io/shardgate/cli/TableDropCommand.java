package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code shardgate table drop}: remove a table's declaration (the table itself stays). */
@Command(name = "drop",
        description = {
            "Remove a table's declaration; the table and its rows stay where they are, and the table is then treated as "
                    + "undeclared. Refused while the table has rows on any shard (they could stop being found) unless --force, "
                    + "while slots are moving, and while it has split hot keys."
        })
final class TableDropCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--force", description = "Drop the declaration even though the table has rows, or a shard cannot be checked.")
    boolean force;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        String table = name.toLowerCase(Locale.ROOT);
        try (ClusterStore store = zk.openExistingStore()) {
            ClusterDefinition before = store.readDefinition().value();
            TableDefinition declared = before.table(table).orElseThrow(() -> new CliException("table " + table
                    + " is not declared in cluster '" + store.clusterName() + "' ('shardgate table list' shows the declared ones)"));
            checkMap(store.readSlotMap().value(), table);
            List<TableRows.OnShard> found = TableRows.of(before, table);
            if (!force) {
                if (found.stream().anyMatch(s -> s.error() != null)) {
                    throw new CliException("cannot check table " + table + " on every shard (" + TableRows.describe(found)
                            + "); --force drops the declaration without that check");
                }
                if (found.stream().anyMatch(s -> s.exists() && s.rows() > 0)) {
                    throw new CliException("table " + table + " has rows (" + TableRows.describe(found) + "); without its declaration "
                            + "they would be looked for on the default shard only. --force drops it anyway");
                }
            }
            DefinitionChange.Applied applied = DefinitionChange.apply(store, "drop table " + table, current -> {
                if (current.table(table).isEmpty()) {
                    throw new CliException("table " + table + " was dropped meanwhile");
                }
                checkMap(store.readSlotMap().value(), table);
                var tables = new LinkedHashMap<>(current.tables());
                tables.remove(table);
                return new ClusterDefinition(current.dialect(), current.slots(), current.shards(), tables, current.defaultShard(),
                        current.unknownTables());
            });
            out.println("dropped the declaration of " + TableListCommand.describe(declared) + " in cluster '" + store.clusterName()
                    + "'; the table stays (" + TableRows.describe(found) + ")");
            out.println("  definition version " + applied.definitionVersion() + ", epoch " + applied.epoch()
                    + (applied.live() ? ": every live proxy routes without it" : ": not every live proxy applied it within "
                    + DefinitionChange.BARRIER_TIMEOUT.toSeconds() + " s; they will when they catch up"));
            out.flush();
        }
        return 0;
    }

    private static void checkMap(SlotMap map, String table) {
        if (!map.movingSlots().isEmpty()) {
            throw new CliException("slots are moving (a migration is under way); drop table declarations once it has ended");
        }
        map.tableSharding(table).ifPresent(t -> {
            throw new CliException("table " + table + " is being sharded in place (rows leaving " + t.home()
                    + "); drop its declaration once 'table shard' has ended");
        });
        if (map.splitKeys().stream().anyMatch(k -> k.table().equals(table))) {
            throw new CliException("table " + table + " has split hot keys ('shardgate hotkey list'); merge them first");
        }
    }
}

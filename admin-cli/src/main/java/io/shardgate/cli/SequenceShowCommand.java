package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.SequenceBlocks;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code shardgate sequence show}: the cluster sequences, their columns and next unreserved ids. */
@Command(name = "show", description = "List the cluster sequences (or one table's): table, column, and the next id no proxy has reserved.")
final class SequenceShowCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TABLE")
    String table;

    @Option(names = "--json", description = "Print one JSON document.")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** One sequence; {@code next} is null where the definition names a column but the sequence node is missing. */
    record Entry(String table, String column, Long next) {}

    record Document(String cluster, int blockSize, List<Entry> sequences) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            ClusterDefinition def = store.readDefinition().value();
            Map<String, Long> next = store.sequences();
            List<Entry> entries = new ArrayList<>();
            def.tables().values().stream().filter(t -> t.sequence() != null)
                    .filter(t -> table == null || t.name().equals(table.toLowerCase(Locale.ROOT)))
                    .sorted(java.util.Comparator.comparing(TableDefinition::name))
                    .forEach(t -> entries.add(new Entry(t.name(), t.sequence(), next.get(t.name()))));
            if (table != null && entries.isEmpty()) {
                throw new CliException("table " + table + " has no cluster sequence in cluster '" + store.clusterName()
                        + "'; 'shardgate sequence add " + table + " --column COLUMN' declares one");
            }
            if (json) {
                out.println(Json.write(new Document(store.clusterName(), SequenceBlocks.DEFAULT_BLOCK_SIZE, entries)));
            } else {
                TextTable t = new TextTable("TABLE", "COLUMN", "NEXT");
                entries.forEach(e -> t.row(e.table(), e.column(), e.next() == null ? "missing (run 'sequence add')" : e.next()));
                t.print(out, "");
                out.println("# proxies reserve " + SequenceBlocks.DEFAULT_BLOCK_SIZE + " ids at a time; NEXT is the first id none"
                        + " has reserved");
            }
            out.flush();
        }
        return 0;
    }
}

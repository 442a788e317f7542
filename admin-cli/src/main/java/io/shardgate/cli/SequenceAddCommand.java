package io.shardgate.cli;

import io.shardgate.state.ClusterStore;
import io.shardgate.state.SequenceDeclaration;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code shardgate sequence add}: the proxies fill a sharded table's column from a cluster sequence from now on. */
@Command(name = "add",
        description = {
            "Declare the cluster sequence of a sharded table's AUTO_INCREMENT / serial / identity column: the proxies fill",
            "the column from it when an INSERT omits it or gives NULL, 0 (MySQL) or DEFAULT. It starts above the column's",
            "largest value on every shard (and at --start at least); an existing sequence only moves up. Live on every",
            "proxy when the command returns (a new epoch, acknowledged by every live proxy)."
        })
final class SequenceAddCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Parameters(index = "0", paramLabel = "TABLE", description = "A table declared sharded.")
    String table;

    @Option(names = "--column", paramLabel = "COLUMN", description = "The column to fill (default: the table's AUTO_INCREMENT, serial or"
            + " identity column, read from the shards' catalog).")
    String column;

    @Option(names = "--start", paramLabel = "N", description = "The first id at least (default 1).")
    long start = 1;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        String name = table.toLowerCase(Locale.ROOT);
        if (start < 1) {
            throw new CliException("--start must be 1 or more, was " + start);
        }
        try (ClusterStore store = zk.openExistingStore()) {
            String col = column != null ? column.toLowerCase(Locale.ROOT)
                    : SequenceCatalog.generatedColumn(store.readDefinition().value(), name).orElseThrow(() -> new CliException(
                            "no shard has an AUTO_INCREMENT, serial or identity column in " + name + "; name the column with --column"));
            SequenceDeclaration.Declared d = SequenceCatalog.declare(store, name, col, start);
            out.println("declared the " + SequenceCatalog.describe(d));
            out.flush();
        }
        return 0;
    }
}

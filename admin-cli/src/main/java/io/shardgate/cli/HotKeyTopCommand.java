package io.shardgate.cli;

import io.shardgate.state.ClusterStore;
import io.shardgate.state.HotKeyReport;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate hotkey top}: the hottest keys across all live proxies. */
@Command(name = "top",
        description = {
            "Show the shard-key values written most in the last 10-20 s, summed over every live proxy: table, key, "
                    + "writes/s, how many proxies report the key, and whether it is already split.",
            "Each proxy counts the writes it routes (INSERT rows, UPDATE/DELETE by key) with a heavy-hitter sketch and "
                    + "publishes its top 32 every 2 s; keys outside a proxy's top 32 are not in its share."
        })
final class HotKeyTopCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "Show at most N keys (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--json", description = "Print one JSON document (stable field names).")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** The {@code --json} document. */
    record Document(String cluster, List<String> proxies, List<HotKeyTotals.Total> keys) {}

    @Override
    public Integer call() {
        if (limit < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be at least 1, was " + limit);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            List<HotKeyReport> reports = store.hotKeyReports();
            List<HotKeyTotals.Total> totals = HotKeyTotals.of(reports, store.readSlotMap().value(), limit);
            List<String> proxies = reports.stream().map(HotKeyReport::proxyId).toList();
            if (json) {
                out.println(Json.write(new Document(store.clusterName(), proxies, totals)));
            } else {
                print(out, store.clusterName(), reports, totals);
            }
            out.flush();
        }
        return 0;
    }

    private static void print(PrintWriter out, String cluster, List<HotKeyReport> reports, List<HotKeyTotals.Total> totals) {
        if (reports.isEmpty()) {
            out.println("no live proxy of cluster '" + cluster + "' reports hot keys (a proxy publishes its counts every 2 s)");
            return;
        }
        if (totals.isEmpty()) {
            out.println("no writes by key in cluster '" + cluster + "' recently (" + reports.size() + " proxies reporting)");
            return;
        }
        out.println("hottest keys of cluster '" + cluster + "', writes/s summed over " + reports.size() + " reporting "
                + (reports.size() == 1 ? "proxy" : "proxies") + ":");
        TextTable table = new TextTable("TABLE", "KEY", "WRITES/S", "PROXIES", "SPLIT");
        for (HotKeyTotals.Total t : totals) {
            table.row(t.table(), t.key(), String.format(Locale.ROOT, "%.1f", t.writesPerSecond()), t.proxies(), split(t));
        }
        table.print(out, "  ");
    }

    private static String split(HotKeyTotals.Total t) {
        if (t.split() == null) {
            return "no";
        }
        return "k=" + t.split().k() + switch (t.split().state()) {
            case SPLIT -> "";
            case SPLITTING -> " (splitting)";
            case MERGING -> " (merging)";
        };
    }
}

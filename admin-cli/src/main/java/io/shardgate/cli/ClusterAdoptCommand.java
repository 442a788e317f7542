package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.UnknownTablePolicy;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.StoreException;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate cluster adopt}: an existing database becomes shard s0 of a new cluster, every table single on it. */
@Command(name = "adopt",
        description = {
            "Create a cluster from an existing MySQL/MariaDB database: it becomes shard s0 with every slot, and each of its",
            "tables is declared single on s0, so an application that connects to Shardgate instead sees the same database.",
            "Then: 'shard add' new shards, 'table add' new sharded tables, 'reshard' to spread them."
        })
final class ClusterAdoptCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--url", required = true, paramLabel = "URL", description = "JDBC URL of the database, e.g. jdbc:mysql://10.0.0.5:3306/app.")
    String url;

    @Option(names = "--user", required = true, paramLabel = "USER", description = "Backend user the proxies log in as.")
    String user;

    @Option(names = "--password", defaultValue = "", paramLabel = "PW",
            description = "Backend password (default: empty). It is stored in the cluster definition in ZooKeeper.")
    String password;

    @Option(names = "--slots", defaultValue = "4096", paramLabel = "N", description = "Slots of the cluster, fixed forever (default ${DEFAULT-VALUE}).")
    int slots;

    @Option(names = "--pool-size", defaultValue = "64", paramLabel = "N", description = "Most connections a proxy keeps to s0 (default ${DEFAULT-VALUE}).")
    int poolSize;

    @Option(names = "--dry-run", description = "Connect, list what would be declared, change nothing.")
    boolean dryRun;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!url.startsWith("jdbc:mysql://") && !url.startsWith("jdbc:mariadb://")) {
            throw new CliException("--url '" + url + "' is not a MySQL/MariaDB JDBC URL (jdbc:mysql://host:port/database)");
        }
        if (ShardDatabase.database(url).isEmpty()) {
            throw new CliException("--url '" + url + "' names no database; adopt takes one database, e.g. jdbc:mysql://host:3306/app");
        }
        if (slots < ClusterDefinition.MIN_SLOTS || slots > ClusterDefinition.MAX_SLOTS) {
            throw new CliException("--slots must be in " + ClusterDefinition.MIN_SLOTS + ".." + ClusterDefinition.MAX_SLOTS + ", was " + slots);
        }
        ShardDefinition s0 = new ShardDefinition("s0", url, user, password, poolSize, false);
        Map<String, Long> rows;
        try (ShardDatabase db = ShardDatabase.connect(s0)) {
            rows = db.rowCounts(db.tables());
        } catch (SQLException e) {
            throw new CliException("cannot adopt " + url + ": " + ShardDatabase.reason(e), e);
        }
        Map<String, TableDefinition> tables = new LinkedHashMap<>();
        rows.keySet().forEach(t -> tables.put(t, TableDefinition.single(t, "s0")));
        ClusterDefinition definition = new ClusterDefinition(Dialect.MYSQL, slots, List.of(s0), tables, "s0", UnknownTablePolicy.SINGLE);
        SlotMap map = SlotMap.initial(slots, List.of("s0"));
        try (ClusterStore store = zk.openStore()) {
            if (dryRun) {
                out.println("would create cluster '" + store.clusterName() + "' from database '" + ShardDatabase.database(url) + "' at " + url + ":");
            } else {
                try {
                    store.createCluster(definition, map, false);
                } catch (StoreException.AlreadyExists e) {
                    throw new CliException("cluster '" + store.clusterName() + "' already exists in ZooKeeper at " + zk.connectString()
                            + "; adopt creates a new cluster", e);
                }
                out.println("adopted database '" + ShardDatabase.database(url) + "' at " + url + " as shard s0 of cluster '"
                        + store.clusterName() + "' (" + slots + " slots, epoch " + map.epoch() + "):");
            }
            TextTable t = new TextTable("TABLE", "ROWS", "DECLARED");
            rows.forEach((table, n) -> t.row(table, n, "single on s0"));
            t.print(out, "  ");
            out.println("  tables created later without a declaration are single on s0 too (unknown-tables: single)");
            out.flush();
        }
        return 0;
    }
}

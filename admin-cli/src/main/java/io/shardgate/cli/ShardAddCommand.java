package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.config.ConfigNode;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.StoreException;
import io.shardgate.state.Versioned;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code shardgate shard add}: checks a new backend database and registers it as a spare shard. */
@Command(name = "add",
        description = {
            "Check a new backend database and add it to the cluster's definition as a spare shard (no slots).",
            "The database must be reachable and hold none of the cluster's declared tables. Proxies connect to "
                    + "it when they see the new definition; 'shardgate reshard plan --rebalance' shows what would move to it."
        })
final class ShardAddCommand implements Callable<Integer> {
    private static final Pattern SHARD_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    private static final int CAS_ATTEMPTS = 5;

    @Mixin
    ZooKeeperOptions zk;

    @Parameters(index = "0", paramLabel = "NAME",
            description = "Name of the new shard: lower-case letters, digits, '-' or '_', starting with a letter, at most 32 characters.")
    String name;

    @Option(names = "--url", paramLabel = "URL", required = true,
            description = "JDBC URL of the shard's database, e.g. jdbc:mysql://10.0.0.7:3306/app (jdbc:mysql: or jdbc:mariadb: for dialect mysql).")
    String url;

    @Option(names = "--user", paramLabel = "USER", required = true, description = "Backend user the proxies log in as.")
    String user;

    @Option(names = "--password", paramLabel = "PW", defaultValue = "",
            description = "Backend password (default: empty). It is stored in the cluster definition in ZooKeeper.")
    String password;

    @Option(names = "--pool-size", paramLabel = "N", defaultValue = "64",
            description = "Most connections a proxy keeps to this shard, 1..1024 (default: ${DEFAULT-VALUE}).")
    int poolSize;

    @Option(names = "--force", description = "Add the shard even if its database already holds some of the cluster's tables.")
    boolean force;

    @Option(names = "--dry-run", description = "Run the checks and print what would change, without changing the definition.")
    boolean dryRun;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** What the checks found in the new shard's database. */
    record Checks(String database, List<String> clusterTables) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (!SHARD_NAME.matcher(name).matches()) {
            throw new CliException("'" + name + "' is not a valid shard name: use lower-case letters, digits, '-' or '_', "
                    + "starting with a letter, at most 32 characters");
        }
        if (poolSize < 1 || poolSize > 1024) {
            throw new CliException("--pool-size must be in 1..1024, was " + poolSize);
        }
        ShardDefinition shard = new ShardDefinition(name, url, user, password, poolSize, true);
        try (ClusterStore store = zk.openExistingStore()) {
            Versioned<ClusterDefinition> definition = store.readDefinition();
            checkNew(definition.value(), store.clusterName());
            Checks checks = check(shard, definition.value());
            if (dryRun) {
                out.println("would add shard '" + name + "' to cluster '" + store.clusterName() + "' as a spare (no slots):");
                print(out, checks);
                out.println("  definition unchanged (dry run); slot map unchanged");
                out.flush();
                return 0;
            }
            int version = add(store, shard, definition);
            out.println("added shard '" + name + "' to cluster '" + store.clusterName() + "' as a spare (no slots):");
            print(out, checks);
            out.println("  definition version " + version + "; slot map unchanged. Proxies connect to " + name
                    + " when they see the new definition.");
            out.println("  next: shardgate reshard plan --rebalance");
            out.flush();
        }
        return 0;
    }

    private void checkNew(ClusterDefinition definition, String cluster) {
        if (definition.shard(name).isPresent()) {
            throw new CliException("shard '" + name + "' already exists in cluster '" + cluster + "' (shards: "
                    + String.join(", ", definition.shardNames()) + ")");
        }
        if (definition.dialect() != Dialect.MYSQL) {
            throw new CliException("shard add checks MySQL/MariaDB shards only so far; cluster '" + cluster
                    + "' has dialect " + ConfigNode.spell(definition.dialect()));
        }
        if (!url.startsWith("jdbc:mysql://") && !url.startsWith("jdbc:mariadb://")) {
            throw new CliException("--url '" + url + "' does not fit dialect mysql: it must start with jdbc:mysql:// or jdbc:mariadb://");
        }
        String database;
        try {
            database = ShardDatabase.database(url);
        } catch (IllegalArgumentException e) {
            throw new CliException("--url '" + url + "' is not a MySQL/MariaDB JDBC URL", e);
        }
        if (database.isEmpty()) {
            throw new CliException("--url '" + url + "' names no database; the database part is the shard's schema, e.g. "
                    + "jdbc:mysql://host:3306/app");
        }
    }

    private Checks check(ShardDefinition shard, ClusterDefinition definition) {
        String database = ShardDatabase.database(url);
        List<String> existing;
        try (ShardDatabase db = ShardDatabase.connect(shard)) {
            existing = db.existing(definition.tables().keySet());
        } catch (SQLException e) {
            throw new CliException("cannot use shard '" + name + "' at " + url + ": " + ShardDatabase.reason(e), e);
        }
        if (!existing.isEmpty() && !force) {
            throw new CliException("database '" + database + "' at " + url + " already holds " + existing.size()
                    + " of the cluster's tables (" + String.join(", ", existing)
                    + "); a new shard must start without them (--force adds it anyway)");
        }
        return new Checks(database, existing);
    }

    private void print(PrintWriter out, Checks checks) {
        out.println("  reachable      " + url + " as " + user);
        out.println("  cluster tables " + (checks.clusterTables().isEmpty() ? "none in database '" + checks.database() + "'"
                : String.join(", ", checks.clusterTables()) + " already in database '" + checks.database() + "' (added anyway: --force)"));
        out.println("  pool size      " + poolSize);
    }

    /** Adds the shard by compare-and-set, re-reading and retrying when someone else changed the definition. */
    private int add(ClusterStore store, ShardDefinition shard, Versioned<ClusterDefinition> first) {
        Versioned<ClusterDefinition> current = first;
        for (int attempt = 1; ; attempt++) {
            checkNew(current.value(), store.clusterName());
            try {
                return store.casDefinition(current.value().withShard(shard), current.version());
            } catch (StoreException.VersionConflict e) {
                if (attempt == CAS_ATTEMPTS) {
                    throw new CliException("the definition of cluster '" + store.clusterName() + "' kept changing; "
                            + CAS_ATTEMPTS + " attempts to add shard '" + name + "' failed, retry", e);
                }
                current = store.readDefinition();
                if (!current.value().tables().equals(first.value().tables())) {
                    check(shard, current.value()); // tables were declared meanwhile: the emptiness check must see them
                }
            }
        }
    }
}

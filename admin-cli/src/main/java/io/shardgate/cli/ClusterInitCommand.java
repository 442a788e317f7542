package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.config.ConfigNode;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SlotRange;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.StoreException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate cluster init}: validates a cluster file and stores it with its first slot map. */
@Command(name = "init",
        description = {
            "Validate a cluster definition file and create the cluster in ZooKeeper with its first slot map:",
            "the slots are split into equal contiguous ranges over the shards that are not spare (epoch 1)."
        })
final class ClusterInitCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--file", paramLabel = "FILE", required = true,
            description = "Cluster definition (YAML), e.g. conf/cluster-example.yaml.")
    Path file;

    @Option(names = "--force", description = "Replace an existing cluster (its definition, slot map and migrations).")
    boolean force;

    @Option(names = "--dry-run", description = "Validate the file and print what would be created, without touching ZooKeeper.")
    boolean dryRun;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** What init creates: computed before anything is written, printed by --dry-run and after success. */
    record Plan(String cluster, ClusterDefinition definition, SlotMap slotMap) {
        Plan {
            Objects.requireNonNull(cluster, "cluster");
            Objects.requireNonNull(definition, "definition");
            Objects.requireNonNull(slotMap, "slotMap");
        }

        static Plan of(String cluster, ClusterDefinition definition) {
            return new Plan(cluster, definition, SlotMap.initial(definition.slots(), definition.activeShardNames()));
        }

        void print(PrintWriter out) {
            out.println("  dialect " + ConfigNode.spell(definition.dialect()) + ", " + definition.slots()
                    + " slots, epoch " + slotMap.epoch() + ", default shard " + definition.defaultShard());
            TextTable shards = new TextTable("SHARD", "SLOTS", "RANGES", "URL");
            for (ShardDefinition s : definition.shards()) {
                List<String> ranges = slotMap.ranges().stream()
                        .filter(r -> r.shard().equals(s.name()))
                        .map(ClusterInitCommand::format)
                        .toList();
                shards.row(s.name(), slotMap.slotCounts().getOrDefault(s.name(), 0),
                        ranges.isEmpty() ? "- (spare)" : String.join(",", ranges), s.jdbcUrl());
            }
            shards.print(out, "  ");
            out.println("  tables: " + (definition.tables().isEmpty() ? "none declared"
                    : String.join(", ", definition.tables().keySet().stream().sorted().toList())));
        }
    }

    private static String format(SlotRange r) {
        return SlotRun.format(r.from(), r.to());
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        ClusterDefinition definition = ConfigErrors.readClusterFile(file);
        Plan plan = Plan.of(zk.clusterName(), definition);
        if (dryRun) {
            out.println("would create cluster '" + plan.cluster() + "' in ZooKeeper at " + zk.connectString()
                    + " from " + file + (force ? " (replacing an existing one)" : "") + ":");
            plan.print(out);
            out.flush();
            return 0;
        }
        try (ClusterStore store = zk.openStore()) {
            boolean existed = store.clusterExists();
            if (existed && !force) {
                throw alreadyExists(plan.cluster());
            }
            try {
                store.createCluster(plan.definition(), plan.slotMap(), force);
            } catch (StoreException.AlreadyExists e) {
                throw alreadyExists(plan.cluster());
            }
            out.println((existed ? "replaced" : "created") + " cluster '" + plan.cluster() + "' in ZooKeeper at "
                    + zk.connectString() + " from " + file + ":");
            plan.print(out);
            out.flush();
        }
        return 0;
    }

    private CliException alreadyExists(String cluster) {
        return new CliException("cluster '" + cluster + "' already exists in ZooKeeper at " + zk.connectString()
                + "; use --force to replace it");
    }
}

package io.shardgate.cli;

import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
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

/** {@code shardgate slots}: the slot map as ranges. */
@Command(name = "slots", description = "List slot ranges and the shard owning each, marking slots that are moving.")
final class SlotsCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--shard", paramLabel = "NAME", description = "Only the ranges owned by this shard.")
    String shard;

    @Option(names = "--json", description = "Print one JSON document: epoch, slots and the ranges.")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** JSON form of one range; moving fields are null when the range is not moving. */
    record Range(int from, int to, String shard, String phase, String source, String target, String migration) {}

    record Document(String cluster, long epoch, int slots, List<Range> ranges) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            List<String> shards = store.readDefinition().value().shardNames();
            if (shard != null && !shards.contains(shard)) {
                throw new CliException("unknown shard '" + shard + "'; the shards of cluster '" + store.clusterName()
                        + "' are " + String.join(", ", shards));
            }
            SlotMap map = store.readSlotMap().value();
            List<SlotRun> runs = SlotRun.of(map).stream()
                    .filter(r -> shard == null || r.shard().equals(shard) || r.moving().map(m -> m.target().equals(shard)).orElse(false))
                    .toList();
            if (json) {
                out.println(Json.write(new Document(store.clusterName(), map.epoch(), map.slotCount(),
                        runs.stream().map(SlotsCommand::range).toList())));
            } else {
                print(runs, out);
                out.println("# epoch " + map.epoch() + ", " + map.slotCount() + " slots");
            }
            out.flush();
        }
        return 0;
    }

    private static Range range(SlotRun r) {
        MovingSlot m = r.moving().orElse(null);
        return m == null
                ? new Range(r.from(), r.to(), r.shard(), null, null, null, null)
                : new Range(r.from(), r.to(), r.shard(), ConfigNode.spell(m.phase()), m.source(), m.target(), m.migrationId());
    }

    private static void print(List<SlotRun> runs, PrintWriter out) {
        int width = runs.stream().mapToInt(r -> r.range().length()).max().orElse(0);
        for (SlotRun r : runs) {
            StringBuilder line = new StringBuilder(r.range()).append(" ".repeat(width - r.range().length() + 2)).append(r.shard());
            r.moving().ifPresent(m -> line.append("  moving ").append(m.source()).append(" -> ").append(m.target())
                    .append(" (").append(ConfigNode.spell(m.phase())).append(", ").append(m.migrationId()).append(')'));
            out.println(line);
        }
    }
}

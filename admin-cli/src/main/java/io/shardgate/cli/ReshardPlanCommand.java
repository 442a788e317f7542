package io.shardgate.cli;

import io.shardgate.cli.reshard.SlotMove;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate reshard plan}: the slot moves a reshard would make, with row estimates; changes nothing. */
@Command(name = "plan",
        description = {
            "Compute and print the slot moves of a reshard without changing anything (a dry run).",
            "Rows are an estimate (est.): for each source shard, SELECT COUNT(*) of every sharded table times "
                    + "the moving slots over the slots that shard owns, which assumes keys spread evenly over slots. "
                    + "A shard that cannot be reached gets 'rows unknown' and the plan still prints."
        })
final class ReshardPlanCommand implements Callable<Integer> {
    @Mixin
    ZooKeeperOptions zk;

    @ArgGroup(exclusive = true, multiplicity = "1")
    ReshardMoves.Mode mode;

    @Option(names = "--json", description = "Print one JSON document: the moves with their estimated rows.")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** Rows of one move, or why they are unknown. */
    record Estimate(Long rows, Map<String, Long> byTable, String unknown) {}

    /** JSON form of one move. */
    record Move(int from, int to, int slots, String source, String target, Long estimatedRows,
            Map<String, Long> estimatedRowsByTable, String rowsUnknown) {}

    /** Row counts by sharded table on one source shard, or why they are unknown. */
    record SourceRows(Map<String, Long> counts, String unknown) {}

    record Document(String cluster, long epoch, int slots, String plan, int movingSlots, Long estimatedRows,
            String estimate, List<Move> moves) {}

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (ClusterStore store = zk.openExistingStore()) {
            ClusterDefinition definition = store.readDefinition().value();
            SlotMap map = store.readSlotMap().value();
            ReshardMoves.Plan plan = ReshardMoves.plan(mode, definition, map);
            String description = plan.description();
            List<SlotMove> moves = plan.moves();
            Map<SlotMove, Estimate> estimates = estimate(definition, map, moves);
            int moving = plan.movingSlots();
            Long total = estimates.values().stream().allMatch(e -> e.rows() != null)
                    ? estimates.values().stream().mapToLong(Estimate::rows).sum() : null;
            if (json) {
                List<Move> doc = moves.stream().map(m -> {
                    Estimate e = estimates.get(m);
                    return new Move(m.from(), m.to(), m.size(), m.source(), m.target(), e.rows(), e.byTable(), e.unknown());
                }).toList();
                out.println(Json.write(new Document(store.clusterName(), map.epoch(), map.slotCount(), description, moving, total,
                        "COUNT(*) per sharded table on the source x moving slots / slots the source owns", doc)));
            } else {
                out.println("plan for cluster '" + store.clusterName() + "' (epoch " + map.epoch() + ", " + map.slotCount()
                        + " slots): " + description);
                for (SlotMove m : moves) {
                    Estimate e = estimates.get(m);
                    out.println("  move slots " + m.range() + " (" + m.size() + (m.size() == 1 ? " slot" : " slots") + ") "
                            + m.source() + " -> " + m.target() + ", "
                            + (e.rows() != null ? "est. " + grouped(e.rows()) + " rows" : "rows unknown (" + e.unknown() + ")"));
                }
                if (moves.isEmpty()) {
                    out.println("  no moves: the slots are spread evenly already");
                } else {
                    out.println("  total: " + moving + " slots in " + moves.size() + (moves.size() == 1 ? " move" : " moves")
                            + (total != null ? ", est. " + grouped(total) + " rows" : ", rows unknown for some moves"));
                }
                out.println("  dry run: nothing changed");
            }
            out.flush();
        }
        return 0;
    }

    /** Estimated rows per move: COUNT(*) of the sharded tables on each source, once per source. */
    private static Map<SlotMove, Estimate> estimate(ClusterDefinition definition, SlotMap map, List<SlotMove> moves) {
        List<String> sharded = definition.tables().values().stream()
                .filter(t -> t.kind() == TableKind.SHARDED).map(TableDefinition::name).sorted().toList();
        Map<String, SourceRows> countsBySource = new LinkedHashMap<>();
        for (SlotMove m : moves) {
            countsBySource.computeIfAbsent(m.source(), source -> count(definition.shard(source).orElseThrow(), sharded));
        }
        Map<SlotMove, Estimate> out = new LinkedHashMap<>();
        for (SlotMove m : moves) {
            SourceRows source = countsBySource.get(m.source());
            if (source.unknown() != null) {
                out.put(m, new Estimate(null, null, source.unknown()));
                continue;
            }
            Map<String, Long> rows = source.counts();
            double share = (double) m.size() / map.slotCounts().get(m.source());
            Map<String, Long> byTable = new LinkedHashMap<>();
            rows.forEach((table, n) -> byTable.put(table, Math.round(n * share)));
            out.put(m, new Estimate(byTable.values().stream().mapToLong(Long::longValue).sum(), byTable, null));
        }
        return out;
    }

    private static SourceRows count(ShardDefinition shard, List<String> tables) {
        try (ShardDatabase db = ShardDatabase.connect(shard)) {
            return new SourceRows(db.rowCounts(tables), null);
        } catch (SQLException e) {
            return new SourceRows(null, "shard " + shard.name() + " unreachable: " + ShardDatabase.reason(e));
        }
    }

    private static String grouped(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}

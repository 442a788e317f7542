package io.shardgate.cli;

import io.shardgate.cli.reshard.RebalancePlanner;
import io.shardgate.cli.reshard.SlotMove;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.slot.SlotMap;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * Which slots a reshard moves, {@code --rebalance} or {@code --slots A-B --to SHARD}, and the moves
 * that follow from the slot map: one definition for {@code reshard plan} and {@code reshard start},
 * so a start makes exactly the moves its plan printed.
 */
final class ReshardMoves {
    private static final Pattern SLOTS = Pattern.compile("(\\d{1,9})(?:-(\\d{1,9}))?");

    private ReshardMoves() {}

    /** The options; use as {@code @ArgGroup(exclusive = true, multiplicity = "1")}. */
    static final class Mode {
        @Option(names = "--rebalance", required = true,
                description = "Spread the slots as evenly as possible over all shards (spares included), moving the fewest slots.")
        boolean rebalance;

        @ArgGroup(exclusive = false)
        Range range;
    }

    static final class Range {
        @Option(names = "--slots", paramLabel = "A-B", required = true,
                description = "Slots A to B (inclusive), or one slot A, to move; they may belong to several shards (one move per source).")
        String slots;

        @Option(names = "--to", paramLabel = "SHARD", required = true, description = "Shard that receives the slots of --slots.")
        String to;
    }

    /** The moves, and what was asked for in words ("rebalance over s0, s1", "move slots 0-9 to s1"). */
    record Plan(String description, List<SlotMove> moves) {
        Plan {
            moves = List.copyOf(moves);
        }

        int movingSlots() {
            return moves.stream().mapToInt(SlotMove::size).sum();
        }
    }

    /** The moves {@code mode} asks for on {@code map}; a refusal is a one-line {@link CliException}. */
    static Plan plan(Mode mode, ClusterDefinition definition, SlotMap map) {
        List<String> shards = definition.shardNames();
        if (!map.tableShardings().isEmpty()) {
            throw new CliException("tables are being sharded in place (" + String.join("; ", map.tableShardings().values().stream()
                    .map(t -> String.join(", ", t.tables()) + " from " + t.home()).toList())
                    + "); move slots once 'table shard' has ended (see 'reshard status')");
        }
        try {
            if (mode.rebalance) {
                return new Plan("rebalance over " + String.join(", ", shards), RebalancePlanner.rebalance(map, shards));
            }
            int[] range = parseSlots(mode.range.slots);
            return new Plan("move slots " + SlotRun.format(range[0], range[1]) + " to " + mode.range.to,
                    RebalancePlanner.moveRange(map, shards, range[0], range[1], mode.range.to));
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    private static int[] parseSlots(String text) {
        Matcher m = SLOTS.matcher(text.strip());
        if (!m.matches()) {
            throw new CliException("--slots '" + text + "' is not a slot range such as 0-9 or 17");
        }
        int from = Integer.parseInt(m.group(1));
        int to = m.group(2) == null ? from : Integer.parseInt(m.group(2));
        return new int[] {from, to};
    }
}

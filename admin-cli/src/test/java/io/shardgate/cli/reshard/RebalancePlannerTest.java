package io.shardgate.cli.reshard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SlotRange;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RebalancePlannerTest {

    /** The map after applying the moves (the planner's promise checked independently of its code). */
    private static SlotMap apply(SlotMap map, List<SlotMove> moves) {
        SlotMap out = map;
        for (SlotMove m : moves) {
            for (int s = m.from(); s <= m.to(); s++) {
                assertThat(out.owner(s)).as("slot %d of %s", s, m).isEqualTo(m.source());
            }
            out = out.withOwner(out.epoch() + 1, IntStream.rangeClosed(m.from(), m.to()).boxed().toList(), m.target());
        }
        return out;
    }

    private static int moved(List<SlotMove> moves) {
        return moves.stream().mapToInt(SlotMove::size).sum();
    }

    private static void assertEven(SlotMap map, List<String> shards) {
        int n = shards.size();
        for (String s : shards) {
            assertThat(map.slotCounts().getOrDefault(s, 0)).as(s).isBetween(map.slotCount() / n, (map.slotCount() + n - 1) / n);
        }
    }

    @Test
    void twoToFourShardsMovesExactlyHalfTheSlotsInTwoRanges() {
        SlotMap map = SlotMap.initial(4096, List.of("s0", "s1"));
        List<String> shards = List.of("s0", "s1", "s2", "s3");
        List<SlotMove> moves = RebalancePlanner.rebalance(map, shards);
        assertThat(moved(moves)).isEqualTo(2048);
        assertThat(moves).containsExactly(new SlotMove(1024, 2047, "s0", "s2"), new SlotMove(3072, 4095, "s1", "s3"));
        SlotMap after = apply(map, moves);
        assertThat(after.slotCounts()).containsExactlyInAnyOrderEntriesOf(Map.of("s0", 1024, "s1", 1024, "s2", 1024, "s3", 1024));
    }

    @Test
    void alreadyBalancedMovesNothing() {
        assertThat(RebalancePlanner.rebalance(SlotMap.initial(4096, List.of("s0", "s1", "s2")), List.of("s0", "s1", "s2"))).isEmpty();
        assertThat(RebalancePlanner.rebalance(SlotMap.initial(7, List.of("a", "b", "c")), List.of("a", "b", "c"))).isEmpty();
    }

    @Test
    void twoToThreeTakesFromTheEndOfEachRange() {
        SlotMap map = SlotMap.initial(4096, List.of("s0", "s1"));
        List<SlotMove> moves = RebalancePlanner.rebalance(map, List.of("s0", "s1", "s2"));
        assertThat(moves).containsExactly(new SlotMove(1366, 2047, "s0", "s2"), new SlotMove(3413, 4095, "s1", "s2"));
        assertThat(moved(moves)).isEqualTo(1365);
        assertEven(apply(map, moves), List.of("s0", "s1", "s2"));
    }

    @Test
    void threeUnevenShardsMoveOnlyTheSurplus() {
        SlotMap map = SlotMap.of(1, 100, List.of(new SlotRange(0, 69, "a"), new SlotRange(70, 89, "b"), new SlotRange(90, 99, "c")),
                Map.of(), List.of());
        List<String> shards = List.of("a", "b", "c");
        List<SlotMove> moves = RebalancePlanner.rebalance(map, shards);
        // targets: a 34 (the extra slot goes to the largest), b 33, c 33 -> a gives 36: 13 to b, 23 to c
        assertThat(moved(moves)).isEqualTo(36);
        assertThat(moves).containsExactly(new SlotMove(34, 46, "a", "b"), new SlotMove(47, 69, "a", "c"));
        SlotMap after = apply(map, moves);
        assertThat(after.slotCounts()).containsExactlyInAnyOrderEntriesOf(Map.of("a", 34, "b", 33, "c", 33));
    }

    @Test
    void fragmentedDonorGivesItsHighestSlotsAsContiguousRunsWherePossible() {
        SlotMap map = SlotMap.of(1, 12, List.of(new SlotRange(0, 3, "a"), new SlotRange(4, 5, "b"), new SlotRange(6, 11, "a")),
                Map.of(), List.of());
        List<SlotMove> moves = RebalancePlanner.rebalance(map, List.of("a", "b"));
        assertThat(moves).containsExactly(new SlotMove(8, 11, "a", "b"));
        assertEven(apply(map, moves), List.of("a", "b"));
    }

    @Test
    void aSpareWithNoSlotsGetsItsShare() {
        SlotMap map = SlotMap.initial(4096, List.of("s0", "s1", "s2"));
        List<String> shards = List.of("s0", "s1", "s2", "spare");
        List<SlotMove> moves = RebalancePlanner.rebalance(map, shards);
        assertThat(moves).allSatisfy(m -> assertThat(m.target()).isEqualTo("spare"));
        assertThat(moves).hasSize(3);
        assertThat(moved(moves)).isEqualTo(1024);
        SlotMap after = apply(map, moves);
        assertThat(after.slotCounts().get("spare")).isEqualTo(1024);
        assertEven(after, shards);
    }

    @Test
    void plansAreDeterministicAndSpreadAnyCountEvenly() {
        for (int slots : new int[] {1, 5, 97, 4096}) {
            for (int from = 1; from <= 4; from++) {
                for (int to = from; to <= 6; to++) {
                    List<String> before = IntStream.range(0, Math.min(from, slots)).mapToObj(i -> "s" + i).toList();
                    List<String> all = IntStream.range(0, to).mapToObj(i -> "s" + i).toList();
                    SlotMap map = SlotMap.initial(slots, before);
                    List<SlotMove> moves = RebalancePlanner.rebalance(map, all);
                    assertThat(RebalancePlanner.rebalance(map, all)).isEqualTo(moves);
                    assertEven(apply(map, moves), all);
                }
            }
        }
    }

    @Test
    void refusesWhileSlotsAreMoving() {
        SlotMap map = SlotMap.initial(16, List.of("s0", "s1"))
                .withMoving(2, List.of(0, 1), new MovingSlot("m-1", MigrationPhase.BACKFILL, "s0", "s2"));
        assertThatThrownBy(() -> RebalancePlanner.rebalance(map, List.of("s0", "s1", "s2")))
                .hasMessage("2 slots are moving already (migration m-1, s0 -> s2); plan a rebalance after that migration ends");
    }

    @Test
    void aRangeOverTwoOwnersIsOneMovePerSource() {
        SlotMap map = SlotMap.initial(16, List.of("s0", "s1"));
        assertThat(RebalancePlanner.moveRange(map, List.of("s0", "s1", "s2"), 6, 9, "s2"))
                .containsExactly(new SlotMove(6, 7, "s0", "s2"), new SlotMove(8, 9, "s1", "s2"));
        assertThat(RebalancePlanner.moveRange(map, List.of("s0", "s1", "s2"), 3, 3, "s1"))
                .containsExactly(new SlotMove(3, 3, "s0", "s1"));
    }

    @Test
    void aRangeIsRefusedWhenOutsideOnTheTargetUnknownOrMoving() {
        SlotMap map = SlotMap.initial(16, List.of("s0", "s1"));
        List<String> shards = List.of("s0", "s1", "s2");
        assertThatThrownBy(() -> RebalancePlanner.moveRange(map, shards, 10, 16, "s2"))
                .hasMessage("slots 10-16 are not a range within 0-15");
        assertThatThrownBy(() -> RebalancePlanner.moveRange(map, shards, 5, 3, "s2"))
                .hasMessage("slots 5-3 are not a range within 0-15");
        assertThatThrownBy(() -> RebalancePlanner.moveRange(map, shards, 0, 3, "s9"))
                .hasMessage("unknown shard 's9'; the shards are s0, s1, s2");
        assertThatThrownBy(() -> RebalancePlanner.moveRange(map, shards, 6, 9, "s1"))
                .hasMessage("slots 8-9 are on s1 already");
        SlotMap moving = map.withMoving(2, List.of(2, 3), new MovingSlot("m-1", MigrationPhase.DUAL_WRITE, "s0", "s2"));
        assertThatThrownBy(() -> RebalancePlanner.moveRange(moving, shards, 0, 5, "s1"))
                .hasMessage("slots 2-3 are moving already (migration m-1, s0 -> s2)");
    }

    @Test
    void runsAreWrittenCompactly() {
        assertThat(RebalancePlanner.runs(List.of(3, 4, 5, 9))).isEqualTo("3-5,9");
        assertThat(RebalancePlanner.runs(List.of(1000, 1001))).isEqualTo("1000-1001");
    }
}

package io.shardgate.slot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SlotMapTest {

    @Test
    void initialRangesCoverAllSlotsContiguouslyInShardOrder() {
        SlotMap map = SlotMap.initial(16384, List.of("s0", "s1", "s2"));
        List<SlotRange> ranges = map.ranges();
        assertThat(ranges).extracting(SlotRange::shard).containsExactly("s0", "s1", "s2");
        assertThat(ranges.getFirst().from()).isZero();
        assertThat(ranges.getLast().to()).isEqualTo(16383);
        for (int i = 1; i < ranges.size(); i++) {
            assertThat(ranges.get(i).from()).isEqualTo(ranges.get(i - 1).to() + 1);
        }
        assertThat(ranges).allSatisfy(r -> assertThat(r.size()).isBetween(5461, 5462));
        assertThat(map.epoch()).isEqualTo(1);
    }

    @Test
    void ownerFollowsThePhaseOfAMove() {
        SlotMap map = SlotMap.initial(16, List.of("s0", "s1"));
        for (MigrationPhase phase : MigrationPhase.values()) {
            SlotMap moved = map.withMoving(2, List.of(3), new MovingSlot("m1", phase, "s0", "s1"));
            assertThat(moved.owner(3)).as("owner in %s", phase).isEqualTo(phase.targetOwns() ? "s1" : "s0");
            assertThat(moved.moving(3)).hasValueSatisfying(m -> assertThat(m.phase()).isEqualTo(phase));
            assertThat(moved.owner(4)).isEqualTo("s0");
            assertThat(moved.epoch()).isEqualTo(2);
        }
    }

    @Test
    void endingAMoveKeepsTheOwner() {
        SlotMap map = SlotMap.initial(16, List.of("s0", "s1"))
                .withMoving(2, List.of(3), new MovingSlot("m1", MigrationPhase.CLEANUP, "s0", "s1"))
                .withMoving(3, List.of(3), null);
        assertThat(map.owner(3)).isEqualTo("s1");
        assertThat(map.moving(3)).isEmpty();
    }

    @Test
    void equalMapsAreEqualAndDifferentOnesAreNot() {
        SlotMap a = SlotMap.initial(16, List.of("s0", "s1"));
        SlotMap b = SlotMap.initial(16, List.of("s0", "s1"));
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(a.withEpoch(2));
        assertThat(a).isNotEqualTo(a.withOwner(1, List.of(0), "s1"));
        assertThat(a).isNotEqualTo(a.withSplitKey(1, new SplitKey("likes", "42", 4)));
    }

    @Test
    void splitKeysAreFoundByTableAndNormalisedKey() {
        SlotMap map = SlotMap.initial(16, List.of("s0")).withSplitKey(2, new SplitKey("Likes", "42", 4));
        assertThat(map.splitKey("likes", "42")).hasValueSatisfying(k -> assertThat(k.k()).isEqualTo(4));
        assertThat(map.splitKey("likes", "43")).isEmpty();
    }

    @Test
    void explicitRangesMustCoverEverySlotOnce() {
        assertThatThrownBy(() -> SlotMap.of(1, 4, List.of(new SlotRange(0, 2, "s0")), Map.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slot 3 has no owner");
        assertThatThrownBy(() -> SlotMap.of(1, 4, List.of(new SlotRange(0, 3, "s0"), new SlotRange(3, 3, "s1")), Map.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slot 3 is assigned twice");
    }

    @Test
    void aMovingSlotMustBeOwnedByItsAuthoritativeShard() {
        assertThatThrownBy(() -> SlotMap.of(1, 4, List.of(new SlotRange(0, 3, "s0")),
                Map.of(1, new MovingSlot("m1", MigrationPhase.CLEANUP, "s0", "s1")), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slot 1 is owned by s0");
    }

    @Test
    void aTableShardingSeesItsHomeForSlotsAtHomeAndMovesFromItForMovingSlots() {
        SlotMap map = SlotMap.initial(16, List.of("s0", "s1", "s2", "s3")); // s0 0-3, s1 4-7, s2 8-11, s3 12-15
        TableSharding sharding = new TableSharding(List.of("invoices"), "s0", java.util.Set.of(4, 5, 6, 7, 8, 9, 10, 11), Map.of());
        SlotMap withIt = map.withTableSharding(2, sharding);
        TableSharding moving = sharding.withMoving(List.of(8, 9, 10, 11), new MovingSlot("t1", MigrationPhase.CUTOVER_PAUSE, "s0", "s2"));
        withIt = withIt.withTableSharding(3, moving);

        SlotMap view = withIt.forTableSharding(withIt.tableSharding("invoices").orElseThrow());
        assertThat(view.owner(5)).isEqualTo("s0");
        assertThat(view.owner(9)).isEqualTo("s0"); // source authoritative until the cutover ends
        assertThat(view.moving(9)).contains(new MovingSlot("t1", MigrationPhase.CUTOVER_PAUSE, "s0", "s2"));
        assertThat(view.owner(13)).isEqualTo("s3");
        assertThat(view.owner(1)).isEqualTo("s0");
        assertThat(withIt.owner(5)).isEqualTo("s1"); // other tables keep the cluster's owners
        assertThat(withIt.movingSlots()).isEmpty();

        TableSharding settled = moving.withSettled(List.of(8, 9, 10, 11), "s2").withSettled(List.of(4, 5, 6, 7), "s1");
        assertThat(settled.settled()).isTrue();
        assertThat(withIt.withTableSharding(4, settled).tableShardings()).isEmpty();
        TableSharding aborted = moving.withSettled(List.of(8, 9, 10, 11), "s0");
        assertThat(aborted.atHome()).containsExactlyInAnyOrder(4, 5, 6, 7, 8, 9, 10, 11);
    }

    @Test
    void aTableShardingMustMoveSlotsToTheirOwnerAndATableBelongsToOneSharding() {
        SlotMap map = SlotMap.initial(16, List.of("s0", "s1"));
        TableSharding wrongTarget = new TableSharding(List.of("t"), "s0", java.util.Set.of(),
                Map.of(9, new MovingSlot("t1", MigrationPhase.DUAL_WRITE, "s0", "s2")));
        assertThatThrownBy(() -> map.withTableSharding(2, wrongTarget)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slot 9 of tables [t] moves to s2");
        SlotMap one = map.withTableSharding(2, new TableSharding(List.of("a", "b"), "s0", java.util.Set.of(9), Map.of()));
        assertThatThrownBy(() -> one.withTableSharding(3, new TableSharding(List.of("b"), "s1", java.util.Set.of(1), Map.of())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("table b is in two table shardings");
    }
}

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
}

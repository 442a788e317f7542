package io.shardgate.slot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SlotFunctionTest {

    @Test
    void slotOf42IsPinned() {
        assertThat(SlotFunction.slot("42", 16384)).isEqualTo(SlotFunction.SLOT_OF_42_IN_16384).isEqualTo(15819);
    }

    @Test
    void pinnedValuesInSixteenSlotsMatchTheGoldenFixtures() {
        // the golden cluster fixtures document these placements; a change here moves every golden plan
        assertThat(SlotFunction.slot("1", 16)).isEqualTo(3);
        assertThat(SlotFunction.slot("2", 16)).isEqualTo(7);
        assertThat(SlotFunction.slot("42", 16)).isEqualTo(11);
        assertThat(SlotFunction.slot("alice", 16)).isEqualTo(14);
        assertThat(SlotFunction.slot("42", 1, 4, 16)).isEqualTo(15);
        assertThat(SlotFunction.slot("42", 3, 4, 16)).isEqualTo(7);
    }

    @Test
    void subKeyZeroIsTheHomeSlot() {
        for (String key : new String[] {"0", "42", "-1", "alice", "ünïcode"}) {
            assertThat(SlotFunction.slot(key, 0, 8, 4096)).isEqualTo(SlotFunction.slot(key, 4096));
        }
    }

    @Test
    void subKeysSitEvenlyAroundTheRingSoEveryKeyReachesEveryEvenShard() {
        for (int i = 0; i < 1000; i++) {
            String key = Integer.toString(i);
            java.util.Set<Integer> slots = new java.util.HashSet<>();
            java.util.Set<Integer> quarters = new java.util.HashSet<>();
            for (int sub = 0; sub < 8; sub++) {
                int slot = SlotFunction.slot(key, sub, 8, 4096);
                slots.add(slot);
                quarters.add(slot / 1024);
            }
            assertThat(slots).as("distinct sub-key slots of %s", key).hasSize(8);
            assertThat(quarters).as("shards of 1024 slots reached by %s", key).hasSize(4);
        }
        // k that does not divide SLOTS still spreads: 3 sub-keys of 16 slots are 5 apart (rounded down)
        assertThat(SlotFunction.slot("42", 1, 3, 16)).isEqualTo((11 + 5) % 16);
        assertThat(SlotFunction.slot("42", 2, 3, 16)).isEqualTo((11 + 10) % 16);
    }

    @Test
    void tenThousandIntegerKeysSpreadEvenlyOverSixteenSlots() {
        int[] counts = new int[16];
        for (int i = 0; i < 10_000; i++) {
            counts[SlotFunction.slot(Integer.toString(i), 16)]++;
        }
        double even = 10_000 / 16.0;
        for (int slot = 0; slot < 16; slot++) {
            assertThat((double) counts[slot]).as("keys in slot %d", slot).isBetween(even * 0.8, even * 1.2);
        }
    }

    @Test
    void badArgumentsAreRefused() {
        assertThatThrownBy(() -> SlotFunction.slot("1", 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slots");
        assertThatThrownBy(() -> SlotFunction.slot("1", -1, 4, 16)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sub-key");
        assertThatThrownBy(() -> SlotFunction.slot("1", 4, 4, 16)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sub-key");
        assertThatThrownBy(() -> SlotFunction.slot("1", 0, 0, 16)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k must");
    }
}

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
        assertThat(SlotFunction.slot("42", 1, 16)).isEqualTo(3);
    }

    @Test
    void subKeyZeroIsTheHomeSlot() {
        for (String key : new String[] {"0", "42", "-1", "alice", "ünïcode"}) {
            assertThat(SlotFunction.slot(key, 0, 4096)).isEqualTo(SlotFunction.slot(key, 4096));
        }
    }

    @Test
    void subKeysDifferFromTheHomeSlotForMostKeys() {
        int differing = 0;
        for (int i = 0; i < 100; i++) {
            String key = Integer.toString(i);
            if (SlotFunction.slot(key, 1, 16384) != SlotFunction.slot(key, 16384)) {
                differing++;
            }
        }
        assertThat(differing).isGreaterThan(95);
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
        assertThatThrownBy(() -> SlotFunction.slot("1", -1, 16)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sub-key");
    }
}

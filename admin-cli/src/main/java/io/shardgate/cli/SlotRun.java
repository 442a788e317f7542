package io.shardgate.cli;

import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Contiguous slots with one owner and one move state (not moving, or moving in the same migration
 * and phase): the unit {@code shardgate slots} prints.
 *
 * @param from   first slot
 * @param to     last slot (inclusive)
 * @param shard  authoritative shard
 * @param moving the move these slots are in, if any
 */
record SlotRun(int from, int to, String shard, Optional<MovingSlot> moving) {
    SlotRun {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(moving, "moving");
    }

    static List<SlotRun> of(SlotMap map) {
        List<SlotRun> runs = new ArrayList<>();
        int start = 0;
        for (int s = 1; s <= map.slotCount(); s++) {
            if (s == map.slotCount() || !map.owner(s).equals(map.owner(start)) || !map.moving(s).equals(map.moving(start))) {
                runs.add(new SlotRun(start, s - 1, map.owner(start), map.moving(start)));
                start = s;
            }
        }
        return runs;
    }

    int size() {
        return to - from + 1;
    }

    /** "0-2047", or "17" for one slot. */
    String range() {
        return format(from, to);
    }

    static String format(int from, int to) {
        return from == to ? Integer.toString(from) : from + "-" + to;
    }
}

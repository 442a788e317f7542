package io.shardgate.proxy.core;

import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.TableSharding;
import java.util.Map;

/**
 * Which slot-map changes start a cleanup: a move whose phase becomes {@link MigrationPhase#CLEANUP} (the migrator then
 * deletes the moved rows from the source) or {@link MigrationPhase#ABORT_CLEANUP} (it deletes the target's copies), in
 * the slot map itself or in a table sharding. Before acknowledging such an epoch the proxy waits for the client
 * transactions that hold dual-write copies (see {@link SnapshotGate}).
 */
final class CleanupStart {
    private CleanupStart() {}

    /** Whether {@code next} has a move in a cleanup phase that {@code previous} does not have in that phase. */
    static boolean between(SlotMap previous, SlotMap next) {
        if (starts(previous.movingSlots(), next.movingSlots())) {
            return true;
        }
        for (TableSharding sharding : next.tableShardings().values()) {
            TableSharding before = previous.tableShardings().get(sharding.id());
            if (starts(before == null ? Map.of() : before.moving(), sharding.moving())) {
                return true;
            }
        }
        return false;
    }

    private static boolean starts(Map<Integer, MovingSlot> previous, Map<Integer, MovingSlot> next) {
        for (var e : next.entrySet()) {
            if (deletesCopies(e.getValue().phase()) && !e.getValue().equals(previous.get(e.getKey()))) {
                return true;
            }
        }
        return false;
    }

    private static boolean deletesCopies(MigrationPhase phase) {
        return switch (phase) {
            case CLEANUP, ABORT_CLEANUP -> true;
            case DUAL_WRITE, BACKFILL, VERIFY, CUTOVER_PAUSE, REVERSE_DUAL_WRITE -> false;
        };
    }
}

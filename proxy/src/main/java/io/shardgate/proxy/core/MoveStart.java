package io.shardgate.proxy.core;

import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.TableSharding;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which slot-map changes start moving slots: a slot that is moving in a phase where the source owns it and writes are
 * copied ({@link MigrationPhase#DUAL_WRITE}, or BACKFILL or VERIFY for a proxy that did not see the first epoch) and that
 * was not moving in that migration before, in the slot map itself or in a table sharding. Writes made with an older
 * snapshot ran on the source without copies, and the migrator's backfill and verify read each chunk without locks first,
 * so they cannot see a row such a write inserted while its transaction is open. Before acknowledging such an epoch the
 * proxy therefore waits for the client transactions that wrote rows on a source of the new moves with an older snapshot
 * (see {@link SnapshotGate}).
 */
final class MoveStart {
    private MoveStart() {}

    /** The source shards of the moves that {@code next} starts and {@code previous} does not show; empty when none. */
    static Set<String> sources(SlotMap previous, SlotMap next) {
        Set<String> sources = new TreeSet<>();
        starts(previous.movingSlots(), next.movingSlots(), sources);
        for (TableSharding sharding : next.tableShardings().values()) {
            TableSharding before = previous.tableShardings().get(sharding.id());
            starts(before == null ? Map.of() : before.moving(), sharding.moving(), sources);
        }
        return sources;
    }

    private static void starts(Map<Integer, MovingSlot> previous, Map<Integer, MovingSlot> next, Set<String> sources) {
        for (var e : next.entrySet()) {
            MovingSlot move = e.getValue();
            MovingSlot before = previous.get(e.getKey());
            if (copiesToTheTarget(move.phase()) && (before == null || !before.migrationId().equals(move.migrationId()))) {
                sources.add(move.source());
            }
        }
    }

    private static boolean copiesToTheTarget(MigrationPhase phase) {
        return switch (phase) {
            case DUAL_WRITE, BACKFILL, VERIFY -> true;
            case CUTOVER_PAUSE, REVERSE_DUAL_WRITE, CLEANUP, ABORT_CLEANUP -> false;
        };
    }
}

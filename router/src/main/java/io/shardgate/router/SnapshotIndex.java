package io.shardgate.router;

import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Facts about a snapshot that scatter statements need and that would cost a pass over every slot per
 * statement: computed once per snapshot.
 */
final class SnapshotIndex {
    /** Slots of one migration in one phase, with the shard that is authoritative for them. */
    record Move(MovingSlot move, List<Integer> slots) {
        Move {
            slots = List.copyOf(slots);
        }
    }

    final RoutingSnapshot snapshot;
    /** Shards that own at least one slot, in the cluster's shard order. */
    final List<String> owners;
    final Map<String, Integer> shardOrder;
    /** Slots whose writes are paused for cutover, in order. */
    final List<Integer> pausedSlots;
    final List<Move> dualWriteMoves;
    final Set<String> tablesWithSplitKeys;

    SnapshotIndex(RoutingSnapshot snapshot) {
        this.snapshot = snapshot;
        SlotMap map = snapshot.slotMap();
        Map<String, Integer> order = new HashMap<>();
        List<String> names = snapshot.cluster().shardNames();
        for (int i = 0; i < names.size(); i++) {
            order.put(names.get(i), i);
        }
        this.shardOrder = Map.copyOf(order);
        this.owners = map.slotCounts().keySet().stream()
                .sorted((a, b) -> Integer.compare(order.getOrDefault(a, Integer.MAX_VALUE), order.getOrDefault(b, Integer.MAX_VALUE)))
                .toList();
        List<Integer> paused = new ArrayList<>();
        Map<MovingSlot, List<Integer>> moves = new LinkedHashMap<>();
        map.movingSlots().forEach((slot, move) -> {
            if (move.phase() == MigrationPhase.CUTOVER_PAUSE) {
                paused.add(slot);
            } else if (move.phase().dualWrites()) {
                moves.computeIfAbsent(move, m -> new ArrayList<>()).add(slot);
            }
        });
        this.pausedSlots = List.copyOf(paused);
        this.dualWriteMoves = moves.entrySet().stream().map(e -> new Move(e.getKey(), e.getValue())).toList();
        this.tablesWithSplitKeys = map.splitKeys().stream().map(SplitKey::table).collect(Collectors.toUnmodifiableSet());
    }

    int order(String shard) {
        return shardOrder.getOrDefault(shard, Integer.MAX_VALUE);
    }
}

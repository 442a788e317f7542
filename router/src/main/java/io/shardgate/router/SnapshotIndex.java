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
    /** The slot map statements route with: the snapshot's, or the view of the tables of one table sharding. */
    final SlotMap slotMap;
    /** For each table being sharded in place, the index of its table sharding's view (empty in a view's index). */
    final Map<String, SnapshotIndex> byShardingTable;
    /** Shards that own at least one slot, in the cluster's shard order. */
    final List<String> owners;
    final Map<String, Integer> shardOrder;
    /** Slots whose writes are paused for cutover, in order. */
    final List<Integer> pausedSlots;
    final List<Move> dualWriteMoves;
    final Set<String> tablesWithSplitKeys;
    /** Split keys being split or merged (see {@link SplitKey.State#holds()}), by table, in key order. */
    final Map<String, List<SplitKey>> heldKeysByTable;
    /** For each shard holding copies of moving slots it does not own (their shadow), those slots as ranges. */
    final Map<String, List<int[]>> shadowRanges;

    SnapshotIndex(RoutingSnapshot snapshot) {
        this(snapshot, snapshot.slotMap());
    }

    private SnapshotIndex(RoutingSnapshot snapshot, SlotMap map) {
        this.snapshot = snapshot;
        this.slotMap = map;
        Map<String, SnapshotIndex> views = new HashMap<>();
        if (map == snapshot.slotMap()) {
            for (var sharding : map.tableShardings().values()) {
                SnapshotIndex view = new SnapshotIndex(snapshot, map.forTableSharding(sharding));
                sharding.tables().forEach(t -> views.put(t, view));
            }
        }
        this.byShardingTable = Map.copyOf(views);
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
        Map<String, List<int[]>> shadows = new HashMap<>();
        map.movingSlots().forEach((slot, move) -> {
            List<int[]> ranges = shadows.computeIfAbsent(move.shadow(), s -> new ArrayList<>());
            int[] last = ranges.isEmpty() ? null : ranges.getLast();
            if (last != null && last[1] == slot - 1) {
                last[1] = slot;
            } else {
                ranges.add(new int[] {slot, slot});
            }
        });
        this.shadowRanges = Map.copyOf(shadows);
        this.tablesWithSplitKeys = map.splitKeys().stream().map(SplitKey::table).collect(Collectors.toUnmodifiableSet());
        this.heldKeysByTable = map.splitKeys().stream().filter(k -> k.state().holds())
                .collect(Collectors.groupingBy(SplitKey::table, Collectors.toUnmodifiableList()));
    }

    /**
     * The condition that keeps {@code keyExpression}'s rows out of the slots {@code shard} holds only as a
     * shadow, computed on the shard with the slot function; empty if it holds none.
     */
    java.util.Optional<String> shadowCondition(String shard, String keyExpression) {
        List<int[]> ranges = shadowRanges.get(shard);
        if (ranges == null) {
            return java.util.Optional.empty();
        }
        // MariaDB's CRC32C of an integer hashes its decimal text, of a string its bytes; PostgreSQL's shards get the
        // same function installed by the migrator before any slot moves
        boolean postgres = snapshot.cluster().dialect() == io.shardgate.cluster.Dialect.POSTGRES;
        String slot = postgres ? io.shardgate.slot.SlotFunction.postgresSlotExpression(keyExpression, slotMap.slotCount())
                : "CRC32C(" + keyExpression + ") % " + slotMap.slotCount();
        StringBuilder out = new StringBuilder("NOT (");
        for (int i = 0; i < ranges.size(); i++) {
            int[] r = ranges.get(i);
            out.append(i == 0 ? "" : " OR ").append(slot)
                    .append(r[0] == r[1] ? " = " + r[0] : " BETWEEN " + r[0] + " AND " + r[1]);
        }
        return java.util.Optional.of(out.append(')').toString());
    }

    int order(String shard) {
        return shardOrder.getOrDefault(shard, Integer.MAX_VALUE);
    }
}

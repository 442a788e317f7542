package io.shardgate.slot;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Tables that were single on {@code home} and are being sharded in place ({@code shardgate table shard}):
 * the slot map's owners are already the owners for every other sharded table, but these tables' rows are
 * still on {@code home} for the slots in {@link #atHome()} and are moving for the slots in {@link #moving()}.
 * Routing these tables uses {@link SlotMap#forTableSharding(TableSharding)}, the slot map as these tables see
 * it: each slot at home belongs to {@code home}, each moving slot is moving from {@code home} to its owner, and
 * the other slots are settled with their owner. When no slot is at home or moving any more, the tables are
 * sharded like any other and the entry is removed.
 *
 * @param tables the co-located tables sharded together, lower-case, sorted; the first one names the entry
 * @param home   the shard that held them as single tables
 * @param atHome slots whose rows of these tables are still only on {@code home} (and not moving)
 * @param moving slots whose rows of these tables are moving from {@code home} to the slot's owner
 */
public record TableSharding(List<String> tables, String home, Set<Integer> atHome, Map<Integer, MovingSlot> moving) {
    public TableSharding {
        Objects.requireNonNull(home, "home");
        if (tables.isEmpty()) {
            throw new IllegalArgumentException("a table sharding names at least one table");
        }
        tables = List.copyOf(new TreeSet<>(tables));
        atHome = java.util.Collections.unmodifiableSet(new TreeSet<>(atHome));
        moving = java.util.Collections.unmodifiableMap(new TreeMap<>(moving));
        for (var e : moving.entrySet()) {
            if (atHome.contains(e.getKey())) {
                throw new IllegalArgumentException("slot " + e.getKey() + " of tables " + tables + " is both at home and moving");
            }
            MovingSlot m = e.getValue();
            if (!m.source().equals(home)) {
                throw new IllegalArgumentException("slot " + e.getKey() + " of tables " + tables + " moves from " + m.source()
                        + ", not from their home " + home);
            }
        }
    }

    /** The name of the entry: its first table. */
    public String id() {
        return tables.getFirst();
    }

    public boolean covers(String table) {
        return tables.contains(table);
    }

    /** Whether every slot has reached its owner: the tables are sharded like any other. */
    public boolean settled() {
        return atHome.isEmpty() && moving.isEmpty();
    }

    /** A copy with {@code slots} moving in {@code move} (out of the home set). */
    public TableSharding withMoving(Iterable<Integer> slots, MovingSlot move) {
        Set<Integer> home2 = new TreeSet<>(atHome);
        Map<Integer, MovingSlot> moving2 = new TreeMap<>(moving);
        for (int s : slots) {
            home2.remove(s);
            moving2.put(s, move);
        }
        return new TableSharding(tables, home, home2, moving2);
    }

    /**
     * A copy where {@code slots} no longer move: back at home when {@code shard} is the home shard (an abort or
     * a rollback), else settled with their owner.
     */
    public TableSharding withSettled(Iterable<Integer> slots, String shard) {
        Set<Integer> home2 = new TreeSet<>(atHome);
        Map<Integer, MovingSlot> moving2 = new TreeMap<>(moving);
        for (int s : slots) {
            moving2.remove(s);
            if (shard.equals(home)) {
                home2.add(s);
            } else {
                home2.remove(s);
            }
        }
        return new TableSharding(tables, home, home2, moving2);
    }
}

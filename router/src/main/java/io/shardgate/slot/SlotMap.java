package io.shardgate.slot;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The versioned assignment of every slot to a shard, with the slots that are moving and the keys
 * that are split. Immutable: every change makes a new map with a higher {@link #epoch()}, published
 * through the cluster store by compare-and-set.
 */
public final class SlotMap {
    private final long epoch;
    private final String[] owners;
    private final Map<Integer, MovingSlot> moving;
    private final Map<SplitKey.Id, SplitKey> splitKeys;
    private final Map<String, TableSharding> tableShardings;
    /** {@link #forTableSharding} results, computed on first use (the map is immutable, so they never change). */
    private final Map<String, SlotMap> tableViews = new java.util.concurrent.ConcurrentHashMap<>();

    private SlotMap(long epoch, String[] owners, Map<Integer, MovingSlot> moving, Map<SplitKey.Id, SplitKey> splitKeys) {
        this(epoch, owners, moving, splitKeys, Map.of());
    }

    private SlotMap(long epoch, String[] owners, Map<Integer, MovingSlot> moving, Map<SplitKey.Id, SplitKey> splitKeys,
            Map<String, TableSharding> tableShardings) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, was " + epoch);
        }
        this.epoch = epoch;
        this.owners = owners;
        this.moving = Collections.unmodifiableMap(new TreeMap<>(moving));
        this.splitKeys = Map.copyOf(splitKeys);
        this.tableShardings = Collections.unmodifiableMap(new TreeMap<>(tableShardings));
        java.util.Set<String> sharding = new java.util.HashSet<>();
        for (TableSharding t : this.tableShardings.values()) {
            for (String table : t.tables()) {
                if (!sharding.add(table)) {
                    throw new IllegalArgumentException("table " + table + " is in two table shardings");
                }
            }
            for (int slot : t.atHome()) {
                if (slot < 0 || slot >= owners.length) {
                    throw new IllegalArgumentException("slot " + slot + " of tables " + t.tables() + " is outside 0.." + (owners.length - 1));
                }
            }
            t.moving().forEach((slot, m) -> {
                if (slot < 0 || slot >= owners.length || !owners[slot].equals(m.target())) {
                    throw new IllegalArgumentException("slot " + slot + " of tables " + t.tables() + " moves to " + m.target()
                            + ", which does not own it");
                }
            });
        }
        for (var e : this.moving.entrySet()) {
            int slot = e.getKey();
            if (slot < 0 || slot >= owners.length) {
                throw new IllegalArgumentException("moving slot " + slot + " is outside 0.." + (owners.length - 1));
            }
            MovingSlot m = e.getValue();
            if (!owners[slot].equals(m.authoritative())) {
                throw new IllegalArgumentException("slot " + slot + " is owned by " + owners[slot]
                        + " but its move in phase " + m.phase() + " makes " + m.authoritative() + " authoritative");
            }
        }
    }

    /** Slots {@code 0..slots-1} spread over {@code shards} in contiguous, near-equal ranges, epoch 1. */
    public static SlotMap initial(int slots, List<String> shards) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("a slot map needs at least one shard");
        }
        String[] owners = new String[slots];
        int n = shards.size();
        for (int i = 0; i < n; i++) {
            int from = (int) ((long) slots * i / n);
            int to = (int) ((long) slots * (i + 1) / n);
            Arrays.fill(owners, from, to, shards.get(i));
        }
        return new SlotMap(1, owners, Map.of(), Map.of());
    }

    /** A map from explicit ranges, which must cover {@code 0..slots-1} exactly once. */
    public static SlotMap of(long epoch, int slots, List<SlotRange> ranges, Map<Integer, MovingSlot> moving,
            List<SplitKey> splitKeys) {
        return of(epoch, slots, ranges, moving, splitKeys, List.of());
    }

    /** As {@link #of(long, int, List, Map, List)}, with tables being sharded in place. */
    public static SlotMap of(long epoch, int slots, List<SlotRange> ranges, Map<Integer, MovingSlot> moving,
            List<SplitKey> splitKeys, List<TableSharding> tableShardings) {
        String[] owners = new String[slots];
        for (SlotRange r : ranges) {
            if (r.to() >= slots) {
                throw new IllegalArgumentException("range " + r + " goes past the last slot " + (slots - 1));
            }
            for (int s = r.from(); s <= r.to(); s++) {
                if (owners[s] != null) {
                    throw new IllegalArgumentException("slot " + s + " is assigned twice (" + owners[s] + ", " + r.shard() + ")");
                }
                owners[s] = r.shard().intern();
            }
        }
        for (int s = 0; s < slots; s++) {
            if (owners[s] == null) {
                throw new IllegalArgumentException("slot " + s + " has no owner");
            }
        }
        Map<SplitKey.Id, SplitKey> splits = splitKeys.stream()
                .collect(Collectors.toMap(SplitKey::id, k -> k, (a, b) -> {
                    throw new IllegalArgumentException("key " + a.key() + " of " + a.table() + " is split twice");
                }));
        Map<String, TableSharding> shardings = new TreeMap<>();
        for (TableSharding t : tableShardings) {
            if (shardings.put(t.id(), t) != null) {
                throw new IllegalArgumentException("table sharding " + t.id() + " is listed twice");
            }
        }
        return new SlotMap(epoch, owners, moving, splits, shardings);
    }

    public long epoch() {
        return epoch;
    }

    public int slotCount() {
        return owners.length;
    }

    /** The authoritative shard of a slot (the source of a moving slot until cutover, then the target). */
    public String owner(int slot) {
        return owners[slot];
    }

    public Optional<MovingSlot> moving(int slot) {
        return Optional.ofNullable(moving.get(slot));
    }

    /** Moving slots by slot number, in order. */
    public Map<Integer, MovingSlot> movingSlots() {
        return moving;
    }

    public Optional<SplitKey> splitKey(String table, String normalizedKey) {
        return Optional.ofNullable(splitKeys.get(new SplitKey.Id(table, normalizedKey)));
    }

    /**
     * The distinct owners of a split key's sub-key slots, in sub-key order: home first. A counter key
     * has one sub-row on each; an append key's rows are spread over them.
     */
    public List<String> shardsOf(SplitKey key) {
        return key.slots(slotCount()).stream().map(this::owner).distinct().toList();
    }

    public List<SplitKey> splitKeys() {
        return splitKeys.values().stream()
                .sorted((a, b) -> a.table().equals(b.table()) ? a.key().compareTo(b.key()) : a.table().compareTo(b.table()))
                .toList();
    }

    /** Contiguous runs of slots with one owner, in slot order. */
    public List<SlotRange> ranges() {
        List<SlotRange> out = new ArrayList<>();
        int start = 0;
        for (int s = 1; s <= owners.length; s++) {
            if (s == owners.length || !owners[s].equals(owners[start])) {
                out.add(new SlotRange(start, s - 1, owners[start]));
                start = s;
            }
        }
        return out;
    }

    /** Number of slots each shard owns, for every shard that owns at least one. */
    public Map<String, Integer> slotCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        for (String o : owners) {
            counts.merge(o, 1, Integer::sum);
        }
        return counts;
    }

    /** A copy with a new epoch; the caller publishes it by compare-and-set. */
    public SlotMap withEpoch(long newEpoch) {
        return new SlotMap(newEpoch, owners, moving, splitKeys, tableShardings);
    }

    /** A copy with the given slots reassigned to {@code shard} and no longer moving. */
    public SlotMap withOwner(long newEpoch, Iterable<Integer> slots, String shard) {
        String[] copy = owners.clone();
        var mv = new TreeMap<>(moving);
        String interned = shard.intern();
        for (int s : slots) {
            copy[s] = interned;
            mv.remove(s);
        }
        return new SlotMap(newEpoch, copy, mv, splitKeys, tableShardings);
    }

    /**
     * A copy with the given slots moving in a phase; the owner follows the phase (source before
     * cutover, target after). A null {@code move} ends the move without changing the owner.
     */
    public SlotMap withMoving(long newEpoch, Iterable<Integer> slots, MovingSlot move) {
        String[] copy = owners.clone();
        var mv = new TreeMap<>(moving);
        for (int s : slots) {
            if (move == null) {
                mv.remove(s);
            } else {
                mv.put(s, move);
                copy[s] = move.authoritative().intern();
            }
        }
        return new SlotMap(newEpoch, copy, mv, splitKeys, tableShardings);
    }

    public SlotMap withSplitKey(long newEpoch, SplitKey key) {
        var splits = new java.util.HashMap<>(splitKeys);
        splits.put(key.id(), key);
        return new SlotMap(newEpoch, owners, moving, splits, tableShardings);
    }

    public SlotMap withoutSplitKey(long newEpoch, SplitKey.Id id) {
        var splits = new java.util.HashMap<>(splitKeys);
        splits.remove(id);
        return new SlotMap(newEpoch, owners, moving, splits, tableShardings);
    }

    /** Tables being sharded in place, by {@link TableSharding#id()}. */
    public Map<String, TableSharding> tableShardings() {
        return tableShardings;
    }

    /** The table sharding that covers {@code table}, if it is being sharded in place. */
    public Optional<TableSharding> tableSharding(String table) {
        if (tableShardings.isEmpty()) {
            return Optional.empty();
        }
        return tableShardings.values().stream().filter(t -> t.covers(table)).findFirst();
    }

    /**
     * The slot map as the tables of {@code sharding} see it (same epoch): slots at home belong to its home shard,
     * its moving slots move from home to their owner (source authoritative until the cutover, as for any move),
     * other slots keep their owner. Split keys are kept; the view itself has no table shardings.
     */
    public SlotMap forTableSharding(TableSharding sharding) {
        if (!sharding.equals(tableShardings.get(sharding.id()))) {
            throw new IllegalArgumentException("table sharding " + sharding.id() + " is not the one in this map");
        }
        return tableViews.computeIfAbsent(sharding.id(), id -> {
            String[] copy = owners.clone();
            String home = sharding.home().intern();
            for (int s : sharding.atHome()) {
                copy[s] = home;
            }
            sharding.moving().forEach((s, m) -> copy[s] = m.authoritative().intern());
            return new SlotMap(epoch, copy, sharding.moving(), splitKeys);
        });
    }

    /** A copy with {@code sharding} added or replaced; a settled one is removed instead. */
    public SlotMap withTableSharding(long newEpoch, TableSharding sharding) {
        var shardings = new TreeMap<>(tableShardings);
        if (sharding.settled()) {
            shardings.remove(sharding.id());
        } else {
            shardings.put(sharding.id(), sharding);
        }
        return new SlotMap(newEpoch, owners, moving, splitKeys, shardings);
    }

    public SlotMap withoutTableSharding(long newEpoch, String id) {
        var shardings = new TreeMap<>(tableShardings);
        shardings.remove(id);
        return new SlotMap(newEpoch, owners, moving, splitKeys, shardings);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlotMap other
                && epoch == other.epoch
                && Arrays.equals(owners, other.owners)
                && moving.equals(other.moving)
                && splitKeys.equals(other.splitKeys)
                && tableShardings.equals(other.tableShardings);
    }

    @Override
    public int hashCode() {
        return Objects.hash(epoch, Arrays.hashCode(owners), moving, splitKeys, tableShardings);
    }

    @Override
    public String toString() {
        return "SlotMap[epoch=" + epoch + ", slots=" + owners.length + ", ranges=" + ranges()
                + ", moving=" + moving.size() + ", split=" + splitKeys.size()
                + (tableShardings.isEmpty() ? "" : ", tableShardings=" + tableShardings.keySet()) + "]";
    }
}

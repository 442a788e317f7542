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

    private SlotMap(long epoch, String[] owners, Map<Integer, MovingSlot> moving, Map<SplitKey.Id, SplitKey> splitKeys) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be >= 0, was " + epoch);
        }
        this.epoch = epoch;
        this.owners = owners;
        this.moving = Collections.unmodifiableMap(new TreeMap<>(moving));
        this.splitKeys = Map.copyOf(splitKeys);
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
        return new SlotMap(epoch, owners, moving, splits);
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
        return new SlotMap(newEpoch, owners, moving, splitKeys);
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
        return new SlotMap(newEpoch, copy, mv, splitKeys);
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
        return new SlotMap(newEpoch, copy, mv, splitKeys);
    }

    public SlotMap withSplitKey(long newEpoch, SplitKey key) {
        var splits = new java.util.HashMap<>(splitKeys);
        splits.put(key.id(), key);
        return new SlotMap(newEpoch, owners, moving, splits);
    }

    public SlotMap withoutSplitKey(long newEpoch, SplitKey.Id id) {
        var splits = new java.util.HashMap<>(splitKeys);
        splits.remove(id);
        return new SlotMap(newEpoch, owners, moving, splits);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SlotMap other
                && epoch == other.epoch
                && Arrays.equals(owners, other.owners)
                && moving.equals(other.moving)
                && splitKeys.equals(other.splitKeys);
    }

    @Override
    public int hashCode() {
        return Objects.hash(epoch, Arrays.hashCode(owners), moving, splitKeys);
    }

    @Override
    public String toString() {
        return "SlotMap[epoch=" + epoch + ", slots=" + owners.length + ", ranges=" + ranges()
                + ", moving=" + moving.size() + ", split=" + splitKeys.size() + "]";
    }
}

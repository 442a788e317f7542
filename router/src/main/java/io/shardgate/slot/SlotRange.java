package io.shardgate.slot;

/** Slots {@code from..to} (both inclusive) owned by {@code shard}. */
public record SlotRange(int from, int to, String shard) {
    public SlotRange {
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("bad slot range " + from + "-" + to);
        }
    }

    public int size() {
        return to - from + 1;
    }

    @Override
    public String toString() {
        return (from == to ? Integer.toString(from) : from + "-" + to) + "=" + shard;
    }
}

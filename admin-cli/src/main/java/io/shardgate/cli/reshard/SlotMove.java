package io.shardgate.cli.reshard;

import java.util.Objects;

/**
 * Slots {@code from..to} (both inclusive, all owned by {@code source}) that a plan moves to {@code target}.
 *
 * @param from   first slot
 * @param to     last slot (inclusive)
 * @param source shard that owns every slot of the range now
 * @param target shard that will own them
 */
public record SlotMove(int from, int to, String source, String target) {
    public SlotMove {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("bad slot range " + from + "-" + to);
        }
        if (source.equals(target)) {
            throw new IllegalArgumentException("slots " + from + "-" + to + " would move from " + source + " to itself");
        }
    }

    public int size() {
        return to - from + 1;
    }

    /** "1366-2047", or "17" for one slot. */
    public String range() {
        return from == to ? Integer.toString(from) : from + "-" + to;
    }
}

package io.shardgate.cli.reshard;

import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Pure slot-move planning over a {@link SlotMap}: no I/O, deterministic for equal inputs. Every
 * refusal is an {@link IllegalArgumentException} whose message is one line for the user.
 */
public final class RebalancePlanner {

    private RebalancePlanner() {}

    /**
     * Moves that leave the slots spread as evenly as possible over {@code shards} (spares included),
     * moving the fewest slots. Each shard's target is {@code slots / n}; the {@code slots % n} extra
     * slots go to the shards that own the most now (ties: order of {@code shards}), so no slot moves
     * only to even out a remainder. A shard above its target gives up the slots at the end of its
     * ranges (highest slots first); shards below target take them in the order of {@code shards},
     * as contiguous ranges where the donated slots are contiguous.
     *
     * @throws IllegalArgumentException if slots are moving already, or a slot's owner is not in {@code shards}
     */
    public static List<SlotMove> rebalance(SlotMap map, List<String> shards) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("no shards to spread the slots over");
        }
        if (!map.movingSlots().isEmpty()) {
            throw new IllegalArgumentException(map.movingSlots().size() + " slots are moving already ("
                    + describeMoving(map) + "); plan a rebalance after that migration ends");
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        shards.forEach(s -> counts.put(s, map.slotCounts().getOrDefault(s, 0)));
        map.slotCounts().keySet().stream().filter(s -> !counts.containsKey(s)).findFirst().ifPresent(s -> {
            throw new IllegalArgumentException("slots are owned by shard '" + s + "', which is not one of " + String.join(", ", shards));
        });
        Map<String, Integer> targets = targets(map.slotCount(), counts, shards);

        // donated slots in ascending order, grouped by donor in the order of shards
        List<int[]> donated = new ArrayList<>(); // {slot, donor index}
        for (int d = 0; d < shards.size(); d++) {
            String donor = shards.get(d);
            int surplus = counts.get(donor) - targets.get(donor);
            List<Integer> taken = new ArrayList<>();
            for (int slot = map.slotCount() - 1; slot >= 0 && taken.size() < surplus; slot--) {
                if (map.owner(slot).equals(donor)) {
                    taken.add(slot);
                }
            }
            for (int i = taken.size() - 1; i >= 0; i--) {
                donated.add(new int[] {taken.get(i), d});
            }
        }
        List<String> receivers = new ArrayList<>();
        List<Integer> deficits = new ArrayList<>();
        for (String s : shards) {
            int deficit = targets.get(s) - counts.get(s);
            if (deficit > 0) {
                receivers.add(s);
                deficits.add(deficit);
            }
        }

        List<SlotMove> moves = new ArrayList<>();
        int r = 0;
        int given = 0;
        int start = -1;
        int prev = -1;
        String source = null;
        for (int[] slotAndDonor : donated) {
            int slot = slotAndDonor[0];
            String donor = shards.get(slotAndDonor[1]);
            if (given == deficits.get(r)) {
                moves.add(new SlotMove(start, prev, source, receivers.get(r)));
                start = -1;
                r++;
                given = 0;
            }
            if (start >= 0 && (slot != prev + 1 || !donor.equals(source))) {
                moves.add(new SlotMove(start, prev, source, receivers.get(r)));
                start = -1;
            }
            if (start < 0) {
                start = slot;
                source = donor;
            }
            prev = slot;
            given++;
        }
        if (start >= 0) {
            moves.add(new SlotMove(start, prev, source, receivers.get(r)));
        }
        return List.copyOf(moves);
    }

    private static Map<String, Integer> targets(int slots, Map<String, Integer> counts, List<String> shards) {
        int n = shards.size();
        List<String> byCount = shards.stream()
                .sorted(Comparator.comparingInt((String s) -> counts.get(s)).reversed().thenComparingInt(shards::indexOf))
                .toList();
        Map<String, Integer> targets = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            targets.put(byCount.get(i), slots / n + (i < slots % n ? 1 : 0));
        }
        return targets;
    }

    /**
     * Moves of slots {@code from..to} to {@code target}, one per contiguous run of one source owner.
     *
     * @throws IllegalArgumentException if the range is outside the map, {@code target} is not in
     *         {@code shards}, or any of the slots is on {@code target} already or moving
     */
    public static List<SlotMove> moveRange(SlotMap map, List<String> shards, int from, int to, String target) {
        int last = map.slotCount() - 1;
        if (from < 0 || to > last || from > to) {
            throw new IllegalArgumentException("slots " + from + "-" + to + " are not a range within 0-" + last);
        }
        if (!shards.contains(target)) {
            throw new IllegalArgumentException("unknown shard '" + target + "'; the shards are " + String.join(", ", shards));
        }
        List<Integer> onTarget = IntStream.rangeClosed(from, to).filter(s -> map.owner(s).equals(target)).boxed().toList();
        if (!onTarget.isEmpty()) {
            throw new IllegalArgumentException("slots " + runs(onTarget) + " are on " + target + " already");
        }
        List<Integer> moving = IntStream.rangeClosed(from, to).filter(s -> map.moving(s).isPresent()).boxed().toList();
        if (!moving.isEmpty()) {
            MovingSlot m = map.moving(moving.getFirst()).orElseThrow();
            throw new IllegalArgumentException("slots " + runs(moving) + " are moving already (migration " + m.migrationId()
                    + ", " + m.source() + " -> " + m.target() + ")");
        }
        List<SlotMove> moves = new ArrayList<>();
        int start = from;
        for (int s = from + 1; s <= to + 1; s++) {
            if (s == to + 1 || !map.owner(s).equals(map.owner(start))) {
                moves.add(new SlotMove(start, s - 1, map.owner(start), target));
                start = s;
            }
        }
        return List.copyOf(moves);
    }

    private static String describeMoving(SlotMap map) {
        MovingSlot m = map.movingSlots().values().iterator().next();
        return "migration " + m.migrationId() + ", " + m.source() + " -> " + m.target();
    }

    /** "3-5,9" for [3, 4, 5, 9]; at most a few runs, then "...". */
    static String runs(List<Integer> slots) {
        return runs(slots, 5);
    }

    /** "3-5,9" for [3, 4, 5, 9] (ascending slots); after {@code maxRuns} runs, "...". */
    static String runs(List<Integer> slots, int maxRuns) {
        if (slots.isEmpty()) {
            return "-";
        }
        List<String> out = new ArrayList<>();
        int start = slots.getFirst();
        int prev = start;
        for (int i = 1; i <= slots.size(); i++) {
            if (i == slots.size() || slots.get(i) != prev + 1) {
                out.add(start == prev ? Integer.toString(start) : start + "-" + prev);
                if (i < slots.size()) {
                    start = slots.get(i);
                }
            }
            if (i < slots.size()) {
                prev = slots.get(i);
            }
        }
        return out.size() > maxRuns ? String.join(",", out.subList(0, maxRuns)) + ",..." : String.join(",", out);
    }
}

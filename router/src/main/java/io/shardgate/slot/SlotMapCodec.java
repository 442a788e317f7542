package io.shardgate.slot;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The slot map's stored form: compact JSON with owner ranges and moving-slot ranges, so a 16384-slot
 * map stays a few hundred bytes however it is spread. Version 1:
 *
 * <pre>{@code
 * {"version":1,"epoch":7,"slots":4096,"hash":"crc32c-v1",
 *  "ranges":[{"from":0,"to":2047,"shard":"s0"},{"from":2048,"to":4095,"shard":"s1"}],
 *  "moving":[{"from":0,"to":99,"migration":"m1","phase":"BACKFILL","source":"s0","target":"s2"}],
 *  "splitKeys":[{"table":"likes","key":"42","k":8}],   (a split key that is not SPLIT also has "state")
 *  "tableShardings":[{"tables":["orders"],"home":"s0","atHome":[{"from":2048,"to":3071}],
 *                     "moving":[{"from":3072,"to":4095,"migration":"m2","phase":"BACKFILL","source":"s0","target":"s2"}]}]}
 * }</pre>
 * Older readers refuse a map with {@code tableShardings} (unknown properties fail), which is what a proxy that
 * cannot route such tables must do.
 */
public final class SlotMapCodec {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    private SlotMapCodec() {}

    record RangeDoc(int from, int to, String shard) {}

    record MovingDoc(int from, int to, String migration, MigrationPhase phase, String source, String target) {}

    record SplitDoc(String table, String key, int k, SplitKey.State state) {}

    record SpanDoc(int from, int to) {}

    record TableShardingDoc(List<String> tables, String home, List<SpanDoc> atHome, List<MovingDoc> moving) {}

    record Doc(int version, long epoch, int slots, String hash, List<RangeDoc> ranges, List<MovingDoc> moving,
            List<SplitDoc> splitKeys, List<TableShardingDoc> tableShardings) {}

    public static byte[] encode(SlotMap map) {
        List<RangeDoc> ranges = map.ranges().stream().map(r -> new RangeDoc(r.from(), r.to(), r.shard())).toList();
        List<MovingDoc> moving = movingDocs(map.movingSlots());
        List<SplitDoc> splits = map.splitKeys().stream().map(k -> new SplitDoc(k.table(), k.key(), k.k(), k.state() == SplitKey.State.SPLIT ? null : k.state())).toList();
        List<TableShardingDoc> shardings = map.tableShardings().isEmpty() ? null : map.tableShardings().values().stream()
                .map(t -> new TableShardingDoc(t.tables(), t.home(), spans(t.atHome()), movingDocs(t.moving()))).toList();
        try {
            return JSON.writeValueAsBytes(new Doc(1, map.epoch(), map.slotCount(), SlotFunction.NAME, ranges, moving, splits, shardings));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode slot map", e);
        }
    }

    private static List<SpanDoc> spans(java.util.Set<Integer> slots) {
        List<SpanDoc> out = new ArrayList<>();
        for (int slot : new java.util.TreeSet<>(slots)) {
            SpanDoc last = out.isEmpty() ? null : out.getLast();
            if (last != null && last.to() == slot - 1) {
                out.set(out.size() - 1, new SpanDoc(last.from(), slot));
            } else {
                out.add(new SpanDoc(slot, slot));
            }
        }
        return out;
    }

    private static List<MovingDoc> movingDocs(Map<Integer, MovingSlot> movingSlots) {
        List<MovingDoc> moving = new ArrayList<>();
        MovingDoc open = null;
        for (var e : movingSlots.entrySet()) {
            int slot = e.getKey();
            MovingSlot m = e.getValue();
            if (open != null && open.to() == slot - 1 && open.migration().equals(m.migrationId())
                    && open.phase() == m.phase() && open.source().equals(m.source()) && open.target().equals(m.target())) {
                open = new MovingDoc(open.from(), slot, open.migration(), open.phase(), open.source(), open.target());
                moving.set(moving.size() - 1, open);
            } else {
                open = new MovingDoc(slot, slot, m.migrationId(), m.phase(), m.source(), m.target());
                moving.add(open);
            }
        }
        return moving;
    }

    /** Decodes a stored map; throws {@link IllegalArgumentException} naming what is wrong. */
    public static SlotMap decode(byte[] bytes) {
        Doc doc;
        try {
            doc = JSON.readValue(bytes, Doc.class);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("slot map is not valid JSON: " + e.getMessage(), e);
        }
        if (doc.version() != 1) {
            throw new IllegalArgumentException("slot map version " + doc.version() + " is not supported (expected 1)");
        }
        if (doc.hash() != null && !SlotFunction.NAME.equals(doc.hash())) {
            throw new IllegalArgumentException("slot map uses hash " + doc.hash() + ", this build knows " + SlotFunction.NAME);
        }
        List<SlotRange> ranges = doc.ranges() == null ? List.of()
                : doc.ranges().stream().map(r -> new SlotRange(r.from(), r.to(), r.shard())).toList();
        Map<Integer, MovingSlot> moving = moving(doc.moving());
        List<SplitKey> splits = doc.splitKeys() == null ? List.of()
                : doc.splitKeys().stream().map(k -> new SplitKey(k.table(), k.key(), k.k(), k.state() == null ? SplitKey.State.SPLIT : k.state())).toList();
        List<TableSharding> shardings = new ArrayList<>();
        if (doc.tableShardings() != null) {
            for (TableShardingDoc t : doc.tableShardings()) {
                java.util.Set<Integer> atHome = new java.util.TreeSet<>();
                for (SpanDoc span : t.atHome() == null ? List.<SpanDoc>of() : t.atHome()) {
                    for (int s = span.from(); s <= span.to(); s++) {
                        atHome.add(s);
                    }
                }
                shardings.add(new TableSharding(t.tables(), t.home(), atHome, moving(t.moving())));
            }
        }
        return SlotMap.of(doc.epoch(), doc.slots(), ranges, moving, splits, shardings);
    }

    private static Map<Integer, MovingSlot> moving(List<MovingDoc> docs) {
        Map<Integer, MovingSlot> moving = new LinkedHashMap<>();
        if (docs != null) {
            for (MovingDoc m : docs) {
                MovingSlot slot = new MovingSlot(m.migration(), m.phase(), m.source(), m.target());
                for (int s = m.from(); s <= m.to(); s++) {
                    moving.put(s, slot);
                }
            }
        }
        return moving;
    }
}

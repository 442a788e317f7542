package io.shardgate.slot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class SlotMapCodecTest {

    @Test
    void roundTripKeepsRangesMovesAndSplitKeys() {
        SlotMap map = SlotMap.initial(4096, List.of("s0", "s1", "s2"))
                .withMoving(5, List.of(10, 11, 12, 13), new MovingSlot("m1", MigrationPhase.BACKFILL, "s0", "s3"))
                .withMoving(6, List.of(3000), new MovingSlot("m2", MigrationPhase.REVERSE_DUAL_WRITE, "s2", "s3"))
                .withSplitKey(7, new SplitKey("likes", "42", 8))
                .withSplitKey(8, new SplitKey("accounts", "alice", 2))
                .withSplitKey(9, new SplitKey("posts", "7", 3, SplitKey.State.MERGING));
        SlotMap decoded = SlotMapCodec.decode(SlotMapCodec.encode(map));
        assertThat(decoded).isEqualTo(map);
        assertThat(decoded.owner(3000)).isEqualTo("s3");
        assertThat(decoded.moving(12)).hasValueSatisfying(m -> assertThat(m.phase()).isEqualTo(MigrationPhase.BACKFILL));
    }

    @Test
    void contiguousMovingSlotsAreStoredAsOneRange() {
        SlotMap map = SlotMap.initial(4096, List.of("s0", "s1"))
                .withMoving(2, List.of(10, 11, 12), new MovingSlot("m1", MigrationPhase.DUAL_WRITE, "s0", "s1"));
        String json = new String(SlotMapCodec.encode(map), StandardCharsets.UTF_8);
        assertThat(json).contains("\"moving\":[{\"from\":10,\"to\":12,");
    }

    @Test
    void badJsonIsRefused() {
        assertThatThrownBy(() -> decode("{not json")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid JSON");
    }

    @Test
    void wrongVersionIsRefused() {
        assertThatThrownBy(() -> decode("{\"version\":2,\"epoch\":1,\"slots\":2,\"ranges\":[{\"from\":0,\"to\":1,\"shard\":\"s0\"}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("version 2");
    }

    @Test
    void slotAssignedTwiceIsRefused() {
        assertThatThrownBy(() -> decode("{\"version\":1,\"epoch\":1,\"slots\":2,\"ranges\":[{\"from\":0,\"to\":1,\"shard\":\"s0\"},"
                + "{\"from\":1,\"to\":1,\"shard\":\"s1\"}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slot 1 is assigned twice");
    }

    @Test
    void uncoveredSlotIsRefused() {
        assertThatThrownBy(() -> decode("{\"version\":1,\"epoch\":1,\"slots\":3,\"ranges\":[{\"from\":0,\"to\":1,\"shard\":\"s0\"}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("slot 2 has no owner");
    }

    @Test
    void unknownHashIsRefused() {
        assertThatThrownBy(() -> decode("{\"version\":1,\"epoch\":1,\"slots\":1,\"hash\":\"md5\",\"ranges\":[{\"from\":0,\"to\":0,\"shard\":\"s0\"}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("md5");
    }

    @Test
    void roundTripKeepsTableShardings() {
        SlotMap base = SlotMap.initial(16, List.of("s0", "s1", "s2"));
        TableSharding sharding = new TableSharding(List.of("orders", "order_items"), "s0", java.util.Set.of(6, 7, 8, 9),
                java.util.Map.of(11, new MovingSlot("t1", MigrationPhase.VERIFY, "s0", "s2"),
                        12, new MovingSlot("t1", MigrationPhase.VERIFY, "s0", "s2")));
        SlotMap map = base.withTableSharding(4, sharding);
        SlotMap back = SlotMapCodec.decode(SlotMapCodec.encode(map));
        assertThat(back).isEqualTo(map);
        assertThat(back.tableSharding("order_items")).contains(sharding);
        assertThat(new String(SlotMapCodec.encode(map), StandardCharsets.UTF_8))
                .contains("\"atHome\":[{\"from\":6,\"to\":9}]").contains("\"tables\":[\"order_items\",\"orders\"]");
        assertThat(new String(SlotMapCodec.encode(base), StandardCharsets.UTF_8)).doesNotContain("tableShardings");
    }

    private static SlotMap decode(String json) {
        return SlotMapCodec.decode(json.getBytes(StandardCharsets.UTF_8));
    }
}

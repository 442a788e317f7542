package io.shardgate.cli.reshard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.migrator.Migrations;
import io.shardgate.state.MigrationRecord;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class MigrationBatchTest {
    private static final Instant NOW = Instant.parse("2026-11-22T04:17:00.250Z");
    private static final BatchSettings SETTINGS = new BatchSettings(0, 1000, false);

    @Test
    void idsCountOnPastTheIdsTakenInTheSameSecond() {
        List<SlotMove> moves = List.of(new SlotMove(0, 9, "s0", "s2"), new SlotMove(20, 20, "s1", "s2"));
        List<MigrationRecord> first = MigrationBatch.create(moves, SETTINGS, NOW, List.of("m-20261122-041659-1"));
        assertThat(first).extracting(MigrationRecord::id).containsExactly("m-20261122-041700-1", "m-20261122-041700-2");
        assertThat(first.get(1).slots()).containsExactly(20);
        assertThat(first.get(1).details()).containsEntry(Migrations.BATCH, "m-20261122-041700-1").containsEntry(Migrations.ORDER, "1")
                .containsEntry(Migrations.CREATED_AT_MILLIS, Long.toString(NOW.toEpochMilli()));

        List<MigrationRecord> second = MigrationBatch.create(moves.subList(0, 1), SETTINGS, NOW,
                first.stream().map(MigrationRecord::id).toList());
        assertThat(second.getFirst().id()).isEqualTo("m-20261122-041700-3");
        assertThat(second.getFirst().details()).containsEntry(Migrations.BATCH, "m-20261122-041700-3");
    }

    @Test
    void settingsAreChecked() {
        assertThatThrownBy(() -> new BatchSettings(-1, 10, false)).hasMessageContaining("--rows-per-second");
        assertThatThrownBy(() -> new BatchSettings(0, 0, false)).hasMessageContaining("--chunk-rows must be in 1..1000000, was 0");
        assertThatThrownBy(() -> MigrationBatch.create(List.of(), SETTINGS, NOW, List.of())).hasMessageContaining("at least one move");
    }
}

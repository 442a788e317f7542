package io.shardgate.cli.reshard;

import io.shardgate.migrator.Migrations;
import io.shardgate.state.MigrationRecord;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The {@link MigrationRecord}s of one {@code reshard start}: one per {@link SlotMove}, in plan
 * order, in {@link Migrations.Status#PENDING}, carrying the creation keys of the {@link Migrations}
 * contract. Pure: the caller stores them.
 */
public final class MigrationBatch {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private MigrationBatch() {}

    /**
     * Records for {@code moves}, with ids {@code m-<yyyyMMdd-HHmmss>-<n>} (UTC) where {@code n} counts
     * on past any id in {@code takenIds} with the same time stamp; the batch id is the first record's id.
     */
    public static List<MigrationRecord> create(List<SlotMove> moves, BatchSettings settings, Instant now, Collection<String> takenIds) {
        if (moves.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one move");
        }
        String prefix = "m-" + STAMP.format(now) + "-";
        int n = takenIds.stream()
                .filter(id -> id.startsWith(prefix))
                .mapToInt(id -> number(id.substring(prefix.length())))
                .max().orElse(0) + 1;
        String batch = prefix + n;
        List<MigrationRecord> records = new ArrayList<>();
        for (int order = 0; order < moves.size(); order++) {
            SlotMove move = moves.get(order);
            Map<String, String> details = Map.of(
                    Migrations.ORDER, Integer.toString(order),
                    Migrations.BATCH, batch,
                    Migrations.CREATED_AT_MILLIS, Long.toString(now.toEpochMilli()),
                    Migrations.AUTO_COMPLETE, Boolean.toString(settings.autoComplete()),
                    Migrations.ROWS_PER_SECOND_LIMIT, Long.toString(settings.rowsPerSecondLimit()),
                    Migrations.CHUNK_ROWS, Integer.toString(settings.chunkRows()));
            records.add(new MigrationRecord(prefix + (n + order), IntStream.rangeClosed(move.from(), move.to()).boxed().toList(),
                    move.source(), move.target(), Migrations.Status.PENDING.name(), Map.of(), details, now.toEpochMilli()));
        }
        return List.copyOf(records);
    }

    private static int number(String suffix) {
        try {
            return Integer.parseInt(suffix);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}

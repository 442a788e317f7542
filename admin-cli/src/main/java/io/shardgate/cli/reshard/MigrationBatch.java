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
        return create("m-", moves.stream().map(m -> new Slots(IntStream.rangeClosed(m.from(), m.to()).boxed().toList(),
                m.source(), m.target())).toList(), Map.of(), settings, now, takenIds);
    }

    /** Slots (any set, not only a range) that one migration moves from {@code source} to {@code target}. */
    public record Slots(List<Integer> slots, String source, String target) {
        public Slots {
            slots = List.copyOf(slots);
        }
    }

    /**
     * Records of a {@code table shard}: ids {@code t-<yyyyMMdd-HHmmss>-<n>}, each limited to {@code tables}
     * ({@link Migrations#TABLES}), moving their rows from their old home to the owners of {@code moves}' slots.
     */
    public static List<MigrationRecord> createForTables(List<String> tables, List<Slots> moves, BatchSettings settings, Instant now,
            Collection<String> takenIds) {
        return create("t-", moves, Map.of(Migrations.TABLES, String.join(",", tables)), settings, now, takenIds);
    }

    private static List<MigrationRecord> create(String kind, List<Slots> moves, Map<String, String> extra, BatchSettings settings,
            Instant now, Collection<String> takenIds) {
        if (moves.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one move");
        }
        String prefix = kind + STAMP.format(now) + "-";
        int n = takenIds.stream()
                .filter(id -> id.startsWith(prefix))
                .mapToInt(id -> number(id.substring(prefix.length())))
                .max().orElse(0) + 1;
        String batch = prefix + n;
        List<MigrationRecord> records = new ArrayList<>();
        for (int order = 0; order < moves.size(); order++) {
            Slots move = moves.get(order);
            Map<String, String> details = new java.util.HashMap<>(Map.of(
                    Migrations.ORDER, Integer.toString(order),
                    Migrations.BATCH, batch,
                    Migrations.CREATED_AT_MILLIS, Long.toString(now.toEpochMilli()),
                    Migrations.AUTO_COMPLETE, Boolean.toString(settings.autoComplete()),
                    Migrations.ROWS_PER_SECOND_LIMIT, Long.toString(settings.rowsPerSecondLimit()),
                    Migrations.CHUNK_ROWS, Integer.toString(settings.chunkRows())));
            details.putAll(extra);
            records.add(new MigrationRecord(prefix + (n + order), move.slots(), move.source(), move.target(),
                    Migrations.Status.PENDING.name(), Map.of(), details, now.toEpochMilli()));
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

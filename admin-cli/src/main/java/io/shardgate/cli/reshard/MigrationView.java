package io.shardgate.cli.reshard;

import io.shardgate.migrator.Migrations;
import io.shardgate.migrator.Migrations.Status;
import io.shardgate.state.MigrationRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * One {@link MigrationRecord} as the status views show it: the contract's details parsed, missing
 * or malformed ones as null (a worker may not have written them yet). The record component names
 * are the JSON field names of {@code reshard status --json}; keep them stable.
 *
 * @param status spelled in lower case with dashes ("reverse-dual-write"), or the stored phase as is if unknown
 * @param slots  compact ascending runs, "1366-2047" or "3-5,9"
 */
public record MigrationView(String id, String batch, long order, String status, String source, String target, String slots,
        int slotCount, List<TableProgress> tables, Long rowsRepaired, Double rowsPerSecond, Long etaSeconds,
        Long lastPauseMillis, Long cutoverAttempts, String lastError, String request, String worker, boolean autoComplete,
        Long rowsPerSecondLimit, Long chunkRows, Long createdAtMillis, Long phaseStartedAtMillis, long updatedAtMillis) {

    public MigrationView {
        Objects.requireNonNull(id, "id");
        tables = List.copyOf(tables);
    }

    /** Rows of one table: copied by backfill, estimated total, verified; null when not reported yet. */
    public record TableProgress(String table, Long rowsCopied, Long rowsTotal, Long rowsVerified) {}

    public static MigrationView of(MigrationRecord r) {
        Map<String, String> d = r.details();
        TreeSet<String> tableNames = new TreeSet<>();
        for (String key : d.keySet()) {
            for (String prefix : List.of(Migrations.ROWS_COPIED, Migrations.ROWS_TOTAL, Migrations.ROWS_VERIFIED)) {
                if (key.startsWith(prefix) && key.length() > prefix.length()) {
                    tableNames.add(key.substring(prefix.length()));
                }
            }
        }
        List<TableProgress> tables = tableNames.stream()
                .map(t -> new TableProgress(t, number(d, Migrations.ROWS_COPIED + t), number(d, Migrations.ROWS_TOTAL + t),
                        number(d, Migrations.ROWS_VERIFIED + t)))
                .toList();
        List<Integer> slots = r.slots().stream().sorted().distinct().toList();
        Optional<Status> status = statusOf(r);
        String request = text(d, Migrations.REQUEST);
        return new MigrationView(r.id(), Objects.requireNonNullElse(text(d, Migrations.BATCH), r.id()),
                Migrations.longDetail(r, Migrations.ORDER, 0),
                status.map(MigrationView::spell).orElse(r.phase()), r.source(), r.target(),
                RebalancePlanner.runs(slots, Integer.MAX_VALUE), slots.size(), tables,
                number(d, Migrations.ROWS_REPAIRED), decimal(d, Migrations.ROWS_PER_SECOND), number(d, Migrations.ETA_SECONDS),
                number(d, Migrations.LAST_PAUSE_MILLIS), number(d, Migrations.CUTOVER_ATTEMPTS), text(d, Migrations.LAST_ERROR),
                request == null ? null : request.toLowerCase(Locale.ROOT), text(d, Migrations.WORKER),
                Boolean.parseBoolean(d.get(Migrations.AUTO_COMPLETE)), number(d, Migrations.ROWS_PER_SECOND_LIMIT),
                number(d, Migrations.CHUNK_ROWS), number(d, Migrations.CREATED_AT_MILLIS), number(d, Migrations.PHASE_STARTED_AT_MILLIS),
                r.updatedAtMillis());
    }

    /** The record's status, or empty when its phase is not one this CLI knows (a newer worker?). */
    public static Optional<Status> statusOf(MigrationRecord r) {
        try {
            return Optional.of(Status.of(r));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Whether the record has ended for good; an unknown phase counts as running. */
    public static boolean terminal(MigrationRecord r) {
        return statusOf(r).map(Status::terminal).orElse(false);
    }

    /**
     * The records of the batch created last (by {@link Migrations#RUN_ORDER} of its records), in run
     * order; empty if there are none.
     */
    public static List<MigrationRecord> latestBatch(List<MigrationRecord> records) {
        if (records.isEmpty()) {
            return List.of();
        }
        String batch = batchOf(records.stream().max(Migrations.RUN_ORDER).orElseThrow());
        return records.stream().filter(r -> batchOf(r).equals(batch)).sorted(Migrations.RUN_ORDER).toList();
    }

    public static String batchOf(MigrationRecord r) {
        return Objects.requireNonNullElse(text(r.details(), Migrations.BATCH), r.id());
    }

    public static String spell(Status s) {
        return s.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public Optional<Status> knownStatus() {
        try {
            return Optional.of(Status.valueOf(status.toUpperCase(Locale.ROOT).replace('-', '_')));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Rows copied over rows total, all tables, when the worker has reported totals. */
    public Optional<double[]> copied() {
        return fraction(TableProgress::rowsCopied);
    }

    public Optional<double[]> verified() {
        return fraction(TableProgress::rowsVerified);
    }

    /** {done, total} summed over the tables, when every table reports a total. */
    private Optional<double[]> fraction(java.util.function.Function<TableProgress, Long> done) {
        if (tables.isEmpty() || tables.stream().anyMatch(t -> t.rowsTotal() == null)) {
            return Optional.empty();
        }
        double sumDone = tables.stream().mapToLong(t -> Objects.requireNonNullElse(done.apply(t), 0L)).sum();
        double sumTotal = tables.stream().mapToLong(TableProgress::rowsTotal).sum();
        return Optional.of(new double[] {sumDone, sumTotal});
    }

    /**
     * Share of the current phase done, 0..1, for the phases that count rows (backfill, verify) and
     * 1 for the ended ones; empty otherwise.
     */
    public Optional<Double> phaseDone() {
        Optional<Status> s = knownStatus();
        if (s.isEmpty()) {
            return Optional.empty();
        }
        Optional<double[]> rows = switch (s.get()) {
            case BACKFILL -> copied();
            case VERIFY -> verified();
            case DONE, ROLLED_BACK, ABORTED -> Optional.of(new double[] {1, 1});
            case PENDING, DUAL_WRITE, CUTOVER_PAUSE, REVERSE_DUAL_WRITE, CLEANUP, ABORTING, ROLLING_BACK, FAILED -> Optional.empty();
        };
        return rows.map(r -> r[1] <= 0 ? 1.0 : Math.min(1.0, r[0] / r[1]));
    }

    /** Whether the migration waits for the operator: in reverse-dual-write, no auto-complete, nothing requested. */
    public boolean awaitsOperator() {
        return knownStatus().filter(s -> s == Status.REVERSE_DUAL_WRITE).isPresent() && !autoComplete && request == null;
    }

    /** One phrase about where the migration stands, with the pending request and the last error, for one-line views. */
    public String summary() {
        List<String> parts = new ArrayList<>(List.of(phrase()));
        if (request != null) {
            parts.add(request + " requested");
        }
        if (lastError != null) {
            parts.add("error: " + lastError);
        }
        return String.join(", ", parts);
    }

    /** Where the migration stands and how fast it moves, without request and error. */
    public String phrase() {
        Optional<Status> s = knownStatus();
        if (s.isEmpty()) {
            return "phase '" + status + "' unknown to this CLI";
        }
        List<String> parts = new ArrayList<>();
        switch (s.get()) {
            case PENDING -> parts.add(worker == null ? "waiting for a migrator worker" : "queued on worker " + worker);
            case DUAL_WRITE -> parts.add("dual writes on; waiting for every proxy");
            case BACKFILL -> {
                parts.add(copied().map(c -> "copied " + percent(c) + " (" + grouped((long) c[0]) + "/" + grouped((long) c[1]) + " rows)")
                        .orElse("copying rows"));
                rate(parts);
            }
            case VERIFY -> {
                parts.add(verified().map(c -> "verified " + percent(c) + " (" + grouped((long) c[0]) + "/" + grouped((long) c[1]) + " rows)")
                        .orElse("verifying rows"));
                if (rowsRepaired != null && rowsRepaired > 0) {
                    parts.add(grouped(rowsRepaired) + " repaired");
                }
                rate(parts);
            }
            case CUTOVER_PAUSE -> parts.add("writes held, cutting over" + (cutoverAttempts == null ? "" : " (attempt " + cutoverAttempts + ")"));
            case REVERSE_DUAL_WRITE -> parts.add(autoComplete ? "cut over; completing on its own"
                    : "cut over; waiting for 'reshard complete' or 'reshard rollback'");
            case CLEANUP -> parts.add("deleting the moved rows from " + source);
            case ABORTING -> parts.add("aborting: removing the copies from " + target);
            case ROLLING_BACK -> parts.add("rolling back: " + source + " owns the slots again, removing the copies from " + target);
            case DONE -> parts.add("done");
            case ABORTED -> parts.add("aborted");
            case ROLLED_BACK -> parts.add("rolled back");
            case FAILED -> parts.add("failed; 'reshard abort' undoes it");
        }
        if (lastPauseMillis != null && s.get().compareTo(Status.CUTOVER_PAUSE) >= 0) {
            parts.add("last pause " + lastPauseMillis + " ms");
        }
        return String.join(", ", parts);
    }

    private void rate(List<String> parts) {
        if (rowsPerSecond != null) {
            parts.add(grouped(Math.round(rowsPerSecond)) + " rows/s");
        }
        if (etaSeconds != null) {
            parts.add("ETA " + duration(etaSeconds));
        }
    }

    private static String percent(double[] doneAndTotal) {
        double f = doneAndTotal[1] <= 0 ? 1.0 : Math.min(1.0, doneAndTotal[0] / doneAndTotal[1]);
        return String.format(Locale.ROOT, "%.1f%%", f * 100);
    }

    /** "42s", "3m05s", "2h07m". */
    public static String duration(long seconds) {
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds % 3600 / 60);
    }

    public static String grouped(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static String text(Map<String, String> d, String key) {
        String v = d.get(key);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static Long number(Map<String, String> d, String key) {
        String v = text(d, key);
        if (v == null) {
            return null;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Double decimal(Map<String, String> d, String key) {
        String v = text(d, key);
        if (v == null) {
            return null;
        }
        try {
            double x = Double.parseDouble(v);
            return Double.isFinite(x) ? x : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** Order of the views: batch creation, then run order (as {@link Migrations#RUN_ORDER}). */
    public static final Comparator<MigrationView> BY_RUN = Comparator
            .comparingLong((MigrationView v) -> Objects.requireNonNullElse(v.createdAtMillis(), 0L))
            .thenComparingLong(MigrationView::order)
            .thenComparing(MigrationView::id);
}

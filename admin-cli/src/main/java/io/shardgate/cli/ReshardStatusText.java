package io.shardgate.cli;

import io.shardgate.cli.reshard.MigrationView;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The human views of migrations: the full {@code reshard status} block, one-line states and progress bars. */
final class ReshardStatusText {
    private static final int BAR_WIDTH = 24;

    private ReshardStatusText() {}

    /** Every migration of {@code views} with all it reports, grouped by batch in run order. */
    static void print(List<MigrationView> views, PrintWriter out) {
        Map<String, List<MigrationView>> batches = new LinkedHashMap<>();
        views.stream().sorted(MigrationView.BY_RUN).forEach(v -> batches.computeIfAbsent(v.batch(), b -> new java.util.ArrayList<>()).add(v));
        boolean first = true;
        for (var batch : batches.entrySet()) {
            if (!first) {
                out.println();
            }
            first = false;
            MigrationView head = batch.getValue().getFirst();
            out.println("batch " + batch.getKey() + ": " + batch.getValue().size()
                    + (batch.getValue().size() == 1 ? " migration" : " migrations")
                    + (head.createdAtMillis() == null ? "" : ", created " + Instant.ofEpochMilli(head.createdAtMillis()))
                    + ", " + settings(head));
            for (MigrationView v : batch.getValue()) {
                printOne(v, out);
            }
        }
        out.flush();
    }

    private static String settings(MigrationView v) {
        return "auto-complete " + (v.autoComplete() ? "on" : "off")
                + ", throttle " + (v.rowsPerSecondLimit() == null || v.rowsPerSecondLimit() == 0 ? "none"
                        : MigrationView.grouped(v.rowsPerSecondLimit()) + " rows/s")
                + (v.chunkRows() == null ? "" : ", chunks of " + MigrationView.grouped(v.chunkRows()) + " rows");
    }

    private static void printOne(MigrationView v, PrintWriter out) {
        out.println("  " + v.id() + "  " + v.status() + "  " + v.source() + " -> " + v.target() + "  slots " + v.slots()
                + " (" + v.slotCount() + ")");
        out.println("    " + v.phrase());
        if (!v.tables().isEmpty()) {
            TextTable tables = new TextTable("TABLE", "COPIED", "TOTAL", "DONE", "VERIFIED");
            for (MigrationView.TableProgress t : v.tables()) {
                tables.row(t.table(), rows(t.rowsCopied()), rows(t.rowsTotal()), percent(t.rowsCopied(), t.rowsTotal()), rows(t.rowsVerified()));
            }
            tables.print(out, "    ");
        }
        if (v.cutoverAttempts() != null || v.lastPauseMillis() != null) {
            out.println("    cutover: " + (v.cutoverAttempts() == null ? "?" : v.cutoverAttempts())
                    + (v.cutoverAttempts() != null && v.cutoverAttempts() == 1 ? " attempt" : " attempts")
                    + (v.lastPauseMillis() == null ? "" : ", last pause " + v.lastPauseMillis() + " ms"));
        }
        if (v.worker() != null) {
            out.println("    worker " + v.worker() + (v.phaseStartedAtMillis() == null ? ""
                    : ", in " + v.status() + " since " + Instant.ofEpochMilli(v.phaseStartedAtMillis())));
        }
        if (v.request() != null) {
            out.println("    request: " + v.request() + " (pending: the worker has not acted on it yet)");
        }
        if (v.lastError() != null) {
            out.println("    last error: " + v.lastError());
        }
    }

    /** "m-…-1  backfill  s0 -> s2  682 slots  copied 30.9% (…), 1,234 rows/s, ETA 32s": one line, for logs. */
    static String line(MigrationView v) {
        return v.id() + "  " + v.status() + "  " + v.source() + " -> " + v.target() + "  " + v.slotCount()
                + (v.slotCount() == 1 ? " slot  " : " slots  ") + v.summary();
    }

    /** As {@link #line} with a bar for the phase's progress, for a terminal that redraws it. */
    static String bar(MigrationView v) {
        StringBuilder b = new StringBuilder(v.id()).append("  ").append(String.format(Locale.ROOT, "%-18s", v.status())).append(" [");
        var done = v.phaseDone();
        int filled = done.map(f -> (int) Math.round(f * BAR_WIDTH)).orElse(0);
        b.append("#".repeat(filled)).append((done.isPresent() ? "-" : " ").repeat(BAR_WIDTH - filled)).append("] ");
        b.append(done.map(f -> String.format(Locale.ROOT, "%5.1f%%", f * 100)).orElse("      "));
        b.append("  ").append(v.summary());
        return b.toString();
    }

    private static String rows(Long n) {
        return n == null ? "-" : MigrationView.grouped(n);
    }

    private static String percent(Long done, Long total) {
        if (done == null || total == null) {
            return "-";
        }
        return total <= 0 ? "100.0%" : String.format(Locale.ROOT, "%.1f%%", Math.min(100.0, 100.0 * done / total));
    }
}

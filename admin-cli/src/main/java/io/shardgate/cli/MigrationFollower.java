package io.shardgate.cli;

import io.shardgate.cli.reshard.MigrationView;
import io.shardgate.cli.reshard.RequestRules;
import io.shardgate.migrator.Migrations.Request;
import io.shardgate.migrator.Migrations.Status;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Follows some migrations by polling their records (the store has no watch on migrations) until a
 * goal says the wait is over. On a terminal it redraws one progress bar per migration in place;
 * elsewhere (a pipe, a log) it prints a time-stamped line when a migration's state changes, and
 * every {@link #HEARTBEAT} while one is running.
 */
final class MigrationFollower {
    static final Duration POLL = Duration.ofMillis(250);
    static final Duration HEARTBEAT = Duration.ofSeconds(5);
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    /** How a wait ended: {@code ok} or not, and the sentence to print. */
    record Outcome(boolean ok, String message) {}

    private final ClusterStore store;
    private final PrintWriter out;
    private final boolean live;
    private final Map<String, String> lastState = new HashMap<>();
    private final Map<String, Long> lastPrintedNanos = new HashMap<>();
    private int drawnLines;

    /** {@code live}: redraw bars with ANSI escapes (only when stdout is a terminal). */
    MigrationFollower(ClusterStore store, PrintWriter out, boolean live) {
        this.store = Objects.requireNonNull(store, "store");
        this.out = Objects.requireNonNull(out, "out");
        this.live = live;
    }

    /** Whether this process writes to an interactive terminal, where bars can be redrawn. */
    static boolean terminal() {
        var console = System.console();
        return console != null && console.isTerminal();
    }

    /**
     * Follows {@code ids} on {@code out} (bars on a terminal) until {@code goal} answers: prints its message,
     * or throws it as a one-line CLI error when the outcome is a failure.
     */
    static void followOrFail(ClusterStore store, PrintWriter out, Set<String> ids,
            Function<List<MigrationView>, Optional<Outcome>> goal) throws InterruptedException {
        Outcome outcome = new MigrationFollower(store, out, terminal()).follow(ids, goal);
        if (!outcome.ok()) {
            throw new CliException(outcome.message());
        }
        out.println(outcome.message());
        out.flush();
    }

    /**
     * Polls the migrations {@code ids} until {@code goal} answers; a migration that disappears ends
     * the wait with a failure.
     */
    Outcome follow(Set<String> ids, Function<List<MigrationView>, Optional<Outcome>> goal) throws InterruptedException {
        while (true) {
            Map<String, MigrationRecord> byId = new HashMap<>();
            store.listMigrations().forEach(r -> byId.put(r.id(), r));
            Optional<String> gone = ids.stream().filter(id -> !byId.containsKey(id)).sorted().findFirst();
            if (gone.isPresent()) {
                endDrawing();
                return new Outcome(false, "migration " + gone.get() + " disappeared from the cluster's state (was the cluster re-created?)");
            }
            List<MigrationView> views = ids.stream().map(id -> MigrationView.of(byId.get(id))).sorted(MigrationView.BY_RUN).toList();
            show(views);
            Optional<Outcome> outcome = goal.apply(views);
            if (outcome.isPresent()) {
                endDrawing();
                return outcome.get();
            }
            Thread.sleep(POLL);
        }
    }

    private void show(List<MigrationView> views) {
        if (live) {
            StringBuilder frame = new StringBuilder();
            if (drawnLines > 0) {
                frame.append("\r\u001b[").append(drawnLines).append('A');
            }
            int width = terminalColumns();
            for (MigrationView v : views) {
                // a wrapped line would throw the cursor-up count off, so a bar line never wraps
                String bar = ReshardStatusText.bar(v);
                frame.append("\r\u001b[2K").append(bar.length() < width ? bar : bar.substring(0, width - 2) + "…").append('\n');
            }
            drawnLines = views.size();
            out.print(frame);
            out.flush();
            return;
        }
        long now = System.nanoTime();
        for (MigrationView v : views) {
            String state = v.status() + "|" + v.request() + "|" + v.lastError() + "|" + v.cutoverAttempts() + "|" + v.worker();
            Long last = lastPrintedNanos.get(v.id());
            boolean changed = !state.equals(lastState.get(v.id()));
            boolean running = v.knownStatus().map(s -> !s.terminal() && s != Status.PENDING).orElse(true)
                    && !v.awaitsOperator();
            if (changed || (running && now - last >= HEARTBEAT.toNanos())) {
                out.println(LocalTime.now().format(CLOCK) + "  " + ReshardStatusText.line(v));
                lastState.put(v.id(), state);
                lastPrintedNanos.put(v.id(), now);
            }
        }
        out.flush();
    }

    /**
     * The goal of {@code reshard start --wait} and {@code reshard status --watch}: every migration
     * has ended or waits for the operator in reverse-dual-write; a failure ends the wait at once.
     */
    static Optional<Outcome> settled(List<MigrationView> views) {
        Optional<MigrationView> failed = views.stream().filter(v -> v.knownStatus().orElse(null) == Status.FAILED).findFirst();
        if (failed.isPresent()) {
            MigrationView f = failed.get();
            return Optional.of(new Outcome(false, "migration " + f.id() + " failed" + (f.lastError() == null ? "" : ": " + f.lastError())
                    + "; 'shardgate reshard abort --id " + f.id() + "' undoes it"));
        }
        boolean allSettled = views.stream().allMatch(v -> v.awaitsOperator() || v.knownStatus().map(Status::terminal).orElse(false));
        if (!allSettled) {
            return Optional.empty();
        }
        List<String> waiting = views.stream().filter(MigrationView::awaitsOperator).map(MigrationView::id).toList();
        if (!waiting.isEmpty()) {
            return Optional.of(new Outcome(true, (waiting.size() == 1 ? "migration " + waiting.getFirst() + " waits"
                    : waiting.size() + " migrations wait") + " in reverse-dual-write (the target serves the slots, writes copy back to "
                    + "the source): run 'shardgate reshard complete' to finish, or 'shardgate reshard rollback' to give the slots back"));
        }
        Optional<MigrationView> undone = views.stream().filter(v -> v.knownStatus().orElse(null) != Status.DONE).findFirst();
        if (undone.isPresent()) {
            return Optional.of(new Outcome(false, "migration " + undone.get().id() + " ended " + undone.get().status()));
        }
        return Optional.of(new Outcome(true, views.size() == 1 ? "migration " + views.getFirst().id() + " is done"
                : "all " + views.size() + " migrations are done"));
    }

    /** The goal of a request's {@code --wait}: every migration reached the status the request leads to. */
    static Function<List<MigrationView>, Optional<Outcome>> carriedOut(Request request) {
        Status wanted = RequestRules.outcome(request);
        return views -> {
            for (MigrationView v : views) {
                Status s = v.knownStatus().orElse(null);
                if (s == Status.FAILED) {
                    return Optional.of(new Outcome(false, "migration " + v.id() + " failed while carrying out " + request.value()
                            + (v.lastError() == null ? "" : ": " + v.lastError())));
                }
                if (s != null && s.terminal() && s != wanted) {
                    return Optional.of(new Outcome(false, "migration " + v.id() + " ended " + v.status() + " instead"));
                }
            }
            if (views.stream().allMatch(v -> v.knownStatus().orElse(null) == wanted)) {
                return Optional.of(new Outcome(true, request.value() + " carried out: "
                        + views.stream().map(MigrationView::id).collect(java.util.stream.Collectors.joining(", ")) + " "
                        + MigrationView.spell(wanted)));
            }
            return Optional.empty();
        };
    }

    /** $COLUMNS when the shell exports it, else a width most terminals have. */
    private static int terminalColumns() {
        try {
            return Math.max(40, Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100").strip()));
        } catch (NumberFormatException e) {
            return 100;
        }
    }

    private void endDrawing() {
        drawnLines = 0;
    }
}

package io.shardgate.state;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The persistent record of one migration: what moves, where it stands, and the checkpoints a new
 * worker resumes from. The migrator owns its meaning; the store only keeps it.
 *
 * @param id          unique id, e.g. {@code m-20261122-041700}
 * @param slots       slots that move
 * @param source      shard they leave
 * @param target      shard they go to
 * @param phase       current phase name (a MigrationPhase, or a terminal state such as DONE/ABORTED)
 * @param checkpoints per-table resume positions (e.g. last copied primary key)
 * @param details     free-form progress facts for status views (rows copied, rows/s, last pause)
 * @param updatedAtMillis wall-clock time of the last change
 */
public record MigrationRecord(String id, List<Integer> slots, String source, String target, String phase,
        Map<String, String> checkpoints, Map<String, String> details, long updatedAtMillis) {
    public MigrationRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(phase, "phase");
        slots = List.copyOf(slots);
        checkpoints = Map.copyOf(checkpoints);
        details = Map.copyOf(details);
    }
}

package io.shardgate.slot;

import java.util.Objects;

/**
 * A slot in flight.
 *
 * @param migrationId the migration that moves it
 * @param phase       where the move stands
 * @param source      shard it leaves
 * @param target      shard it goes to
 */
public record MovingSlot(String migrationId, MigrationPhase phase, String source, String target) {
    public MovingSlot {
        Objects.requireNonNull(migrationId, "migrationId");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(target, "target");
        if (source.equals(target)) {
            throw new IllegalArgumentException("a slot cannot move from " + source + " to itself");
        }
    }

    /** Shard that is authoritative for the slot now. */
    public String authoritative() {
        return phase.targetOwns() ? target : source;
    }

    /** Shard that receives copied row images now, if any. */
    public String shadow() {
        return phase.targetOwns() ? source : target;
    }
}

package io.shardgate.slot;

/**
 * The phase of a slot that is moving from a source shard to a target shard (DESIGN.md, "Moving
 * slots online"). The slot map's owner of a moving slot is the source until {@link #CUTOVER_PAUSE}
 * ends, and the target from {@link #REVERSE_DUAL_WRITE} on.
 */
public enum MigrationPhase {
    /** Source authoritative; writes run on the source and copy each affected key's image to the target. */
    DUAL_WRITE,
    /** As DUAL_WRITE, while the migrator copies existing rows in chunks. */
    BACKFILL,
    /** As DUAL_WRITE, while the migrator compares and repairs. */
    VERIFY,
    /** Writes to the moving slots are held by every proxy; reads still go to the source. */
    CUTOVER_PAUSE,
    /** Target authoritative; writes copy each affected key's image back to the source, for rollback. */
    REVERSE_DUAL_WRITE,
    /** Target authoritative; the migrator deletes the moved rows from the source. */
    CLEANUP,
    /**
     * Source authoritative again after an abort or a rollback, no copies; the migrator deletes the target's
     * copies. The move stays in the slot map until they are gone so that scatter statements keep leaving
     * the target's copies out.
     */
    ABORT_CLEANUP;

    /** Whether the target (rather than the source) serves the slot in this phase. */
    public boolean targetOwns() {
        return this == REVERSE_DUAL_WRITE || this == CLEANUP;
    }

    /** Whether writes must also copy row images to the other shard. */
    public boolean dualWrites() {
        return this == DUAL_WRITE || this == BACKFILL || this == VERIFY || this == REVERSE_DUAL_WRITE;
    }
}

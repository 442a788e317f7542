package io.shardgate.migrator;

import io.shardgate.state.MigrationRecord;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The contract between the CLI (which creates migrations and asks for abort, complete and rollback)
 * and the migration worker (which runs them), kept in {@link MigrationRecord}s in the cluster store.
 *
 * <p>One record moves one set of slots from one source shard to one target shard. A rebalance is a
 * batch of records; the worker runs them one at a time in {@link #ORDER} up to their cutover, while
 * earlier ones may wait in {@link Status#REVERSE_DUAL_WRITE} for the operator's confirmation.
 *
 * <p>Writers: the CLI creates records in {@link Status#PENDING} and only ever changes
 * {@link #REQUEST} (by compare-and-set, retrying on a version conflict); the worker changes
 * everything else. Progress keys in {@link MigrationRecord#details()} are written by the worker.
 */
public final class Migrations {
    private Migrations() {}

    /** The record's {@code phase} field: where the migration stands. */
    public enum Status {
        /** Created by the CLI, not yet started by a worker. */
        PENDING,
        /** Slot map says DUAL_WRITE; waiting for every proxy's acknowledgement; checks tables. */
        DUAL_WRITE,
        BACKFILL,
        VERIFY,
        /** Writes to the moving slots are held; switching ownership. */
        CUTOVER_PAUSE,
        /** Target owns the slots; writes copy back to the source until the operator completes or rolls back. */
        REVERSE_DUAL_WRITE,
        /** Deleting the moved rows from the source. */
        CLEANUP,
        /** Undoing: the source owns the slots again; removing the target's copies. */
        ABORTING,
        /** Back to the source after the cutover, without a copy; removing the target's copies. */
        ROLLING_BACK,
        DONE,
        ABORTED,
        ROLLED_BACK,
        /** Stopped with an error the worker cannot get past alone ({@link #LAST_ERROR} says which); abort is possible. */
        FAILED;

        public boolean terminal() {
            return this == DONE || this == ABORTED || this == ROLLED_BACK;
        }

        public static Status of(MigrationRecord record) {
            return valueOf(record.phase().toUpperCase(Locale.ROOT));
        }
    }

    /** What the CLI asks of a running migration (value of {@link #REQUEST}). */
    public enum Request {
        /** Before CLEANUP: stop, keep the source, remove the target's copies. */
        ABORT,
        /** In REVERSE_DUAL_WRITE: end the reverse dual-write window and clean the source up. */
        COMPLETE,
        /** In REVERSE_DUAL_WRITE: give the slots back to the source (no copy needed) and clean the target up. */
        ROLLBACK;

        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Optional<Request> of(MigrationRecord record) {
            String v = record.details().get(REQUEST);
            return v == null || v.isEmpty() ? Optional.empty() : Optional.of(valueOf(v.toUpperCase(Locale.ROOT)));
        }
    }

    // ---- details keys written by the CLI at creation

    /** Position within its batch (0, 1, …); the worker runs a batch in this order. */
    public static final String ORDER = "order";
    /** Id shared by the records of one {@code reshard start}. */
    public static final String BATCH = "batch";
    public static final String CREATED_AT_MILLIS = "createdAtMillis";
    /** "true": go from REVERSE_DUAL_WRITE to CLEANUP without waiting for {@code reshard complete}. */
    public static final String AUTO_COMPLETE = "autoComplete";
    /** Backfill and verify throttle in rows per second; "0" = unlimited. */
    public static final String ROWS_PER_SECOND_LIMIT = "rowsPerSecondLimit";
    /** Rows per backfill/verify chunk. */
    public static final String CHUNK_ROWS = "chunkRows";
    /**
     * Comma-separated lower-case table names: the migration moves only these tables' rows, from the shard that
     * held them as single tables to the slots' owners ({@code table shard}; the slot map's table sharding of
     * these tables says where they stand). Absent: every sharded table, as a slot move does.
     */
    public static final String TABLES = "tables";

    // ---- details key written by the CLI later

    /** A {@link Request} value, lower case. */
    public static final String REQUEST = "request";

    // ---- details keys written by the worker

    /** Id of the worker running the migration. */
    public static final String WORKER = "worker";
    public static final String PHASE_STARTED_AT_MILLIS = "phaseStartedAtMillis";
    /** Prefix: {@code rowsCopied.<table>} rows copied by backfill so far. */
    public static final String ROWS_COPIED = "rowsCopied.";
    /** Prefix: {@code rowsTotal.<table>} estimated rows of the moving slots on the source. */
    public static final String ROWS_TOTAL = "rowsTotal.";
    /** Prefix: {@code rowsVerified.<table>}. */
    public static final String ROWS_VERIFIED = "rowsVerified.";
    /** Rows the verify found different and repaired (all tables, all passes). */
    public static final String ROWS_REPAIRED = "rowsRepaired";
    public static final String ROWS_PER_SECOND = "rowsPerSecond";
    public static final String ETA_SECONDS = "etaSeconds";
    /** Milliseconds the last cutover held writes to the moving slots. */
    public static final String LAST_PAUSE_MILLIS = "lastPauseMillis";
    public static final String CUTOVER_ATTEMPTS = "cutoverAttempts";
    /** Split keys merged before the move (JSON list of [table, key, k]); split again when it ends. */
    public static final String SPLIT_KEYS_MERGED = "splitKeysMerged";
    /** Split keys that could not be split again after the move, with the reasons. */
    public static final String RESPLIT_ERRORS = "resplitErrors";
    /** The last error (phase, shard, elapsed time, cause), cleared when the phase moves on. */
    public static final String LAST_ERROR = "lastError";

    /** Every cutover pause in milliseconds, oldest first, comma-separated. */
    public static final String PAUSE_HISTORY_MILLIS = "pauseHistoryMillis";
    /** Wall-clock time the current cutover published CUTOVER_PAUSE (the pause is measured from it). */
    public static final String CUTOVER_STARTED_AT_MILLIS = "cutoverStartedAtMillis";
    /** After a failed cutover: not before this wall-clock time will the next attempt start. */
    public static final String NEXT_CUTOVER_AT_MILLIS = "nextCutoverAtMillis";
    /** Live proxies (id@startedAtMillis, comma-separated) when DUAL_WRITE was published. */
    public static final String PROXIES_AT_DUAL_WRITE = "proxiesAtDualWrite";
    /** Tables the preflight created on the target (comma-separated). */
    public static final String TABLES_CREATED = "tablesCreated";
    /** Completed verify passes. */
    public static final String VERIFY_PASSES = "verifyPasses";
    /** Prefix: {@code rowsDeleted.<table>} rows deleted by cleanup (source) or abort/rollback (target). */
    public static final String ROWS_DELETED = "rowsDeleted.";
    /** Slot-map epoch of the last phase change the worker published. */
    public static final String EPOCH = "epoch";

    // ---- checkpoints keys (worker)

    /** Prefix: {@code backfill.<table>} = last copied primary key as a JSON array of its column values. */
    public static final String BACKFILL_CHECKPOINT = "backfill.";
    /** Prefix: {@code verify.<table>}. */
    public static final String VERIFY_CHECKPOINT = "verify.";

    /** Prefix: {@code cleanup.<table>}: last key scanned by the source cleanup. */
    public static final String CLEANUP_CHECKPOINT = "cleanup.";
    /** Prefix: {@code undo.<table>}: last key scanned by the target cleanup of an abort or rollback. */
    public static final String UNDO_CHECKPOINT = "undo.";
    /** "true" once the preflight passed and DUAL_WRITE is (about to be) published: an abort must undo. */
    public static final String MOVE_PUBLISHED = "movePublished";
    /** "true" once a verify pass completed since the last reason to verify again. */
    public static final String VERIFY_DONE = "verifyDone";
    /** Live proxies (id@startedAtMillis) when the current verify pass started. */
    public static final String VERIFY_PROXIES = "verifyProxies";
    /** "true" once every proxy acknowledged REVERSE_DUAL_WRITE: the cutover is over. */
    public static final String REVERSE_ACKED = "reverseAcked";

    /** Batch order: creation time, then {@link #ORDER}, then id. */
    public static final Comparator<MigrationRecord> RUN_ORDER = Comparator
            .comparingLong((MigrationRecord r) -> longDetail(r, CREATED_AT_MILLIS, 0))
            .thenComparingLong(r -> longDetail(r, ORDER, 0))
            .thenComparing(MigrationRecord::id);

    /** The tables a migration is limited to ({@link #TABLES}); empty for a slot move of every sharded table. */
    public static java.util.List<String> tableScope(MigrationRecord r) {
        String v = r.details().get(TABLES);
        if (v == null || v.isBlank()) {
            return java.util.List.of();
        }
        return java.util.Arrays.stream(v.split(",")).map(String::trim).filter(t -> !t.isEmpty())
                .map(t -> t.toLowerCase(Locale.ROOT)).sorted().toList();
    }

    public static long longDetail(MigrationRecord r, String key, long fallback) {
        String v = r.details().get(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** A copy of {@code record} with some details replaced (null values remove the key). */
    public static MigrationRecord withDetails(MigrationRecord record, Map<String, String> changes, long nowMillis) {
        var details = new java.util.HashMap<>(record.details());
        changes.forEach((k, v) -> {
            if (v == null) {
                details.remove(k);
            } else {
                details.put(k, v);
            }
        });
        return new MigrationRecord(record.id(), record.slots(), record.source(), record.target(), record.phase(),
                record.checkpoints(), details, nowMillis);
    }
}

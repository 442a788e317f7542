package io.shardgate.migrator;

import java.time.Duration;

/**
 * A phase step failed in a way a later retry may get past (a shard down, a barrier timeout, lock
 * contention beyond the retries). The message carries the context the status view shows: phase,
 * shard, table, elapsed time and the root cause (with SQLSTATE and error code for SQL errors).
 */
final class PhaseFailedException extends RuntimeException {
    PhaseFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    static PhaseFailedException of(String migrationId, Migrations.Status phase, String where, Duration elapsed, Throwable cause) {
        return new PhaseFailedException("migration " + migrationId + " " + phase + ": " + where + " failed after "
                + elapsed.toMillis() + " ms: " + Causes.describe(cause), cause);
    }
}

package io.shardgate.migrator;

/** The CLI asked for an abort (or rollback) while a phase was running: the phase stops between chunks. */
final class AbortRequestedException extends RuntimeException {
    AbortRequestedException(String migrationId, Migrations.Request request) {
        super("migration " + migrationId + ": " + request.value() + " requested", null, false, false);
    }
}

package io.shardgate.migrator;

/** The worker must stop touching data: it is closing or lost the leadership. Not a migration error. */
final class WorkerStoppedException extends RuntimeException {
    WorkerStoppedException(String message) {
        super(message, null, false, false);
    }
}

package io.shardgate.migrator;

/**
 * A migration cannot go on until an operator acts (missing primary keys, hot keys in the moving
 * slots, slots not owned by the source): the worker marks it FAILED with this message.
 */
final class MigrationRefusedException extends RuntimeException {
    MigrationRefusedException(String message) {
        super(message);
    }
}

package io.shardgate.state;

/**
 * Every failure of a {@link ClusterStore} call. The subclasses are the whole error contract:
 * callers switch on them, and no other exception type escapes a store (runtime bugs aside).
 */
public sealed class StoreException extends RuntimeException
        permits StoreException.NotFound, StoreException.AlreadyExists, StoreException.VersionConflict,
                StoreException.Unavailable, StoreException.Corrupt {

    StoreException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The node read or updated does not exist (cluster not initialised, migration unknown, ...). */
    public static final class NotFound extends StoreException {
        public NotFound(String message) {
            super(message, null);
        }
    }

    /** A create found the node already there (cluster already initialised, migration id taken). */
    public static final class AlreadyExists extends StoreException {
        public AlreadyExists(String message) {
            super(message, null);
        }
    }

    /** A compare-and-set lost: someone changed the node since the caller read it. Re-read and retry. */
    public static final class VersionConflict extends StoreException {
        public VersionConflict(String message) {
            super(message, null);
        }
    }

    /**
     * The store could not be reached in time (connection loss, session expiry, timeout). The call
     * may or may not have taken effect: a write must be verified by reading back before retrying.
     */
    public static final class Unavailable extends StoreException {
        public Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A stored node could not be decoded; the message names the node and the problem. */
    public static final class Corrupt extends StoreException {
        public Corrupt(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

package io.shardgate.proxy.exec;

/**
 * What one backend connection is doing for a client statement, as seen from another thread that must stop it (the
 * statement's deadline, a {@code KILL QUERY} from another client, the client going away): issue 15 item 5.
 */
public interface ShardWork {

    /** The shard, for error messages: {@code shard s0 (127.0.0.1:3306)}. */
    String shard();

    /**
     * Asks the shard to stop the statement this connection runs, leaving the connection usable: {@code KILL QUERY} of
     * its thread id on a side connection (MySQL), a CancelRequest (PostgreSQL). Blocks for at most a few seconds; called
     * on a thread of its own. A shard that is not running anything on the connection ignores it.
     */
    void interrupt() throws Exception;

    /**
     * Cuts the connection, for a shard that does not answer the interrupt (stopped, hung): the statement's thread gets a
     * broken connection at once, and the connection is never lent again. Safe from any thread.
     */
    void abort();

    /** Where connections announce their work while a statement may run on them. */
    interface Tracker {
        /** Starts tracking {@code work}; the handle ends it. */
        Tracked track(ShardWork work);

        /**
         * The error a reply relayed straight to the client must end with instead of the shard's: set once the proxy
         * itself cancelled the statement for a reason the shard does not know (its deadline), else null.
         */
        default io.shardgate.proxy.error.SqlError overridingError() {
            return null;
        }

        /** Tracks nothing: for work no statement owns (probes, tests). */
        Tracker NONE = work -> () -> true;
    }

    /** The end of tracking one connection's work. */
    interface Tracked {
        /**
         * Stops tracking: no interrupt is sent to this connection any more. Waits (briefly) for one already sent to finish,
         * so that it cannot reach the next statement run on it; false if one is still in flight, or the connection was
         * cut, and then the connection must not be reused. Call it before the connection goes back to its pool.
         */
        boolean close();

        /** Whether an interrupt was sent to this work (then {@link #close} may wait for it). */
        default boolean interrupted() {
            return false;
        }

        /**
         * Stops tracking at once if no interrupt was sent to this work, and then no interrupt will be: true. False, and
         * nothing changed, when one was: then {@link #close} must follow, on a thread that may wait. For an event loop,
         * which must not wait: checking {@link #interrupted} before {@link #close} leaves a moment for a cancel between.
         */
        default boolean closeIfUntouched() {
            return !interrupted() && close();
        }
    }
}

package io.shardgate.state;

import java.time.Duration;

/**
 * One participant's place in a leader election for a role (for example the migration worker).
 * At most one participant of a role is leader at a time, as far as the store can tell: with
 * ZooKeeper, a leader whose connection is SUSPENDED stops being leader at once (before the server
 * could expire its session and elect another), so a holder that checks {@link #isLeader()} before
 * each step stops touching shared data promptly.
 *
 * <p>Leadership is not a lock on the data: a leader that was paused (GC, a long SQL statement)
 * may act once more after losing it. Callers therefore also write their records by
 * compare-and-set, which fails once a new leader has written.
 */
public interface Leadership extends AutoCloseable {

    /** The role elected for, e.g. {@code migrator}. */
    String role();

    /** This participant's id (recorded for status views). */
    String participantId();

    /** Whether this participant leads right now. */
    boolean isLeader();

    /**
     * Waits until this participant leads or {@code timeout} passes; returns {@link #isLeader()}.
     *
     * @throws StoreException.Unavailable if the election was closed
     */
    boolean awaitLeadership(Duration timeout) throws InterruptedException;

    /** Id of the current leader, if the store knows one. */
    java.util.Optional<String> currentLeader();

    /** Leaves the election (gives leadership up if held). Idempotent. */
    @Override
    void close();
}

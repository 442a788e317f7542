package io.shardgate.migrator;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link MigrationWorker} runs. Per-migration knobs (chunk rows, rows per second) come from the
 * record's details; {@link #defaultChunkRows} applies when a record names none.
 *
 * @param workerId           this worker's id, recorded in the records it runs and in the leader election
 * @param barrierTimeout     how long a phase change waits for every live proxy to acknowledge its epoch
 * @param pollInterval       how often the leader looks for work when there is none (and a follower for leadership)
 * @param defaultChunkRows   rows per backfill, verify and delete chunk when the record has no {@code chunkRows}
 * @param cutoverRetryBackoff wait after a failed cutover (or any failed step) before trying again
 * @param lockWaitTimeout    InnoDB lock wait timeout of the worker's own sessions: the worker gives way
 *                           to application writes (and breaks cross-shard lock cycles) by timing out
 *                           and retrying its chunk
 * @param connectTimeout     JDBC connect timeout to the shards
 */
public record WorkerSettings(String workerId, Duration barrierTimeout, Duration pollInterval, int defaultChunkRows,
        Duration cutoverRetryBackoff, Duration lockWaitTimeout, Duration connectTimeout, HotKeyPolicy.Settings hotKeyPolicy) {

    public static final Duration DEFAULT_BARRIER_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    public static final int DEFAULT_CHUNK_ROWS = 1000;
    public static final Duration DEFAULT_CUTOVER_RETRY_BACKOFF = Duration.ofSeconds(5);
    public static final Duration DEFAULT_LOCK_WAIT_TIMEOUT = Duration.ofSeconds(3);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    public WorkerSettings {
        Objects.requireNonNull(workerId, "workerId");
        requirePositive("barrierTimeout", barrierTimeout);
        requirePositive("pollInterval", pollInterval);
        requirePositive("cutoverRetryBackoff", cutoverRetryBackoff);
        requirePositive("lockWaitTimeout", lockWaitTimeout);
        requirePositive("connectTimeout", connectTimeout);
        if (workerId.isBlank()) {
            throw new IllegalArgumentException("workerId must not be blank");
        }
        if (defaultChunkRows < 1) {
            throw new IllegalArgumentException("defaultChunkRows must be at least 1, was " + defaultChunkRows);
        }
        if (lockWaitTimeout.toSeconds() < 1) {
            throw new IllegalArgumentException("lockWaitTimeout must be at least 1 s (InnoDB counts whole seconds), was "
                    + lockWaitTimeout.toMillis() + " ms");
        }
    }

    /** The defaults for a worker called {@code workerId}. */
    public static WorkerSettings defaults(String workerId) {
        return new WorkerSettings(workerId, DEFAULT_BARRIER_TIMEOUT, DEFAULT_POLL_INTERVAL, DEFAULT_CHUNK_ROWS,
                DEFAULT_CUTOVER_RETRY_BACKOFF, DEFAULT_LOCK_WAIT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, null);
    }

    public WorkerSettings withBarrierTimeout(Duration timeout) {
        return new WorkerSettings(workerId, timeout, pollInterval, defaultChunkRows, cutoverRetryBackoff, lockWaitTimeout,
                connectTimeout, hotKeyPolicy);
    }

    public WorkerSettings withPollInterval(Duration interval) {
        return new WorkerSettings(workerId, barrierTimeout, interval, defaultChunkRows, cutoverRetryBackoff, lockWaitTimeout,
                connectTimeout, hotKeyPolicy);
    }

    public WorkerSettings withDefaultChunkRows(int rows) {
        return new WorkerSettings(workerId, barrierTimeout, pollInterval, rows, cutoverRetryBackoff, lockWaitTimeout,
                connectTimeout, hotKeyPolicy);
    }

    public WorkerSettings withCutoverRetryBackoff(Duration backoff) {
        return new WorkerSettings(workerId, barrierTimeout, pollInterval, defaultChunkRows, backoff, lockWaitTimeout,
                connectTimeout, hotKeyPolicy);
    }

    /** Runs the automatic hot-key policy with these settings (null: off, the default). */
    public WorkerSettings withHotKeyPolicy(HotKeyPolicy.Settings policy) {
        return new WorkerSettings(workerId, barrierTimeout, pollInterval, defaultChunkRows, cutoverRetryBackoff, lockWaitTimeout,
                connectTimeout, policy);
    }

    private static void requirePositive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
    }
}

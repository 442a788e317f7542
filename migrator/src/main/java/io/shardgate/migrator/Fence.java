package io.shardgate.migrator;

import io.shardgate.state.Leadership;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The worker's permission to touch data and records: it holds while the worker leads and is not
 * stopping. Checked before every chunk and every store write, so a worker that loses leadership
 * (its ZooKeeper connection suspended) stops within one chunk.
 */
final class Fence {
    private final Leadership leadership;
    private final AtomicBoolean stopping = new AtomicBoolean();

    Fence(Leadership leadership) {
        this.leadership = leadership;
    }

    /** @throws WorkerStoppedException when the worker is stopping or no longer leads */
    void check() {
        if (stopping.get()) {
            throw new WorkerStoppedException("worker " + leadership.participantId() + " is stopping");
        }
        if (!leadership.isLeader()) {
            throw new WorkerStoppedException("worker " + leadership.participantId() + " lost the leadership of role "
                    + leadership.role());
        }
    }

    boolean stopping() {
        return stopping.get();
    }

    void stop() {
        stopping.set(true);
    }

    /** Sleeps in short steps, checking the fence, so a stop or a lost leadership ends the wait early. */
    void sleep(Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        while (true) {
            check();
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return;
            }
            try {
                Thread.sleep(Math.min(50, Math.max(1, remaining / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new WorkerStoppedException("worker " + leadership.participantId() + " was interrupted");
            }
        }
    }

    String workerId() {
        return leadership.participantId();
    }
}

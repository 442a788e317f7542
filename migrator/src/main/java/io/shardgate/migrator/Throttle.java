package io.shardgate.migrator;

import java.time.Duration;

/**
 * Keeps the rows written per second at or below a limit by sleeping between chunks (never inside a
 * transaction, so no lock is held while waiting). A limit of 0 means unlimited.
 */
final class Throttle {
    private final long rowsPerSecond;
    private final Fence fence;
    private final long startedNanos = System.nanoTime();
    private long rows;

    Throttle(long rowsPerSecond, Fence fence) {
        this.rowsPerSecond = Math.max(0, rowsPerSecond);
        this.fence = fence;
    }

    void after(long rowsWritten) {
        if (rowsPerSecond == 0 || rowsWritten == 0) {
            return;
        }
        rows += rowsWritten;
        long dueNanos = rows * 1_000_000_000L / rowsPerSecond;
        long aheadNanos = dueNanos - (System.nanoTime() - startedNanos);
        if (aheadNanos > 0) {
            fence.sleep(Duration.ofNanos(aheadNanos));
        }
    }
}

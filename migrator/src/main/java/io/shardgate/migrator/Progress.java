package io.shardgate.migrator;

/** Rows per second and the estimated time left of one phase run, from what this run has done. */
final class Progress {
    private final long startedNanos = System.nanoTime();
    private long rowsThisRun;

    void add(long rows) {
        rowsThisRun += rows;
    }

    long rowsPerSecond() {
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        return seconds <= 0 ? 0 : Math.round(rowsThisRun / seconds);
    }

    /** Seconds left for {@code remainingRows} at the current rate; -1 when the rate is not known yet. */
    long etaSeconds(long remainingRows) {
        long rate = rowsPerSecond();
        return rate == 0 ? -1 : Math.max(0, remainingRows) / rate;
    }
}

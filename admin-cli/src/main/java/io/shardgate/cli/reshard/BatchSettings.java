package io.shardgate.cli.reshard;

/**
 * How the worker should run the migrations of one {@code reshard start}.
 *
 * @param rowsPerSecondLimit backfill and verify throttle, 0 = unlimited
 * @param chunkRows          rows per backfill/verify chunk
 * @param autoComplete       go on from reverse-dual-write to cleanup without {@code reshard complete}
 */
public record BatchSettings(long rowsPerSecondLimit, int chunkRows, boolean autoComplete) {
    public static final int MAX_CHUNK_ROWS = 1_000_000;

    public BatchSettings {
        if (rowsPerSecondLimit < 0) {
            throw new IllegalArgumentException("--rows-per-second must be 0 (unlimited) or more, was " + rowsPerSecondLimit);
        }
        if (chunkRows < 1 || chunkRows > MAX_CHUNK_ROWS) {
            throw new IllegalArgumentException("--chunk-rows must be in 1.." + MAX_CHUNK_ROWS + ", was " + chunkRows);
        }
    }
}

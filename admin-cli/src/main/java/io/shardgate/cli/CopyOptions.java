package io.shardgate.cli;

import io.shardgate.cli.reshard.BatchSettings;
import picocli.CommandLine.Option;

/** How fast the migrator copies and verifies rows: the options of every command that starts migrations. */
final class CopyOptions {
    @Option(names = "--rows-per-second", paramLabel = "N", defaultValue = "0",
            description = "Throttle backfill and verify to N rows per second (default: 0, unlimited).")
    long rowsPerSecond;

    @Option(names = "--chunk-rows", paramLabel = "N", defaultValue = "1000",
            description = "Rows per backfill/verify chunk, 1.." + BatchSettings.MAX_CHUNK_ROWS + " (default: ${DEFAULT-VALUE}).")
    int chunkRows;

    /** The batch settings, or a one-line refusal of bad values. */
    BatchSettings settings(boolean autoComplete) {
        try {
            return new BatchSettings(rowsPerSecond, chunkRows, autoComplete);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }
}

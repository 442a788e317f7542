package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.SequenceDeclaration;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;

/**
 * What the shards' catalogs say about a table's generated column, for the commands that make a table sharded
 * ({@code table add}, {@code table shard}) or declare a sequence ({@code sequence add}): the AUTO_INCREMENT /
 * serial / identity column, and the largest value it has on any shard, above which the cluster sequence starts
 * (rows copied by a migration keep their ids, so the maximum over every shard is what matters).
 */
final class SequenceCatalog {
    static final Duration BARRIER_TIMEOUT = Duration.ofSeconds(10);

    private SequenceCatalog() {}

    /** The generated column of {@code table} on the first shard where the table exists. */
    static Optional<String> generatedColumn(ClusterDefinition cluster, String table) {
        for (ShardDefinition shard : cluster.shards()) {
            try (ShardDatabase db = ShardDatabase.connect(shard)) {
                Optional<String> column = db.generatedColumn(table);
                if (column.isPresent()) {
                    return column;
                }
            } catch (SQLException e) {
                throw new CliException("cannot read the catalog of shard " + shard.name() + " for table " + table + ": "
                        + ShardDatabase.reason(e), e);
            }
        }
        return Optional.empty();
    }

    /** One above the largest value of {@code column} on every shard. */
    static long startAboveRows(ClusterDefinition cluster, String table, String column) {
        long max = 0;
        for (ShardDefinition shard : cluster.shards()) {
            try (ShardDatabase db = ShardDatabase.connect(shard)) {
                max = Math.max(max, db.maxValue(table, column));
            } catch (SQLException e) {
                throw new CliException("cannot read the largest " + column + " of " + table + " on shard " + shard.name()
                        + " (the sequence must start above it): " + ShardDatabase.reason(e), e);
            }
        }
        return Math.addExact(max, 1);
    }

    /** Declares the sequence of {@code table}'s {@code column} starting above its rows (and at {@code start} at least). */
    static SequenceDeclaration.Declared declare(ClusterStore store, String table, String column, long start)
            throws InterruptedException {
        ClusterDefinition cluster = store.readDefinition().value();
        try {
            SequenceDeclaration.requireShardedWithout(cluster, table, column);
            long from = Math.max(start, startAboveRows(cluster, table, column));
            return SequenceDeclaration.declare(store, table, column, from, BARRIER_TIMEOUT);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    /** The line a command prints about a declared sequence. */
    static String describe(SequenceDeclaration.Declared d) {
        return "cluster sequence of " + d.table() + "." + d.column() + ": next id " + d.next() + ", epoch " + d.epoch()
                + (d.live() ? ": every live proxy fills " + d.column() + " from it"
                : ": not every live proxy applied it within " + BARRIER_TIMEOUT.toSeconds() + " s; they will when they catch up");
    }
}

package io.shardgate.migrator;

import io.shardgate.cluster.ShardDefinition;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Deletes the moving slots' rows from one shard in primary-key chunks: from the source after the
 * cleanup barrier (no proxy copies to it any more), from the target after an abort or rollback
 * barrier (no proxy writes to it any more). Resumes from a per-table checkpoint.
 */
final class RowRemover {
    private final MigrationJob job;
    private final String checkpointPrefix;
    private final boolean fromSource;

    /** {@code checkpointPrefix} e.g. {@code cleanup.}; {@code fromSource} picks the shard. */
    RowRemover(MigrationJob job, String checkpointPrefix, boolean fromSource) {
        this.job = job;
        this.checkpointPrefix = checkpointPrefix;
        this.fromSource = fromSource;
    }

    private ShardDefinition shard() {
        return fromSource ? job.sourceShard : job.targetShard;
    }

    private Connection connection() throws java.sql.SQLException {
        return fromSource ? job.source() : job.target();
    }

    void run() {
        for (TableShape table : job.tables()) {
            remove(table);
        }
    }

    /** {@code raced}: fewer rows deleted than read (see {@link #remove}). */
    private record Chunk(int scanned, int deleted, Object[] lastKey, boolean raced) {}

    private void remove(TableShape table) {
        ChunkSql sql = new ChunkSql(table);
        String checkpointKey = checkpointPrefix + table.name();
        String deletedKey = Migrations.ROWS_DELETED + table.name();
        Object[] after = KeyCodec.decode(table, job.record.checkpoint(checkpointKey));
        long deleted = job.record.longDetail(deletedKey, 0);
        while (true) {
            Object[] from = after;
            Chunk chunk = job.sql("delete chunk of " + table.name(), shard(), () -> {
                Connection c = connection();
                List<Row> rows = sql.read(c, from, null, job.chunkRows, ChunkSql.Lock.NONE, job.filter.sqlCondition(table).orElse(null));
                List<Object[]> keys = new ArrayList<>();
                for (Row row : job.filter.moving(table, rows)) {
                    keys.add(row.primaryKey(table));
                }
                int n = sql.delete(c, keys);
                c.commit();
                return new Chunk(rows.size(), n, rows.isEmpty() ? null : rows.getLast().primaryKey(table), n < keys.size());
            });
            deleted += chunk.deleted();
            if (chunk.raced()) {
                // A row read here was deleted under us before our DELETE reached it: a copy made by a client transaction
                // still open at the barrier (delete the key's rows, insert the current image) committed while we waited
                // for its lock. On PostgreSQL the DELETE then skips the old row version and never sees the new one, which
                // would stay behind. Read the same chunk again: the new row is committed and visible now.
                continue;
            }
            if (chunk.lastKey() != null) {
                after = chunk.lastKey();
            }
            boolean last = chunk.scanned() < job.chunkRows;
            if (last || job.checkpointDue()) {
                Map<String, String> checkpoints = after == null ? Map.of() : MigrationJob.map(checkpointKey, KeyCodec.encode(table, after));
                job.record.refresh();
                job.record.checkpoints(checkpoints, MigrationJob.map(deletedKey, Long.toString(deleted)));
            }
            if (last) {
                return;
            }
            job.throttle.after(chunk.deleted());
        }
    }
}

package io.shardgate.migrator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * VERIFY: walks the source in primary-key chunks under share locks, reads the target's rows of the
 * moving slots in the same key range, and repairs the target: a missing or different row gets the
 * source's image, an extra row is deleted. An extra row is first locked on the target and then
 * looked up again on the source under a share lock (a proxy may have inserted it meanwhile and be
 * copying it right now); only if the source still lacks it (or has it in another slot) is it
 * deleted, and a proxy's copy of a later insert waits for the target lock and lands afterwards.
 * Waiting on both shards at once can form a lock cycle no single server sees; the worker's short
 * lock wait timeout breaks it and the chunk is retried.
 */
final class Verifier {
    private final MigrationJob job;
    private final Progress progress = new Progress();
    private long repaired;

    Verifier(MigrationJob job) {
        this.job = job;
        this.repaired = job.record.longDetail(Migrations.ROWS_REPAIRED, 0);
    }

    void run() {
        for (TableShape table : job.tables()) {
            verify(table);
        }
    }

    private record Chunk(int scanned, int verified, int repaired, Object[] lastKey) {}

    private void verify(TableShape table) {
        ChunkSql sql = new ChunkSql(table);
        Object[] after = KeyCodec.decode(table, job.record.checkpoint(Migrations.VERIFY_CHECKPOINT + table.name()));
        long verified = job.record.longDetail(Migrations.ROWS_VERIFIED + table.name(), 0);
        while (true) {
            job.checkRequests();
            Object[] from = after;
            Chunk chunk = job.sql("verify chunk of " + table.name(), job.sourceShard, () -> compareAndRepair(table, sql, from));
            verified += chunk.verified();
            repaired += chunk.repaired();
            progress.add(chunk.verified());
            boolean last = chunk.scanned() < job.chunkRows;
            if (chunk.lastKey() != null) {
                after = chunk.lastKey();
            }
            if (last || job.checkpointDue()) {
                save(table, after, verified);
            }
            if (last) {
                return;
            }
            job.throttle.after(chunk.verified());
        }
    }

    private Chunk compareAndRepair(TableShape table, ChunkSql sql, Object[] after) throws java.sql.SQLException {
        // as in the backfill: an unlocked read bounds the chunk and picks its moving rows, which are read again
        // under share locks (rows of slots that stay are never locked); a moving row inserted in between shows
        // up as an extra target row and is resolved under locks below
        List<Row> sourceRows = sql.read(job.source(), after, null, job.chunkRows, ChunkSql.Lock.NONE,
                job.filter.sqlCondition(table).orElse(null));
        boolean full = sourceRows.size() == job.chunkRows;
        Object[] upTo = full ? sourceRows.getLast().primaryKey(table) : null;
        List<Object[]> keys = job.filter.moving(table, sourceRows).stream().map(r -> r.primaryKey(table)).toList();
        Map<String, Row> expected = new LinkedHashMap<>();
        for (Row row : sql.readKeys(job.source(), keys, ChunkSql.Lock.SHARE)) {
            expected.put(row.keyText(table), row);
        }
        List<Row> upserts = new ArrayList<>();
        List<Object[]> deletes = new ArrayList<>();
        Map<String, Row> seen = new LinkedHashMap<>();
        for (Row row : targetRows(table, sql, after, upTo)) {
            String key = row.keyText(table);
            Row want = expected.get(key);
            if (want == null) {
                resolveExtra(table, sql, row, upserts, deletes);
            } else {
                seen.put(key, row);
                if (!want.sameAs(row)) {
                    upserts.add(want);
                }
            }
        }
        expected.forEach((key, row) -> {
            if (!seen.containsKey(key)) {
                upserts.add(row);
            }
        });
        sql.delete(job.target(), deletes);
        sql.upsert(job.target(), upserts);
        job.commitBoth();
        Object[] last = sourceRows.isEmpty() ? null : sourceRows.getLast().primaryKey(table);
        return new Chunk(sourceRows.size(), expected.size(), upserts.size() + deletes.size(), last);
    }

    /** The target's rows of the moving slots with keys in (after, upTo], read in chunks without locks. */
    private List<Row> targetRows(TableShape table, ChunkSql sql, Object[] after, Object[] upTo) throws java.sql.SQLException {
        List<Row> moving = new ArrayList<>();
        Object[] from = after;
        while (true) {
            List<Row> rows = sql.read(job.target(), from, upTo, job.chunkRows, ChunkSql.Lock.NONE,
                    job.filter.sqlCondition(table).orElse(null));
            moving.addAll(job.filter.moving(table, rows));
            if (rows.size() < job.chunkRows) {
                return moving;
            }
            from = rows.getLast().primaryKey(table);
        }
    }

    private void resolveExtra(TableShape table, ChunkSql sql, Row extra, List<Row> upserts, List<Object[]> deletes)
            throws java.sql.SQLException {
        Object[] key = extra.primaryKey(table);
        if (sql.readKey(job.target(), key, ChunkSql.Lock.UPDATE).isEmpty()) {
            return; // gone meanwhile
        }
        List<Row> now = sql.readKey(job.source(), key, ChunkSql.Lock.SHARE);
        if (!now.isEmpty() && job.filter.moving(table, now.getFirst())) {
            upserts.add(now.getFirst());
        } else {
            deletes.add(key);
        }
    }

    private void save(TableShape table, Object[] after, long verified) {
        Map<String, String> details = MigrationJob.map(
                Migrations.ROWS_VERIFIED + table.name(), Long.toString(verified),
                Migrations.ROWS_REPAIRED, Long.toString(repaired),
                Migrations.ROWS_PER_SECOND, Long.toString(progress.rowsPerSecond()));
        Map<String, String> checkpoints = after == null ? Map.of()
                : MigrationJob.map(Migrations.VERIFY_CHECKPOINT + table.name(), KeyCodec.encode(table, after));
        job.checkpoint(checkpoints, details);
    }
}

package io.shardgate.migrator;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * BACKFILL: copies the moving slots' rows of every sharded table in primary-key chunks. Each chunk
 * is read on the source without locks to pick its moving rows, those are read again under share
 * locks (their current image; a row deleted meanwhile is gone, a row inserted meanwhile was copied by
 * its dual write), upserted into the target, the target commits and then the source: a proxy's dual
 * write of a row and the chunk that copies it therefore serialise, and whichever comes second writes
 * the row's current image. Rows of slots that stay are never locked. Resumes from the last key
 * checkpointed per table (re-copying a chunk is harmless: the upsert is idempotent).
 */
final class Backfill {
    private final MigrationJob job;
    private final Progress progress = new Progress();

    Backfill(MigrationJob job) {
        this.job = job;
    }

    void run() {
        List<TableShape> tables = job.tables();
        estimateTotals(tables);
        for (TableShape table : tables) {
            copy(table);
        }
    }

    private void estimateTotals(List<TableShape> tables) {
        Map<String, String> totals = MigrationJob.map();
        for (TableShape table : tables) {
            if (job.record.detail(Migrations.ROWS_TOTAL + table.name()) == null) {
                long rows = job.sql("count rows of " + table.name(), job.sourceShard, () -> count(table));
                long estimate = Math.round((double) rows * job.filter.slots().size() / job.record.slotsOwnedBy(job.sourceShard.name()));
                totals.put(Migrations.ROWS_TOTAL + table.name(), Long.toString(estimate));
            }
        }
        if (!totals.isEmpty()) {
            job.record.details(totals);
        }
    }

    private long count(TableShape table) throws SQLException {
        // the server's estimate: a COUNT(*) scans the table, which took seconds on a busy shard for a figure
        // that only feeds the ETA
        try (java.sql.PreparedStatement st = job.source().prepareStatement(table.sql().rowEstimateQuery())) {
            st.setString(1, table.name());
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? Math.max(0, rs.getLong(1)) : 0;
            }
        } finally {
            job.source().commit();
        }
    }

    private record Chunk(int scanned, int copied, Object[] lastKey) {}

    private void copy(TableShape table) {
        ChunkSql sql = new ChunkSql(table);
        String prefilter = job.filter.sqlCondition(table).orElse(null);
        String checkpointKey = Migrations.BACKFILL_CHECKPOINT + table.name();
        Object[] after = KeyCodec.decode(table, job.record.checkpoint(checkpointKey));
        long copied = job.record.longDetail(Migrations.ROWS_COPIED + table.name(), 0);
        while (true) {
            job.checkRequests();
            Object[] from = after;
            Chunk chunk = job.sql("backfill chunk of " + table.name(), job.sourceShard, () -> {
                // first an unlocked read picks the chunk's moving rows, then only those are read again under
                // share locks: rows of slots that stay are never locked, so their writers never wait for the copy
                List<Row> rows = sql.read(job.source(), from, null, job.chunkRows, ChunkSql.Lock.NONE, prefilter);
                List<Object[]> keys = job.filter.moving(table, rows).stream().map(r -> r.primaryKey(table)).toList();
                List<Row> moving = sql.readKeys(job.source(), keys, ChunkSql.Lock.SHARE);
                sql.upsert(job.target(), moving);
                job.commitBoth();
                return new Chunk(rows.size(), moving.size(), rows.isEmpty() ? null : rows.getLast().primaryKey(table));
            });
            if (chunk.scanned() == 0) {
                break;
            }
            after = chunk.lastKey();
            copied += chunk.copied();
            progress.add(chunk.copied());
            boolean last = chunk.scanned() < job.chunkRows;
            if (last || job.checkpointDue()) {
                save(table, after, copied);
            }
            if (last) {
                break;
            }
            job.throttle.after(chunk.copied());
        }
        save(table, after, copied);
    }

    private void save(TableShape table, Object[] after, long copied) {
        Map<String, String> details = MigrationJob.map(
                Migrations.ROWS_COPIED + table.name(), Long.toString(copied),
                Migrations.ROWS_PER_SECOND, Long.toString(progress.rowsPerSecond()),
                Migrations.ETA_SECONDS, Long.toString(progress.etaSeconds(remaining(table.name(), copied))));
        Map<String, String> checkpoints = after == null ? Map.of()
                : MigrationJob.map(Migrations.BACKFILL_CHECKPOINT + table.name(), KeyCodec.encode(table, after));
        job.checkpoint(checkpoints, details);
    }

    /** Estimated rows left over all tables, counting this table's rows copied so far. */
    private long remaining(String currentTable, long copiedOfCurrent) {
        long remaining = 0;
        for (var e : job.record.record().details().entrySet()) {
            if (e.getKey().startsWith(Migrations.ROWS_TOTAL)) {
                String table = e.getKey().substring(Migrations.ROWS_TOTAL.length());
                long total = Migrations.longDetail(job.record.record(), e.getKey(), 0);
                long copied = table.equals(currentTable) ? copiedOfCurrent
                        : Migrations.longDetail(job.record.record(), Migrations.ROWS_COPIED + table, 0);
                remaining += Math.max(0, total - copied);
            }
        }
        return remaining;
    }
}

package io.shardgate.migrator;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.ShardDefinition;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one run of one migration uses: its record, the cluster definition, sessions to the
 * source and the target (opened on first use, closed with the job), the tables, the throttle, and
 * the SQL retry rule. A job lives for one {@code advance} of the worker; the next one starts fresh
 * from the record, which is what makes a crashed or replaced worker resumable.
 */
final class MigrationJob implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationJob.class);
    private static final int ER_LOCK_WAIT_TIMEOUT = 1205;
    /** PostgreSQL's lock_timeout expired (the worker's counterpart of MySQL's lock wait timeout). */
    private static final String PG_LOCK_NOT_AVAILABLE = "55P03";
    private static final int ER_LOCK_DEADLOCK = 1213;
    private static final int SQL_ATTEMPTS = 6;
    private static final long CHECKPOINT_EVERY_MILLIS = 1000;

    final RecordHandle record;
    final ClusterDefinition definition;
    final Fence fence;
    final WorkerSettings settings;
    final ShardDefinition sourceShard;
    final ShardDefinition targetShard;
    final SlotFilter filter;
    /** The tables this migration moves ({@link Migrations#TABLES}); empty for every sharded table. */
    final List<String> scope;
    final int chunkRows;
    final Throttle throttle;
    private final ShardConnections connections;
    private Connection source;
    private Connection target;
    private Catalog catalog;
    private long lastCheckpointMillis = System.currentTimeMillis();

    MigrationJob(RecordHandle record, ClusterDefinition definition, Fence fence, WorkerSettings settings) {
        this.record = record;
        this.definition = definition;
        this.fence = fence;
        this.settings = settings;
        this.sourceShard = shard(definition, record.record().source(), record.id());
        this.targetShard = shard(definition, record.record().target(), record.id());
        this.scope = Migrations.tableScope(record.record());
        this.filter = new SlotFilter(new java.util.HashSet<>(record.record().slots()), definition.slots());
        long chunk = record.longDetail(Migrations.CHUNK_ROWS, settings.defaultChunkRows());
        this.chunkRows = (int) Math.max(1, Math.min(chunk <= 0 ? settings.defaultChunkRows() : chunk, 100_000));
        this.throttle = new Throttle(record.longDetail(Migrations.ROWS_PER_SECOND_LIMIT, 0), fence);
        this.connections = new ShardConnections(settings.connectTimeout(), settings.lockWaitTimeout());
    }

    private static ShardDefinition shard(ClusterDefinition definition, String name, String migrationId) {
        return definition.shard(name).orElseThrow(() -> new MigrationRefusedException(
                "migration " + migrationId + ": shard " + name + " is not in the cluster definition (shards: "
                        + definition.shardNames() + ")"));
    }

    Connection source() throws SQLException {
        if (source == null) {
            source = connections.open(sourceShard);
        }
        return source;
    }

    Connection target() throws SQLException {
        if (target == null) {
            target = connections.open(targetShard);
        }
        return target;
    }

    /** The sharded tables as the source has them (read once per job). */
    Catalog catalog() throws SQLException {
        if (catalog == null) {
            catalog = Catalog.read(source(), definition, scope);
        }
        return catalog;
    }

    List<TableShape> tables() {
        return sql("read tables", sourceShard, () -> catalog().tables());
    }

    @FunctionalInterface
    interface SqlWork<T> {
        T run() throws SQLException;
    }

    /**
     * Runs {@code work} (one chunk: its own transactions on source and target), rolling both back
     * and retrying on deadlock, lock wait timeout and other transient errors; anything else, or too
     * many retries, becomes a {@link PhaseFailedException} naming the step, the shard and the time.
     */
    <T> T sql(String step, ShardDefinition shard, SqlWork<T> work) {
        long started = System.nanoTime();
        for (int attempt = 1; ; attempt++) {
            fence.check();
            try {
                return work.run();
            } catch (SQLException e) {
                rollbackQuietly();
                if (!transientError(e) || attempt >= SQL_ATTEMPTS) {
                    throw PhaseFailedException.of(record.id(), record.status(), step + " on shard " + shard.name()
                            + " (attempt " + attempt + ")", Duration.ofNanos(System.nanoTime() - started), e);
                }
                LOG.info("migration {}: {} hit {} (error {}); retrying (attempt {})", record.id(), step, e.getMessage(),
                        e.getErrorCode(), attempt + 1);
                fence.sleep(Duration.ofMillis(50L * attempt));
            }
        }
    }

    static boolean transientError(SQLException e) {
        for (SQLException s = e; s != null; s = s.getNextException()) {
            if (s.getErrorCode() == ER_LOCK_DEADLOCK || s.getErrorCode() == ER_LOCK_WAIT_TIMEOUT || s instanceof SQLTransientException
                    || (s.getSQLState() != null && (s.getSQLState().startsWith("40") || s.getSQLState().equals(PG_LOCK_NOT_AVAILABLE)))) {
                return true;
            }
        }
        return false;
    }

    private void rollbackQuietly() {
        for (Connection c : new Connection[] {target, source}) {
            if (c != null) {
                try {
                    c.rollback();
                } catch (SQLException e) {
                    LOG.debug("rollback after a failed chunk failed", e);
                }
            }
        }
    }

    /** Commits the target first, then the source: the source's share locks cover the copy until it is durable. */
    void commitBoth() throws SQLException {
        target().commit();
        source().commit();
    }

    /** Whether a checkpoint is due (about once a second). */
    boolean checkpointDue() {
        return System.currentTimeMillis() - lastCheckpointMillis >= CHECKPOINT_EVERY_MILLIS;
    }

    /**
     * Writes checkpoints and progress details, then looks for a request from the CLI: an abort (or
     * rollback) stops the phase here, between chunks.
     */
    void checkpoint(Map<String, String> checkpoints, Map<String, String> details) {
        record.refresh();
        checkRequests();
        record.checkpoints(checkpoints, details);
        lastCheckpointMillis = System.currentTimeMillis();
    }

    void checkRequests() {
        record.request().filter(r -> r == Migrations.Request.ABORT || r == Migrations.Request.ROLLBACK)
                .ifPresent(r -> {
                    throw new AbortRequestedException(record.id(), r);
                });
    }

    static Map<String, String> map(String... keyValues) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put(keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    @Override
    public void close() {
        for (Connection c : new Connection[] {source, target}) {
            if (c != null) {
                try {
                    c.rollback();
                    c.close();
                } catch (SQLException e) {
                    LOG.debug("closing a shard session of migration {} failed", record.id(), e);
                }
            }
        }
    }
}

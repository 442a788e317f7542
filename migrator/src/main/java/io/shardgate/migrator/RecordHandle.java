package io.shardgate.migrator;

import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.StoreException;
import io.shardgate.state.Versioned;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The worker's view of one migration record, written by compare-and-set. The CLI only ever changes
 * {@link Migrations#REQUEST}; on a version conflict the worker re-reads and applies its change to the
 * fresh record, so requests are never overwritten. Every write first checks the {@link Fence}.
 */
final class RecordHandle {
    private final ClusterStore store;
    private final Fence fence;
    private Versioned<MigrationRecord> current;

    RecordHandle(ClusterStore store, Fence fence, Versioned<MigrationRecord> current) {
        this.store = store;
        this.fence = fence;
        this.current = current;
    }

    MigrationRecord record() {
        return current.value();
    }

    String id() {
        return current.value().id();
    }

    Migrations.Status status() {
        return Migrations.Status.of(current.value());
    }

    Optional<Migrations.Request> request() {
        return Migrations.Request.of(current.value());
    }

    String detail(String key) {
        return current.value().details().get(key);
    }

    String checkpoint(String key) {
        return current.value().checkpoints().get(key);
    }

    long longDetail(String key, long fallback) {
        return Migrations.longDetail(current.value(), key, fallback);
    }

    /** Re-reads the record (to see new requests). */
    void refresh() {
        fence.check();
        current = store.readMigration(id()).orElseThrow(
                () -> new StoreException.NotFound("migration " + id() + " was deleted while running"));
    }

    /** Applies {@code change} by compare-and-set, re-reading and re-applying on conflict. */
    void update(UnaryOperator<MigrationRecord> change) {
        for (int attempt = 0; ; attempt++) {
            fence.check();
            MigrationRecord next = change.apply(current.value());
            try {
                int version = store.casMigration(next, current.version());
                current = new Versioned<>(next, version);
                return;
            } catch (StoreException.VersionConflict conflict) {
                if (attempt >= 20) {
                    throw conflict;
                }
                refresh();
            }
        }
    }

    /** Sets the status (phase field), stamps the phase start and clears the last error. */
    void enter(Migrations.Status status, Map<String, String> details) {
        Map<String, String> changes = new HashMap<>();
        changes.put(Migrations.PHASE_STARTED_AT_MILLIS, Long.toString(System.currentTimeMillis()));
        changes.put(Migrations.LAST_ERROR, null);
        changes.put(Migrations.WORKER, fence.workerId());
        changes.putAll(details);
        update(r -> withDetails(withPhase(r, status.name()), changes));
    }

    void details(Map<String, String> changes) {
        update(r -> withDetails(r, changes));
    }

    void checkpoints(Map<String, String> changes, Map<String, String> details) {
        update(r -> withDetails(withCheckpoints(r, changes), details));
    }

    static MigrationRecord withPhase(MigrationRecord r, String phase) {
        return new MigrationRecord(r.id(), r.slots(), r.source(), r.target(), phase, r.checkpoints(), r.details(),
                System.currentTimeMillis());
    }

    static MigrationRecord withDetails(MigrationRecord r, Map<String, String> changes) {
        return Migrations.withDetails(r, changes, System.currentTimeMillis());
    }

    static MigrationRecord withCheckpoints(MigrationRecord r, Map<String, String> changes) {
        Map<String, String> checkpoints = new HashMap<>(r.checkpoints());
        changes.forEach((k, v) -> {
            if (v == null) {
                checkpoints.remove(k);
            } else {
                checkpoints.put(k, v);
            }
        });
        return new MigrationRecord(r.id(), r.slots(), r.source(), r.target(), r.phase(), checkpoints, r.details(),
                System.currentTimeMillis());
    }

    /** Slots {@code shard} owns in the current slot map (at least 1), for row estimates. */
    int slotsOwnedBy(String shard) {
        return Math.max(1, store.readSlotMap().value().slotCounts().getOrDefault(shard, 0));
    }
}

package io.shardgate.migrator;

import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.MigrationRecord;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks made before the slots are published as moving; a refusal leaves the slot map untouched.
 * <ul>
 *   <li>the slots belong to the source and no other move has them;</li>
 *   <li>no split (hot) key has a sub-key in the moving slots: a split key's rows follow its
 *       sub-keys' slots, which one slot move cannot carry; merge it first;</li>
 *   <li>every sharded table on the source has a primary key (the chunk walk and the upsert need one)
 *       and its shard-key column;</li>
 *   <li>tables missing on the target are created as the source has them ({@code SHOW CREATE TABLE}; on PostgreSQL
 *       rebuilt from the catalog, see {@link ShardSql#POSTGRES});</li>
 *   <li>on PostgreSQL shards, the slot function the proxies' shadow filters call is installed on source and
 *       target ({@link PgSlotFunction}).</li>
 * </ul>
 */
final class Preflight {
    private final MigrationJob job;

    Preflight(MigrationJob job) {
        this.job = job;
    }

    /** Runs the checks; returns the tables created on the target. */
    List<String> run(SlotMap map) {
        MigrationRecord r = job.record.record();
        checkTableShardings(r, map);
        SlotMap view = SlotMapPublisher.view(map, r);
        checkSlots(r, view);
        if (job.scope.isEmpty()) {
            checkSplitKeys(r, map);
        }
        Catalog catalog = job.sql("read tables", job.sourceShard, job::catalog);
        if (!catalog.withoutPrimaryKey().isEmpty() || !catalog.withoutShardKey().isEmpty()) {
            List<String> problems = new ArrayList<>();
            if (!catalog.withoutPrimaryKey().isEmpty()) {
                problems.add("tables without a primary key on source shard " + r.source() + ": "
                        + String.join(", ", catalog.withoutPrimaryKey()));
            }
            if (!catalog.withoutShardKey().isEmpty()) {
                problems.add("tables without their shard-key column on source shard " + r.source() + ": "
                        + String.join(", ", catalog.withoutShardKey()));
            }
            throw new MigrationRefusedException("migration " + r.id() + " refused: " + String.join("; ", problems)
                    + " (add them, then abort and start the move again)");
        }
        if (job.sql("read the server kind", job.sourceShard, () -> ShardSql.of(job.source())) == ShardSql.POSTGRES) {
            // the proxies' shadow filters compute slots on the target while the slots move (and on the source after a
            // rollback makes it the shadow): both need the slot function before the first dual write
            job.sql("install the slot function", job.sourceShard, () -> installSlotFunction(job.source()));
            job.sql("install the slot function", job.targetShard, () -> installSlotFunction(job.target()));
        }
        return job.sql("create missing tables", job.targetShard, () -> createMissing(catalog));
    }

    private static Void installSlotFunction(Connection c) throws java.sql.SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(io.shardgate.slot.SlotFunction.POSTGRES_DEFINITION);
        }
        c.commit();
        return null;
    }

    /**
     * A slot move and a table sharding cannot overlap: the sharding's moves go to the slots' owners, which a slot
     * move changes; and a table-scoped migration waits for slot moves in the same way.
     */
    private void checkTableShardings(MigrationRecord r, SlotMap map) {
        if (job.scope.isEmpty() && !map.tableShardings().isEmpty()) {
            throw new MigrationRefusedException("migration " + r.id() + " refused: tables are being sharded in place ("
                    + String.join("; ", map.tableShardings().values().stream().map(t -> t.tables() + " from " + t.home()).toList())
                    + "); move slots once 'table shard' has ended");
        }
        if (!job.scope.isEmpty()) {
            var others = map.movingSlots().values().stream().map(m -> m.migrationId()).distinct().toList();
            if (!others.isEmpty()) {
                throw new MigrationRefusedException("migration " + r.id() + " refused: slots are moving in migrations " + others
                        + "; shard tables " + job.scope + " once they have ended");
            }
        }
    }

    private static void checkSlots(MigrationRecord r, SlotMap map) {
        List<String> problems = new ArrayList<>();
        for (int slot : r.slots()) {
            if (slot < 0 || slot >= map.slotCount()) {
                problems.add("slot " + slot + " is outside 0.." + (map.slotCount() - 1));
                continue;
            }
            var moving = map.moving(slot);
            if (moving.isPresent() && !moving.get().migrationId().equals(r.id())) {
                problems.add("slot " + slot + " is moving in migration " + moving.get().migrationId());
            } else if (moving.isEmpty() && !map.owner(slot).equals(r.source())) {
                problems.add("slot " + slot + " belongs to " + map.owner(slot) + ", not to the source " + r.source());
            }
        }
        if (!problems.isEmpty()) {
            throw new MigrationRefusedException("migration " + r.id() + " refused: " + String.join("; ", problems));
        }
    }

    private static void checkSplitKeys(MigrationRecord r, SlotMap map) {
        Set<Integer> slots = new HashSet<>(r.slots());
        List<String> hot = new ArrayList<>();
        for (SplitKey key : map.splitKeys()) {
            for (int i = 0; i < key.k(); i++) {
                if (slots.contains(key.slot(i, map.slotCount()))) {
                    hot.add(key.table() + " key " + key.key() + " (k=" + key.k() + ")");
                    break;
                }
            }
        }
        if (!hot.isEmpty()) {
            throw new MigrationRefusedException("migration " + r.id() + " refused: split keys have sub-keys in the moving slots: "
                    + String.join(", ", hot) + " (merge them first)");
        }
    }

    private List<String> createMissing(Catalog catalog) throws java.sql.SQLException {
        Connection target = job.target();
        Map<String, String> existing = Catalog.tableNames(target);
        List<String> created = new ArrayList<>();
        for (TableShape table : catalog.tables()) {
            if (existing.containsKey(table.name().toLowerCase(java.util.Locale.ROOT))) {
                continue;
            }
            try (Statement st = target.createStatement()) {
                for (String ddl : Catalog.createStatements(job.source(), table.name())) {
                    st.execute(ddl);
                }
            }
            target.commit();
            created.add(table.name());
        }
        return created;
    }
}

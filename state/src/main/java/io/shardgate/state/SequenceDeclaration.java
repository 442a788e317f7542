package io.shardgate.state;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.slot.SlotMap;
import java.time.Duration;
import java.util.Objects;

/**
 * Declares that the proxies fill a sharded table's column from its cluster sequence: the one place where a
 * sequence comes to life, used by the proxy when CREATE TABLE makes one and by {@code shardgate sequence add},
 * {@code table add}, {@code table shard} and {@code cluster adopt}.
 *
 * <p>Steps, in an order that never lets an id be handed out twice: (1) the sequence node is created at
 * {@code start}, or moved up to it (never down: ids already reserved stay reserved); (2) the definition says the
 * table has the sequence (compare-and-set); (3) the slot map is published again with the next epoch and every
 * live proxy is awaited, so that when this returns with {@code live}, every proxy fills the column.
 */
public final class SequenceDeclaration {
    private static final int CAS_ATTEMPTS = 20;

    /** What was declared: the sequence's next id after the declaration, and the epoch that carries it. */
    public record Declared(String table, String column, long next, long epoch, boolean live) {}

    private SequenceDeclaration() {}

    /**
     * @param start the first id the sequence may hand out (one above the column's largest value on every shard)
     * @throws IllegalArgumentException when the table is not a declared sharded table, or has a sequence on another column
     */
    public static Declared declare(ClusterStore store, String table, String column, long start, Duration barrier)
            throws InterruptedException {
        Objects.requireNonNull(store, "store");
        String name = table.toLowerCase(java.util.Locale.ROOT);
        String col = column.toLowerCase(java.util.Locale.ROOT);
        if (start < 1) {
            throw new IllegalArgumentException("a sequence starts at 1 or above, not " + start);
        }
        requireShardedWithout(store.readDefinition().value(), name, col);
        long next = raiseTo(store, name, start);
        for (int attempt = 1; ; attempt++) {
            Versioned<ClusterDefinition> current = store.readDefinition();
            TableDefinition t = requireShardedWithout(current.value(), name, col);
            if (col.equals(t.sequence())) {
                break;
            }
            try {
                store.casDefinition(current.value().withTable(t.withSequence(col)), current.version());
                break;
            } catch (StoreException.VersionConflict e) {
                if (attempt == CAS_ATTEMPTS) {
                    throw e;
                }
            }
        }
        long epoch = nextEpoch(store);
        try {
            store.awaitEpoch(epoch, barrier);
            return new Declared(name, col, next, epoch, true);
        } catch (BarrierTimeoutException e) {
            return new Declared(name, col, next, epoch, false);
        }
    }

    /** Creates the sequence at {@code start} or moves it up to {@code start}; returns its next id. */
    public static long raiseTo(ClusterStore store, String table, long start) {
        for (int attempt = 1; ; attempt++) {
            var stored = store.readSequence(table);
            try {
                if (stored.isEmpty()) {
                    store.writeSequence(table, start, -1);
                    return start;
                }
                if (stored.get().value() >= start) {
                    return stored.get().value();
                }
                store.writeSequence(table, start, stored.get().version());
                return start;
            } catch (StoreException.VersionConflict | StoreException.AlreadyExists e) {
                if (attempt == CAS_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /**
     * The table's definition, when {@code column} may get a sequence: the table is declared sharded and has no sequence on
     * another column.
     *
     * @throws IllegalArgumentException naming the reason otherwise
     */
    public static TableDefinition requireShardedWithout(ClusterDefinition cluster, String table, String column) {
        TableDefinition t = cluster.table(table).orElseThrow(() -> new IllegalArgumentException("table " + table
                + " is not declared; declare it sharded first ('shardgate table add " + table + " --kind sharded …')"));
        if (t.kind() != TableKind.SHARDED) {
            throw new IllegalArgumentException("table " + table + " is " + t.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + ": its rows live on one server, whose own AUTO_INCREMENT or sequence already gives unique ids;"
                    + " only sharded tables need a cluster sequence");
        }
        if (t.sequence() != null && !t.sequence().equals(column)) {
            throw new IllegalArgumentException("table " + table + " already has a cluster sequence on column " + t.sequence()
                    + "; a table has at most one");
        }
        return t;
    }

    private static long nextEpoch(ClusterStore store) {
        for (int attempt = 1; ; attempt++) {
            Versioned<SlotMap> map = store.readSlotMap();
            long epoch = map.value().epoch() + 1;
            try {
                store.casSlotMap(map.value().withEpoch(epoch), map.version());
                return epoch;
            } catch (StoreException.VersionConflict e) {
                if (attempt == CAS_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }
}

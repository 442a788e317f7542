package io.shardgate.state;

import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One proxy's ids from the cluster sequences (DESIGN.md, "Right or refused: Generated ids"): each
 * table's sequence in the store holds the first id nobody has reserved, and a proxy reserves a block
 * of {@link #blockSize} ids from it by compare-and-set, then hands them out from memory. So ids are
 * unique across proxies, restarts and slot moves (the sequence is cluster state), and increase per
 * proxy (every new block starts above every id reserved before it), with one store write per block.
 * The ids of a block a proxy has not handed out when it stops are never used: ids have gaps, as
 * MySQL's and PostgreSQL's own have after a restart or a rollback.
 *
 * <p>One statement's ids are consecutive ({@link #reserve} with a count): Connector/J computes the
 * keys of a multi-row INSERT as the OK packet's id plus 1, 2, … When the rest of the block is too
 * short, it is dropped and a new run starts (a gap, never a reorder).
 *
 * <p>An explicit id a client gives is accepted as the server would and {@link #movePast} moves this
 * proxy past it, as MySQL's AUTO_INCREMENT moves past an explicit larger value: within the block the
 * next ids skip it; above the block a new block starts above it (one store write per block of such
 * ids). Ids that other proxies have already reserved are not revoked: an explicit id that falls into
 * another proxy's block can meet a later generated one (a duplicate-key error where the column is the
 * shard key or unique per shard). Applications that mix explicit and generated ids should give
 * explicit ids below the sequence's start.
 *
 * <p>Thread-safe; calls for one table serialise on that table's block. Store failures propagate as
 * {@link StoreException}s (the statement is refused, nothing ran).
 */
public final class SequenceBlocks {
    public static final int DEFAULT_BLOCK_SIZE = 1000;
    private static final int CAS_ATTEMPTS = 100;

    private final ClusterStore store;
    private final int blockSize;
    private final ConcurrentHashMap<String, Block> blocks = new ConcurrentHashMap<>();

    /** The ids {@code [next, end)} this proxy reserved and has not handed out. */
    private static final class Block {
        long next;
        long end;
    }

    public SequenceBlocks(ClusterStore store, int blockSize) {
        this.store = Objects.requireNonNull(store, "store");
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be at least 1, was " + blockSize);
        }
        this.blockSize = blockSize;
    }

    public int blockSize() {
        return blockSize;
    }

    /**
     * Returns the first of {@code count} consecutive new ids of {@code table}'s sequence.
     *
     * @throws StoreException.NotFound when the table has no sequence
     */
    public long reserve(String table, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1, was " + count);
        }
        Block b = blocks.computeIfAbsent(table, t -> new Block());
        synchronized (b) {
            if (b.end - b.next < count) {
                refill(table, b, Long.MIN_VALUE, Math.max(blockSize, count));
            }
            long first = b.next;
            b.next += count;
            return first;
        }
    }

    /** Moves this proxy's ids of {@code table} past {@code value}, an id a client gave explicitly. */
    public void movePast(String table, long value) {
        Block b = blocks.computeIfAbsent(table, t -> new Block());
        synchronized (b) {
            if (value < b.next || value == Long.MAX_VALUE) {
                return;
            }
            if (value < b.end) {
                b.next = value + 1;
                return;
            }
            refill(table, b, value + 1, blockSize);
        }
    }

    /** Forgets the block of {@code table} (its sequence was replaced or removed): the next id comes from the store. */
    public void forget(String table) {
        blocks.remove(table);
    }

    /** Reserves {@code size} ids starting at the stored next id, or at {@code atLeast} when that is higher. */
    private void refill(String table, Block b, long atLeast, int size) {
        for (int attempt = 1; ; attempt++) {
            Versioned<Long> stored = store.readSequence(table).orElseThrow(() -> new StoreException.NotFound(
                    "table " + table + " has no cluster sequence (cluster " + store.clusterName() + ")"));
            long start = Math.max(stored.value(), atLeast);
            long end = Math.addExact(start, size);
            try {
                store.writeSequence(table, end, stored.version());
                b.next = start;
                b.end = end;
                return;
            } catch (StoreException.VersionConflict e) {
                if (attempt == CAS_ATTEMPTS) {
                    throw new StoreException.Unavailable("the sequence of " + table + " kept changing: " + CAS_ATTEMPTS
                            + " attempts to reserve ids lost the compare-and-set (cluster " + store.clusterName() + ")", e);
                }
                Thread.onSpinWait();
            }
        }
    }
}

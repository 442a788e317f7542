package io.shardgate.migrator;

import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.StoreException;
import io.shardgate.state.Versioned;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * Publishes one migration's slots in the slot map (compare-and-set, epoch + 1, re-read and retry on
 * conflict: other migrations and hot-key splits write the same map) and waits for the proxies'
 * acknowledgement. Publishing is idempotent: a map that already shows the wanted state is left
 * alone and only the barrier is awaited, which is what a resumed worker needs.
 */
final class SlotMapPublisher {
    private final ClusterStore store;
    private final Fence fence;
    private final Duration barrierTimeout;

    SlotMapPublisher(ClusterStore store, Fence fence, Duration barrierTimeout) {
        this.store = store;
        this.fence = fence;
        this.barrierTimeout = barrierTimeout;
    }

    /** The slots move in {@code phase}; returns the epoch that shows it. */
    long publishMoving(MigrationRecord r, MigrationPhase phase) {
        MovingSlot move = new MovingSlot(r.id(), phase, r.source(), r.target());
        return publish(map -> shows(view(map, r), r.slots(), move), (map, epoch) -> scopedSharding(map, r)
                .map(t -> map.withTableSharding(epoch, t.withMoving(r.slots(), move)))
                .orElseGet(() -> map.withMoving(epoch, r.slots(), move)));
    }

    /** The slots no longer move and belong to {@code owner}; returns the epoch that shows it. */
    long publishSettled(MigrationRecord r, String owner) {
        return publish(map -> settled(view(map, r), r.slots(), owner), (map, epoch) -> scopedSharding(map, r)
                .map(t -> map.withTableSharding(epoch, t.withSettled(r.slots(), owner)))
                .orElseGet(() -> map.withOwner(epoch, r.slots(), owner)));
    }

    /** The current slot map as the migration's tables see it. */
    SlotMap view(MigrationRecord r) {
        return view(current(), r);
    }

    /**
     * The slot map as a migration's tables see it: the map itself for a slot move, the view of the table sharding of
     * its tables for a table-scoped one (the map itself once that sharding has ended: every slot is with its owner).
     */
    static SlotMap view(SlotMap map, MigrationRecord r) {
        return scopedSharding(map, r).map(map::forTableSharding).orElse(map);
    }

    /**
     * The table sharding a table-scoped migration works in; empty for a slot move. A scoped migration whose tables
     * have no table sharding any more can only be settled (checked by {@link #settled}), not moved again.
     */
    static java.util.Optional<io.shardgate.slot.TableSharding> scopedSharding(SlotMap map, MigrationRecord r) {
        List<String> scope = Migrations.tableScope(r);
        if (scope.isEmpty()) {
            return java.util.Optional.empty();
        }
        var sharding = map.tableSharding(scope.getFirst());
        if (sharding.isEmpty()) {
            if (settled(map, r.slots(), r.target())) {
                return java.util.Optional.empty();
            }
            throw new MigrationRefusedException("migration " + r.id() + " moves tables " + scope + " but the slot map has no table"
                    + " sharding for them (was 'table shard' undone?)");
        }
        if (!sharding.get().tables().equals(scope) || !sharding.get().home().equals(r.source())) {
            throw new MigrationRefusedException("migration " + r.id() + " moves tables " + scope + " from " + r.source()
                    + " but the slot map shards tables " + sharding.get().tables() + " from " + sharding.get().home());
        }
        return sharding;
    }

    SlotMap current() {
        return store.readSlotMap().value();
    }

    /** Waits until every live proxy routes with {@code epoch} or later. */
    void barrier(long epoch) throws InterruptedException {
        fence.check();
        store.awaitEpoch(epoch, barrierTimeout);
    }

    Duration barrierTimeout() {
        return barrierTimeout;
    }

    static boolean shows(SlotMap map, List<Integer> slots, MovingSlot move) {
        return slots.stream().allMatch(s -> map.moving(s).filter(move::equals).isPresent());
    }

    static boolean settled(SlotMap map, List<Integer> slots, String owner) {
        return slots.stream().allMatch(s -> map.moving(s).isEmpty() && map.owner(s).equals(owner));
    }

    @FunctionalInterface
    interface Change {
        SlotMap apply(SlotMap map, long newEpoch);
    }

    private long publish(Predicate<SlotMap> done, Change change) {
        return publish(store, fence::check, done, change);
    }

    /**
     * The compare-and-set loop every slot-map writer of the migrator uses: re-read, stop if
     * {@code done} already holds, run {@code check} on the map (it may throw to refuse), apply
     * {@code change} with epoch + 1, retry on a version conflict (up to 50 times).
     */
    static long publish(ClusterStore store, Runnable beforeEach, Predicate<SlotMap> done, Change change) {
        return publish(store, beforeEach, done, map -> {}, change);
    }

    static long publish(ClusterStore store, Runnable beforeEach, Predicate<SlotMap> done,
            java.util.function.Consumer<SlotMap> check, Change change) {
        for (int attempt = 0; ; attempt++) {
            beforeEach.run();
            Versioned<SlotMap> read = store.readSlotMap();
            if (done.test(read.value())) {
                return read.value().epoch();
            }
            check.accept(read.value());
            SlotMap next = change.apply(read.value(), read.value().epoch() + 1);
            try {
                store.casSlotMap(next, read.version());
                return next.epoch();
            } catch (StoreException.VersionConflict conflict) {
                if (attempt >= 50) {
                    throw conflict;
                }
            }
        }
    }

}

package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.BarrierTimeoutException;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.StoreException;
import io.shardgate.state.Versioned;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * Changes the cluster definition by compare-and-set, then publishes the slot map again with the next
 * epoch and waits until every live proxy has applied it: proxies rebuild their routing snapshot from
 * both nodes at once, so a proxy that acknowledges that epoch routes with the new definition. The
 * command that made the change can then say the change is live, not just stored.
 */
final class DefinitionChange {
    private static final int CAS_ATTEMPTS = 5;
    static final Duration BARRIER_TIMEOUT = Duration.ofSeconds(10);

    /** The stored definition's version and the epoch that carries it; {@code live} is false when a proxy lagged. */
    record Applied(int definitionVersion, long epoch, boolean live) {}

    private DefinitionChange() {}

    /**
     * @param change the new definition from the current one; it throws (a {@link CliException}) to refuse,
     *               and runs again on the re-read definition after a conflict
     */
    static Applied apply(ClusterStore store, String what, UnaryOperator<ClusterDefinition> change) throws InterruptedException {
        int version = 0;
        for (int attempt = 1; ; attempt++) {
            Versioned<ClusterDefinition> current = store.readDefinition();
            try {
                version = store.casDefinition(change.apply(current.value()), current.version());
                break;
            } catch (StoreException.VersionConflict e) {
                if (attempt == CAS_ATTEMPTS) {
                    throw new CliException("the definition of cluster '" + store.clusterName() + "' kept changing; " + CAS_ATTEMPTS
                            + " attempts to " + what + " failed, retry", e);
                }
            }
        }
        long epoch = nextEpoch(store);
        try {
            store.awaitEpoch(epoch, BARRIER_TIMEOUT);
            return new Applied(version, epoch, true);
        } catch (BarrierTimeoutException e) {
            return new Applied(version, epoch, false);
        }
    }

    private static long nextEpoch(ClusterStore store) {
        return publishSlotMap(store, (map, epoch) -> map.withEpoch(epoch));
    }

    /** A change of the slot map: the next map, with epoch {@code newEpoch}, from the current one. */
    @FunctionalInterface
    interface SlotMapChange {
        SlotMap apply(SlotMap current, long newEpoch);
    }

    /** Publishes {@code change} of the current slot map by compare-and-set (re-read and retried on a conflict); returns its epoch. */
    static long publishSlotMap(ClusterStore store, SlotMapChange change) {
        for (int attempt = 1; ; attempt++) {
            Versioned<SlotMap> map = store.readSlotMap();
            SlotMap next = change.apply(map.value(), map.value().epoch() + 1);
            try {
                store.casSlotMap(next, map.version());
                return next.epoch();
            } catch (StoreException.VersionConflict e) {
                if (attempt == CAS_ATTEMPTS) {
                    throw new CliException("the slot map of cluster '" + store.clusterName() + "' kept changing; retry", e);
                }
            }
        }
    }
}

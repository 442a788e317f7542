package io.shardgate.router;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.slot.SlotMap;
import java.util.Objects;

/**
 * Everything the router needs to place a statement, captured at one instant. Proxies build a new
 * snapshot whenever the cluster definition or slot map changes and swap it atomically; a statement
 * is routed against exactly one snapshot.
 */
public record RoutingSnapshot(ClusterDefinition cluster, SlotMap slotMap) {
    public RoutingSnapshot {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(slotMap, "slotMap");
        if (cluster.slots() != slotMap.slotCount()) {
            throw new IllegalArgumentException("cluster declares " + cluster.slots() + " slots but the slot map has "
                    + slotMap.slotCount());
        }
    }

    public long epoch() {
        return slotMap.epoch();
    }
}

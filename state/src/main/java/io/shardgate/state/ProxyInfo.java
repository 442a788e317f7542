package io.shardgate.state;

import java.util.Objects;

/**
 * What a live proxy publishes in its ephemeral node.
 *
 * @param id           stable id of the proxy process (host:port or a generated name)
 * @param address      where clients reach it (host:port), for the status view
 * @param appliedEpoch slot-map epoch the proxy routes with now
 * @param startedAtMillis wall-clock start time
 */
public record ProxyInfo(String id, String address, long appliedEpoch, long startedAtMillis) {
    public ProxyInfo {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
    }

    public ProxyInfo withAppliedEpoch(long epoch) {
        return new ProxyInfo(id, address, epoch, startedAtMillis);
    }
}

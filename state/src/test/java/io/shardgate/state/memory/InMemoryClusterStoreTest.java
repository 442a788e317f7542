package io.shardgate.state.memory;

import static io.shardgate.state.StateFixtures.proxy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.state.ClusterStore;
import io.shardgate.state.ClusterStoreContract;
import io.shardgate.state.ProxyInfo;
import io.shardgate.state.StoreException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InMemoryClusterStoreTest extends ClusterStoreContract {
    private final Map<String, InMemoryClusterStore> firstSessions = new HashMap<>();

    @Override
    protected ClusterStore openStore(String clusterName) {
        InMemoryClusterStore first = firstSessions.get(clusterName);
        if (first == null) {
            first = new InMemoryClusterStore(clusterName);
            firstSessions.put(clusterName, first);
            return first;
        }
        return first.newSession();
    }

    @Test
    void expiredProxyDisappearsAndReleasesTheBarrier() throws Exception {
        InMemoryClusterStore memory = (InMemoryClusterStore) store;
        memory.registerProxy(proxy("dead", 0));
        memory.registerProxy(proxy("alive", 5));

        memory.expireProxy("dead");

        assertThat(memory.liveProxies()).extracting(ProxyInfo::id).containsExactly("alive");
        memory.awaitEpoch(5, Duration.ofSeconds(1));
        assertThatThrownBy(() -> memory.updateProxyEpoch("dead", 6)).isInstanceOf(StoreException.NotFound.class);
    }

    @Test
    void closedSessionRefusesCallsAsUnavailable() {
        store.close();

        assertThatThrownBy(store::readSlotMap).isInstanceOf(StoreException.Unavailable.class).hasMessageContaining(cluster);
    }
}

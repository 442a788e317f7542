package io.shardgate.state.zk;

import static io.shardgate.state.StateFixtures.await;
import static io.shardgate.state.StateFixtures.definition;
import static io.shardgate.state.StateFixtures.initialMap;
import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.state.ProxyInfo;
import io.shardgate.state.RoutingSnapshotWatcher;
import io.shardgate.slot.SlotMap;
import java.time.Duration;
import java.util.List;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

class ZooKeeperRoutingSnapshotWatcherTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void followsTheSlotMapAndFencesWhileZooKeeperIsAway() throws Exception {
        try (TestingServer zk = ZooKeeperClusterStoreTest.faultServer();
                ZooKeeperClusterStore admin = ZooKeeperClusterStore.connect(zk.getConnectString(), "w", WAIT);
                ZooKeeperClusterStore proxyStore = ZooKeeperClusterStore.connect(
                        ZooKeeperClusterStoreTest.shortTimeouts(zk.getConnectString()), "w")) {
            ClusterDefinition definition = definition();
            admin.createCluster(definition, initialMap(definition), false);
            try (RoutingSnapshotWatcher watcher = RoutingSnapshotWatcher.start(proxyStore, "proxy-1", "127.0.0.1:3306")) {
                watcher.awaitSnapshot(1, WAIT);
                await(WAIT, "unfenced after the first read", () -> !watcher.fenced());

                SlotMap moved = admin.readSlotMap().value().withOwner(2, List.of(0, 1), "s1");
                admin.casSlotMap(moved, 0);

                assertThat(watcher.awaitSnapshot(2, WAIT).slotMap()).isEqualTo(moved);
                admin.awaitEpoch(2, WAIT);
                assertThat(admin.liveProxies()).extracting(ProxyInfo::id, ProxyInfo::appliedEpoch)
                        .containsExactly(org.assertj.core.groups.Tuple.tuple("proxy-1", 2L));

                zk.stop();
                await(WAIT, "fenced once ZooKeeper is away", watcher::fenced);

                zk.restart();
                await(WAIT, "unfenced after reconnect and re-read", () -> !watcher.fenced());
                assertThat(watcher.current().orElseThrow().epoch()).isEqualTo(2);
            }
        }
    }
}

package io.shardgate.migrator;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.zk.EmbeddedZooKeeper;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two workers on a real ZooKeeper: one leads, the other takes over when it stops. */
class MigrationWorkerLeadershipTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void onlyOneOfTwoWorkersLeadsAndTheOtherTakesOver(@TempDir Path dir) throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(dir, 0);
                ClusterStore a = ZooKeeperClusterStore.connect(zk.connectString(), "lead", WAIT);
                ClusterStore b = ZooKeeperClusterStore.connect(zk.connectString(), "lead", WAIT)) {
            ClusterDefinition definition = ClusterDefinitionCodec.parseYaml("dialect: mysql\nslots: 16\nshards:\n"
                    + "  - {name: s0, url: 'jdbc:mysql://127.0.0.1:1/x', user: u, password: ''}\n", "leader test");
            a.createCluster(definition, SlotMap.initial(16, List.of("s0")), false);
            MigrationWorker first = MigrationWorker.start(a, TestCluster.settings("w1"));
            try (MigrationWorker second = MigrationWorker.start(b, TestCluster.settings("w2"))) {
                TestCluster.await(WAIT, () -> "a leader", () -> first.isLeader() || second.isLeader());
                Thread.sleep(300);
                assertThat(first.isLeader() ^ second.isLeader()).as("exactly one leads").isTrue();
                MigrationWorker leader = first.isLeader() ? first : second;
                MigrationWorker follower = leader == first ? second : first;

                leader.close();

                TestCluster.await(WAIT, () -> follower.workerId() + " leading", follower::isLeader);
                assertThat(leader.isLeader()).isFalse();
            } finally {
                first.close();
            }
        }
    }
}

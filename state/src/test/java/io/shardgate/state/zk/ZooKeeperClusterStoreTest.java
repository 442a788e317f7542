package io.shardgate.state.zk;

import static io.shardgate.state.StateFixtures.await;
import static io.shardgate.state.StateFixtures.definition;
import static io.shardgate.state.StateFixtures.initialMap;
import static io.shardgate.state.StateFixtures.proxy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.ClusterStore.ConnectionState;
import io.shardgate.state.ClusterStoreContract;
import io.shardgate.state.Leadership;
import io.shardgate.state.StoreException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract on a real ZooKeeper, plus what only a real ZooKeeper can show: outages and sessions. */
class ZooKeeperClusterStoreTest extends ClusterStoreContract {
    private static TestingServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestingServer(true);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Override
    protected ClusterStore openStore(String clusterName) {
        return ZooKeeperClusterStore.connect(server.getConnectString(), clusterName, WAIT);
    }

    /** A server of its own, stoppable, with a tick short enough for a 4 s session. */
    static TestingServer faultServer() throws Exception {
        return new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, 500, -1), true);
    }

    static ZooKeeperSettings shortTimeouts(String connectString) {
        return ZooKeeperSettings.of(connectString, WAIT)
                .withSessionTimeout(Duration.ofSeconds(4))
                .withOperationTimeout(Duration.ofMillis(1500));
    }

    @Test
    void connectingToADeadAddressFailsWithinTheConnectTimeout() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String address = "127.0.0.1:" + port;
        long started = System.nanoTime();

        assertThatThrownBy(() -> ZooKeeperClusterStore.connect(address, "dead", Duration.ofSeconds(2)))
                .isInstanceOf(StoreException.Unavailable.class)
                .hasMessageContaining("ZooKeeper at " + address + " not reachable within 2000 ms");

        Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
        assertThat(elapsed).isGreaterThanOrEqualTo(Duration.ofMillis(1900)).isLessThan(Duration.ofSeconds(6));
    }

    @Test
    void undecodableNodesAreCorruptNamingThePath() throws Exception {
        ClusterDefinition definition = definition();
        store.createCluster(definition, initialMap(definition), false);
        ClusterPaths paths = new ClusterPaths(cluster);
        try (CuratorFramework raw = rawClient(server.getConnectString())) {
            raw.setData().forPath(paths.slotMap(), "{not json".getBytes(StandardCharsets.UTF_8));
            raw.setData().forPath(paths.definition(), "{\"dialect\":\"oracle\"}".getBytes(StandardCharsets.UTF_8));
        }

        assertThatThrownBy(store::readSlotMap).isInstanceOf(StoreException.Corrupt.class)
                .hasMessageContaining(paths.slotMap());
        assertThatThrownBy(store::readDefinition).isInstanceOf(StoreException.Corrupt.class)
                .hasMessageContaining(paths.definition());
    }

    @Test
    void outageMakesCallsUnavailableAndTheProxyNodeComesBackAfterSessionExpiry() throws Exception {
        try (TestingServer zk = faultServer();
                ZooKeeperClusterStore faulty = ZooKeeperClusterStore.connect(shortTimeouts(zk.getConnectString()), cluster)) {
            ClusterDefinition definition = definition();
            faulty.createCluster(definition, initialMap(definition), false);
            faulty.registerProxy(proxy("p1", 0));
            faulty.updateProxyEpoch("p1", 7);
            long createdBefore = creationZxid(zk, faulty.paths().proxy("p1"));
            BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
            faulty.onConnectionChange(states::add);
            awaitState(states, ConnectionState.CONNECTED);

            zk.stop();

            awaitState(states, ConnectionState.SUSPENDED);
            long started = System.nanoTime();
            assertThatThrownBy(faulty::readSlotMap).isInstanceOf(StoreException.Unavailable.class)
                    .hasMessageContaining(cluster).hasMessageContaining("/slotmap");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
            assertThatThrownBy(faulty::liveProxies).isInstanceOf(StoreException.Unavailable.class);
            awaitState(states, ConnectionState.LOST);

            zk.restart();

            awaitState(states, ConnectionState.RECONNECTED);
            await(Duration.ofSeconds(30), "p1 re-created by the new session with epoch 7", () -> {
                long created = creationZxid(zk, faulty.paths().proxy("p1"));
                return created != 0 && created != createdBefore && faulty.liveProxies().equals(List.of(proxy("p1", 7)));
            });
        }
    }

    @Test
    void leaderGivesLeadershipUpWhenTheConnectionIsSuspendedAndLeadsAgainAfterTheOutage() throws Exception {
        try (TestingServer zk = faultServer();
                ZooKeeperClusterStore faulty = ZooKeeperClusterStore.connect(shortTimeouts(zk.getConnectString()), cluster)) {
            Leadership leadership = faulty.lead("migrator", "w1");
            assertThat(leadership.awaitLeadership(WAIT)).isTrue();
            BlockingQueue<ConnectionState> states = new LinkedBlockingQueue<>();
            faulty.onConnectionChange(states::add);
            awaitState(states, ConnectionState.CONNECTED);

            zk.stop();

            awaitState(states, ConnectionState.SUSPENDED);
            await(Duration.ofSeconds(5), "leadership dropped on SUSPENDED", () -> !leadership.isLeader());

            zk.restart();

            assertThat(leadership.awaitLeadership(Duration.ofSeconds(30))).as("leads again after the outage").isTrue();
        }
    }

    @Test
    void embeddedServerServesAStoreAndFreesItsPortOnClose(@TempDir Path dir) throws Exception {
        ClusterDefinition definition = definition();
        int port;
        try (EmbeddedZooKeeper embedded = EmbeddedZooKeeper.start(dir, 0)) {
            port = embedded.port();
            assertThat(embedded.connectString()).isEqualTo("127.0.0.1:" + port);
            try (ZooKeeperClusterStore onEmbedded = ZooKeeperClusterStore.connect(embedded.connectString(), "demo", WAIT)) {
                onEmbedded.createCluster(definition, initialMap(definition), false);
            }
        }
        try (ServerSocket rebind = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            assertThat(rebind.getLocalPort()).isEqualTo(port);
        }
        try (EmbeddedZooKeeper again = EmbeddedZooKeeper.start(dir, port);
                ZooKeeperClusterStore onEmbedded = ZooKeeperClusterStore.connect(again.connectString(), "demo", WAIT)) {
            assertThat(onEmbedded.readDefinition().value()).as("data survives a restart").isEqualTo(definition);
        }
    }

    static void awaitState(BlockingQueue<ConnectionState> states, ConnectionState expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<ConnectionState> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            ConnectionState next = states.poll(100, TimeUnit.MILLISECONDS);
            if (next == expected) {
                return;
            }
            if (next != null) {
                seen.add(next);
            }
        }
        throw new AssertionError("connection state " + expected + " not reported within 30 s; saw " + seen);
    }

    private static long creationZxid(TestingServer zk, String path) {
        try (CuratorFramework raw = rawClient(zk.getConnectString())) {
            Stat stat = raw.checkExists().forPath(path);
            return stat == null ? 0 : stat.getCzxid();
        } catch (Exception e) {
            return 0;
        }
    }

    static CuratorFramework rawClient(String connectString) throws InterruptedException {
        CuratorFramework raw = CuratorFrameworkFactory.newClient(connectString, 10_000, 5_000, new RetryOneTime(200));
        raw.start();
        if (!raw.blockUntilConnected(10, TimeUnit.SECONDS)) {
            raw.close();
            throw new AssertionError("raw client could not connect to " + connectString);
        }
        return raw;
    }

}

package io.shardgate.cli;

import io.shardgate.config.ShardgateConfig;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoClusterTest {
    private static final Path EXAMPLE = Path.of("..", "conf", "cluster-example.yaml");

    @TempDir
    Path data;

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return s.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    private DemoCluster.Settings settings(int port, boolean reset) {
        return new DemoCluster.Settings("demo", EXAMPLE, data, port, Duration.ofSeconds(10), reset, 0, 0, 3316,
                ShardgateConfig.defaults());
    }

    @Test
    void startsZooKeeperCreatesTheClusterAndStopsEverything() throws IOException {
        int port = freePort();
        StringWriter log = new StringWriter();
        try (DemoCluster demo = new DemoCluster(settings(port, false), new PrintWriter(log, true))) {
            demo.start();
            assertThat(demo.connectString()).isEqualTo("127.0.0.1:" + port);
            ClusterStatus status = ClusterStatus.read(demo.store(), demo.connectString());
            assertThat(status.epoch()).isEqualTo(1);
            assertThat(status.shards()).extracting(ClusterStatus.Shard::slotCount).containsExactly(2048, 2048, 0);
            assertThat(log.toString()).contains("demo: created cluster 'demo'");
        }
        assertThat(log.toString()).contains("demo: stopped store", "demo: stopped zookeeper");
        assertThat(accepts(port)).isFalse();
    }

    @Test
    void keepsTheClusterOnTheSecondRunUnlessReset() throws IOException {
        int port = freePort();
        try (DemoCluster first = new DemoCluster(settings(port, false), new PrintWriter(new StringWriter()))) {
            first.start();
            var map = first.store().readSlotMap();
            first.store().casSlotMap(map.value().withEpoch(5), map.version());
        }
        StringWriter log = new StringWriter();
        try (DemoCluster second = new DemoCluster(settings(port, false), new PrintWriter(log, true))) {
            second.start();
            assertThat(second.store().readSlotMap().value().epoch()).isEqualTo(5);
            assertThat(log.toString()).contains("already exists", "keeping it");
        }
        try (DemoCluster third = new DemoCluster(settings(port, true), new PrintWriter(new StringWriter()))) {
            third.start();
            assertThat(third.store().readSlotMap().value().epoch()).isEqualTo(1);
        }
    }

    @Test
    void aTakenPortFailsBeforeStartingAnything() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            DemoCluster demo = new DemoCluster(settings(port, false), new PrintWriter(new StringWriter()));
            assertThatThrownBy(demo::start)
                    .isInstanceOf(CliException.class)
                    .hasMessageStartingWith("port " + port + " for the demo's ZooKeeper is already in use")
                    .hasMessageContaining("--zk-port");
        }
    }

    @Test
    void aBadClusterFileFailsBeforeStartingAnything() throws IOException {
        int port = freePort();
        DemoCluster demo = new DemoCluster(new DemoCluster.Settings("demo", Path.of("nope.yaml"), data, port,
                Duration.ofSeconds(10), false, 0, 0, 3316, ShardgateConfig.defaults()), new PrintWriter(new StringWriter()));
        assertThatThrownBy(demo::start).isInstanceOf(CliException.class).hasMessage("cluster file nope.yaml does not exist");
        assertThat(accepts(port)).isFalse();
    }

    @Test
    void dryRunListsTheSteps() {
        CliRun r = CliRun.of("demo", "--dry-run", "--zk-port", "12345", "--data-dir", data.toString(), "--shards", "2",
                "--spares", "1", "--port", "13307", "--shard-base-port", "14000");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.outLines()).containsSubsequence(
                "shardgate demo would:",
                "  1. check: read and validate conf/cluster-example.yaml; check that the ports are free",
                "  2. zookeeper: start ZooKeeper on 127.0.0.1:12345 with data in " + data.resolve("zookeeper"),
                "  3. store: connect to it as cluster 'demo'",
                "  4. s0: start MariaDB shard s0 on 127.0.0.1:14000 with data in " + data.resolve("shards/s0"),
                "  5. s1: start MariaDB shard s1 on 127.0.0.1:14001 with data in " + data.resolve("shards/s1"),
                "  6. s2: start MariaDB shard s2 (spare) on 127.0.0.1:14002 with data in " + data.resolve("shards/s2"),
                "  7. cluster: create (unless it exists) cluster 'demo' with the tables of conf/cluster-example.yaml on these shards",
                "  8. proxy: start the proxy on 127.0.0.1:13307",
                "  9. migrator: start a migration worker (it runs 'reshard start' moves)");
        assertThat(data.resolve("zookeeper")).doesNotExist();
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.local.FreePorts;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's path of the foundation, with real processes: {@code shardgate zookeeper} runs an
 * embedded ZooKeeper, separate {@code shardgate} invocations initialise the example cluster and read
 * it back, and when ZooKeeper goes away the CLI fails quickly with one line.
 */
class CliAgainstEmbeddedZooKeeperIT {
    private static final Duration CLI_TIMEOUT = Duration.ofSeconds(60);
    private Process zookeeper;

    @TempDir
    Path dataDir;

    @AfterEach
    void stopZooKeeper() throws InterruptedException {
        if (zookeeper != null && zookeeper.isAlive()) {
            zookeeper.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void initStatusSlotsAndAFastFailureWhenZooKeeperStops() throws Exception {
        int port = FreePorts.find();
        String zk = "127.0.0.1:" + port;
        zookeeper = ShardgateProcess.builder("zookeeper", "--port", Integer.toString(port), "--data-dir", dataDir.toString())
                .redirectErrorStream(true).start();
        ShardgateProcess.awaitLine(zookeeper, "ZooKeeper running at", Duration.ofSeconds(60));

        var init = ShardgateProcess.run(CLI_TIMEOUT, "cluster", "init", "--zk", zk, "--cluster", "it", "--file",
                "conf/cluster-example.yaml");
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        assertThat(init.stdout()).contains("s0").contains("s1");

        var status = ShardgateProcess.run(CLI_TIMEOUT, "status", "--json", "--zk", zk, "--cluster", "it");
        assertThat(status.exitCode()).as(status.stderr()).isZero();
        JsonNode json = new ObjectMapper().readTree(status.stdout());
        assertThat(json.get("cluster").asText()).isEqualTo("it");
        assertThat(json.get("epoch").asLong()).isEqualTo(1);
        assertThat(json.get("slots").asInt()).isEqualTo(4096);
        assertThat(json.get("shards")).hasSize(3);
        assertThat(json.get("shards").get(0).get("name").asText()).isEqualTo("s0");
        assertThat(json.get("shards").get(0).get("slotCount").asInt()).isEqualTo(2048);
        assertThat(json.get("shards").get(1).get("ranges").get(0).asText()).isEqualTo("2048-4095");
        assertThat(json.get("shards").get(2).get("spare").asBoolean()).isTrue();
        assertThat(json.get("shards").get(2).get("slotCount").asInt()).isZero();

        var slots = ShardgateProcess.run(CLI_TIMEOUT, "slots", "--zk", zk, "--cluster", "it");
        assertThat(slots.exitCode()).as(slots.stderr()).isZero();
        assertThat(slots.stdout().lines().filter(l -> !l.startsWith("#")).map(String::strip).toList())
                .containsExactly("0-2047     s0", "2048-4095  s1");

        var again = ShardgateProcess.run(CLI_TIMEOUT, "cluster", "init", "--zk", zk, "--cluster", "it", "--file",
                "conf/cluster-example.yaml");
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.stderr().strip()).startsWith("shardgate: error:").contains("already exists").doesNotContain("\n");

        zookeeper.destroy();
        assertThat(zookeeper.waitFor(20, TimeUnit.SECONDS)).as("zookeeper stops on SIGTERM").isTrue();
        assertPortFree(port);

        var down = ShardgateProcess.run(CLI_TIMEOUT, "status", "--zk", zk, "--cluster", "it");
        assertThat(down.exitCode()).isEqualTo(1);
        assertThat(down.stderr().strip()).startsWith("shardgate: error:").contains(zk).doesNotContain("\n");
        assertThat(down.stdout()).isEmpty();
        // JVM start-up included; the ZooKeeper part must not wait for retries or session timeouts
        assertThat(down.elapsed()).isLessThan(Duration.ofSeconds(15));
    }

    private static void assertPortFree(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            throw new AssertionError("port " + port + " still accepts connections after ZooKeeper stopped");
        } catch (java.io.IOException expected) {
            // refused: the port is free
        }
    }
}

package io.shardgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.state.ClusterStore;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;

/** An in-process ZooKeeper for CLI tests: runs commands against it and initialises example clusters. */
final class ZooKeeperCli implements AutoCloseable {
    static final Path EXAMPLE = Path.of("..", "conf", "cluster-example.yaml");
    private final TestingServer server;
    private final AtomicInteger clusters = new AtomicInteger();

    ZooKeeperCli() throws Exception {
        server = new TestingServer(true);
    }

    /** Runs {@code shardgate args… --zk <this> --cluster cluster}. */
    CliRun run(String cluster, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--zk", server.getConnectString(), "--cluster", cluster));
        return CliRun.of(all.toArray(String[]::new));
    }

    /** A new cluster name with {@code prefix}, not initialised. */
    String newName(String prefix) {
        return prefix + clusters.incrementAndGet();
    }

    /** A new cluster initialised from conf/cluster-example.yaml by {@code cluster init}. */
    String exampleCluster(String prefix) {
        String cluster = newName(prefix);
        CliRun init = run(cluster, "cluster", "init", "--file", EXAMPLE.toString());
        assertThat(init.exit()).as(init.toString()).isZero();
        return cluster;
    }

    ClusterStore store(String cluster, Duration connectTimeout) {
        return ZooKeeperClusterStore.connect(server.getConnectString(), cluster, connectTimeout);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}

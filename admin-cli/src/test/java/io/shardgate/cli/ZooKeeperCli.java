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
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An in-process ZooKeeper for CLI tests, started once per test class
 * ({@code @RegisterExtension static final ZooKeeperCli zk = new ZooKeeperCli();}): runs commands
 * against it and initialises example clusters.
 */
final class ZooKeeperCli implements BeforeAllCallback, AfterAllCallback {
    static final Path EXAMPLE = Path.of("..", "conf", "cluster-example.yaml");
    private final AtomicInteger clusters = new AtomicInteger();
    private TestingServer server;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = new TestingServer(true);
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        server.close();
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
}

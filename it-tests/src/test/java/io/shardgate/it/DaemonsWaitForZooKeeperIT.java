package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.local.FreePorts;
import io.shardgate.state.zk.EmbeddedZooKeeper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The long-running processes ride out a ZooKeeper that is not there yet (down, restarting, or too loaded to open a
 * session within the connect timeout): {@code shardgate proxy} and {@code shardgate migrator} keep trying and say so,
 * and start serving once it answers, where they used to exit with "cannot reach ZooKeeper".
 */
class DaemonsWaitForZooKeeperIT {

    @Test
    void theProxyAndTheMigratorWaitForZooKeeperAndSaySo(@TempDir Path dir) throws Exception {
        int zkPort = FreePorts.find();
        String connect = "127.0.0.1:" + zkPort;
        Path config = dir.resolve("shardgate.yaml");
        Files.writeString(config, """
                cluster: waits
                listen: {host: 127.0.0.1, mysql-port: 0}
                admin: {port: 0}
                zookeeper: {connect: '%s', connect-timeout-ms: 1000}
                users: [{name: app, password: app}]
                """.formatted(connect));
        Process proxy = ShardgateProcess.builder("proxy", "--config", config.toString()).redirectErrorStream(true).start();
        Process migrator = ShardgateProcess.builder("migrator", "--config", config.toString()).redirectErrorStream(true).start();
        EmbeddedZooKeeper zooKeeper = null;
        try {
            Output proxyOut = Output.of(proxy);
            Output migratorOut = Output.of(migrator);
            Predicate<String> waiting = l -> l.contains("waiting for ZooKeeper at " + connect + " (cluster waits)")
                    && l.contains("still trying");
            // each says it waits, more than once, and neither exits
            proxyOut.await(waiting, 2, Duration.ofSeconds(60));
            migratorOut.await(waiting, 2, Duration.ofSeconds(60));
            assertThat(proxy.isAlive()).as(proxyOut.text()).isTrue();
            assertThat(migrator.isAlive()).as(migratorOut.text()).isTrue();

            zooKeeper = EmbeddedZooKeeper.start(dir.resolve("zk"), zkPort);
            proxyOut.await(l -> l.startsWith("proxy ") && l.contains("serving cluster 'waits'"), 1, Duration.ofSeconds(60));
            migratorOut.await(l -> l.startsWith("migration worker ") && l.contains("running for cluster 'waits'"), 1,
                    Duration.ofSeconds(60));
            assertThat(proxy.isAlive()).isTrue();
            assertThat(migrator.isAlive()).isTrue();
        } finally {
            stop(proxy);
            stop(migrator);
            if (zooKeeper != null) {
                zooKeeper.close();
            }
        }
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    /** Every line a process prints, collected by one reader thread, so a test can wait for several in turn. */
    private static final class Output {
        private final List<String> lines = new ArrayList<>();

        static Output of(Process p) {
            Output o = new Output();
            BufferedReader reader = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Thread.ofVirtual().start(() -> {
                try {
                    for (String line; (line = reader.readLine()) != null; ) {
                        synchronized (o) {
                            o.lines.add(line);
                            o.notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // the process went away: waiting for more lines then fails with what was printed
                }
            });
            return o;
        }

        synchronized void await(Predicate<String> line, int times, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (lines.stream().filter(line).count() < times) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("expected line not printed " + times + " time(s) within " + timeout + ":\n" + text());
                }
                wait(left);
            }
        }

        synchronized String text() {
            return String.join("\n", lines);
        }
    }
}

package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.cli.Shardgate;
import io.shardgate.proxy.ProxyServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Two proxies count the writes they route; {@code hotkey top} adds their reports. Clients hammer one
 * key through both proxies while others write a spread of background keys.
 */
class HotKeysIT {
    private static final long HOT = 42;
    private static final int BACKGROUND_KEYS = 200;
    /**
     * Long enough that the sketch's span (one full 10 s window plus the current one's elapsed part, so
     * at most 20 s, read up to one 2 s publish interval late) is mostly covered by the writes.
     */
    private static final Duration WRITING = Duration.ofSeconds(16);

    @Test
    void hotkeyTopListsTheHotKeyFirstWithItsWritesSummedOverBothProxies() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, """
                tables:
                  - {name: counters, kind: sharded, key: id, key-type: int}
                """)) {
            ProxyServer second = cluster.startProxy();
            try (Connection c = cluster.proxyConnection("")) {
                Sql.update(c, "CREATE TABLE counters (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)");
                StringBuilder rows = new StringBuilder("INSERT INTO counters (id, n) VALUES (" + HOT + ", 0)");
                for (int k = 0; k < BACKGROUND_KEYS; k++) {
                    rows.append(", (").append(1000 + k).append(", 0)");
                }
                Sql.update(c, rows.toString());
            }

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong hotWrites = new AtomicLong();
            AtomicLong backgroundWrites = new AtomicLong();
            ExecutorService clients = Executors.newFixedThreadPool(6);
            List<Future<?>> running = new ArrayList<>();
            try {
                for (ProxyServer proxy : List.of(cluster.proxy(), second)) {
                    for (int i = 0; i < 2; i++) {
                        running.add(clients.submit(() -> write(cluster, proxy, stop, hotWrites, () -> HOT)));
                    }
                    Random random = new Random(proxy.mysqlPort());
                    running.add(clients.submit(() -> write(cluster, proxy, stop, backgroundWrites,
                            () -> 1000 + random.nextInt(BACKGROUND_KEYS))));
                }
                long started = System.nanoTime();
                Thread.sleep(WRITING.toMillis());
                long hotSoFar = hotWrites.get();
                double clientRate = hotSoFar / ((System.nanoTime() - started) / 1e9);

                JsonNode top = hotkeyTop(cluster, "--json", "--limit", "5");
                String text = hotkeyTopText(cluster);

                JsonNode hottest = top.get("keys").get(0);
                assertThat(hottest.get("table").asText()).as(top.toString()).isEqualTo("counters");
                assertThat(hottest.get("key").asText()).as(top.toString()).isEqualTo(Long.toString(HOT));
                assertThat(hottest.get("proxies").asInt()).as(top.toString()).isEqualTo(2);
                assertThat(top.get("proxies")).as(top.toString()).hasSize(2);
                double reported = hottest.get("writesPerSecond").asDouble();
                assertThat(reported).as("reported %s writes/s for a client rate of %.1f/s (%d writes; %s)", reported, clientRate,
                        hotSoFar, top).isBetween(0.5 * clientRate, 1.3 * clientRate);
                assertThat(top.get("keys").get(1).get("writesPerSecond").asDouble()).as(top.toString())
                        .isLessThan(reported / 5);
                assertThat(text).contains("summed over 2 reporting proxies");
                assertThat(text.lines().skip(2).findFirst().orElseThrow()).matches("\\s+counters\\s+42\\s+[0-9.]+\\s+2\\s+no");
            } finally {
                stop.set(true);
                clients.shutdown();
                assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            }
            for (Future<?> client : running) {
                client.get(); // a client that failed fails the test
            }
            assertThat(backgroundWrites.get()).isPositive();
        }
    }

    @FunctionalInterface
    private interface KeySource {
        long next();
    }

    private static Void write(ShardedCluster cluster, ProxyServer proxy, AtomicBoolean stop, AtomicLong writes, KeySource keys)
            throws Exception {
        try (Connection c = cluster.proxyConnection(proxy, "");
                PreparedStatement update = c.prepareStatement("UPDATE counters SET n = n + 1 WHERE id = ?")) {
            while (!stop.get()) {
                update.setLong(1, keys.next());
                update.executeUpdate();
                writes.incrementAndGet();
            }
        }
        return null;
    }

    private static JsonNode hotkeyTop(ShardedCluster cluster, String... options) throws Exception {
        return new ObjectMapper().readTree(cli(cluster, options));
    }

    private static String hotkeyTopText(ShardedCluster cluster) {
        return cli(cluster);
    }

    private static String cli(ShardedCluster cluster, String... options) {
        List<String> args = new ArrayList<>(List.of("hotkey", "top", "--zk", cluster.zooKeeperConnect(), "--cluster",
                ShardedCluster.CLUSTER));
        args.addAll(List.of(options));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Shardgate.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args.toArray(String[]::new));
        assertThat(exit).as("shardgate %s\n%s%s", String.join(" ", args), out, err).isZero();
        return out.toString();
    }
}

package io.shardgate.proxy.admin;

import io.shardgate.proxy.exec.ShardPool;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Asks every shard {@code SELECT 1} through the proxy's own pool every interval, each shard on its own virtual
 * thread (a dead shard's connect timeout does not delay the others), and keeps the last answer: up or down, the
 * round trip, the error. The dashboard, {@code /health} and the shard gauges read it.
 */
final class ShardProbe implements AutoCloseable {
    /** The last probe of one shard. */
    record Result(boolean up, double latencyMillis, String error, long checkedAtMillis) {}

    private final Supplier<Map<String, ShardPool>> pools;
    private final Duration interval;
    private final Map<String, Result> results = new ConcurrentHashMap<>();
    private final Map<String, Boolean> running = new ConcurrentHashMap<>();
    private final Thread loop;
    private volatile boolean closed;

    ShardProbe(Supplier<Map<String, ShardPool>> pools, Duration interval) {
        this.pools = pools;
        this.interval = interval;
        this.loop = Thread.ofVirtual().name("shardgate-shard-probe").start(this::run);
    }

    Map<String, Result> results() {
        return Map.copyOf(results);
    }

    private void run() {
        while (!closed) {
            Map<String, ShardPool> now = pools.get();
            results.keySet().retainAll(now.keySet());
            now.forEach((name, pool) -> {
                if (running.putIfAbsent(name, Boolean.TRUE) == null) {
                    Thread.ofVirtual().name("shardgate-probe-" + name).start(() -> {
                        try {
                            results.put(name, probe(pool));
                        } finally {
                            running.remove(name);
                        }
                    });
                }
            });
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static Result probe(ShardPool pool) {
        long start = System.nanoTime();
        try (Connection c = pool.borrow(); Statement st = c.createStatement()) {
            st.setQueryTimeout(5);
            st.execute("SELECT 1");
            return new Result(true, (System.nanoTime() - start) / 1e6, null, System.currentTimeMillis());
        } catch (Exception e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            return new Result(false, (System.nanoTime() - start) / 1e6, message, System.currentTimeMillis());
        }
    }

    @Override
    public void close() {
        closed = true;
        loop.interrupt();
    }
}

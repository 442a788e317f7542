package io.shardgate.proxy.backend.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.cluster.ShardDefinition;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.backend.BackendEventLoops;
import io.shardgate.proxy.exec.SessionSettings;
import io.shardgate.proxy.exec.ShardBudget;
import io.shardgate.proxy.exec.ShardWork;
import io.shardgate.proxy.execute.RowSource;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shards' parts of a scatter read ({@link NativeBackends#openRead}) against a real MariaDB (two databases as two
 * shards): after a read ended early (a LIMIT met, a client gone), which cuts its connections, the next scatter read
 * borrows connections the pools opened again in the background instead of connecting on its way to the first row.
 */
class NativeBackendsReadTest {
    private static final int ROWS = 20_000;
    private static LocalMariaDb db;
    private static BackendEventLoops loops;

    @BeforeAll
    static void start() {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        db = LocalMariaDb.temporary();
        loops = new BackendEventLoops(1);
        for (String shard : List.of("s0", "s1")) {
            db.createDatabase(shard);
            db.createDatabaseUser(shard, "app", "secret");
            // about 4 MB a shard: far more than the read buffers before it stops reading, so ending early cuts it
            db.execute(shard, "CREATE TABLE t (id BIGINT PRIMARY KEY, pad VARCHAR(200));"
                    + " INSERT INTO t SELECT seq, RPAD('x', 200, 'y') FROM seq_1_to_" + ROWS);
        }
    }

    @AfterAll
    static void stop() {
        if (loops != null) {
            loops.close();
        }
        if (db != null) {
            db.close();
        }
    }

    private static ShardDefinition shard(String name) {
        return new ShardDefinition(name, "jdbc:mysql://" + LocalMariaDb.HOST + ":" + db.port() + "/" + name, "app", "secret", 4,
                false);
    }

    /** Opens the read of {@code sql} on every shard, as a scatter read does. */
    private static List<RowSource> scatter(NativeBackends backends, List<ShardDefinition> shards, String sql) throws Exception {
        List<RowSource> sources = new ArrayList<>();
        for (ShardDefinition s : shards) {
            RowSource.Opened opened = backends.openRead(s, sql.getBytes(StandardCharsets.UTF_8), SessionSettings.NONE, false,
                    ShardWork.Tracker.NONE, "logical", (count, rows) -> { });
            sources.add(((RowSource.Opened.Streaming) opened).rows());
        }
        return sources;
    }

    @Test
    void aScatterReadAfterAnEarlyEndedOneDoesNotConnect() throws Exception {
        Map<String, NativePool> pools = new ConcurrentHashMap<>();
        Map<String, ShardBudget> budgets = new ConcurrentHashMap<>();
        List<ShardDefinition> shards = List.of(shard("s0"), shard("s1"));
        try (NativeBackends backends = new NativeBackends(loops.shared(), Duration.ofSeconds(5), Duration.ofSeconds(5), 1,
                pool -> pools.put(pool.connectionSettings().shard(), pool),
                name -> budgets.computeIfAbsent(name, n -> new ShardBudget(n, 4, () -> 0)))) {
            // the first read of a new pool connects (the pools start with it); it ends after a few rows: cut
            for (RowSource rows : scatter(backends, shards, "SELECT id, pad FROM t ORDER BY id")) {
                assertThat(rows.next()).isNotNull();
                rows.close();
            }
            for (NativePool pool : pools.values()) {
                assertThat(pool.counters().discardedBroken()).as("%s: cut", pool.describe()).isEqualTo(1);
                awaitIdle(pool);
            }
            long connected = connectedByBorrowers(pools);

            List<RowSource> again = scatter(backends, shards, "SELECT id, pad FROM t ORDER BY id");
            assertThat(connectedByBorrowers(pools)).as("connections the second scatter read opened itself").isEqualTo(connected);
            for (RowSource rows : again) {
                long n = 0;
                while (rows.next() != null) {
                    n++;
                }
                assertThat(n).isEqualTo(ROWS);
                rows.close();
            }
        }
    }

    /** Connections the pools' borrowers opened themselves (the rest were opened in the background, for the idle floor). */
    private static long connectedByBorrowers(Map<String, NativePool> pools) {
        return pools.values().stream().mapToLong(p -> p.counters().opened() - p.counters().warmed()).sum();
    }

    private static void awaitIdle(NativePool pool) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pool.stats().idle() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(pool.stats().idle()).as("%s: idle connections; %s", pool.describe(), pool.counters()).isEqualTo(1);
    }
}

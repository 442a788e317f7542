package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.cluster.KeyType;
import io.shardgate.proxy.ProxyServer;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A client transaction holds a backend connection per shard it touched until it ends. With more concurrent transactions
 * on a shard than its pool has connections (pool-size 4 here), the others wait for a connection as they would wait for a
 * row lock on a server, and all commit; only a wait longer than {@code limits.pool-wait-ms} fails, with an error that
 * names the pool size, the waiting sessions and the wait.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PoolWaitIT {
    private static final int POOL_SIZE = 4;
    private static final int CLIENTS = 12;
    /** Long enough that the last of three rounds waits longer than the 3 s that a borrow used to be allowed. */
    private static final int HOLD_MILLIS = 2000;
    private static final String TABLES = """
            tables:
              - {name: accounts, kind: sharded, key: id, key-type: int}
            """;
    private ShardedCluster cluster;
    private final List<Long> onS0 = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.startWithPoolSize(2, POOL_SIZE, TABLES);
        SlotMap map = cluster.store().readSlotMap().value();
        for (long id = 1; onS0.size() < CLIENTS + 1; id++) {
            if (map.owner(SlotFunction.slot(ShardKeys.normalize(KeyType.INT, id), map.slotCount())).equals("s0")) {
                onS0.add(id);
            }
        }
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (Connection c : List.of(p, r)) {
                Sql.update(c, "CREATE TABLE accounts (id BIGINT PRIMARY KEY, n INT NOT NULL)");
                for (long id : onS0) {
                    Sql.update(c, "INSERT INTO accounts (id, n) VALUES (" + id + ", 0)");
                }
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void moreConcurrentTransactionsOnAShardThanItsPoolHasConnectionsAllCommit() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        long start = System.nanoTime();
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                long id = onS0.get(i);
                done.add(clients.submit(() -> {
                    try (Connection c = cluster.proxyConnection("")) {
                        c.setAutoCommit(false);
                        Sql.update(c, "UPDATE accounts SET n = n + 1 WHERE id = " + id);
                        Thread.sleep(HOLD_MILLIS);
                        c.commit();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS); // a failed client fails the test with its error
            }
        } finally {
            clients.shutdownNow();
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        // 12 transactions over 4 connections: three rounds, the last waiting about twice HOLD_MILLIS for a connection
        assertThat(millis).as("elapsed ms").isGreaterThanOrEqualTo(3 * HOLD_MILLIS);
        try (Connection r = cluster.referenceConnection(""); Connection p = cluster.proxyConnection("")) {
            for (int i = 0; i < CLIENTS; i++) {
                Sql.update(r, "UPDATE accounts SET n = n + 1 WHERE id = " + onS0.get(i));
            }
            String check = "SELECT id, n FROM accounts ORDER BY id";
            assertThat(Sql.query(p, check)).isEqualTo(Sql.query(r, check));
        }
    }

    @Test
    void aWaitLongerThanThePoolWaitFailsNamingTheLimit() throws Exception {
        ProxyServer shortWait = cluster.startProxyWithPoolWait(Duration.ofMillis(1000));
        List<Connection> holders = new ArrayList<>();
        // connected first: a driver's connect-time queries need a connection of the default shard s0 too
        try (Connection late = cluster.proxyConnection(shortWait, "")) {
            for (int i = 0; i < POOL_SIZE; i++) {
                Connection c = cluster.proxyConnection(shortWait, "");
                holders.add(c);
                c.setAutoCommit(false);
                Sql.update(c, "UPDATE accounts SET n = n WHERE id = " + onS0.get(i));
            }
            long start = System.nanoTime();
            SQLException e = catchThrowableOfType(SQLException.class,
                    () -> Sql.query(late, "SELECT n FROM accounts WHERE id = " + onS0.get(CLIENTS)));
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(e.getErrorCode()).as(e.getMessage()).isEqualTo(7106);
            assertThat(e.getMessage()).contains("shard s0", "no connection free after", "pool wait 1000 ms",
                    "all 4 connections this proxy keeps to it (shards[].pool-size)", "more sessions waiting",
                    "max_connections", "limits.pool-wait-ms");
            assertThat(waited).as("waited ms").isBetween(900L, 10_000L);
            holders.getFirst().rollback();
            assertThat(Sql.query(late, "SELECT n FROM accounts WHERE id = " + onS0.get(CLIENTS))).as("served once one ends")
                    .hasSize(1);
        } finally {
            for (Connection c : holders) {
                c.close();
            }
        }
    }
}

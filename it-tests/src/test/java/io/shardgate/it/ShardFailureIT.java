package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.KeyType;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A shard dies under load: statements for its keys fail promptly (no hang), statements for the other
 * shard's keys keep succeeding, and once the shard is back it is used again without restarting the
 * proxy.
 */
class ShardFailureIT {
    private static final Duration PROMPT = Duration.ofSeconds(6);

    @Test
    void aDeadShardFailsOnlyItsOwnKeysPromptlyAndIsUsedAgainWhenBack() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, """
                tables:
                  - {name: kv, kind: sharded, key: id, key-type: int}
                """)) {
            SlotMap map = cluster.store().readSlotMap().value();
            List<Long> onS0 = new ArrayList<>();
            List<Long> onS1 = new ArrayList<>();
            for (long id = 1; onS0.size() < 20 || onS1.size() < 20; id++) {
                String owner = map.owner(SlotFunction.slot(ShardKeys.normalize(KeyType.INT, id), map.slotCount()));
                (owner.equals("s0") ? onS0 : onS1).add(id);
            }
            try (Connection c = cluster.proxyConnection("")) {
                Sql.update(c, "CREATE TABLE kv (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)");
                for (long id : concat(onS0, onS1)) {
                    Sql.update(c, "INSERT INTO kv (id, n) VALUES (?, 0)", id);
                }
            }

            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong s0Ok = new AtomicLong();
            ConcurrentLinkedQueue<String> s0Failures = new ConcurrentLinkedQueue<>();
            List<Thread> load = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int worker = t;
                load.add(Thread.ofVirtual().start(() -> hammer(cluster, onS0, worker, stop, s0Ok, s0Failures)));
            }
            Thread.sleep(500);

            cluster.shard(1).kill();
            long killedAt = System.nanoTime();
            long okBefore = s0Ok.get();
            try (Connection c = cluster.proxyConnection("")) {
                for (long id : onS1.subList(0, 5)) {
                    long start = System.nanoTime();
                    SQLException e = null;
                    try {
                        Sql.update(c, "UPDATE kv SET n = n + 1 WHERE id = ?", id);
                    } catch (SQLException ex) {
                        e = ex;
                    }
                    Duration took = Duration.ofNanos(System.nanoTime() - start);
                    assertThat((Throwable) e).as("a write to key %d on the dead shard must fail", id).isNotNull();
                    assertThat(took).as("failure for key %d must be prompt", id).isLessThan(PROMPT);
                    assertThat(e.getMessage()).contains("s1");
                }
            }
            Thread.sleep(1000);
            assertThat(s0Ok.get()).as("the live shard keeps serving during the outage").isGreaterThan(okBefore);

            cluster.shard(1).restart();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            boolean back = false;
            try (Connection c = cluster.proxyConnection("")) {
                while (!back && System.nanoTime() < deadline) {
                    try {
                        back = Sql.update(c, "UPDATE kv SET n = n + 1 WHERE id = ?", onS1.getFirst()) == 1;
                    } catch (SQLException e) {
                        Thread.sleep(200);
                    }
                }
            }
            assertThat(back).as("the restarted shard is used again without restarting the proxy (%.1f s after the kill)",
                    (System.nanoTime() - killedAt) / 1e9).isTrue();
            stop.set(true);
            for (Thread t : load) {
                t.join(Duration.ofSeconds(30));
            }
            assertThat(s0Failures).as("no statement for the live shard's keys failed").isEmpty();
        }
    }

    private static void hammer(ShardedCluster cluster, List<Long> keys, int worker, AtomicBoolean stop, AtomicLong ok,
            ConcurrentLinkedQueue<String> failures) {
        try (Connection c = cluster.proxyConnection("useServerPrepStmts=" + (worker % 2 == 0))) {
            int i = worker;
            while (!stop.get()) {
                long id = keys.get(i++ % keys.size());
                try {
                    Sql.update(c, "UPDATE kv SET n = n + 1 WHERE id = ?", id);
                    Sql.query(c, "SELECT n FROM kv WHERE id = ?", id);
                    ok.incrementAndGet();
                } catch (SQLException e) {
                    failures.add(id + ": " + e.getMessage());
                }
            }
        } catch (SQLException e) {
            failures.add("connect: " + e.getMessage());
        }
    }

    private static List<Long> concat(List<Long> a, List<Long> b) {
        List<Long> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}

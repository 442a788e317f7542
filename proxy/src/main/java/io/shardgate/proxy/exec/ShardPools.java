package io.shardgate.proxy.exec;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.ShardDefinition;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pool per shard of the current cluster definition. {@link #update} creates pools for new shards,
 * replaces the pool of a shard whose URL, user, password or size changed, and closes pools of removed
 * shards; old pools close in the background (connections pinned by open transactions finish first).
 */
public final class ShardPools implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShardPools.class);

    private final ShardPool.ProxyPoolSettings settings;
    private volatile Map<String, ShardPool> pools = Map.of();
    private boolean closed;

    public ShardPools(ShardPool.ProxyPoolSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** The pool of {@code shard}; INTERNAL error if the shard is unknown (a plan for another definition). */
    public ShardPool pool(String shard) {
        ShardPool p = pools.get(shard);
        if (p == null) {
            throw ShardPool.unknown(shard);
        }
        return p;
    }

    /** The pools by shard name, as they are now. */
    public Map<String, ShardPool> all() {
        return pools;
    }

    public synchronized void update(ClusterDefinition cluster) {
        if (closed) {
            return;
        }
        Map<String, ShardPool> current = pools;
        Map<String, ShardPool> next = new HashMap<>();
        for (ShardDefinition shard : cluster.shards()) {
            ShardPool existing = current.get(shard.name());
            if (existing != null && existing.definition().equals(shard)) {
                next.put(shard.name(), existing);
            } else {
                next.put(shard.name(), new ShardPool(shard, settings));
                LOG.info("{}: pool {} (max {} connections)", shard.name(), existing == null ? "created" : "replaced",
                        shard.poolSize());
            }
        }
        pools = Map.copyOf(next);
        current.forEach((name, pool) -> {
            if (next.get(name) != pool) {
                closeInBackground(pool);
            }
        });
    }

    private static void closeInBackground(ShardPool pool) {
        Thread.ofVirtual().name("close-pool-" + pool.name()).start(pool::close);
    }

    @Override
    public synchronized void close() {
        closed = true;
        pools.values().forEach(ShardPool::close);
        pools = Map.of();
    }
}

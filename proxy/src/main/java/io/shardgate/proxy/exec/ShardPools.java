package io.shardgate.proxy.exec;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.ShardDefinition;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pool per shard of the current cluster definition, of connections that count found rows ({@code CLIENT_FOUND_ROWS},
 * what Connector/J, mysql2 and most application drivers ask for), and, created on first use, a second pool per MySQL shard
 * for clients that count changed rows (the mariadb client, PyMySQL): the server fixes the count per connection at login,
 * so only a connection with the client's flag gives the client's number (OK packet, its info text, ROW_COUNT()). Each
 * pool keeps up to the shard's pool size. {@link #update} creates pools for new shards,
 * replaces the pool of a shard whose URL, user, password or size changed, and closes pools of removed
 * shards; old pools close in the background (connections pinned by open transactions finish first).
 */
public final class ShardPools implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ShardPools.class);

    private final ShardPool.ProxyPoolSettings settings;
    private volatile Map<String, ShardPool> pools = Map.of();
    /** The pools without {@code CLIENT_FOUND_ROWS}, by shard, created when a client of that kind first needs one. */
    private final Map<String, ShardPool> changedRowsPools = new java.util.concurrent.ConcurrentHashMap<>();
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

    /**
     * The pool of {@code shard} for a client that does ({@code foundRows}) or does not ask for {@code CLIENT_FOUND_ROWS};
     * a PostgreSQL shard has one pool (its row counts do not depend on the client).
     */
    public ShardPool pool(String shard, boolean foundRows) {
        ShardPool main = pool(shard);
        if (foundRows || main.url().postgres()) {
            return main;
        }
        ShardPool changed = changedRowsPools.get(shard);
        if (changed != null && changed.definition().equals(main.definition())) {
            return changed;
        }
        synchronized (this) {
            changed = changedRowsPools.get(shard);
            if (changed != null && changed.definition().equals(main.definition())) {
                return changed;
            }
            if (closed) {
                throw ShardPool.unknown(shard);
            }
            ShardPool created = new ShardPool(main.definition(), settings, false, main.budget());
            changedRowsPools.put(shard, created);
            LOG.info("{}: pool for clients without CLIENT_FOUND_ROWS {} (max {} connections)", shard,
                    changed == null ? "created" : "replaced", main.definition().poolSize());
            if (changed != null) {
                closeInBackground(changed);
            }
            return created;
        }
    }

    /** The pools by shard name (those of clients that count found rows), as they are now. */
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
                next.put(shard.name(), new ShardPool(shard, settings, true, null));
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
        changedRowsPools.entrySet().removeIf(e -> {
            ShardPool now = next.get(e.getKey());
            boolean stale = now == null || !now.definition().equals(e.getValue().definition());
            if (stale) {
                closeInBackground(e.getValue());
            }
            return stale;
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
        changedRowsPools.values().forEach(ShardPool::close);
        changedRowsPools.clear();
    }
}

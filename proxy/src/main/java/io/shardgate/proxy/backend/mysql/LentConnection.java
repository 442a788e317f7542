package io.shardgate.proxy.backend.mysql;

import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.exec.SessionSettings;
import io.shardgate.proxy.exec.ShardBudget;
import io.shardgate.proxy.exec.ShardWork;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A native connection lent by {@link NativeBackends#lend} for longer than one relayed statement (a session's statement
 * run through the executor, or its whole transaction): it holds a place in the shard's budget until it is given back
 * ({@link #giveBack}) or {@link #discard discarded}, whichever comes first; the second call does nothing.
 */
public final class LentConnection {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LentConnection.class);

    private final ShardDefinition definition;
    private final NativePool pool;
    private final MySqlBackendConnection connection;
    private final ShardBudget budget;
    private final AtomicBoolean returned = new AtomicBoolean();

    LentConnection(ShardDefinition definition, NativePool pool, MySqlBackendConnection connection, ShardBudget budget) {
        this.definition = definition;
        this.pool = pool;
        this.connection = connection;
        this.budget = budget;
    }

    public MySqlBackendConnection connection() {
        return connection;
    }

    public String shard() {
        return definition.name();
    }

    /** {@code shard s0 (host:port)}. */
    public String describe() {
        return pool.describe();
    }

    /** Whether the connection was given back or discarded. */
    public boolean returned() {
        return returned.get();
    }

    /**
     * Brings the connection to {@code settings} (a connection that carries others is reset first); false if that failed,
     * and the caller discards it.
     */
    public boolean carry(SessionSettings settings) {
        return NativeBackends.carry(pool, connection, settings);
    }

    /** Back to the pool: as it is, if it is idle, open and outside a transaction; else closed. */
    public void giveBack() {
        giveBack(false);
    }

    /**
     * Back to the pool only after COM_RESET_CONNECTION (the session left state on it: temporary tables, user variables,
     * named locks); closed if the reset fails.
     */
    public void giveBackReset() {
        giveBack(true);
    }

    private void giveBack(boolean dirty) {
        if (returned.compareAndSet(false, true)) {
            try {
                pool.release(connection, dirty);
            } finally {
                budget.releaseNative();
            }
        }
    }

    /** Closes the connection (the server rolls back what it ran) and frees its place; never lent again. Any thread. */
    public void discard() {
        connection.close();
        giveBack();
    }

    /** The connection's work as a session's running statement tracks it: {@code KILL QUERY} of its thread, or closing it. */
    public ShardWork work() {
        return new NativeBackends.NativeWork(definition, pool, connection);
    }

    /** {@code KILL QUERY} of {@code thread} on a side connection, in the background (best effort). */
    public void killQuery(long thread) {
        Thread.ofVirtual().name("shardgate-kill").start(() -> {
            try {
                io.shardgate.proxy.exec.MySqlKill.query(definition, thread);
            } catch (Exception e) {
                LOG.debug("{}: KILL QUERY {} after an early end: {}", pool.describe(), thread, e.toString());
            }
        });
    }

    @Override
    public String toString() {
        return connection.toString();
    }
}

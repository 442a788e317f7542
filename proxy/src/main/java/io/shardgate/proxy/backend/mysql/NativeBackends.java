package io.shardgate.proxy.backend.mysql;

import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendUrl;
import io.shardgate.proxy.exec.SessionSettings;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * The proxy's native MySQL connections (configuration key {@code backend.native}): a {@link NativePool} per shard and
 * per {@code DEPRECATE_EOF} and {@code CLIENT_FOUND_ROWS} flag, so that a relayed reply is exactly what the shard sends a client with the
 * same capabilities, and {@link #relay}, the hot path that forwards a client's statement and relays the reply.
 *
 * <p>The pools are in addition to the JDBC pools (which still serve everything that is not relayed), each up to the
 * shard's {@code pool-size}. A shard whose definition changes gets new pools; the old ones close.
 */
public final class NativeBackends implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NativeBackends.class);
    /** How long a relayed statement may go without the shard sending anything before it is declared hung. */
    public static final Duration REPLY_TIMEOUT = Duration.ofMinutes(10);

    private record Key(String shard, boolean deprecateEof, boolean foundRows) {}

    private record Entry(ShardDefinition definition, NativePool pool) {}

    private final BackendEventLoops loops;
    private final Duration connectTimeout;
    private final Duration poolWait;
    private final Consumer<NativePool> onNewPool;
    private final Map<Key, Entry> pools = new ConcurrentHashMap<>();

    public NativeBackends(int ioThreads, Duration connectTimeout, Duration poolWait, Consumer<NativePool> onNewPool) {
        this.loops = new BackendEventLoops(ioThreads);
        this.connectTimeout = connectTimeout;
        this.poolWait = poolWait;
        this.onNewPool = onNewPool;
    }

    /** The database a shard's URL names (what its native connections select). */
    public static String database(ShardDefinition shard) {
        return BackendUrl.parse(shard.jdbcUrl()).database();
    }

    /**
     * Sends {@code sql} (a COM_QUERY's bytes) to {@code shard} on a pooled native connection that carries the session's
     * {@code settings} (their statements run first on a connection that lacks them; one carrying other settings is
     * reset first), and relays the reply to the client as it comes. Returns once the reply's last packet is written;
     * null when the connection could not be given the settings (nothing reached the client: run it another way).
     *
     * @throws ProxyException when nothing reached the client (the caller answers with the error); when part of the
     *                        reply had, the client's connection is closed (as when a server dies mid-result) and the
     *                        error is thrown too
     */
    public RelaySink.Outcome relay(ShardDefinition shard, byte[] sql, SessionSettings settings, RelayTarget target) {
        NativePool pool = pool(shard, target.deprecateEof(), target.foundRows());
        MySqlBackendConnection c = pool.borrow();
        if (!carry(pool, c, settings)) {
            pool.discard(c);
            return null;
        }
        RelaySink sink = new RelaySink(target.client(), c, target.firstSequence(), target.deprecateEof());
        try {
            c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY, sql), sink);
            RelaySink.Outcome outcome = sink.done.get();
            if (outcome.warnings() > 0) {
                // listed now, on the same connection: once it is back in the pool, another statement replaces them
                outcome = outcome.withWarningRows(warnings(c));
            }
            pool.release(c, false);
            return outcome;
        } catch (ExecutionException e) {
            pool.release(c, false); // closed by the failure: discarded
            if (e.getCause() instanceof RelaySink.Broken broken) {
                if (broken.started) {
                    target.client().close();
                }
                throw broken.error;
            }
            throw new ProxyException(ErrorCode.INTERNAL, pool.describe() + ": relay failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            pool.release(c, false);
            target.client().close();
            throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, pool.describe() + ": interrupted while relaying", e);
        } catch (RuntimeException e) {
            pool.release(c, false);
            throw e;
        }
    }

    /** The rows of {@code SHOW WARNINGS} on {@code c}, or null if they could not be read (the session then refuses to list them). */
    private static java.util.List<byte[][]> warnings(MySqlBackendConnection c) throws InterruptedException {
        WarningsSink sink = new WarningsSink();
        c.send(MySqlBackendConnection.commandPacket(MySqlBackendConnection.COM_QUERY,
                "SHOW WARNINGS".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), sink);
        try {
            return sink.done.get(REPLY_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("{}: reading a relayed statement's warnings failed: {}", c, e.toString());
            return null;
        }
    }

    /** Brings {@code c} to the session's settings, as ConnectionStates does for JDBC connections; false if that failed. */
    private static boolean carry(NativePool pool, MySqlBackendConnection c, SessionSettings settings) {
        String wanted = settings.fingerprint();
        if (wanted.equals(c.sessionTag())) {
            return true;
        }
        if (!c.sessionTag().isEmpty() && !pool.resetSession(c)) {
            return false;
        }
        c.sessionTag("/* unknown */");
        try {
            for (String statement : settings.statements()) {
                BackendReply r = c.query(statement).get(REPLY_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                if (!r.ok()) {
                    return false;
                }
            }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        c.sessionTag(wanted);
        return true;
    }

    private NativePool pool(ShardDefinition shard, boolean deprecateEof, boolean foundRows) {
        Key key = new Key(shard.name(), deprecateEof, foundRows);
        Entry e = pools.get(key);
        if (e != null && e.definition().equals(shard)) {
            return e.pool();
        }
        synchronized (this) {
            e = pools.get(key);
            if (e != null && e.definition().equals(shard)) {
                return e.pool();
            }
            NativePool pool = new NativePool(loops, settings(shard, deprecateEof, foundRows),
                    NativePool.Settings.defaults(Math.max(1, shard.poolSize())).withPoolWait(poolWait));
            pools.put(key, new Entry(shard, pool));
            LOG.info("{}: native pool {} (max {} connections, {})", shard.name(), e == null ? "created" : "replaced",
                    Math.max(1, shard.poolSize()), (deprecateEof ? "DEPRECATE_EOF" : "EOF packets")
                    + (foundRows ? ", FOUND_ROWS" : ", changed rows"));
            if (e != null) {
                e.pool().close();
            } else {
                onNewPool.accept(pool);
            }
            return pool;
        }
    }

    private BackendSettings settings(ShardDefinition shard, boolean deprecateEof, boolean foundRows) {
        BackendUrl url = BackendUrl.parse(shard.jdbcUrl());
        String hostPort = url.hostPort();
        int colon = hostPort.lastIndexOf(':');
        String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
        int port = colon < 0 ? 3306 : Integer.parseInt(hostPort.substring(colon + 1));
        return new BackendSettings(shard.name(), host, port, shard.user(), shard.password(), url.database(),
                BackendSettings.UTF8MB4_GENERAL_CI, deprecateEof, foundRows, false, connectTimeout, REPLY_TIMEOUT);
    }

    @Override
    public synchronized void close() {
        pools.values().forEach(e -> e.pool().close());
        pools.clear();
        loops.close();
    }
}

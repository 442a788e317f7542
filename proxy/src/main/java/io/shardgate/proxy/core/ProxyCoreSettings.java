package io.shardgate.proxy.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of the proxy core. {@link #defaults()} suits most deployments.
 *
 * @param connectTimeout        TCP connect timeout to a shard (Connector/J {@code connectTimeout}); default 2 s
 * @param borrowTimeout         longest wait for a pooled connection before SHARD_UNAVAILABLE (Hikari
 *                              {@code connectionTimeout}); bounds how long a dead shard can stall a statement; default 3 s
 * @param minimumIdle           idle connections each shard's pool keeps (capped by the shard's pool size); default 2
 * @param statementCacheSize    parsed statements Connector/J caches per backend connection; default 256
 * @param analysisCacheSize     analysed statements (parse + analysis) the core caches by SQL text, shared by all sessions; default 2048
 * @param fallbackServerVersion version announced while the default shard has not answered {@code SELECT VERSION()}
 * @param versionComment        answer to {@code SELECT @@version_comment}
 * @param drainTimeout          longest wait, before acknowledging a new epoch, for statements routed with older ones to
 *                              finish (and, for an epoch that starts a cleanup, for client transactions holding dual-write
 *                              copies made before it to end); past it the epoch is not acknowledged (the migrator's barrier
 *                              then times out and is retried; the proxy tries the epoch again a second later); default 20 s
 * @param holdTimeout           longest a write to slots in cutover is held before WRITE_HOLD_TIMEOUT; longer than the
 *                              migrator's barrier timeout, so a failed cutover releases held writes first; default 30 s
 * @param hotKeyPublishInterval how often the proxy publishes its hottest written keys to ZooKeeper (for
 *                              {@code shardgate hotkey top}); default 2 s
 * @param maxPinnedPerShard     most backend connections of one shard this proxy lets sessions pin for their session state
 *                              (temporary tables, named locks, user variables); a statement that would pin one more is
 *                              refused before it runs (TOO_MANY_PINNED); default {@value #DEFAULT_MAX_PINNED_PER_SHARD}
 * @param poolWait              longest a statement waits for a connection while every connection of its shard's pool is
 *                              in use by other sessions (their transactions hold them), like a server's lock wait; default
 *                              50 s (InnoDB's {@code innodb_lock_wait_timeout}). A shard that cannot be reached still fails
 *                              within {@code borrowTimeout}
 * @param nativeBackends        relay single-shard text reads over native MySQL connections ({@code backend.native} in
 *                              the bootstrap file, on by default there; see {@code io.shardgate.proxy.backend.mysql.NativeBackends}); off
 *                              in {@link #defaults()}, which the unit tests of the JDBC path and embedders start from
 * @param statementTimeout      longest a client statement may run before the proxy cancels it on its shards
 *                              ({@code limits.statement-timeout-ms}; see {@link RunningStatement}); zero: no deadline;
 *                              default {@value #DEFAULT_STATEMENT_TIMEOUT_MS} ms
 * @param nativeMinIdle         idle connections each native pool keeps ready ({@code backend.native-min-idle}, capped by
 *                              the shard's pool size; see {@code io.shardgate.proxy.backend.IdleFloor}); 0 in
 *                              {@link #defaults()}: connections opened on demand only
 */
public record ProxyCoreSettings(Duration connectTimeout, Duration borrowTimeout, int minimumIdle, int statementCacheSize,
        int analysisCacheSize, String fallbackServerVersion, String versionComment, Duration drainTimeout, Duration holdTimeout,
        Duration hotKeyPublishInterval, int maxPinnedPerShard, Duration poolWait, boolean nativeBackends,
        Duration statementTimeout, int nativeMinIdle) {
    public static final int DEFAULT_MAX_PINNED_PER_SHARD = 64;
    public static final long DEFAULT_STATEMENT_TIMEOUT_MS = 3_600_000;

    public ProxyCoreSettings {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(borrowTimeout, "borrowTimeout");
        Objects.requireNonNull(fallbackServerVersion, "fallbackServerVersion");
        Objects.requireNonNull(versionComment, "versionComment");
        requirePositive("connectTimeout", connectTimeout);
        requirePositive("drainTimeout", drainTimeout);
        requirePositive("holdTimeout", holdTimeout);
        requirePositive("hotKeyPublishInterval", hotKeyPublishInterval);
        requirePositive("poolWait", poolWait);
        if (poolWait.toMillis() < 250) {
            throw new IllegalArgumentException("poolWait must be at least 250 ms (HikariCP's minimum), was " + poolWait);
        }
        if (borrowTimeout.toMillis() < 250) {
            throw new IllegalArgumentException("borrowTimeout must be at least 250 ms (HikariCP's minimum), was " + borrowTimeout);
        }
        Objects.requireNonNull(statementTimeout, "statementTimeout");
        if (statementTimeout.isNegative()) {
            throw new IllegalArgumentException("statementTimeout must be zero (none) or positive, was " + statementTimeout);
        }
        if (nativeMinIdle < 0) {
            throw new IllegalArgumentException("nativeMinIdle must be >= 0, was " + nativeMinIdle);
        }
        if (maxPinnedPerShard < 1) {
            throw new IllegalArgumentException("maxPinnedPerShard must be >= 1, was " + maxPinnedPerShard);
        }
        if (minimumIdle < 0 || statementCacheSize < 0 || analysisCacheSize < 1) {
            throw new IllegalArgumentException("minimumIdle and statementCacheSize must be >= 0 and analysisCacheSize >= 1, were "
                    + minimumIdle + ", " + statementCacheSize + ", " + analysisCacheSize);
        }
    }

    public static ProxyCoreSettings defaults() {
        return new ProxyCoreSettings(Duration.ofSeconds(2), Duration.ofSeconds(3), 2, 256, 2048,
                "5.5.5-10.11.0-MariaDB-shardgate", "Shardgate sharding proxy", Duration.ofSeconds(20), Duration.ofSeconds(30), Duration.ofSeconds(2),
                DEFAULT_MAX_PINNED_PER_SHARD, Duration.ofSeconds(50), false,
                Duration.ofMillis(DEFAULT_STATEMENT_TIMEOUT_MS), 0);
    }

    public ProxyCoreSettings withTimeouts(Duration connect, Duration borrow) {
        return new ProxyCoreSettings(connect, borrow, minimumIdle, statementCacheSize, analysisCacheSize, fallbackServerVersion,
                versionComment, drainTimeout, holdTimeout, hotKeyPublishInterval, maxPinnedPerShard, poolWait, nativeBackends, statementTimeout, nativeMinIdle);
    }

    public ProxyCoreSettings withPoolWait(Duration wait) {
        return new ProxyCoreSettings(connectTimeout, borrowTimeout, minimumIdle, statementCacheSize, analysisCacheSize,
                fallbackServerVersion, versionComment, drainTimeout, holdTimeout, hotKeyPublishInterval, maxPinnedPerShard, wait, nativeBackends, statementTimeout, nativeMinIdle);
    }

    public ProxyCoreSettings withCutoverTimeouts(Duration drain, Duration hold) {
        return new ProxyCoreSettings(connectTimeout, borrowTimeout, minimumIdle, statementCacheSize, analysisCacheSize,
                fallbackServerVersion, versionComment, drain, hold, hotKeyPublishInterval, maxPinnedPerShard, poolWait, nativeBackends, statementTimeout, nativeMinIdle);
    }

    public ProxyCoreSettings withHotKeyPublishInterval(Duration interval) {
        return new ProxyCoreSettings(connectTimeout, borrowTimeout, minimumIdle, statementCacheSize, analysisCacheSize,
                fallbackServerVersion, versionComment, drainTimeout, holdTimeout, interval, maxPinnedPerShard, poolWait, nativeBackends, statementTimeout, nativeMinIdle);
    }

    public ProxyCoreSettings withMaxPinnedPerShard(int max) {
        return new ProxyCoreSettings(connectTimeout, borrowTimeout, minimumIdle, statementCacheSize, analysisCacheSize,
                fallbackServerVersion, versionComment, drainTimeout, holdTimeout, hotKeyPublishInterval, max, poolWait, nativeBackends, statementTimeout, nativeMinIdle);
    }

    public ProxyCoreSettings withNativeBackends(boolean on) {
        return new ProxyCoreSettings(connectTimeout, borrowTimeout, minimumIdle, statementCacheSize, analysisCacheSize,
                fallbackServerVersion, versionComment, drainTimeout, holdTimeout, hotKeyPublishInterval, maxPinnedPerShard, poolWait,
                on, statementTimeout, nativeMinIdle);
    }

    public ProxyCoreSettings withStatementTimeout(Duration timeout) {
        return new ProxyCoreSettings(connectTimeout, borrowTimeout, minimumIdle, statementCacheSize, analysisCacheSize,
                fallbackServerVersion, versionComment, drainTimeout, holdTimeout, hotKeyPublishInterval, maxPinnedPerShard, poolWait,
                nativeBackends, timeout, nativeMinIdle);
    }

    public ProxyCoreSettings withNativeMinIdle(int min) {
        return new ProxyCoreSettings(connectTimeout, borrowTimeout, minimumIdle, statementCacheSize, analysisCacheSize,
                fallbackServerVersion, versionComment, drainTimeout, holdTimeout, hotKeyPublishInterval, maxPinnedPerShard, poolWait,
                nativeBackends, statementTimeout, min);
    }

    private static void requirePositive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + d);
        }
    }
}

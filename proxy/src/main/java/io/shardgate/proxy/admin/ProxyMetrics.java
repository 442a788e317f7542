package io.shardgate.proxy.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One proxy's own counters (Micrometer, scraped in Prometheus text format from the admin port): statements by the
 * kind of plan they got, statements run on each shard with their latency as a histogram, and errors sent to
 * clients by code. Also kept as plain totals for the JSON API, whose dashboard turns them into rates. Cheap enough
 * for every statement: a map lookup and an adder.
 */
public final class ProxyMetrics {
    /** Histogram buckets of shard latency: 0.5 ms to 10 s. */
    private static final Duration[] BUCKETS = {Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2),
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
        Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> statements = new ConcurrentHashMap<>();
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Map<String, Counter> dualWriteRetries = new ConcurrentHashMap<>();
    private final Map<String, ShardCalls> shards = new ConcurrentHashMap<>();
    private final LongAdder statementTotal = new LongAdder();
    private final Counter relayedFromLoop = relayed("event-loop");
    private final Counter relayedFromSession = relayed("session-thread");

    private Counter relayed(String from) {
        return Counter.builder("shardgate.relayed.statements")
                .description("Statements relayed to one shard on a native connection, by the thread that started them: the"
                        + " client's event loop (no hand-off) or the session's thread")
                .tag("from", from).register(registry);
    }

    /** One statement relayed on a native connection, started on the client's event loop or on the session's thread. */
    public void relayed(boolean fromLoop) {
        (fromLoop ? relayedFromLoop : relayedFromSession).increment();
    }

    /** Statements relayed so far from the client's event loop ({@code fromLoop}) or from session threads. */
    public long relayedCount(boolean fromLoop) {
        return (long) (fromLoop ? relayedFromLoop : relayedFromSession).count();
    }

    private final Counter nativeTransactionConnections = Counter.builder("shardgate.native.transaction.connections")
            .description("Native connections lent to sessions' transactions (pinned until COMMIT or ROLLBACK)")
            .register(registry);

    /** A native connection was lent to a session's transaction. */
    public void nativeTransactionConnection() {
        nativeTransactionConnections.increment();
    }

    /** Native connections lent to transactions so far. */
    public long nativeTransactionConnections() {
        return (long) nativeTransactionConnections.count();
    }

    /** Calls to one shard: the timer, plus totals for the JSON API. */
    private static final class ShardCalls {
        final Timer ok;
        final Timer failed;
        final LongAdder calls = new LongAdder();
        final LongAdder failures = new LongAdder();
        final LongAdder nanos = new LongAdder();
        final AtomicLong maxNanos = new AtomicLong();

        ShardCalls(PrometheusMeterRegistry registry, String shard) {
            ok = timer(registry, shard, "ok");
            failed = timer(registry, shard, "error");
        }

        private static Timer timer(PrometheusMeterRegistry registry, String shard, String outcome) {
            return Timer.builder("shardgate.shard.statement")
                    .description("Statements run on a shard (one per shard a client statement reaches), by outcome")
                    .tags("shard", shard, "outcome", outcome)
                    .serviceLevelObjectives(BUCKETS)
                    .register(registry);
        }
    }

    /** Totals of one shard's calls since the proxy started. */
    public record ShardTotals(long calls, long failures, double totalMillis, double maxMillis) {}

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** One client statement, by the kind of plan it was routed to (single, multi, dual-write, held, rejected, ...). */
    public void statement(String kind) {
        statements.computeIfAbsent(kind, k -> Counter.builder("shardgate.statements")
                .description("Client statements by the kind of routing plan they got").tag("kind", k).register(registry)).increment();
        statementTotal.increment();
    }

    /** One statement run on {@code shard}. */
    public void shardCall(String shard, long nanos, boolean ok) {
        ShardCalls c = shards.computeIfAbsent(shard, s -> new ShardCalls(registry, s));
        (ok ? c.ok : c.failed).record(nanos, TimeUnit.NANOSECONDS);
        c.calls.increment();
        if (!ok) {
            c.failures.increment();
        }
        c.nanos.add(nanos);
        c.maxNanos.accumulateAndGet(nanos, Math::max);
    }

    /** A dual write of the proxy's own transaction run again after a shard ended it with a lock conflict ({@code kind}). */
    public void dualWriteRetried(String kind) {
        dualWriteRetries.computeIfAbsent(kind, k -> Counter.builder("shardgate.dual_write.retries")
                .description("Autocommit dual writes the proxy ran again after a deadlock or lock wait timeout on a shard, by cause")
                .tag("cause", k).register(registry)).increment();
    }

    /** One error sent to a client: a Shardgate code name, or {@code backend-<errno>} for a backend error passed through. */
    public void error(String code) {
        errors.computeIfAbsent(code, c -> Counter.builder("shardgate.errors").description("Errors sent to clients, by code")
                .tag("code", c).register(registry)).increment();
    }

    /**
     * Backend connections pinned to client sessions for their session state (temporary tables, named locks, user
     * variables), per shard and the kind of state that pinned them: they are out of the shard's pool until their
     * session ends.
     */
    public void pinnedConnections(String shard, String reason, java.util.concurrent.atomic.AtomicInteger count) {
        io.micrometer.core.instrument.Gauge.builder("shardgate.pinned.connections", count, java.util.concurrent.atomic.AtomicInteger::get)
                .description("Backend connections pinned to client sessions for their session state, by shard and reason")
                .tags("shard", shard, "reason", reason).register(registry);
    }

    public long statementTotal() {
        return statementTotal.sum();
    }

    public Map<String, ShardTotals> shardTotals() {
        Map<String, ShardTotals> out = new java.util.TreeMap<>();
        shards.forEach((name, c) -> out.put(name, new ShardTotals(c.calls.sum(), c.failures.sum(), c.nanos.sum() / 1e6,
                c.maxNanos.get() / 1e6)));
        return out;
    }

    public Map<String, Long> errorTotals() {
        Map<String, Long> out = new java.util.TreeMap<>();
        errors.forEach((code, c) -> out.put(code, (long) c.count()));
        return out;
    }

    /**
     * Gauges of one listener's client connections: {@code shardgate.client.connections} by protocol and state
     * (authenticated, unauthenticated: still in the handshake or login, counted against their own limit).
     */
    public void clientConnections(String protocol, io.shardgate.proxy.ClientAdmission admission) {
        io.micrometer.core.instrument.Gauge.builder("shardgate.client.connections", admission,
                        io.shardgate.proxy.ClientAdmission::authenticatedConnections)
                .description("Client connections open now, by protocol and state").tags("protocol", protocol, "state", "authenticated")
                .register(registry);
        io.micrometer.core.instrument.Gauge.builder("shardgate.client.connections", admission,
                        io.shardgate.proxy.ClientAdmission::unauthenticatedConnections)
                .description("Client connections open now, by protocol and state").tags("protocol", protocol, "state", "unauthenticated")
                .register(registry);
    }

    /** The counter {@code shardgate.login.failures}: failed logins (wrong password or unknown user) on every listener. */
    public void loginFailures(io.shardgate.proxy.LoginThrottle throttle) {
        io.micrometer.core.instrument.FunctionCounter.builder("shardgate.login.failures", throttle,
                        io.shardgate.proxy.LoginThrottle::failures)
                .description("Failed client logins (wrong password or unknown user), all listeners").register(registry);
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }
}

package io.shardgate.proxy.admin;

import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.core.ProxyCore;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.HotKeyReport;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.ProxyInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the admin port reports, built per request: from the proxy itself (its routing snapshot, pools, counters,
 * shard probes) and from ZooKeeper (live proxies, migrations, hot-key reports). When ZooKeeper cannot be read the
 * last values read are served with {@code zookeeper.error} set, so the dashboard shows the outage instead of going
 * blank. The migration detail keys are those the migrator writes ({@code io.shardgate.migrator.Migrations}).
 */
final class StatusReport {
    private static final Set<String> TERMINAL = Set.of("DONE", "ABORTED", "ROLLED_BACK");
    private static final long READ_INTERVAL_MILLIS = 1000;

    record Health(boolean ready, String status, String zookeeper, Long epoch, long snapshotAgeMillis, Map<String, String> shards) {}

    record Proxy(String id, long startedAtMillis, long nowMillis, Long epoch, String zookeeper, int sessions, long statements,
            Map<String, Long> errors) {}

    record Cluster(String name, String dialect, int slots, String defaultShard) {}

    /**
     * A shard's pool; {@code pinned} of its connections are held by sessions for their session state (temporary tables,
     * named locks, user variables), by the reason that pinned them, up to {@code pinnedLimit}.
     */
    record Pool(int active, int idle, int waiting, int max, int pinned, int pinnedLimit, Map<String, Integer> pinnedReasons) {}

    record Shard(String name, boolean spare, Boolean up, Double latencyMillis, String error, int slots, Pool pool, long calls,
            long failures, double totalMillis) {}

    record Move(String migration, String phase, String source, String target) {}

    record SlotRun(int from, int to, String shard, Move moving) {}

    record Sharding(List<String> tables, String home, int slotsAtHome, int slotsMoving) {}

    record OtherProxy(String id, String address, long epoch, long startedAtMillis) {}

    record Migration(String id, String phase, String source, String target, int slots, String tables, long rowsCopied,
            long rowsTotal, double rowsPerSecond, Long etaSeconds, Long lastPauseMillis, String lastError) {}

    record HotKey(String table, String key, double writesPerSecond, String split) {}

    record ZooKeeperState(boolean connected, String error, long readAtMillis) {}

    record Status(Proxy proxy, Cluster cluster, Long epoch, List<Shard> shards, List<SlotRun> slotRanges, List<Sharding> tableShardings,
            List<OtherProxy> proxies, List<Migration> migrations, List<HotKey> hotKeys, ZooKeeperState zookeeper) {}

    private final String proxyId;
    private final ProxyCore core;
    private final ClusterStore store;
    private final ShardProbe probe;
    private final long startedAtMillis = System.currentTimeMillis();
    private volatile Runnable beforeScrape = () -> { };
    /** Last values read from ZooKeeper, served while it cannot be read. */
    private volatile List<OtherProxy> proxies = List.of();
    private volatile List<Migration> migrations = List.of();
    private volatile List<HotKeyReport> hotKeyReports = List.of();
    private volatile String zooKeeperError;
    private volatile long readAtMillis;

    private final Thread reader;
    private volatile boolean closed;

    StatusReport(String proxyId, ProxyCore core, ClusterStore store, ShardProbe probe) {
        this.proxyId = proxyId;
        this.core = core;
        this.store = store;
        this.probe = probe;
        // ZooKeeper is read in the background: a request never waits for a ZooKeeper that does not answer
        this.reader = Thread.ofVirtual().name("shardgate-admin-reader").start(() -> {
            while (!closed) {
                readStore();
                try {
                    Thread.sleep(READ_INTERVAL_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    void close() {
        closed = true;
        reader.interrupt();
    }

    /** The ZooKeeper facts as last read, with the error when the last read failed or is too old. */
    private String zooKeeperError() {
        String error = zooKeeperError;
        long age = System.currentTimeMillis() - readAtMillis;
        if (error == null && readAtMillis > 0 && age > 3 * READ_INTERVAL_MILLIS) {
            return "no answer from ZooKeeper for " + age / 1000 + " s";
        }
        return readAtMillis == 0 && error == null ? "not read yet" : error;
    }

    void beforeScrape(Runnable r) {
        beforeScrape = r;
    }

    void refreshGauges() {
        beforeScrape.run();
    }

    String metrics() {
        return core.metrics().scrape();
    }

    List<Migration> migrations() {
        return migrations;
    }

    private String zooKeeperState() {
        return core.watcher().sessionLost() ? "lost" : core.watcher().fenced() ? "suspended" : "connected";
    }

    Health health() {
        Optional<RoutingSnapshot> snapshot = core.currentSnapshot();
        String zk = zooKeeperState();
        Map<String, String> shards = new java.util.TreeMap<>();
        probe.results().forEach((name, r) -> shards.put(name, r.up() ? "up" : "down: " + r.error()));
        boolean ready = snapshot.isPresent() && !core.watcher().sessionLost();
        boolean allUp = shards.values().stream().allMatch("up"::equals);
        String status = !ready ? "not ready" : zk.equals("connected") && allUp ? "ok" : "degraded";
        long age = zk.equals("connected") ? 0 : Math.max(0, System.currentTimeMillis() - readAtMillis);
        return new Health(ready, status, zk, snapshot.map(RoutingSnapshot::epoch).orElse(null), age, shards);
    }

    Status status() {
        Optional<RoutingSnapshot> snapshot = core.currentSnapshot();
        Proxy proxy = new Proxy(proxyId, startedAtMillis, System.currentTimeMillis(), snapshot.map(RoutingSnapshot::epoch).orElse(null),
                zooKeeperState(), core.openSessions(), core.metrics().statementTotal(), core.metrics().errorTotals());
        String error = zooKeeperError();
        ZooKeeperState zk = new ZooKeeperState(error == null, error, readAtMillis);
        if (snapshot.isEmpty()) {
            return new Status(proxy, null, null, List.of(), List.of(), List.of(), proxies, migrations, hotKeys(null), zk);
        }
        RoutingSnapshot s = snapshot.get();
        SlotMap map = s.slotMap();
        Map<String, Integer> slotCounts = map.slotCounts();
        var probes = probe.results();
        var totals = core.metrics().shardTotals();
        var pools = core.shardPools();
        List<Shard> shards = new ArrayList<>();
        for (ShardDefinition d : s.cluster().shards()) {
            ShardProbe.Result r = probes.get(d.name());
            var p = pools.get(d.name());
            var st = p == null ? null : p.stats();
            var t = totals.get(d.name());
            shards.add(new Shard(d.name(), d.spare(), r == null ? null : r.up(), r == null ? null : round(r.latencyMillis()),
                    r == null ? null : r.error(), slotCounts.getOrDefault(d.name(), 0),
                    st == null ? null : new Pool(st.active(), st.idle(), st.waiting(), st.max(), core.pinnedConnections(d.name()),
                            core.pinnedLimitPerShard(), core.pinnedReasons(d.name())),
                    t == null ? 0 : t.calls(), t == null ? 0 : t.failures(), t == null ? 0 : round(t.totalMillis())));
        }
        List<Sharding> shardings = map.tableShardings().values().stream()
                .map(t -> new Sharding(t.tables(), t.home(), t.atHome().size(), t.moving().size())).toList();
        return new Status(proxy, new Cluster(store.clusterName(), s.cluster().dialect().name().toLowerCase(java.util.Locale.ROOT),
                map.slotCount(), s.cluster().defaultShard()), s.epoch(), shards, runs(map), shardings, proxies, migrations, hotKeys(map), zk);
    }

    /** Contiguous slots with one owner and one move state. */
    private static List<SlotRun> runs(SlotMap map) {
        List<SlotRun> out = new ArrayList<>();
        int start = 0;
        for (int slot = 1; slot <= map.slotCount(); slot++) {
            if (slot == map.slotCount() || !map.owner(slot).equals(map.owner(start)) || !map.moving(slot).equals(map.moving(start))) {
                Move move = map.moving(start).map(StatusReport::move).orElse(null);
                out.add(new SlotRun(start, slot - 1, map.owner(start), move));
                start = slot;
            }
        }
        return out;
    }

    private static Move move(MovingSlot m) {
        return new Move(m.migrationId(), m.phase().name(), m.source(), m.target());
    }

    /** Writes per second summed over the live proxies' reports, hottest first, with the split state of each key. */
    private List<HotKey> hotKeys(SlotMap map) {
        Map<List<String>, Double> rates = new HashMap<>();
        for (HotKeyReport report : hotKeyReports) {
            for (HotKeyReport.KeyRate k : report.keys()) {
                rates.merge(List.of(k.table(), k.key()), k.writesPerSecond(), Double::sum);
            }
        }
        return rates.entrySet().stream()
                .sorted(Map.Entry.<List<String>, Double>comparingByValue().reversed()).limit(20)
                .map(e -> new HotKey(e.getKey().get(0), e.getKey().get(1), round(e.getValue()), map == null ? null
                        : map.splitKey(e.getKey().get(0), e.getKey().get(1)).map(StatusReport::split).orElse(null)))
                .toList();
    }

    private static String split(SplitKey k) {
        return k.state().name().toLowerCase(java.util.Locale.ROOT) + " k=" + k.k();
    }

    /** Reads proxies, migrations and hot-key reports; keeps the last values (and the error) when ZooKeeper fails. */
    private void readStore() {
        try {
            proxies = store.liveProxies().stream().sorted(Comparator.comparing(ProxyInfo::id))
                    .map(p -> new OtherProxy(p.id(), p.address(), p.appliedEpoch(), p.startedAtMillis())).toList();
            migrations = store.listMigrations().stream().filter(r -> !TERMINAL.contains(r.phase().toUpperCase(java.util.Locale.ROOT)))
                    .sorted(Comparator.comparing(MigrationRecord::id)).map(StatusReport::migration).toList();
            hotKeyReports = store.hotKeyReports();
            zooKeeperError = null;
            readAtMillis = System.currentTimeMillis();
        } catch (RuntimeException e) {
            zooKeeperError = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
    }

    private static Migration migration(MigrationRecord r) {
        Map<String, String> d = r.details();
        long copied = 0;
        long total = 0;
        for (var e : d.entrySet()) {
            if (e.getKey().startsWith("rowsCopied.")) {
                copied += parse(e.getValue(), 0);
            } else if (e.getKey().startsWith("rowsTotal.")) {
                total += parse(e.getValue(), 0);
            }
        }
        String eta = d.get("etaSeconds");
        String pause = d.get("lastPauseMillis");
        double rate = 0;
        try {
            rate = d.get("rowsPerSecond") == null ? 0 : Double.parseDouble(d.get("rowsPerSecond"));
        } catch (NumberFormatException ignored) {
            // a malformed detail shows as 0 rows/s
        }
        return new Migration(r.id(), r.phase(), r.source(), r.target(), r.slots().size(), d.get("tables"), copied, total, rate,
                eta == null ? null : parse(eta, 0), pause == null ? null : parse(pause, 0), d.get("lastError"));
    }

    private static long parse(String v, long fallback) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}

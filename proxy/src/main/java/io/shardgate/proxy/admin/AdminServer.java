package io.shardgate.proxy.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.shardgate.proxy.core.ProxyCore;
import io.shardgate.state.ClusterStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's admin HTTP port: {@code /metrics} (Prometheus text), {@code /health}, {@code /health/live},
 * {@code /health/ready} (for load balancers), {@code /api/status} (the JSON the dashboard and scripts read) and the
 * dashboard itself at {@code /} (bundled HTML, CSS and JavaScript, no CDN). GET only; anything else is answered 405
 * or 404, and a request the JDK's HTTP parser cannot read costs that one connection.
 */
public final class AdminServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    private static final Map<String, String> ASSETS = Map.of(
            "/", "dashboard.html", "/index.html", "dashboard.html", "/dashboard.js", "dashboard.js", "/dashboard.css", "dashboard.css");

    private final HttpServer http;
    private final ShardProbe probe;
    private final StatusReport report;

    private AdminServer(HttpServer http, ShardProbe probe, StatusReport report) {
        this.http = http;
        this.probe = probe;
        this.report = report;
    }

    /** Starts the admin port on {@code host:port} (0 binds a free port) for one proxy. */
    public static AdminServer start(String host, int port, String proxyId, ProxyCore core, ClusterStore store) throws IOException {
        ShardProbe probe = new ShardProbe(core::shardPools, Duration.ofSeconds(2));
        StatusReport report = new StatusReport(proxyId, core, store, probe);
        registerGauges(core, report, probe);
        HttpServer http = HttpServer.create(new InetSocketAddress(host, port), 64);
        http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        AdminServer server = new AdminServer(http, probe, report);
        http.createContext("/", server::handle);
        http.start();
        LOG.info("proxy {}: admin HTTP on {}:{} (/metrics, /health, /api/status, dashboard at /)", proxyId, host,
                http.getAddress().getPort());
        return server;
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private static void registerGauges(ProxyCore core, StatusReport report, ShardProbe probe) {
        var registry = core.metrics().registry();
        Gauge.builder("shardgate.client.sessions", core, ProxyCore::openSessions).description("Client sessions open now").register(registry);
        Gauge.builder("shardgate.slot.map.epoch", core, c -> c.currentSnapshot().map(s -> (double) s.epoch()).orElse(Double.NaN))
                .description("Slot-map epoch this proxy routes with").register(registry);
        Gauge.builder("shardgate.zookeeper.connected", core, c -> c.watcher().fenced() ? 0 : 1)
                .description("1 while the ZooKeeper connection is up and the state current, else 0 (writes to moving slots fenced)")
                .register(registry);
        MultiGauge pool = MultiGauge.builder("shardgate.pool.connections").description("Shard pool connections by state")
                .register(registry);
        MultiGauge up = MultiGauge.builder("shardgate.shard.up").description("1 if the shard answered the last probe").register(registry);
        MultiGauge latency = MultiGauge.builder("shardgate.shard.probe.latency").baseUnit("seconds")
                .description("Round trip of the last SELECT 1 probe").register(registry);
        MultiGauge migration = MultiGauge.builder("shardgate.migration").description("Migrations that have not ended: progress"
                + " facts by name (phase_info = 1 with the phase as a tag)").register(registry);
        MultiGauge hot = MultiGauge.builder("shardgate.hot.key.writes").baseUnit("per.second")
                .description("This proxy's hottest shard-key values, writes per second").register(registry);
        report.beforeScrape(() -> {
            List<MultiGauge.Row<?>> poolRows = new ArrayList<>();
            core.shardPools().forEach((shard, p) -> {
                var s = p.stats();
                poolRows.add(MultiGauge.Row.of(Tags.of("shard", shard, "state", "active"), s.active()));
                poolRows.add(MultiGauge.Row.of(Tags.of("shard", shard, "state", "idle"), s.idle()));
                poolRows.add(MultiGauge.Row.of(Tags.of("shard", shard, "state", "waiting"), s.waiting()));
                poolRows.add(MultiGauge.Row.of(Tags.of("shard", shard, "state", "max"), s.max()));
            });
            pool.register(poolRows, true);
            List<MultiGauge.Row<?>> upRows = new ArrayList<>();
            List<MultiGauge.Row<?>> latencyRows = new ArrayList<>();
            probe.results().forEach((shard, r) -> {
                upRows.add(MultiGauge.Row.of(Tags.of("shard", shard), r.up() ? 1 : 0));
                latencyRows.add(MultiGauge.Row.of(Tags.of("shard", shard), r.latencyMillis() / 1000));
            });
            up.register(upRows, true);
            latency.register(latencyRows, true);
            List<MultiGauge.Row<?>> migrationRows = new ArrayList<>();
            for (StatusReport.Migration m : report.migrations()) {
                Tags tags = Tags.of("migration", m.id(), "source", m.source(), "target", m.target());
                migrationRows.add(MultiGauge.Row.of(tags.and("fact", "phase_info", "phase", m.phase()), 1));
                migrationRows.add(MultiGauge.Row.of(tags.and("fact", "rows_copied", "phase", m.phase()), m.rowsCopied()));
                migrationRows.add(MultiGauge.Row.of(tags.and("fact", "rows_total", "phase", m.phase()), m.rowsTotal()));
                migrationRows.add(MultiGauge.Row.of(tags.and("fact", "rows_per_second", "phase", m.phase()), m.rowsPerSecond()));
                if (m.lastPauseMillis() != null) {
                    migrationRows.add(MultiGauge.Row.of(tags.and("fact", "last_cutover_pause_seconds", "phase", m.phase()),
                            m.lastPauseMillis() / 1000.0));
                }
            }
            migration.register(migrationRows, true);
            List<MultiGauge.Row<?>> hotRows = new ArrayList<>();
            core.hotKeys().top(10).keys().forEach(k -> hotRows.add(MultiGauge.Row.of(Tags.of("table", k.table(), "key", k.key()),
                    k.writesPerSecond())));
            hot.register(hotRows, true);
        });
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                send(exchange, 405, "text/plain", "only GET\n");
                return;
            }
            String path = exchange.getRequestURI().getPath();
            switch (path) {
                case "/metrics" -> {
                    report.refreshGauges();
                    send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", report.metrics());
                }
                case "/health", "/health/ready" -> {
                    StatusReport.Health h = report.health();
                    send(exchange, h.ready() ? 200 : 503, "application/json", JSON.writeValueAsString(h));
                }
                case "/health/live" -> send(exchange, 200, "application/json", "{\"live\":true}");
                case "/api/status" -> send(exchange, 200, "application/json", JSON.writeValueAsString(report.status()));
                default -> {
                    String asset = ASSETS.get(path);
                    if (asset == null) {
                        send(exchange, 404, "text/plain", "not found: " + path + "\n");
                    } else {
                        send(exchange, 200, contentType(asset), asset(asset));
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("admin request {} failed", exchange.getRequestURI(), e);
        }
    }

    private static String contentType(String asset) {
        return asset.endsWith(".html") ? "text/html; charset=utf-8" : asset.endsWith(".js") ? "text/javascript; charset=utf-8"
                : "text/css; charset=utf-8";
    }

    private static String asset(String name) throws IOException {
        try (InputStream in = AdminServer.class.getResourceAsStream("/io/shardgate/proxy/admin/" + name)) {
            if (in == null) {
                throw new IOException("dashboard asset " + name + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void send(HttpExchange exchange, int status, String contentType, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = "HEAD".equals(exchange.getRequestMethod());
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
        report.close();
        probe.close();
    }
}

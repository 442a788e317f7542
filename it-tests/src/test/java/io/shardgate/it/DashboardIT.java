package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.migrator.MigrationWorker;
import io.shardgate.migrator.WorkerSettings;
import io.shardgate.proxy.ProxyServer;
import java.io.File;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The admin port of a proxy on a running cluster: {@code /metrics}, {@code /health} and {@code /api/status} over
 * HTTP, and the dashboard in a real headless Chromium (Debian's chromium and chromedriver) driven by Selenium: it
 * shows the shards and the slot ranges, a migration's progress while slots move, and a killed shard as down; and
 * {@code shardgate status} says the same of the shards; with ZooKeeper stopped the page keeps its last picture and
 * says ZooKeeper is unreachable.
 * Screenshots go to {@code it-tests/target/dashboard-*.png}.
 */
class DashboardIT {
    private static final String CHROMIUM = "/usr/bin/chromium";
    private static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void theDashboardShowsShardsSlotsAMigrationAndADeadShardAndTheEndpointsAnswer() throws Exception {
        assertThat(new File(CHROMIUM)).as("Debian's chromium (apt-get install chromium chromium-driver; .ci/run does)").exists();
        assertThat(new File(CHROMEDRIVER)).as("Debian's chromium-driver").exists();
        try (ShardedCluster cluster = ShardedCluster.start(2, 1, "tables:\n  - {name: users, kind: sharded, key: id, key-type: int}\n")) {
            ProxyServer proxy = cluster.startProxyWithAdmin();
            String base = "http://127.0.0.1:" + proxy.adminPort();
            try (Connection c = cluster.proxyConnection(proxy, "rewriteBatchedStatements=true")) {
                Sql.update(c, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(40))");
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO users VALUES (?, ?)")) {
                    for (int i = 1; i <= 3000; i++) {
                        ps.setInt(1, i);
                        ps.setString(2, "user " + i);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                for (int i = 1; i <= 50; i++) {
                    Sql.query(c, "SELECT name FROM users WHERE id = ?", i);
                }
                assertThat(Sql.query(c, "SELECT COUNT(*) FROM users")).containsExactly(List.of("3000"));
            }

            HttpResponse<String> metrics = get(base + "/metrics");
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("shardgate_statements_total{kind=\"single\"}")
                    .contains("shardgate_statements_total{kind=\"multi\"}")
                    .containsPattern("shardgate_shard_statement_seconds_bucket\\{outcome=\"ok\",shard=\"s0\",le=\"0\\.001\"\\} [1-9]")
                    .contains("shardgate_pool_connections{shard=\"s1\",state=\"max\"} 16.0")
                    .contains("shardgate_client_sessions").contains("shardgate_slot_map_epoch 1.0")
                    .contains("shardgate_shard_up{shard=\"s0\"}");
            HttpResponse<String> health = get(base + "/health");
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            assertThat(health.body()).contains("\"ready\":true").contains("\"zookeeper\":\"connected\"");
            assertThat(get(base + "/api/status").body()).contains("\"name\":\"s2\",\"spare\":true").contains("\"slotRanges\"");
            assertThat(get(base + "/no-such-page").statusCode()).isEqualTo(404);
            try (Socket garbage = new Socket("127.0.0.1", proxy.adminPort()); OutputStream out = garbage.getOutputStream()) {
                out.write("\u0000\u0001 not http at all\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
            assertThat(get(base + "/health/live").statusCode()).as("the admin port after a garbage request").isEqualTo(200);

            WebDriver browser = chromium();
            try {
                browser.get(base + "/");
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
                wait.until(d -> "up".equals(state(d, "s0")) && "up".equals(state(d, "s1")));
                String ranges = text(browser, "#slot-ranges");
                assertThat(ranges).contains("0-2047 s0").contains("2048-4095 s1");
                assertThat(text(browser, "#shards")).contains("s2 (spare)");
                screenshot(browser, "dashboard-shards.png");

                try (MigrationWorker worker = MigrationWorker.start(cluster.store(), WorkerSettings.defaults("dashboard-it")
                        .withPollInterval(Duration.ofMillis(200)))) {
                    ShardgateProcess.Result started = cli(cluster, "reshard", "start", "--slots", "0-1023", "--to", "s2",
                            "--rows-per-second", "150", "--chunk-rows", "50");
                    assertThat(started.exitCode()).as(started.toString()).isZero();
                    wait.until(d -> {
                        String text = text(d, "#migrations");
                        return (text.contains("backfill") || text.contains("verify")) && text.matches("(?s).*[1-9][0-9]*/[0-9]+ rows.*");
                    });
                    String migrations = text(browser, "#migrations");
                    assertThat(migrations).contains("s0 → s2, 1024 slots");
                    assertThat(text(browser, "#slot-ranges")).contains("0-1023 s0 → s2");
                    screenshot(browser, "dashboard-migration.png");
                    ShardgateProcess.Result aborted = cli(cluster, "reshard", "abort", "--wait");
                    assertThat(aborted.exitCode()).as(aborted.toString()).isZero();
                }

                cluster.shard(1).kill();
                new WebDriverWait(browser, Duration.ofSeconds(40)).until(d -> "down".equals(state(d, "s1")));
                assertThat(state(browser, "s0")).isEqualTo("up");
                assertThat(text(browser, "#banner")).contains("shards down: s1");
                screenshot(browser, "dashboard-shard-down.png");

                ShardgateProcess.Result status = cli(cluster, "status");
                assertThat(status.exitCode()).as(status.toString()).isZero();
                assertThat(status.stdout()).containsPattern("\\s+s0\\s+up\\s+[0-9.]+ ms\\s+2048\\s+0-2047")
                        .containsPattern("\\s+s1\\s+DOWN: .+\\s+2048\\s+2048-4095").contains("proxies (2 live)");
                ShardgateProcess.Result json = cli(cluster, "status", "--json");
                assertThat(json.stdout()).containsPattern("\"name\" : \"s1\"[^}]+\"health\" : \\{\\s+\"up\" : false");

                HttpResponse<String> degraded = get(base + "/health");
                assertThat(degraded.statusCode()).as("a dead shard fails its keys, not the proxy: still ready").isEqualTo(200);
                assertThat(degraded.body()).contains("\"status\":\"degraded\"").contains("\"s1\":\"down");
                assertThat(get(base + "/metrics").body()).contains("shardgate_shard_up{shard=\"s1\"} 0.0");

                // ZooKeeper gone: the page keeps the last picture and says so
                cluster.stopZooKeeper();
                new WebDriverWait(browser, Duration.ofSeconds(30)).until(d -> String.valueOf(text(d, "#banner")).contains("ZooKeeper"));
                assertThat(state(browser, "s0")).isEqualTo("up");
                assertThat(text(browser, "#slot-ranges")).contains("2048-4095 s1");
                screenshot(browser, "dashboard-zookeeper-down.png");
            } finally {
                browser.quit();
            }
        }
    }

    private static String state(WebDriver d, String shard) {
        return text(d, "#shards tr[data-shard='" + shard + "'] .state");
    }

    /**
     * The text of the first element {@code selector} finds, read in one script call: the page redraws every second,
     * so an element found in one call may be gone by the next.
     */
    private static String text(WebDriver d, String selector) {
        Object t = ((JavascriptExecutor) d).executeScript("const e = document.querySelector(arguments[0]);"
                + " return e == null ? null : e.textContent;", selector);
        return t == null ? null : t.toString();
    }

    private static WebDriver chromium() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        Path profile = Files.createTempDirectory("shardgate-chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--window-size=1280,1100", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private static void screenshot(WebDriver browser, String name) throws Exception {
        byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        Path target = Path.of("target", name);
        Files.createDirectories(target.getParent());
        Files.write(target, png);
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static ShardgateProcess.Result cli(ShardedCluster cluster, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        return ShardgateProcess.run(Duration.ofSeconds(60), all.toArray(String[]::new));
    }
}

package io.shardgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.ProxyInfo;
import io.shardgate.state.Versioned;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line against a real (in-process) ZooKeeper; each test uses its own cluster name. */
class ShardgateCliTest {
    private static final Path EXAMPLE = Path.of("..", "conf", "cluster-example.yaml");
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static TestingServer zk;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startZooKeeper() throws Exception {
        zk = new TestingServer(true);
    }

    @AfterAll
    static void stopZooKeeper() throws IOException {
        zk.close();
    }

    private static String newCluster() {
        return "cli-test-" + CLUSTERS.incrementAndGet();
    }

    /** Runs a command that talks to the test ZooKeeper as {@code cluster}. */
    private static CliRun run(String cluster, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--zk", zk.getConnectString(), "--cluster", cluster));
        return CliRun.of(all.toArray(String[]::new));
    }

    private static CliRun init(String cluster, String... extra) {
        List<String> args = new ArrayList<>(List.of("cluster", "init", "--file", EXAMPLE.toString()));
        args.addAll(List.of(extra));
        return run(cluster, args.toArray(String[]::new));
    }

    private static void assertOneErrorLine(CliRun r, int exit, String text) {
        assertThat(r.exit()).as(r.toString()).isEqualTo(exit);
        assertThat(r.errLines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).startsWith("shardgate: error: ").contains(text);
    }

    private Path file(String name, String text) throws IOException {
        Path f = tmp.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    @Test
    void migratorRefusesAnInvalidChunkSizeBeforeConnecting() {
        CliRun r = CliRun.of("migrator", "--zk", "127.0.0.1:1", "--chunk-rows", "0");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).contains("migrator: defaultChunkRows must be at least 1, was 0");
    }

    @Test
    void initThenStatusShowsTwoShardsWithHalfTheSlotsEach() {
        String c = newCluster();
        CliRun init = init(c);
        assertThat(init.exit()).as(init.toString()).isZero();
        assertThat(init.out()).contains("created cluster '" + c + "' in ZooKeeper at " + zk.getConnectString());
        assertThat(init.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+s0\\s+2048\\s+0-2047\\s+jdbc:mysql://127.0.0.1:3316/shardgate"));
        assertThat(init.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+s2\\s+0\\s+- \\(spare\\)\\s+jdbc:mysql://127.0.0.1:3318/shardgate"));

        CliRun status = run(c, "status");
        assertThat(status.exit()).as(status.toString()).isZero();
        assertThat(status.err()).isEmpty();
        assertThat(status.outLines()).contains("cluster    " + c + "  (ZooKeeper " + zk.getConnectString() + ")",
                "dialect    mysql", "slots      4096", "epoch      1");
        assertThat(status.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+s0\\s+DOWN: .*refused.*\\s+-\\s+2048\\s+0-2047\\s+64\\s+jdbc:mysql://127.0.0.1:3316/shardgate"));
        assertThat(status.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+s1\\s+DOWN: .*\\s+-\\s+2048\\s+2048-4095\\s+64\\s+jdbc:mysql://127.0.0.1:3317/shardgate"));
        assertThat(status.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+s2\\s+DOWN: .*\\s+-\\s+0\\s+-\\s+64\\s+jdbc:mysql://127.0.0.1:3318/shardgate\\s+spare"));
        assertThat(status.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+likes\\s+sharded\\s+key post_id \\(int\\), hot keys append split by user_id"));
        assertThat(status.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+settings\\s+single\\s+on s0"));
        assertThat(status.out()).contains("proxies (0 live)", "migrations (0)");
    }

    @Test
    void statusJsonHasTheSameFacts() throws Exception {
        String c = newCluster();
        assertThat(init(c).exit()).isZero();
        CliRun r = run(c, "status", "--json");
        assertThat(r.exit()).as(r.toString()).isZero();
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertThat(doc.get("cluster").asText()).isEqualTo(c);
        assertThat(doc.get("zookeeper").asText()).isEqualTo(zk.getConnectString());
        assertThat(doc.get("dialect").asText()).isEqualTo("mysql");
        assertThat(doc.get("slots").asInt()).isEqualTo(4096);
        assertThat(doc.get("epoch").asLong()).isEqualTo(1);
        assertThat(doc.get("defaultShard").asText()).isEqualTo("s0");
        JsonNode shards = doc.get("shards");
        assertThat(shards).hasSize(3);
        assertThat(shards.get(0).get("name").asText()).isEqualTo("s0");
        assertThat(shards.get(0).get("url").asText()).isEqualTo("jdbc:mysql://127.0.0.1:3316/shardgate");
        assertThat(shards.get(0).get("poolSize").asInt()).isEqualTo(64);
        assertThat(shards.get(0).get("slotCount").asInt()).isEqualTo(2048);
        assertThat(shards.get(0).get("ranges").get(0).asText()).isEqualTo("0-2047");
        assertThat(shards.get(1).get("ranges").get(0).asText()).isEqualTo("2048-4095");
        assertThat(shards.get(2).get("spare").asBoolean()).isTrue();
        assertThat(shards.get(2).get("slotCount").asInt()).isZero();
        assertThat(shards.get(2).has("password")).isFalse();
        assertThat(doc.get("tables")).hasSize(9);
        JsonNode metrics = doc.get("tables").findParents("name").stream()
                .filter(t -> t.get("name").asText().equals("post_metrics")).findFirst().orElseThrow();
        assertThat(metrics.get("key").asText()).isEqualTo("post_id");
        assertThat(metrics.get("keyType").asText()).isEqualTo("int");
        assertThat(metrics.get("hotKey").get("mode").asText()).isEqualTo("counter");
        assertThat(metrics.get("hotKey").get("counters").toString()).isEqualTo("[\"like_count\",\"view_count\"]");
        assertThat(doc.get("movingSlots")).isEmpty();
        assertThat(doc.get("proxies")).isEmpty();
        assertThat(doc.get("migrations")).isEmpty();
    }

    @Test
    void statusShowsLiveProxiesMigrationsAndMovingSlots() throws Exception {
        String c = newCluster();
        assertThat(init(c).exit()).isZero();
        try (ClusterStore store = ZooKeeperClusterStore.connect(zk.getConnectString(), c, Duration.ofSeconds(5))) {
            store.registerProxy(new ProxyInfo("proxy-a", "127.0.0.1:3307", 1, 1_700_000_000_000L));
            store.createMigration(new MigrationRecord("m-1", List.of(0, 1, 2), "s0", "s2", "backfill", Map.of(), Map.of(), 1_700_000_000_000L));
            Versioned<SlotMap> map = store.readSlotMap();
            store.casSlotMap(map.value().withMoving(2, List.of(0, 1, 2), new MovingSlot("m-1", MigrationPhase.BACKFILL, "s0", "s2")),
                    map.version());

            CliRun status = run(c, "status");
            assertThat(status.exit()).as(status.toString()).isZero();
            assertThat(status.out()).contains("epoch      2", "proxies (1 live)", "migrations (1)");
            assertThat(status.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+proxy-a\\s+127.0.0.1:3307\\s+1 \\(behind\\)\\s+.*"));
            assertThat(status.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+m-1\\s+backfill\\s+s0\\s+s2\\s+3\\s+.*"));
            assertThat(status.outLines()).anySatisfy(l -> assertThat(l).matches("\\s+0-2\\s+s0\\s+s2\\s+backfill\\s+m-1"));

            JsonNode doc = new ObjectMapper().readTree(run(c, "status", "--json").out());
            assertThat(doc.get("proxies").get(0).get("id").asText()).isEqualTo("proxy-a");
            assertThat(doc.get("proxies").get(0).get("appliedEpoch").asLong()).isEqualTo(1);
            assertThat(doc.get("migrations").get(0).get("phase").asText()).isEqualTo("backfill");
            assertThat(doc.get("movingSlots").get(0).get("target").asText()).isEqualTo("s2");

            CliRun slots = run(c, "slots");
            assertThat(slots.outLines()).startsWith("0-2        s0  moving s0 -> s2 (backfill, m-1)", "3-2047     s0", "2048-4095  s1");
        }
    }

    @Test
    void initRefusesAnExistingClusterUnlessForced() {
        String c = newCluster();
        assertThat(init(c).exit()).isZero();
        CliRun again = init(c);
        assertOneErrorLine(again, 1, "cluster '" + c + "' already exists in ZooKeeper at " + zk.getConnectString()
                + "; use --force to replace it");
        assertThat(again.out()).isEmpty();

        CliRun forced = init(c, "--force");
        assertThat(forced.exit()).as(forced.toString()).isZero();
        assertThat(forced.out()).startsWith("replaced cluster '" + c + "'");
        assertThat(run(c, "status").out()).contains("epoch      1");
    }

    @Test
    void dryRunPrintsThePlanAndWritesNothing() {
        String c = newCluster();
        CliRun dry = init(c, "--dry-run");
        assertThat(dry.exit()).as(dry.toString()).isZero();
        assertThat(dry.out()).startsWith("would create cluster '" + c + "'").contains("0-2047", "2048-4095");
        assertOneErrorLine(run(c, "status"), 1, "is not initialised");
    }

    @Test
    void slotsCoverEverySlotOnce() {
        String c = newCluster();
        assertThat(init(c).exit()).isZero();
        CliRun r = run(c, "slots");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.outLines()).containsExactly("0-2047     s0", "2048-4095  s1", "# epoch 1, 4096 slots");
        Pattern range = Pattern.compile("(\\d+)-(\\d+)\\s+(s\\d)");
        List<Integer> covered = new ArrayList<>();
        for (String line : r.outLines()) {
            Matcher m = range.matcher(line);
            if (m.matches()) {
                IntStream.rangeClosed(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))).forEach(covered::add);
            }
        }
        assertThat(covered).isEqualTo(IntStream.range(0, 4096).boxed().toList());
    }

    @Test
    void slotsOfOneShardAndAsJson() throws Exception {
        String c = newCluster();
        assertThat(init(c).exit()).isZero();
        assertThat(run(c, "slots", "--shard", "s1").outLines()).first().isEqualTo("2048-4095  s1");
        JsonNode doc = new ObjectMapper().readTree(run(c, "slots", "--json").out());
        assertThat(doc.get("epoch").asLong()).isEqualTo(1);
        assertThat(doc.get("ranges")).hasSize(2);
        assertThat(doc.get("ranges").get(1).get("from").asInt()).isEqualTo(2048);
        assertThat(doc.get("ranges").get(1).get("to").asInt()).isEqualTo(4095);
        assertThat(doc.get("ranges").get(1).get("shard").asText()).isEqualTo("s1");
    }

    @Test
    void unknownShardIsOneLine() {
        String c = newCluster();
        assertThat(init(c).exit()).isZero();
        assertOneErrorLine(run(c, "slots", "--shard", "s9"), 1, "unknown shard 's9'; the shards of cluster '" + c + "' are s0, s1, s2");
    }

    @Test
    void refusedZooKeeperFailsAtOnce() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliRun r = CliRun.of("status", "--zk", "127.0.0.1:" + port, "--cluster", "nowhere");
        assertOneErrorLine(r, 1, "cannot reach ZooKeeper at 127.0.0.1:" + port + ": connection refused (is it running?");
        assertThat(r.elapsed()).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void silentZooKeeperFailsAfterTheConnectTimeout() throws IOException {
        // a socket that completes TCP handshakes (backlog) but never answers, like a hung server
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Path cfg = file("shardgate.yaml", "zookeeper:\n  connect-timeout-ms: 1500\n");
            CliRun r = CliRun.of("slots", "--config", cfg.toString(), "--zk", "127.0.0.1:" + silent.getLocalPort());
            assertOneErrorLine(r, 1, "cannot reach ZooKeeper at 127.0.0.1:" + silent.getLocalPort() + " within 1500 ms: it accepts connections"
                    + " but opened no session in time");
            assertThat(r.elapsed()).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void invalidClusterFileNamesTheKey() throws IOException {
        Path bad = file("bad.yaml", """
                dialect: mysql
                shards:
                  - {name: s0, url: "jdbc:mysql://h:3306/db", user: root}
                tables:
                  - {name: users, kind: sharded, key: id, key-type: integer}
                """);
        CliRun r = run(newCluster(), "cluster", "init", "--file", bad.toString());
        assertOneErrorLine(r, 1, bad + ": tables[0].key-type: 'integer' is not allowed; use one of: int, string");
    }

    @Test
    void malformedYamlIsOneLine() throws IOException {
        Path bad = file("broken.yaml", "dialect: mysql\nshards: [\n");
        CliRun r = run(newCluster(), "cluster", "init", "--file", bad.toString());
        assertOneErrorLine(r, 1, bad + " is not valid YAML");
    }

    @Test
    void missingClusterFileIsOneLine() {
        CliRun r = run(newCluster(), "cluster", "init", "--file", "no/such/cluster.yaml");
        assertOneErrorLine(r, 1, "cluster file no/such/cluster.yaml does not exist");
    }

    @Test
    void statusOfAnUninitialisedCluster() {
        CliRun r = run("x", "status");
        assertOneErrorLine(r, 1, "cluster 'x' is not initialised in ZooKeeper at " + zk.getConnectString()
                + "; run shardgate cluster init --file");
    }

    @Test
    void invalidConfigFileNamesFileAndKey() throws IOException {
        Path cfg = file("shardgate.yaml", "listen:\n  mysql-port: 70000\n");
        CliRun r = CliRun.of("status", "--config", cfg.toString());
        assertOneErrorLine(r, 1, cfg + ": listen.mysql-port: must be in 0..65535, was 70000");
    }

    @Test
    void missingConfigFileIsOneLine() {
        CliRun r = CliRun.of("status", "--config", "no/such.yaml");
        assertOneErrorLine(r, 1, "config file no/such.yaml does not exist");
    }

    @Test
    void configFileSuppliesClusterAndZooKeeper() throws IOException {
        String c = newCluster();
        assertThat(init(c).exit()).isZero();
        Path cfg = file("shardgate.yaml", "cluster: " + c + "\nzookeeper:\n  connect: \"" + zk.getConnectString() + "\"\n");
        CliRun r = CliRun.of("status", "--config", cfg.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("cluster    " + c);
    }

    @Test
    void badCommandLineValuesAreUsageErrors() {
        assertOneErrorLine(CliRun.of("status", "--bogus"), 2, "unknown option '--bogus'; see 'shardgate status --help'");
        assertOneErrorLine(CliRun.of("statu"), 2, "unknown command 'statu' (did you mean status");
        assertOneErrorLine(CliRun.of("cluster", "init"), 2, "Missing required option: '--file=FILE'");
        assertOneErrorLine(CliRun.of("status", "--zk", "localhost"), 1, "--zk: 'localhost' is not allowed; use \"embedded\" or host:port");
        assertOneErrorLine(CliRun.of("status", "--cluster", "Bad/Name"), 1, "--cluster: 'Bad/Name' is not a valid cluster name");
    }

    @Test
    void verbosePrintsTheStackTrace() {
        CliRun r = CliRun.of("status", "--config", "no/such.yaml", "--verbose");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.errLines().getFirst()).isEqualTo("shardgate: error: config file no/such.yaml does not exist");
        assertThat(r.err()).contains("at io.shardgate.");
    }

    @Test
    void helpAndVersion() {
        CliRun help = CliRun.of("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("cluster", "status", "slots", "zookeeper", "demo");
        CliRun initHelp = CliRun.of("cluster", "init", "--help");
        assertThat(initHelp.exit()).isZero();
        assertThat(initHelp.out()).contains("--file=FILE", "--force", "--zk=CONNECT", "--cluster=NAME", "--config=FILE");
        CliRun version = CliRun.of("--version");
        assertThat(version.exit()).isZero();
        assertThat(version.out()).startsWith("shardgate ");
    }
}

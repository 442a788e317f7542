package io.shardgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.Versioned;
import io.shardgate.state.zk.ZooKeeperClusterStore;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shard add} and {@code reshard plan} against an in-process ZooKeeper and one real MariaDB
 * server whose databases play the shards: {@code shard0} (holds rows), {@code empty1} (a clean
 * new shard) and {@code dirty} (already holds a cluster table).
 */
class ReshardCliTest {
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static final int USERS_ROWS = 40;
    private static TestingServer zk;
    private static LocalMariaDb mariadb;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startServers() throws Exception {
        zk = new TestingServer(true);
        mariadb = LocalMariaDb.temporary();
        mariadb.createDatabase("shard0");
        mariadb.execute("shard0", "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(40))");
        StringBuilder insert = new StringBuilder("INSERT INTO users VALUES ");
        for (int i = 1; i <= USERS_ROWS; i++) {
            insert.append(i == 1 ? "" : ",").append("(").append(i).append(",'u").append(i).append("')");
        }
        mariadb.execute("shard0", insert.toString());
        mariadb.execute("shard0", "CREATE TABLE countries (code CHAR(2) PRIMARY KEY)");
        mariadb.createDatabase("empty1");
        mariadb.execute("empty1", "CREATE TABLE unrelated (id INT PRIMARY KEY)");
        mariadb.createDatabase("dirty");
        mariadb.execute("dirty", "CREATE TABLE Users (id INT PRIMARY KEY)");
        mariadb.execute("dirty", "CREATE TABLE countries (code CHAR(2) PRIMARY KEY)");
    }

    @AfterAll
    static void stopServers() throws IOException {
        if (mariadb != null) {
            mariadb.close();
        }
        if (zk != null) {
            zk.close();
        }
    }

    private static CliRun run(String cluster, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--zk", zk.getConnectString(), "--cluster", cluster));
        return CliRun.of(all.toArray(String[]::new));
    }

    private static void assertOneErrorLine(CliRun r, int exit, String... texts) {
        assertThat(r.exit()).as(r.toString()).isEqualTo(exit);
        assertThat(r.errLines()).as(r.toString()).hasSize(1);
        assertThat(r.err()).as(r.toString()).startsWith("shardgate: error: ").contains(texts);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String shardYaml(String name, String url, boolean spare) {
        return "  - name: " + name + "\n    url: " + url + "\n    user: root\n" + (spare ? "    spare: true\n" : "");
    }

    /** A new cluster with s0 = database shard0 (plus {@code moreShards}, YAML list items). */
    private String newCluster(String moreShards) throws IOException {
        String cluster = "reshard-test-" + CLUSTERS.incrementAndGet();
        Path file = tmp.resolve(cluster + ".yaml");
        Files.writeString(file, "dialect: mysql\nslots: 4096\nshards:\n" + shardYaml("s0", mariadb.jdbcUrl("shard0"), false) + moreShards
                + "tables:\n"
                + "  - name: users\n    kind: sharded\n    key: id\n    key-type: int\n"
                + "  - name: countries\n    kind: broadcast\n"
                + "  - name: settings\n    kind: single\n    shard: s0\n");
        CliRun init = run(cluster, "cluster", "init", "--file", file.toString());
        assertThat(init.exit()).as(init.toString()).isZero();
        return cluster;
    }

    private static Versioned<ClusterDefinition> definition(String cluster) {
        try (ClusterStore store = ZooKeeperClusterStore.connect(zk.getConnectString(), cluster, Duration.ofSeconds(5))) {
            return store.readDefinition();
        }
    }

    private static Versioned<SlotMap> slotMap(String cluster) {
        try (ClusterStore store = ZooKeeperClusterStore.connect(zk.getConnectString(), cluster, Duration.ofSeconds(5))) {
            return store.readSlotMap();
        }
    }

    private static List<String> shardNames(String cluster) {
        return definition(cluster).value().shardNames();
    }

    private static CliRun addEmpty1(String cluster, String... extra) {
        List<String> args = new ArrayList<>(List.of("shard", "add", "s1", "--url", mariadb.jdbcUrl("empty1"), "--user", "root",
                "--pool-size", "8"));
        args.addAll(List.of(extra));
        return run(cluster, args.toArray(String[]::new));
    }

    @Test
    void addRegistersAnEmptyDatabaseAsASpareWithoutTouchingTheSlotMap() throws IOException {
        String c = newCluster("");
        Versioned<SlotMap> mapBefore = slotMap(c);

        CliRun add = addEmpty1(c);
        assertThat(add.exit()).as(add.toString()).isZero();
        assertThat(add.err()).isEmpty();
        assertThat(add.out()).contains("added shard 's1' to cluster '" + c + "' as a spare (no slots)",
                "cluster tables none in database 'empty1'", "next: shardgate reshard plan --rebalance");

        ClusterDefinition definition = definition(c).value();
        assertThat(definition.shardNames()).containsExactly("s0", "s1");
        assertThat(definition.shard("s1")).contains(new ShardDefinition("s1", mariadb.jdbcUrl("empty1"), "root", "", 8, true));
        Versioned<SlotMap> mapAfter = slotMap(c);
        assertThat(mapAfter).isEqualTo(mapBefore);
        assertThat(mapAfter.value().epoch()).isEqualTo(1);

        CliRun again = addEmpty1(c);
        assertOneErrorLine(again, 1, "shard 's1' already exists in cluster '" + c + "' (shards: s0, s1)");
    }

    @Test
    void dryRunChecksButChangesNothing() throws IOException {
        String c = newCluster("");
        Versioned<ClusterDefinition> before = definition(c);
        CliRun dry = addEmpty1(c, "--dry-run");
        assertThat(dry.exit()).as(dry.toString()).isZero();
        assertThat(dry.out()).contains("would add shard 's1'", "reachable      " + mariadb.jdbcUrl("empty1"), "definition unchanged (dry run)");
        assertThat(definition(c)).isEqualTo(before);
    }

    @Test
    void addRefusesADatabaseHoldingClusterTablesUnlessForced() throws IOException {
        String c = newCluster("");
        String url = mariadb.jdbcUrl("dirty");
        CliRun refused = run(c, "shard", "add", "s1", "--url", url, "--user", "root");
        assertOneErrorLine(refused, 1, "database 'dirty' at " + url + " already holds 2 of the cluster's tables (countries, users)",
                "--force");
        assertThat(shardNames(c)).containsExactly("s0");

        CliRun forced = run(c, "shard", "add", "s1", "--url", url, "--user", "root", "--force");
        assertThat(forced.exit()).as(forced.toString()).isZero();
        assertThat(forced.out()).contains("countries, users already in database 'dirty' (added anyway: --force)");
        assertThat(definition(c).value().shard("s1").orElseThrow().spare()).isTrue();
    }

    @Test
    void addFailsFastNamingAnUnreachableUrl() throws IOException {
        String c = newCluster("");
        String url = "jdbc:mysql://127.0.0.1:" + freePort() + "/app";
        CliRun r = run(c, "shard", "add", "s1", "--url", url, "--user", "root");
        assertOneErrorLine(r, 1, "cannot use shard 's1' at " + url + ": ");
        assertThat(r.elapsed()).isLessThan(Duration.ofSeconds(10));
        assertThat(shardNames(c)).containsExactly("s0");
    }

    @Test
    void addValidatesNameUrlAndPoolSize() throws IOException {
        String c = newCluster("");
        String url = mariadb.jdbcUrl("empty1");
        assertOneErrorLine(run(c, "shard", "add", "S1", "--url", url, "--user", "root"), 1, "'S1' is not a valid shard name");
        assertOneErrorLine(run(c, "shard", "add", "s0", "--url", url, "--user", "root"), 1, "shard 's0' already exists");
        assertOneErrorLine(run(c, "shard", "add", "s1", "--url", "jdbc:postgresql://127.0.0.1/app", "--user", "root"), 1,
                "does not fit dialect mysql");
        assertOneErrorLine(run(c, "shard", "add", "s1", "--url", "jdbc:mysql://127.0.0.1:3306", "--user", "root"), 1,
                "names no database");
        assertOneErrorLine(run(c, "shard", "add", "s1", "--url", url, "--user", "root", "--pool-size", "0"), 1,
                "--pool-size must be in 1..1024, was 0");
        assertOneErrorLine(run(c, "shard", "add", "s1", "--user", "root"), 2, "--url");
        assertThat(shardNames(c)).containsExactly("s0");
    }

    @Test
    void rebalanceOntoTheAddedShardMovesHalfTheSlotsWithARowEstimate() throws Exception {
        String c = newCluster("");
        assertThat(addEmpty1(c).exit()).isZero();
        Versioned<SlotMap> before = slotMap(c);

        CliRun plan = run(c, "reshard", "plan", "--rebalance");
        assertThat(plan.exit()).as(plan.toString()).isZero();
        assertThat(plan.outLines()).containsExactly(
                "plan for cluster '" + c + "' (epoch 1, 4096 slots): rebalance over s0, s1",
                "  move slots 2048-4095 (2048 slots) s0 -> s1, est. " + USERS_ROWS / 2 + " rows",
                "  total: 2048 slots in 1 move, est. " + USERS_ROWS / 2 + " rows",
                "  dry run: nothing changed");

        JsonNode doc = new ObjectMapper().readTree(run(c, "reshard", "plan", "--rebalance", "--json").out());
        assertThat(doc.get("cluster").asText()).isEqualTo(c);
        assertThat(doc.get("movingSlots").asInt()).isEqualTo(2048);
        assertThat(doc.get("moves")).hasSize(1);
        JsonNode move = doc.get("moves").get(0);
        assertThat(move.get("from").asInt()).isEqualTo(2048);
        assertThat(move.get("to").asInt()).isEqualTo(4095);
        assertThat(move.get("source").asText()).isEqualTo("s0");
        assertThat(move.get("target").asText()).isEqualTo("s1");
        assertThat(move.get("estimatedRows").asLong()).isEqualTo(USERS_ROWS / 2);
        assertThat(move.get("estimatedRowsByTable").get("users").asLong()).isEqualTo(USERS_ROWS / 2);

        assertThat(slotMap(c)).isEqualTo(before);
    }

    @Test
    void aSlotRangeToAShardIsOneMovePerSource() throws Exception {
        String c = newCluster("");
        assertThat(addEmpty1(c).exit()).isZero();
        CliRun plan = run(c, "reshard", "plan", "--slots", "0-1023", "--to", "s1");
        assertThat(plan.exit()).as(plan.toString()).isZero();
        assertThat(plan.outLines()).contains("  move slots 0-1023 (1024 slots) s0 -> s1, est. " + USERS_ROWS / 4 + " rows");
        assertThat(plan.outLines().stream().filter(l -> l.startsWith("  move "))).hasSize(1);

        CliRun ten = run(c, "reshard", "plan", "--slots", "0-9", "--to", "s1", "--json");
        assertThat(ten.exit()).as(ten.toString()).isZero();
        JsonNode moves = new ObjectMapper().readTree(ten.out()).get("moves");
        assertThat(moves).hasSize(1);
        assertThat(moves.get(0).get("slots").asInt()).isEqualTo(10);
    }

    @Test
    void planRefusesBadRangesAndShardsInOneLine() throws IOException {
        String c = newCluster("");
        assertThat(addEmpty1(c).exit()).isZero();
        assertOneErrorLine(run(c, "reshard", "plan", "--slots", "4000-4096", "--to", "s1"), 1, "slots 4000-4096 are not a range within 0-4095");
        assertOneErrorLine(run(c, "reshard", "plan", "--slots", "9-3", "--to", "s1"), 1, "slots 9-3 are not a range within 0-4095");
        assertOneErrorLine(run(c, "reshard", "plan", "--slots", "ten", "--to", "s1"), 1, "--slots 'ten' is not a slot range such as 0-9 or 17");
        assertOneErrorLine(run(c, "reshard", "plan", "--slots", "0-9", "--to", "s9"), 1, "unknown shard 's9'; the shards are s0, s1");
        assertOneErrorLine(run(c, "reshard", "plan", "--slots", "0-9", "--to", "s0"), 1, "slots 0-9 are on s0 already");
        assertOneErrorLine(run(c, "reshard", "plan", "--slots", "0-9"), 2, "--to");
        assertOneErrorLine(run(c, "reshard", "plan", "--rebalance", "--slots", "0-9", "--to", "s1"), 2, "mutually exclusive");
        assertOneErrorLine(run(c, "reshard", "plan"), 2, "--rebalance");
    }

    @Test
    void planStillPrintsWhenASourceShardIsUnreachable() throws IOException {
        String down = "jdbc:mysql://127.0.0.1:" + freePort() + "/gone";
        String c = newCluster(shardYaml("s1", down, false) + shardYaml("s2", mariadb.jdbcUrl("empty1"), true));
        CliRun plan = run(c, "reshard", "plan", "--rebalance");
        assertThat(plan.exit()).as(plan.toString()).isZero();
        assertThat(plan.outLines()).anySatisfy(l -> assertThat(l).startsWith("  move slots 1366-2047 (682 slots) s0 -> s2, est. "));
        assertThat(plan.outLines()).anySatisfy(l -> assertThat(l)
                .startsWith("  move slots 3413-4095 (683 slots) s1 -> s2, rows unknown (shard s1 unreachable: "));
        assertThat(plan.out()).contains("rows unknown for some moves");
    }

    @Test
    void planRefusesSlotsThatAreMovingAlready() throws IOException {
        String c = newCluster("");
        assertThat(addEmpty1(c).exit()).isZero();
        try (ClusterStore store = ZooKeeperClusterStore.connect(zk.getConnectString(), c, Duration.ofSeconds(5))) {
            Versioned<SlotMap> map = store.readSlotMap();
            store.casSlotMap(map.value().withMoving(2, List.of(5, 6), new MovingSlot("m-1", MigrationPhase.BACKFILL, "s0", "s1")),
                    map.version());
        }
        assertOneErrorLine(run(c, "reshard", "plan", "--slots", "0-9", "--to", "s1"), 1,
                "slots 5-6 are moving already (migration m-1, s0 -> s1)");
        assertOneErrorLine(run(c, "reshard", "plan", "--rebalance"), 1,
                "2 slots are moving already (migration m-1, s0 -> s1); plan a rebalance after that migration ends");
    }

    @Test
    void balancedClusterPlansNoMoves() throws IOException {
        String c = newCluster("");
        CliRun plan = run(c, "reshard", "plan", "--rebalance");
        assertThat(plan.exit()).as(plan.toString()).isZero();
        assertThat(plan.out()).contains("no moves: the slots are spread evenly already");
    }
}

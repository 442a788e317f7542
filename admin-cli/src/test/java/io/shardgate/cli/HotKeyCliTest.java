package io.shardgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.HotKeyReport;
import io.shardgate.state.HotKeyReport.KeyRate;
import io.shardgate.state.Versioned;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code hotkey top} against an in-process ZooKeeper, with reports published as two proxies would. */
class HotKeyCliTest {
    @RegisterExtension
    static final ZooKeeperCli zk = new ZooKeeperCli();

    private static CliRun run(String cluster, String... args) {
        return zk.run(cluster, args);
    }

    private static String initialisedCluster() {
        return zk.exampleCluster("hotkey-test-");
    }

    private static ClusterStore session(String cluster) {
        return zk.store(cluster, Duration.ofSeconds(15));
    }

    private static KeyRate key(String table, String key, double rate) {
        return new KeyRate(table, key, rate, Math.round(rate * 10), 0);
    }

    @Test
    void topSumsTheLiveProxiesHottestFirstAndShowsSplitKeys() throws Exception {
        String cluster = initialisedCluster();
        try (ClusterStore p1 = session(cluster); ClusterStore p2 = session(cluster)) {
            Versioned<SlotMap> map = p1.readSlotMap();
            p1.casSlotMap(map.value().withSplitKey(map.value().epoch() + 1, new SplitKey("likes", "7", 4)), map.version());
            p1.publishHotKeys(new HotKeyReport("p1", 1L, 10, List.of(key("likes", "42", 300), key("likes", "7", 100),
                    key("users", "5", 20))));
            p2.publishHotKeys(new HotKeyReport("p2", 1L, 10, List.of(key("likes", "42", 250), key("likes", "7", 150))));

            CliRun text = run(cluster, "hotkey", "top");

            assertThat(text.exit()).as(text.toString()).isZero();
            assertThat(text.outLines().getFirst()).isEqualTo("hottest keys of cluster '" + cluster
                    + "', writes/s summed over 2 reporting proxies:");
            assertThat(text.outLines().subList(1, text.outLines().size())).containsExactly(
                    "  TABLE  KEY  WRITES/S  PROXIES  SPLIT",
                    "  likes  42   550.0     2        no",
                    "  likes  7    250.0     2        k=4",
                    "  users  5    20.0      1        no");

            CliRun json = run(cluster, "hotkey", "top", "--json", "--limit", "1");

            assertThat(json.exit()).as(json.toString()).isZero();
            JsonNode doc = new ObjectMapper().readTree(json.out());
            assertThat(doc.get("cluster").asText()).isEqualTo(cluster);
            assertThat(doc.get("proxies")).hasSize(2);
            assertThat(doc.get("keys")).hasSize(1);
            JsonNode hottest = doc.get("keys").get(0);
            assertThat(hottest.get("table").asText()).isEqualTo("likes");
            assertThat(hottest.get("key").asText()).isEqualTo("42");
            assertThat(hottest.get("writesPerSecond").asDouble()).isEqualTo(550.0);
            assertThat(hottest.get("count").asLong()).isEqualTo(5500);
            assertThat(hottest.get("proxies").asInt()).isEqualTo(2);
            assertThat(hottest.get("split").isNull()).isTrue();
        }

        CliRun afterProxiesLeft = run(cluster, "hotkey", "top");
        assertThat(afterProxiesLeft.exit()).as(afterProxiesLeft.toString()).isZero();
        assertThat(afterProxiesLeft.out()).startsWith("no live proxy of cluster '" + cluster + "' reports hot keys");
    }

    @Test
    void topOfAClusterThatDoesNotExistIsAnError() {
        CliRun r = run("hotkey-missing", "hotkey", "top");

        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).startsWith("shardgate: error: ").contains("hotkey-missing");
    }

    @Test
    void hotkeyAloneShowsItsSubcommands() {
        CliRun r = CliRun.of("hotkey");

        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("top");
    }

    @Test
    void listShowsSplitKeysWithStateAndShardsAndSplitRefusesWithTheReason() throws Exception {
        String cluster = initialisedCluster();
        CliRun empty = run(cluster, "hotkey", "list");
        assertThat(empty.exit()).as(empty.toString()).isZero();
        assertThat(empty.out()).contains("no split keys in cluster '" + cluster + "'");
        try (ClusterStore s = session(cluster)) {
            Versioned<SlotMap> map = s.readSlotMap();
            s.casSlotMap(map.value().withSplitKey(map.value().epoch() + 1, new SplitKey("likes", "42", 4))
                    .withSplitKey(map.value().epoch() + 1, new SplitKey("post_metrics", "7", 2, SplitKey.State.MERGING)), map.version());
            List<String> shardsOf42 = s.readSlotMap().value().shardsOf(new SplitKey("likes", "42", 4));

            CliRun list = run(cluster, "hotkey", "list");
            CliRun json = run(cluster, "hotkey", "list", "--json");

            assertThat(list.exit()).as(list.toString()).isZero();
            assertThat(list.outLines()).contains("TABLE         KEY  K  STATE    SHARDS")
                    .anyMatch(l -> l.matches("likes\\s+42\\s+4\\s+split\\s+" + String.join(",", shardsOf42)))
                    .anyMatch(l -> l.matches("post_metrics\\s+7\\s+2\\s+merging\\s+\\S+"));
            JsonNode doc = new ObjectMapper().readTree(json.out());
            assertThat(doc.get("splitKeys")).hasSize(2);
            assertThat(doc.get("splitKeys").get(0).get("shards")).hasSize(shardsOf42.size());
        }
        CliRun refused = run(cluster, "hotkey", "split", "--table", "accounts", "--key", "bob", "--k", "4");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err()).contains("table accounts declares no hot-key mode");
        CliRun badK = run(cluster, "hotkey", "split", "--table", "likes", "--key", "1", "--k", "1");
        assertThat(badK.exit()).isEqualTo(2);
        assertThat(badK.err()).contains("--k must be in 2..256");
        CliRun notSplit = run(cluster, "hotkey", "merge", "--table", "likes", "--key", "1");
        assertThat(notSplit.exit()).isEqualTo(1);
        assertThat(notSplit.err()).contains("key 1 of likes is not split");
    }
}

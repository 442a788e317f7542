package io.shardgate.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.TableKind;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The files in conf/ are what users copy; they must always load. */
class ConfFilesTest {
    private static final Path CONF = Path.of("..", "conf");

    @Test
    void bootstrapFileLoadsAndStatesTheDefaults() {
        assertThat(ShardgateConfig.load(CONF.resolve("shardgate.yaml"))).isEqualTo(ShardgateConfig.defaults());
    }

    @Test
    void exampleClusterLoads() {
        ClusterDefinition def = ClusterDefinitionCodec.read(CONF.resolve("cluster-example.yaml"));
        assertThat(def.slots()).isEqualTo(4096);
        assertThat(def.shardNames()).containsExactly("s0", "s1", "s2");
        assertThat(def.activeShardNames()).containsExactly("s0", "s1");
        assertThat(def.shard("s0").orElseThrow().jdbcUrl()).isEqualTo("jdbc:mysql://127.0.0.1:3316/shardgate");
        assertThat(def.shard("s2").orElseThrow().jdbcUrl()).isEqualTo("jdbc:mysql://127.0.0.1:3318/shardgate");
        assertThat(def.tables().keySet()).containsExactlyInAnyOrder("users", "orders", "order_items", "accounts",
                "likes", "post_metrics", "sbtest1", "countries", "settings");
        assertThat(def.table("accounts").orElseThrow().keyType()).isEqualTo(KeyType.STRING);
        assertThat(def.table("likes").orElseThrow().hotKey()).isEqualTo(new HotKeyMode.Append("user_id"));
        assertThat(def.table("post_metrics").orElseThrow().hotKey())
                .isEqualTo(new HotKeyMode.Counter(java.util.List.of("like_count", "view_count")));
        assertThat(def.table("countries").orElseThrow().kind()).isEqualTo(TableKind.BROADCAST);
        assertThat(def.table("settings").orElseThrow().shard()).isEqualTo("s0");
    }
}

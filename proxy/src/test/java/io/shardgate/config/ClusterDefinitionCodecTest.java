package io.shardgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.UnknownTablePolicy;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Validation of cluster definition files (the codec lives in the router module). */
class ClusterDefinitionCodecTest {

    private static final String SHARDS = """
            shards:
              - {name: s0, url: "jdbc:mysql://h:3306/db", user: root}
              - {name: s1, url: "jdbc:mysql://h:3307/db", user: root}
            """;

    private static ClusterDefinition parse(String yaml) {
        return ClusterDefinitionCodec.parseYaml(yaml, "cluster.yaml");
    }

    /** A valid mysql cluster with two shards plus {@code tables} (a YAML list body, indented by 2). */
    private static String withTables(String tables) {
        return "dialect: mysql\n" + SHARDS + "tables:\n" + tables;
    }

    private static void assertRejected(String yaml, String key, String text) {
        assertThatThrownBy(() -> parse(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(key + ": ")
                .hasMessageContaining(text)
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(key));
    }

    @Test
    void defaults() {
        ClusterDefinition def = parse("""
                dialect: mysql
                shards:
                  - {name: spare0, url: "jdbc:mysql://h:3305/db", user: root, spare: true}
                  - {name: s0, url: "jdbc:mysql://h:3306/db", user: root}
                """);
        assertThat(def.slots()).isEqualTo(4096);
        assertThat(def.shard("s0").orElseThrow().poolSize()).isEqualTo(64);
        assertThat(def.shard("s0").orElseThrow().password()).isEmpty();
        assertThat(def.shard("s0").orElseThrow().spare()).isFalse();
        assertThat(def.defaultShard()).isEqualTo("s0");
        assertThat(def.unknownTables()).isEqualTo(UnknownTablePolicy.SINGLE);
        assertThat(def.tables()).isEmpty();
    }

    private static ClusterDefinition rich() {
        return parse("""
                dialect: postgres
                slots: 16384
                default-shard: b
                unknown-tables: reject
                shards:
                  - {name: a, url: "jdbc:postgresql://h:5432/db", user: u, password: p, pool-size: 4}
                  - {name: b, url: "jdbc:postgresql://h:5433/db", user: u}
                  - {name: c, url: "jdbc:postgresql://h:5434/db", user: u, spare: true}
                tables:
                  - {name: Users, kind: sharded, key: ID, key-type: int}
                  - {name: accounts, kind: sharded, key: name, key-type: string}
                  - {name: likes, kind: sharded, key: post_id, key-type: int, hot-key: {mode: append, split-by: user_id}}
                  - {name: metrics, kind: sharded, key: post_id, key-type: int, hot-key: {mode: counter, counters: [a, b]}}
                  - {name: countries, kind: broadcast}
                  - {name: settings, kind: single, shard: c}
                """);
    }

    @Test
    void readsEveryKey() {
        ClusterDefinition def = rich();
        assertThat(def.dialect()).isEqualTo(Dialect.POSTGRES);
        assertThat(def.slots()).isEqualTo(16384);
        assertThat(def.defaultShard()).isEqualTo("b");
        assertThat(def.unknownTables()).isEqualTo(UnknownTablePolicy.REJECT);
        assertThat(def.shards()).containsExactly(
                new ShardDefinition("a", "jdbc:postgresql://h:5432/db", "u", "p", 4, false),
                new ShardDefinition("b", "jdbc:postgresql://h:5433/db", "u", "", 64, false),
                new ShardDefinition("c", "jdbc:postgresql://h:5434/db", "u", "", 64, true));
        assertThat(def.table("USERS")).contains(TableDefinition.sharded("users", "id", KeyType.INT));
        assertThat(def.table("likes").orElseThrow().hotKey()).isEqualTo(new HotKeyMode.Append("user_id"));
        assertThat(def.table("metrics").orElseThrow().hotKey()).isEqualTo(new HotKeyMode.Counter(List.of("a", "b")));
        assertThat(def.table("settings")).contains(TableDefinition.single("settings", "c"));
        assertThat(def.table("countries")).contains(TableDefinition.broadcast("countries"));
    }

    @Test
    void jsonRoundTrip() {
        ClusterDefinition def = rich();
        assertThat(ClusterDefinitionCodec.parseJson(ClusterDefinitionCodec.toJson(def), "zk")).isEqualTo(def);
    }

    @Test
    void aSequenceColumnIsReadWrittenAndOnlyForShardedTables() {
        ClusterDefinition def = parse("""
                dialect: mysql
                shards:
                  - {name: s0, url: "jdbc:mysql://h:3306/db", user: root}
                tables:
                  - {name: events, kind: sharded, key: id, key-type: int, sequence: ID}
                """);
        assertThat(def.table("events").orElseThrow().sequence()).isEqualTo("id");
        assertThat(ClusterDefinitionCodec.parseJson(ClusterDefinitionCodec.toJson(def), "zk")).isEqualTo(def);
        assertThat(ClusterDefinitionCodec.toYaml(def)).contains("sequence: id");
        assertThatThrownBy(() -> parse("""
                dialect: mysql
                shards:
                  - {name: s0, url: "jdbc:mysql://h:3306/db", user: root}
                tables:
                  - {name: c, kind: broadcast, sequence: id}
                """)).hasMessageContaining("sequence").hasMessageContaining("does not apply to a broadcast table");
    }

    @Test
    void yamlRoundTrip() {
        ClusterDefinition def = rich();
        assertThat(ClusterDefinitionCodec.parseYaml(ClusterDefinitionCodec.toYaml(def), "yaml")).isEqualTo(def);
    }

    @Test
    void missingDialect() {
        assertRejected(SHARDS, "dialect", "is required");
    }

    @Test
    void unknownDialectListsTheAllowedValues() {
        assertRejected("dialect: oracle\n" + SHARDS, "dialect", "'oracle' is not allowed; use one of: mysql, postgres");
    }

    @Test
    void slotsTooFew() {
        assertRejected("dialect: mysql\nslots: 0\n" + SHARDS, "slots", "must be in 1..65536, was 0");
    }

    @Test
    void slotsTooMany() {
        assertRejected("dialect: mysql\nslots: 70000\n" + SHARDS, "slots", "must be in 1..65536, was 70000");
    }

    @Test
    void noShards() {
        assertRejected("dialect: mysql\n", "shards", "is required: list at least one shard");
        assertRejected("dialect: mysql\nshards: []\n", "shards", "is required");
    }

    @Test
    void onlySpareShards() {
        assertRejected("""
                dialect: mysql
                shards:
                  - {name: s0, url: "jdbc:mysql://h:3306/db", user: root, spare: true}
                """, "shards", "needs at least one shard that is not spare");
    }

    @Test
    void duplicateShardName() {
        assertRejected("""
                dialect: mysql
                shards:
                  - {name: s0, url: "jdbc:mysql://h:3306/db", user: root}
                  - {name: s0, url: "jdbc:mysql://h:3307/db", user: root}
                """, "shards[1].name", "shard 's0' is declared twice");
    }

    @Test
    void badShardName() {
        assertRejected("""
                dialect: mysql
                shards:
                  - {name: Shard0, url: "jdbc:mysql://h:3306/db", user: root}
                """, "shards[0].name", "'Shard0' is not a valid shard name");
    }

    @Test
    void urlMustFitTheDialect() {
        assertRejected("""
                dialect: mysql
                shards:
                  - {name: s0, url: "jdbc:postgresql://h:5432/db", user: root}
                """, "shards[0].url", "does not fit dialect mysql: it must start with jdbc:mysql:// or jdbc:mariadb://");
        assertRejected("""
                dialect: postgres
                shards:
                  - {name: s0, url: "jdbc:mysql://h:3306/db", user: root}
                """, "shards[0].url", "it must start with jdbc:postgresql://");
    }

    @Test
    void poolSizeRange() {
        assertRejected("""
                dialect: mysql
                shards:
                  - {name: s0, url: "jdbc:mysql://h:3306/db", user: root, pool-size: 0}
                """, "shards[0].pool-size", "must be in 1..1024");
    }

    @Test
    void unknownTopLevelKey() {
        assertRejected("dialect: mysql\nslot: 4096\n" + SHARDS, "slot", "unknown key; allowed keys here are");
    }

    @Test
    void unknownKeyInATable() {
        assertRejected(withTables("  - {name: users, kind: sharded, key: id, key-type: int, sharded-by: id}\n"),
                "tables[0].sharded-by", "unknown key; allowed keys here are [hot-key, key, key-type, kind, name, sequence, shard]");
    }

    @Test
    void duplicateTableIgnoringCase() {
        assertRejected(withTables("""
                  - {name: users, kind: broadcast}
                  - {name: USERS, kind: broadcast}
                """), "tables[1].name", "table 'USERS' is declared twice (names are case-insensitive)");
    }

    @Test
    void shardedTableWithoutKey() {
        assertRejected(withTables("  - {name: users, kind: sharded, key-type: int}\n"), "tables[0].key", "is required");
    }

    @Test
    void shardedTableWithoutKeyType() {
        assertRejected(withTables("  - {name: users, kind: sharded, key: id}\n"), "tables[0].key-type", "is required");
    }

    @Test
    void shardedTableWithShard() {
        assertRejected(withTables("  - {name: users, kind: sharded, key: id, key-type: int, shard: s0}\n"),
                "tables[0].shard", "does not apply to a sharded table");
    }

    @Test
    void keyTypeListsTheAllowedValues() {
        assertRejected(withTables("  - {name: users, kind: sharded, key: id, key-type: integer}\n"),
                "tables[0].key-type", "'integer' is not allowed; use one of: int, string");
    }

    @Test
    void unknownKindListsTheAllowedValues() {
        assertRejected(withTables("  - {name: users, kind: partitioned}\n"),
                "tables[0].kind", "use one of: sharded, broadcast, single");
    }

    @Test
    void singleTableWithoutShard() {
        assertRejected(withTables("  - {name: settings, kind: single}\n"), "tables[0].shard", "is required");
    }

    @Test
    void singleTableOnUnknownShard() {
        assertRejected(withTables("  - {name: settings, kind: single, shard: s9}\n"),
                "tables[0].shard", "'s9' is not one of the shards [s0, s1]");
    }

    @Test
    void broadcastTableWithKey() {
        assertRejected(withTables("  - {name: countries, kind: broadcast, key: code}\n"),
                "tables[0].key", "does not apply to a broadcast table");
    }

    @Test
    void appendHotKeyWithoutSplitBy() {
        assertRejected(withTables("  - {name: likes, kind: sharded, key: post_id, key-type: int, hot-key: {mode: append}}\n"),
                "tables[0].hot-key.split-by", "is required");
    }

    @Test
    void appendHotKeySplitByTheKey() {
        assertRejected(withTables("  - {name: likes, kind: sharded, key: post_id, key-type: int, hot-key: {mode: append, split-by: POST_ID}}\n"),
                "tables[0].hot-key.split-by", "must be another column than the shard key 'post_id'");
    }

    @Test
    void counterHotKeyWithoutCounters() {
        assertRejected(withTables("  - {name: m, kind: sharded, key: post_id, key-type: int, hot-key: {mode: counter}}\n"),
                "tables[0].hot-key.counters", "is required for mode counter");
    }

    @Test
    void counterHotKeyContainingTheKey() {
        assertRejected(withTables("  - {name: m, kind: sharded, key: post_id, key-type: int, hot-key: {mode: counter, counters: [likes, post_id]}}\n"),
                "tables[0].hot-key.counters", "must not contain the shard key 'post_id'");
    }

    @Test
    void unknownDefaultShard() {
        assertRejected("dialect: mysql\ndefault-shard: s7\n" + SHARDS, "default-shard", "'s7' is not one of the shards [s0, s1]");
    }
}

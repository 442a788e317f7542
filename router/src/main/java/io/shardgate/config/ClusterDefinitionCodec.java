package io.shardgate.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.cluster.UnknownTablePolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads and writes a cluster definition. The same document is the user's YAML file
 * ({@code conf/cluster-example.yaml}) and, as JSON, the cluster node in ZooKeeper. Reading
 * validates everything and fails on the first problem with a {@link ConfigException} naming the key.
 *
 * <pre>
 * dialect: mysql | postgres            (required)
 * slots: 4096                          (1..65536, default 4096; never changes after creation)
 * default-shard: s0                    (default: the first shard that is not spare)
 * unknown-tables: single | reject      (default single: undeclared tables live on the default shard)
 * shards:                              (at least one that is not spare)
 *   - name: s0                         ([a-z][a-z0-9_-]*, at most 32 characters, unique)
 *     url: jdbc:mysql://127.0.0.1:3307/app   (jdbc:mysql: or jdbc:mariadb: for mysql; jdbc:postgresql: for postgres)
 *     user: app
 *     password: secret                 (default empty)
 *     pool-size: 64                    (1..1024, default 64)
 *     spare: false                     (a spare shard gets no slots at creation)
 * tables:
 *   - {name: users, kind: sharded, key: id, key-type: int}
 *   - {name: likes, kind: sharded, key: post_id, key-type: int, hot-key: {mode: append, split-by: user_id}}
 *   - {name: post_metrics, kind: sharded, key: post_id, key-type: int, hot-key: {mode: counter, counters: [like_count]}}
 *   - {name: events, kind: sharded, key: id, key-type: int, sequence: id}   (id filled from the cluster sequence)
 *   - {name: countries, kind: broadcast}
 *   - {name: settings, kind: single, shard: s0}
 * </pre>
 */
public final class ClusterDefinitionCodec {
    public static final int DEFAULT_SLOTS = 4096;
    public static final int DEFAULT_POOL_SIZE = 64;
    private static final Pattern SHARD_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,31}");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,63}");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
            .enable(SerializationFeature.INDENT_OUTPUT);

    private enum HotKeyKind { NONE, APPEND, COUNTER }

    private ClusterDefinitionCodec() {}

    public static ClusterDefinition read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("", "cannot read cluster definition " + file + ": " + e.getMessage(), e);
        }
        return parse(ConfigNode.parseYaml(text, file.toString()));
    }

    public static ClusterDefinition parseYaml(String text, String source) {
        return parse(ConfigNode.parseYaml(text, source));
    }

    public static ClusterDefinition parseJson(byte[] json, String source) {
        return parse(ConfigNode.parseJson(json, source));
    }

    public static ClusterDefinition parse(ConfigNode root) {
        root.allowOnly("dialect", "slots", "default-shard", "unknown-tables", "shards", "tables");
        Dialect dialect = root.enumValue("dialect", Dialect.class);
        int slots = root.integer("slots", ClusterDefinition.MIN_SLOTS, ClusterDefinition.MAX_SLOTS, DEFAULT_SLOTS);
        List<ShardDefinition> shards = parseShards(root, dialect);
        String firstActive = shards.stream().filter(s -> !s.spare()).map(ShardDefinition::name).findFirst()
                .orElseThrow(() -> root.error("shards", "needs at least one shard that is not spare"));
        String defaultShard = root.string("default-shard", firstActive);
        if (shards.stream().noneMatch(s -> s.name().equals(defaultShard))) {
            throw root.error("default-shard", "'" + defaultShard + "' is not one of the shards " + names(shards));
        }
        UnknownTablePolicy unknown = root.enumValue("unknown-tables", UnknownTablePolicy.class, UnknownTablePolicy.SINGLE);
        Map<String, TableDefinition> tables = parseTables(root, shards);
        return new ClusterDefinition(dialect, slots, shards, tables, defaultShard, unknown);
    }

    private static List<ShardDefinition> parseShards(ConfigNode root, Dialect dialect) {
        List<ConfigNode> nodes = root.list("shards");
        if (nodes.isEmpty()) {
            throw root.error("shards", "is required: list at least one shard");
        }
        List<ShardDefinition> shards = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (ConfigNode n : nodes) {
            n.allowOnly("name", "url", "user", "password", "pool-size", "spare");
            String name = n.nonBlank("name");
            if (!SHARD_NAME.matcher(name).matches()) {
                throw n.error("name", "'" + name + "' is not a valid shard name: use lower-case letters, digits, '-' or '_', starting with a letter, at most 32 characters");
            }
            if (!seen.add(name)) {
                throw n.error("name", "shard '" + name + "' is declared twice");
            }
            String url = n.nonBlank("url");
            checkUrl(n, url, dialect);
            shards.add(new ShardDefinition(name, url, n.nonBlank("user"), n.string("password", ""),
                    n.integer("pool-size", 1, 1024, DEFAULT_POOL_SIZE), n.bool("spare", false)));
        }
        return shards;
    }

    private static void checkUrl(ConfigNode n, String url, Dialect dialect) {
        List<String> prefixes = switch (dialect) {
            case MYSQL -> List.of("jdbc:mysql://", "jdbc:mariadb://");
            case POSTGRES -> List.of("jdbc:postgresql://");
        };
        if (prefixes.stream().noneMatch(url::startsWith)) {
            throw n.error("url", "'" + url + "' does not fit dialect " + ConfigNode.spell(dialect) + ": it must start with "
                    + String.join(" or ", prefixes));
        }
    }

    private static Map<String, TableDefinition> parseTables(ConfigNode root, List<ShardDefinition> shards) {
        Map<String, TableDefinition> tables = new LinkedHashMap<>();
        for (ConfigNode n : root.list("tables")) {
            n.allowOnly("name", "kind", "key", "key-type", "shard", "hot-key", "sequence");
            String name = n.nonBlank("name");
            if (!IDENTIFIER.matcher(name).matches()) {
                throw n.error("name", "'" + name + "' is not a plain table name (letters, digits, '_', '$'; at most 64 characters)");
            }
            if (tables.containsKey(name.toLowerCase(Locale.ROOT))) {
                throw n.error("name", "table '" + name + "' is declared twice (names are case-insensitive)");
            }
            TableKind kind = n.enumValue("kind", TableKind.class);
            TableDefinition table = switch (kind) {
                case SHARDED -> sharded(n, name);
                case BROADCAST -> {
                    forbid(n, kind, "key", "key-type", "shard", "hot-key", "sequence");
                    yield TableDefinition.broadcast(name);
                }
                case SINGLE -> {
                    forbid(n, kind, "key", "key-type", "hot-key", "sequence");
                    String shard = n.nonBlank("shard");
                    if (shards.stream().noneMatch(s -> s.name().equals(shard))) {
                        throw n.error("shard", "'" + shard + "' is not one of the shards " + names(shards));
                    }
                    yield TableDefinition.single(name, shard);
                }
            };
            tables.put(table.name(), table);
        }
        return tables;
    }

    private static TableDefinition sharded(ConfigNode n, String name) {
        forbid(n, TableKind.SHARDED, "shard");
        String key = n.nonBlank("key");
        if (!IDENTIFIER.matcher(key).matches()) {
            throw n.error("key", "'" + key + "' is not a plain column name");
        }
        KeyType keyType = n.enumValue("key-type", KeyType.class);
        HotKeyMode hotKey = hotKey(n.optionalObject("hot-key"), key);
        String sequence = n.has("sequence") ? n.nonBlank("sequence") : null;
        if (sequence != null && !IDENTIFIER.matcher(sequence).matches()) {
            throw n.error("sequence", "'" + sequence + "' is not a plain column name");
        }
        return new TableDefinition(name, TableKind.SHARDED, key, keyType, null, hotKey, sequence);
    }

    private static HotKeyMode hotKey(ConfigNode n, String key) {
        if (!n.isPresent()) {
            return HotKeyMode.NONE;
        }
        n.allowOnly("mode", "split-by", "counters");
        return switch (n.enumValue("mode", HotKeyKind.class)) {
            case NONE -> HotKeyMode.NONE;
            case APPEND -> {
                String splitBy = n.nonBlank("split-by").toLowerCase(Locale.ROOT);
                if (splitBy.equalsIgnoreCase(key)) {
                    throw n.error("split-by", "must be another column than the shard key '" + key + "'");
                }
                yield new HotKeyMode.Append(splitBy);
            }
            case COUNTER -> {
                List<String> counters = n.stringList("counters").stream().map(c -> c.toLowerCase(Locale.ROOT)).toList();
                if (counters.isEmpty()) {
                    throw n.error("counters", "is required for mode counter: list the additive columns");
                }
                if (counters.contains(key.toLowerCase(Locale.ROOT))) {
                    throw n.error("counters", "must not contain the shard key '" + key + "'");
                }
                yield new HotKeyMode.Counter(counters);
            }
        };
    }

    private static void forbid(ConfigNode n, TableKind kind, String... keys) {
        for (String k : keys) {
            if (n.has(k)) {
                throw n.error(k, "does not apply to a " + ConfigNode.spell(kind) + " table");
            }
        }
    }

    private static List<String> names(List<ShardDefinition> shards) {
        return shards.stream().map(ShardDefinition::name).toList();
    }

    /** The document form, keys in the order a person reads them. */
    public static Map<String, Object> toDocument(ClusterDefinition def) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("dialect", ConfigNode.spell(def.dialect()));
        doc.put("slots", def.slots());
        doc.put("default-shard", def.defaultShard());
        doc.put("unknown-tables", ConfigNode.spell(def.unknownTables()));
        List<Map<String, Object>> shards = new ArrayList<>();
        for (ShardDefinition s : def.shards()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name());
            m.put("url", s.jdbcUrl());
            m.put("user", s.user());
            m.put("password", s.password());
            m.put("pool-size", s.poolSize());
            m.put("spare", s.spare());
            shards.add(m);
        }
        doc.put("shards", shards);
        List<Map<String, Object>> tables = new ArrayList<>();
        def.tables().values().stream().sorted((a, b) -> a.name().compareTo(b.name())).forEach(t -> tables.add(tableDocument(t)));
        doc.put("tables", tables);
        return doc;
    }

    private static Map<String, Object> tableDocument(TableDefinition t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        m.put("kind", ConfigNode.spell(t.kind()));
        switch (t.kind()) {
            case SHARDED -> {
                m.put("key", t.shardKey());
                m.put("key-type", ConfigNode.spell(t.keyType()));
                switch (t.hotKey()) {
                    case HotKeyMode.None none -> { }
                    case HotKeyMode.Append a -> m.put("hot-key", Map.of("mode", "append", "split-by", a.splitBy()));
                    case HotKeyMode.Counter c -> m.put("hot-key", Map.of("mode", "counter", "counters", c.counterColumns()));
                }
                if (t.sequence() != null) {
                    m.put("sequence", t.sequence());
                }
            }
            case SINGLE -> m.put("shard", t.shard());
            case BROADCAST -> { }
        }
        return m;
    }

    public static byte[] toJson(ClusterDefinition def) {
        try {
            return JSON.writeValueAsBytes(toDocument(def));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode cluster definition", e);
        }
    }

    public static String toYaml(ClusterDefinition def) {
        try {
            return YAML.writeValueAsString(toDocument(def));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode cluster definition", e);
        }
    }
}

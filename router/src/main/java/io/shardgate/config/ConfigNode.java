package io.shardgate.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * A read-only view of one node of a YAML or JSON document that knows its path, so every
 * validation error names the key it is about and the values that would be accepted.
 */
public final class ConfigNode {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String path;
    private final JsonNode node;

    private ConfigNode(String path, JsonNode node) {
        this.path = path;
        this.node = node;
    }

    /** Parses YAML (a superset of JSON); {@code source} names the file in errors. */
    public static ConfigNode parseYaml(String text, String source) {
        try {
            JsonNode root = YAML.readTree(text);
            return root(root, source);
        } catch (JsonProcessingException e) {
            throw new ConfigException("", source + " is not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        }
    }

    public static ConfigNode parseJson(byte[] json, String source) {
        try {
            return root(JSON.readTree(json), source);
        } catch (java.io.IOException e) {
            throw new ConfigException("", source + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static ConfigNode root(JsonNode root, String source) {
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new ConfigException("", source + " is empty");
        }
        if (!root.isObject()) {
            throw new ConfigException("", source + " must be a mapping of keys to values at the top level");
        }
        return new ConfigNode("", root);
    }

    public String path() {
        return path;
    }

    private String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    public boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    /** Fails on any key not in {@code allowed}, listing the allowed keys. */
    public ConfigNode allowOnly(String... allowed) {
        Set<String> ok = Set.of(allowed);
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!ok.contains(name)) {
                throw new ConfigException(child(name), "unknown key; allowed keys here are " + new TreeSet<>(ok));
            }
        }
        return this;
    }

    public ConfigNode object(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new ConfigException(child(key), "is required");
        }
        if (!v.isObject()) {
            throw new ConfigException(child(key), "must be a mapping");
        }
        return new ConfigNode(child(key), v);
    }

    public ConfigNode optionalObject(String key) {
        return has(key) ? object(key) : new ConfigNode(child(key), MissingNode.getInstance());
    }

    public boolean isPresent() {
        return !node.isMissingNode();
    }

    /** Items of a list; a missing key gives an empty list. */
    public List<ConfigNode> list(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new ConfigException(child(key), "must be a list");
        }
        List<ConfigNode> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode item = v.get(i);
            String p = child(key) + "[" + i + "]";
            if (!item.isObject()) {
                throw new ConfigException(p, "must be a mapping");
            }
            out.add(new ConfigNode(p, item));
        }
        return out;
    }

    public List<String> stringList(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new ConfigException(child(key), "must be a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual() || v.get(i).asText().isBlank()) {
                throw new ConfigException(child(key) + "[" + i + "]", "must be a non-empty string");
            }
            out.add(v.get(i).asText());
        }
        return out;
    }

    public String string(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new ConfigException(child(key), "is required");
        }
        if (!v.isValueNode() || v.isBoolean()) {
            throw new ConfigException(child(key), "must be a string");
        }
        return v.asText();
    }

    public String string(String key, String defaultValue) {
        return has(key) ? string(key) : defaultValue;
    }

    public String nonBlank(String key) {
        String s = string(key);
        if (s.isBlank()) {
            throw new ConfigException(child(key), "must not be empty");
        }
        return s;
    }

    public int integer(String key, int min, int max) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            throw new ConfigException(child(key), "is required (an integer in " + min + ".." + max + ")");
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new ConfigException(child(key), "must be an integer in " + min + ".." + max + ", was " + v);
        }
        int i = v.asInt();
        if (i < min || i > max) {
            throw new ConfigException(child(key), "must be in " + min + ".." + max + ", was " + i);
        }
        return i;
    }

    public int integer(String key, int min, int max, int defaultValue) {
        return has(key) ? integer(key, min, max) : defaultValue;
    }

    public boolean bool(String key, boolean defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        JsonNode v = node.get(key);
        if (!v.isBoolean()) {
            throw new ConfigException(child(key), "must be true or false, was " + v);
        }
        return v.asBoolean();
    }

    /** An enum written in lower case with dashes ({@code reverse-dual-write}); errors list the choices. */
    public <E extends Enum<E>> E enumValue(String key, Class<E> type) {
        String raw = string(key);
        return parseEnum(child(key), raw, type);
    }

    public <E extends Enum<E>> E enumValue(String key, Class<E> type, E defaultValue) {
        return has(key) ? enumValue(key, type) : defaultValue;
    }

    public static <E extends Enum<E>> E parseEnum(String path, String raw, Class<E> type) {
        String wanted = raw.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(wanted)) {
                return e;
            }
        }
        throw new ConfigException(path, "'" + raw + "' is not allowed; use one of: " + choices(type));
    }

    public static <E extends Enum<E>> String choices(Class<E> type) {
        return String.join(", ", Arrays.stream(type.getEnumConstants()).map(ConfigNode::spell).toList());
    }

    public static String spell(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Wraps a check that throws IllegalArgumentException into a ConfigException at this node. */
    public <T> T checked(String key, Function<String, T> parse) {
        String raw = string(key);
        try {
            return parse.apply(raw);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(child(key), e.getMessage(), e);
        }
    }

    public ConfigException error(String key, String message) {
        return new ConfigException(key == null ? path : child(key), message);
    }
}

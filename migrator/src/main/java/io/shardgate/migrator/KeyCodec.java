package io.shardgate.migrator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Primary-key checkpoints as JSON arrays: one element per key column, the server's text of the
 * value, binary values in base64, NULL as null.
 */
final class KeyCodec {
    private static final ObjectMapper JSON = new ObjectMapper();

    private KeyCodec() {}

    static String encode(TableShape shape, Object[] key) {
        List<String> out = new ArrayList<>();
        for (Object value : key) {
            out.add(value instanceof byte[] bytes ? Base64.getEncoder().encodeToString(bytes) : (String) value);
        }
        try {
            return JSON.writeValueAsString(out);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("key of " + shape.name() + " does not encode: " + e.getMessage(), e);
        }
    }

    /** The key, or null for an absent checkpoint (start from the beginning). */
    static Object[] decode(TableShape shape, String json) {
        if (json == null || json.isBlank()) {
            return null;
        }
        String[] texts;
        try {
            texts = JSON.readValue(json, String[].class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("checkpoint of table " + shape.name() + " is not a JSON array of strings: " + json, e);
        }
        if (texts.length != shape.primaryKey().size()) {
            throw new IllegalArgumentException("checkpoint of table " + shape.name() + " has " + texts.length
                    + " values but the primary key has " + shape.primaryKey().size() + " columns: " + json);
        }
        Object[] key = new Object[texts.length];
        for (int i = 0; i < texts.length; i++) {
            boolean binary = shape.primaryKeyColumn(i).kind() == TableShape.Kind.BINARY;
            key[i] = binary && texts[i] != null ? Base64.getDecoder().decode(texts[i]) : texts[i];
        }
        return key;
    }
}

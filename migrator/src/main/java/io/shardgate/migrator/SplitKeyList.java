package io.shardgate.migrator;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.slot.SplitKey;
import java.io.IOException;
import java.util.List;

/** Split keys in a migration record's details: a JSON list of {@code [table, key, k]}. */
final class SplitKeyList {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SplitKeyList() {}

    static String encode(List<SplitKey> keys) {
        try {
            return JSON.writeValueAsString(keys.stream().map(k -> List.of(k.table(), k.key(), Integer.toString(k.k()))).toList());
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode split keys", e);
        }
    }

    static List<SplitKey> decode(String json) {
        try {
            List<List<String>> entries = JSON.readValue(json, new TypeReference<List<List<String>>>() {});
            return entries.stream().map(e -> new SplitKey(e.get(0), e.get(1), Integer.parseInt(e.get(2)))).toList();
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("split keys in the migration record are not readable: " + json, e);
        }
    }
}

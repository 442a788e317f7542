package io.shardgate.state.zk;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.state.StoreException;
import java.io.IOException;

/** JSON form of the small records kept in znodes (migrations, proxies). */
final class RecordJson {
    // Unknown fields are ignored so that an older proxy can read a node written by a newer one.
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private RecordJson() {}

    static byte[] encode(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    static <T> T decode(byte[] bytes, Class<T> type, String path) {
        try {
            T value = JSON.readValue(bytes, type);
            if (value == null) {
                throw new StoreException.Corrupt(path + " is empty, expected a " + type.getSimpleName(), null);
            }
            return value;
        } catch (IOException | IllegalArgumentException e) {
            throw new StoreException.Corrupt(path + " does not decode as a " + type.getSimpleName() + ": "
                    + e.getMessage(), e);
        }
    }
}

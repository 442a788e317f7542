package io.shardgate.proxy.hotkeys;

import java.util.Objects;

/** One shard-key value of one table: the unit the sketch counts. */
record HotKey(String table, String key) {
    HotKey {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(key, "key");
    }
}

package io.shardgate.proxy.exec.merge;

import java.util.List;
import java.util.Objects;

/** The rows one shard returned for its statement, values as the backend's text bytes (null = SQL NULL). */
public record ShardRows(String shard, List<byte[][]> rows) {
    public ShardRows {
        Objects.requireNonNull(shard, "shard");
        rows = List.copyOf(rows);
    }
}

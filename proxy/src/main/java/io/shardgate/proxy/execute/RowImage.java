package io.shardgate.proxy.execute;

import java.util.List;

/**
 * The current rows of some keys of one table on the authoritative shard, as a dual write copies them to a shadow:
 * column names and values as the backend connection reads them (and writes them back, between servers of one kind).
 */
public record RowImage(List<String> columns, List<Object[]> rows) {
    public RowImage {
        columns = List.copyOf(columns);
        rows = List.copyOf(rows);
    }

    public boolean isEmpty() {
        return rows.isEmpty();
    }
}

package io.shardgate.proxy.execute;

import java.util.List;

/**
 * The current rows of some keys of one table on the authoritative shard, as a dual write copies them to a shadow:
 * column names and values in the server's own form, which both kinds of backend connection read and write: a {@code byte[]}
 * for a binary value, a {@code String} of the server's text for any other, null for NULL (never a Java object of the
 * value's type, which would not hold every value exactly).
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

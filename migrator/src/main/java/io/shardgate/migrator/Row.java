package io.shardgate.migrator;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * One row as the worker carries it: per column a {@code String} (the server's text), a
 * {@code byte[]} (binary columns) or null.
 */
record Row(Object[] values) {

    Object value(int column) {
        return values[column];
    }

    Object[] primaryKey(TableShape shape) {
        Object[] key = new Object[shape.primaryKey().size()];
        for (int i = 0; i < key.length; i++) {
            key[i] = values[shape.primaryKey().get(i)];
        }
        return key;
    }

    /** The primary key as text, to match a source row with its target copy. */
    String keyText(TableShape shape) {
        StringBuilder text = new StringBuilder();
        for (int index : shape.primaryKey()) {
            text.append(text(values[index])).append('\u0000');
        }
        return text.toString();
    }

    /** Whether both rows hold the same value in every column (text form; binary as bytes). */
    boolean sameAs(Row other) {
        return Arrays.deepEquals(values, other.values);
    }

    List<String> texts() {
        return Arrays.stream(values).map(Row::text).toList();
    }

    static String text(Object value) {
        return switch (value) {
            case null -> "NULL";
            case byte[] bytes -> "0x" + HexFormat.of().formatHex(bytes);
            default -> value.toString();
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Row other && sameAs(other);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(values);
    }

    @Override
    public String toString() {
        return texts().toString();
    }
}

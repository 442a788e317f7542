package io.shardgate.proxy.core;

import io.shardgate.cluster.Dialect;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Completes {@code INSERT INTO t VALUES (…)} with the table's column list, so the router can find
 * the shard key among the values. The columns are read from a shard when the statement arrives (not
 * cached: a stale list after an ALTER TABLE elsewhere would put values into the wrong columns).
 */
final class InsertColumns {
    private static final String NAME = "(?:`[^`]+`|\"[^\"]+\"|[A-Za-z0-9_$]+)";
    private static final Pattern HEAD = Pattern.compile("^\\s*(?:/\\*.*?\\*/\\s*)*(?:INSERT|REPLACE)"
            + "(?:\\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*\\s+(?:INTO\\s+)?(?<table>" + NAME + "(?:\\." + NAME + ")?)"
            + "\\s*(?=VALUES?\\b)", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    private InsertColumns() {}

    /**
     * The statement with {@code (c1, c2, …)} after the table name, or empty when it is not a plain
     * {@code INSERT … VALUES} or the table has no columns to name.
     *
     * @param columnsOf the table's columns in order, by unquoted table name
     */
    static Optional<String> named(String sql, Dialect dialect, Function<String, List<String>> columnsOf) {
        Matcher m = HEAD.matcher(sql);
        if (!m.find()) {
            return Optional.empty();
        }
        String qualified = m.group("table");
        String table = unquote(qualified.substring(qualified.lastIndexOf('.') + 1));
        List<String> columns = columnsOf.apply(table);
        if (columns.isEmpty()) {
            return Optional.empty();
        }
        String list = columns.stream().map(c -> quote(c, dialect)).collect(Collectors.joining(", ", " (", ") "));
        return Optional.of(sql.substring(0, m.end("table")) + list + sql.substring(m.end("table")).stripLeading());
    }

    static String quote(String identifier, Dialect dialect) {
        return switch (dialect) {
            case MYSQL -> "`" + identifier.replace("`", "``") + "`";
            case POSTGRES -> "\"" + identifier.replace("\"", "\"\"") + "\"";
        };
    }

    private static String unquote(String name) {
        boolean quoted = name.length() >= 2 && (name.charAt(0) == '`' || name.charAt(0) == '"');
        return quoted ? name.substring(1, name.length() - 1) : name;
    }
}

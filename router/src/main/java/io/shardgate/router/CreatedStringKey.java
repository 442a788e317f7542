package io.shardgate.router;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.sf.jsqlparser.statement.create.table.ColumnDefinition;
import net.sf.jsqlparser.statement.create.table.CreateTable;

/**
 * The string shard-key column a {@code CREATE TABLE} of a sharded table defines, with the character set and collation it
 * names, so the proxy can refuse a column whose collation would make equal keys hash to different slots (see
 * {@link io.shardgate.cluster.StringKeyCollation}). Null fields are not named by the statement: the column then takes
 * the table's, and the table the database's (which only the shard knows).
 *
 * @param dataType       the column's type as written, e.g. {@code VARCHAR(64)} or {@code citext}
 * @param charset        the column's {@code CHARACTER SET}
 * @param collation      the column's {@code COLLATE} (MySQL's {@code BINARY} attribute gives {@code <charset>_bin})
 * @param tableCharset   the table's {@code [DEFAULT] CHARSET}
 * @param tableCollation the table's {@code [DEFAULT] COLLATE}
 */
public record CreatedStringKey(String table, String column, String dataType, String charset, String collation, String tableCharset,
        String tableCollation) {

    /** The string key column of {@code create}, when it creates a sharded table with a string key that it defines. */
    static Optional<CreatedStringKey> of(CreateTable create, ClusterDefinition cluster) {
        if (create.getColumnDefinitions() == null || create.getTable() == null) {
            return Optional.empty();
        }
        Optional<TableDefinition> table = cluster.table(SqlText.unquote(create.getTable().getName()));
        if (table.isEmpty() || table.get().kind() != TableKind.SHARDED || table.get().keyType() != KeyType.STRING) {
            return Optional.empty();
        }
        String key = table.get().shardKey();
        for (ColumnDefinition c : create.getColumnDefinitions()) {
            if (!SqlText.unquote(c.getColumnName()).equals(key)) {
                continue;
            }
            String type = c.getColDataType().getDataType();
            List<String> args = c.getColDataType().getArgumentsStringList();
            String dataType = (args == null || args.isEmpty() ? type : type + "(" + String.join(",", args) + ")").replace(" (", "(");
            List<String> specs = c.getColumnSpecs() == null ? List.of() : c.getColumnSpecs();
            String charset = firstNonNull(clean(c.getColDataType().getCharacterSet()), option(specs, "CHARACTER SET"), option(specs, "CHARSET"));
            String collation = option(specs, "COLLATE");
            if (collation == null && hasBinaryAttribute(specs)) {
                collation = (charset == null ? "" : charset) + "_bin";
            }
            List<String> options = create.getTableOptionsStrings() == null ? List.of() : create.getTableOptionsStrings();
            return Optional.of(new CreatedStringKey(table.get().name(), key, dataType, charset, collation,
                    firstNonNull(option(options, "CHARACTER SET"), option(options, "CHARSET")), option(options, "COLLATE")));
        }
        return Optional.empty();
    }

    /** The value after the words of {@code name} (and an optional {@code =}) in a token list, unquoted and lower-case. */
    private static String option(List<String> tokens, String name) {
        String[] words = name.split(" ");
        for (int i = 0; i + words.length < tokens.size(); i++) {
            boolean match = true;
            for (int w = 0; w < words.length; w++) {
                match &= tokens.get(i + w).equalsIgnoreCase(words[w]);
            }
            if (match) {
                int v = i + words.length;
                if (tokens.get(v).equals("=") && v + 1 < tokens.size()) {
                    v++;
                }
                return clean(tokens.get(v));
            }
        }
        return null;
    }

    /** MySQL's {@code VARCHAR(n) BINARY}: the {@code _bin} collation of the column's character set. */
    private static boolean hasBinaryAttribute(List<String> specs) {
        for (int i = 0; i < specs.size(); i++) {
            if (specs.get(i).equalsIgnoreCase("BINARY") && (i == 0 || !specs.get(i - 1).equalsIgnoreCase("CHARSET")
                    && !specs.get(i - 1).equalsIgnoreCase("SET") && !specs.get(i - 1).equalsIgnoreCase("COLLATE"))) {
                return true;
            }
        }
        return false;
    }

    private static String clean(String token) {
        if (token == null || token.isBlank()) {
            return null;
        }
        String t = token.strip();
        if (t.length() >= 2 && (t.charAt(0) == '\'' || t.charAt(0) == '"' || t.charAt(0) == '`')) {
            t = t.substring(1, t.length() - 1);
        }
        return t.toLowerCase(Locale.ROOT);
    }

    @SafeVarargs
    private static <T> T firstNonNull(T... values) {
        for (T v : values) {
            if (v != null) {
                return v;
            }
        }
        return null;
    }
}

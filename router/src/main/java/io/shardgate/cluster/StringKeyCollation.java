package io.shardgate.cluster;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Which columns can hold a string shard key. A string key's slot is the hash of its exact characters, so rows whose keys
 * the shard's collation holds equal must hash alike: under a case-insensitive collation ({@code utf8mb4_general_ci}, the
 * MariaDB default) {@code 'ada'} and {@code 'Ada'} are one key to a server but two slots to the proxy, so a lookup would
 * miss the row and a unique key would let both in. Normalising keys as each collation compares them (case, accents,
 * expansions, ignorable characters) cannot be done exactly for every collation, so such columns are refused instead:
 *
 * <ul>
 *   <li>MySQL/MariaDB: a binary string ({@code BINARY}, {@code VARBINARY}, {@code BLOB}s, character set {@code binary}) or a
 *       {@code _bin} collation; every other collation (including MySQL's accent- and case-sensitive {@code _as_cs}, which
 *       still ignores some characters) is refused.</li>
 *   <li>PostgreSQL: a deterministic collation (every built-in one and the database default); a nondeterministic ICU
 *       collation or a {@code citext} column is refused.</li>
 * </ul>
 *
 * Columns of other types (an integer column declared with a string key) are not judged here. Trailing spaces, which
 * MariaDB's {@code _bin} collations and PostgreSQL's {@code char(n)} ignore, are refused in key values by the router.
 */
public final class StringKeyCollation {
    private static final Set<String> MYSQL_STRING_TYPES = Set.of("char", "varchar", "tinytext", "text", "mediumtext", "longtext",
            "enum", "set", "nchar", "nvarchar", "national", "character", "json");
    private static final Set<String> MYSQL_BINARY_TYPES = Set.of("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob");

    private StringKeyCollation() {}

    /**
     * The reason a MySQL/MariaDB column cannot hold a string shard key, or empty when it can. {@code dataType} is the
     * column's type name (any case, arguments allowed); {@code charset} and {@code collation} are its effective character
     * set and collation as the server reports them (null for a column without one).
     */
    public static Optional<String> mysqlRefusal(String column, String dataType, String charset, String collation) {
        String type = baseType(dataType);
        if (MYSQL_BINARY_TYPES.contains(type) || "binary".equalsIgnoreCase(charset) || "binary".equalsIgnoreCase(collation)) {
            return Optional.empty();
        }
        if (!MYSQL_STRING_TYPES.contains(type) && collation == null) {
            return Optional.empty();
        }
        if (collation != null && collation.toLowerCase(Locale.ROOT).endsWith("_bin")) {
            return Optional.empty();
        }
        String what = collation != null ? "collation " + collation : charset != null ? "character set " + charset
                + " with its default collation" : "the default collation";
        return Optional.of("string shard key column " + column + " compares with " + what + ", under which different spellings"
                + " (case, accents) are one key to the server but hash to different slots; give the column a binary collation"
                + " (e.g. COLLATE utf8mb4_bin) or a binary type (VARBINARY), or use an integer key");
    }

    /**
     * The reason a PostgreSQL column cannot hold a string shard key, or empty when it can: {@code typeName} is the column's
     * type ({@code citext} is refused), {@code deterministic} whether its collation is (true for columns without one).
     */
    public static Optional<String> postgresRefusal(String column, String typeName, String collation, boolean deterministic) {
        if ("citext".equalsIgnoreCase(baseType(typeName))) {
            return Optional.of("string shard key column " + column + " is citext, which compares case-insensitively, so different"
                    + " spellings are one key to the server but hash to different slots; use text or varchar with a deterministic"
                    + " collation, or an integer key");
        }
        if (!deterministic) {
            return Optional.of("string shard key column " + column + " uses nondeterministic collation " + collation + ", under"
                    + " which different strings can be one key to the server but hash to different slots; use a deterministic"
                    + " collation, or an integer key");
        }
        return Optional.empty();
    }

    private static String baseType(String dataType) {
        if (dataType == null) {
            return "";
        }
        String t = dataType.strip().toLowerCase(Locale.ROOT);
        int cut = t.length();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c == '(' || c == ' ') {
                cut = i;
                break;
            }
        }
        String base = t.substring(0, cut);
        int dot = base.lastIndexOf('.');
        return (dot >= 0 ? base.substring(dot + 1) : base).replace("\"", "");
    }
}

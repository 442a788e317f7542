package io.shardgate.router;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.UnknownTablePolicy;
import java.util.Locale;

/**
 * PostgreSQL catalog queries. psql's meta-commands ({@code \d users}) query {@code pg_catalog} with syntax JSqlParser 5.3
 * does not parse ({@code OPERATOR(pg_catalog.~)}) or the router does not route (set-returning functions in FROM). Such
 * a statement goes to the default shard as a whole, as an undeclared table would, when three things hold: the cluster puts undeclared tables on the default shard
 * ({@code unknown-tables: single}); the statement names {@code pg_catalog.} or {@code information_schema.}; and no
 * identifier in it (outside string literals and comments, quoted identifiers included) is a declared table. Every
 * shard has the declared tables' DDL, so the default shard's catalog describes them as a single server would; a
 * statement that could read a declared table's rows is still rejected.
 */
final class CatalogQueries {
    private CatalogQueries() {}

    static boolean runsOnDefaultShard(String sql, ClusterDefinition cluster) {
        if (cluster.dialect() != Dialect.POSTGRES || cluster.unknownTables() != UnknownTablePolicy.SINGLE) {
            return false;
        }
        boolean catalog = false;
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'') {
                i = skipQuoted(sql, i, '\'');
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '"') {
                int end = skipQuoted(sql, i, '"');
                if (declared(sql.substring(i + 1, Math.max(i + 1, end - 1)).replace("\"\"", "\""), cluster)) {
                    return false;
                }
                i = end;
            } else if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_' || sql.charAt(j) == '$')) {
                    j++;
                }
                String word = sql.substring(i, j).toLowerCase(Locale.ROOT);
                if (declared(word, cluster)) {
                    return false;
                }
                catalog |= j < n && sql.charAt(j) == '.' && (word.equals("pg_catalog") || word.equals("information_schema"));
                i = j;
            } else {
                i++;
            }
        }
        return catalog;
    }

    private static boolean declared(String name, ClusterDefinition cluster) {
        return cluster.tables().containsKey(name) || cluster.tables().containsKey(name.toLowerCase(Locale.ROOT));
    }

    private static int skipQuoted(String sql, int i, char quote) {
        int j = i + 1;
        while (j < sql.length()) {
            if (sql.charAt(j) == quote) {
                if (j + 1 < sql.length() && sql.charAt(j + 1) == quote) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j++;
        }
        return sql.length();
    }
}

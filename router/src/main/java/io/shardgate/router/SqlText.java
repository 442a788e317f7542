package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Small lexical helpers over SQL text that skip quoted strings, quoted identifiers and comments.
 * Parameters are tracked by marker: the router numbers MySQL's {@code ?} as {@code ?1, ?2, …} before
 * parsing (JSqlParser keeps and prints explicit indexes), PostgreSQL's {@code $n} are already numbered,
 * and any SQL the router sends is turned back into JDBC {@code ?} plus an index list.
 */
final class SqlText {
    private SqlText() {}

    /** SQL with JDBC {@code ?} placeholders, and for each, the 0-based index of the client's parameter. */
    record Jdbc(String sql, List<Integer> parameters) {
        Jdbc {
            parameters = List.copyOf(parameters);
        }
    }

    /** MySQL text with each {@code ?} replaced by {@code ?n} (1-based), and the number of parameters. */
    record Numbered(String sql, int parameterCount) {}

    static Numbered numberPlaceholders(String sql, Dialect dialect) {
        StringBuilder out = new StringBuilder(sql.length() + 8);
        int count = 0;
        int maxDollar = 0;
        int i = 0;
        while (i < sql.length()) {
            int skip = skipQuotedOrComment(sql, i, dialect);
            if (skip > i) {
                out.append(sql, i, skip);
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            if (c == '?' && dialect == Dialect.MYSQL) {
                out.append('?').append(++count);
            } else if (c == '$' && dialect == Dialect.POSTGRES && i + 1 < sql.length() && Character.isDigit(sql.charAt(i + 1))) {
                int end = digitsEnd(sql, i + 1);
                maxDollar = Math.max(maxDollar, Integer.parseInt(sql.substring(i + 1, end)));
                out.append(sql, i, end);
                i = end;
                continue;
            } else {
                out.append(c);
            }
            i++;
        }
        return new Numbered(out.toString(), dialect == Dialect.MYSQL ? count : maxDollar);
    }

    /**
     * Turns {@code ?n} and {@code $n} markers into JDBC {@code ?} and records {@code n - 1}; a bare
     * {@code ?} (MySQL text as the client sent it) takes the next index in order.
     */
    static Jdbc toJdbc(String sql, Dialect dialect) {
        StringBuilder out = new StringBuilder(sql.length());
        List<Integer> params = new ArrayList<>();
        int sequential = 0;
        int i = 0;
        while (i < sql.length()) {
            int skip = skipQuotedOrComment(sql, i, dialect);
            if (skip > i) {
                out.append(sql, i, skip);
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            boolean marker = (c == '?' && dialect == Dialect.MYSQL) || (c == '$' && i + 1 < sql.length()
                    && Character.isDigit(sql.charAt(i + 1)) && (i == 0 || !isIdentifierPart(sql.charAt(i - 1))));
            if (!marker) {
                out.append(c);
                i++;
                continue;
            }
            int end = digitsEnd(sql, i + 1);
            params.add(end > i + 1 ? Integer.parseInt(sql.substring(i + 1, end)) - 1 : sequential);
            sequential++;
            out.append('?');
            i = end;
        }
        return new Jdbc(out.toString(), params);
    }

    /** The first {@code n} words (letters, digits, underscores), upper-case, outside comments. */
    static List<String> firstWords(String sql, int n) {
        List<String> words = new ArrayList<>();
        int i = 0;
        while (i < sql.length() && words.size() < n) {
            int skip = skipComment(sql, i, Dialect.MYSQL);
            if (skip > i) {
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            if (isIdentifierPart(c)) {
                int end = i;
                while (end < sql.length() && isIdentifierPart(sql.charAt(end))) {
                    end++;
                }
                words.add(sql.substring(i, end).toUpperCase(Locale.ROOT));
                i = end;
            } else if (Character.isWhitespace(c)) {
                i++;
            } else {
                words.add(String.valueOf(c));
                i++;
            }
        }
        return words;
    }

    /** The text without trailing semicolons and white space. */
    static String stripTerminator(String sql) {
        int end = sql.length();
        while (end > 0 && (Character.isWhitespace(sql.charAt(end - 1)) || sql.charAt(end - 1) == ';')) {
            end--;
        }
        return sql.substring(0, end).strip();
    }

    /** An identifier without its quotes, lower-case (routing compares names case-insensitively). */
    static String unquote(String identifier) {
        String s = identifier.strip();
        if (s.length() >= 2 && (s.charAt(0) == '`' || s.charAt(0) == '"' || s.charAt(0) == '[')) {
            s = s.substring(1, s.length() - 1);
        }
        return s.toLowerCase(Locale.ROOT);
    }

    private static int digitsEnd(String sql, int from) {
        int end = from;
        while (end < sql.length() && Character.isDigit(sql.charAt(end))) {
            end++;
        }
        return end;
    }

    private static boolean isIdentifierPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /** Index just past a quoted token or comment starting at {@code i}, or {@code i} if none starts there. */
    static int skipQuotedOrComment(String sql, int i, Dialect dialect) {
        char c = sql.charAt(i);
        if (c == '\'' || c == '"' || c == '`') {
            return skipQuoted(sql, i, c, dialect == Dialect.MYSQL && c != '`');
        }
        return skipComment(sql, i, dialect);
    }

    private static int skipComment(String sql, int i, Dialect dialect) {
        if (sql.startsWith("--", i) || (dialect == Dialect.MYSQL && sql.charAt(i) == '#')) {
            int nl = sql.indexOf('\n', i);
            return nl < 0 ? sql.length() : nl + 1;
        }
        if (sql.startsWith("/*", i)) {
            int close = sql.indexOf("*/", i + 2);
            return close < 0 ? sql.length() : close + 2;
        }
        return i;
    }

    private static int skipQuoted(String sql, int start, char quote, boolean backslashEscapes) {
        int end = quotedEnd(sql, start, backslashEscapes);
        return end < 0 ? sql.length() : end;
    }

    /**
     * End (exclusive) of the quoted text opening at {@code start} with the quote character found
     * there (a doubled quote stands for itself; with {@code backslashEscapes}, {@code \x} too), or -1
     * when it is not terminated.
     */
    static int quotedEnd(String sql, int start, boolean backslashEscapes) {
        char quote = sql.charAt(start);
        int i = start + 1;
        while (i < sql.length()) {
            char c = sql.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return -1;
    }
}

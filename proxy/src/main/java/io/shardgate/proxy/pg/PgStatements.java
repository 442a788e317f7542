package io.shardgate.proxy.pg;

import io.shardgate.proxy.session.StatementResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Text-level helpers of the PostgreSQL front end: splitting a simple-query message into its statements, and the
 * command tag PostgreSQL would report for a statement and its result.
 */
final class PgStatements {
    private PgStatements() {}

    /**
     * The statements of a simple query, split on semicolons outside quotes ({@code '…'}, {@code E'…'}, {@code "…"},
     * dollar quotes) and comments; blank statements are dropped.
     */
    static List<String> split(String sql) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'') {
                boolean escapes = i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(sql.charAt(i - 2)));
                i = skipQuoted(sql, i, '\'', escapes);
            } else if (c == '"') {
                i = skipQuoted(sql, i, '"', false);
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i);
            } else if (c == '$' && (i == 0 || !Character.isLetterOrDigit(sql.charAt(i - 1)) && sql.charAt(i - 1) != '_')) {
                i = skipDollarQuoted(sql, i);
            } else if (c == ';') {
                add(out, sql.substring(start, i));
                start = i + 1;
                i++;
            } else {
                i++;
            }
        }
        add(out, sql.substring(start));
        return out;
    }

    private static void add(List<String> out, String statement) {
        if (!isBlank(statement)) {
            out.add(statement.strip());
        }
    }

    /** Blank or only comments. */
    /** How a statement of a multi-statement message relates to its implicit transaction. */
    enum TransactionRole { BEGIN, COMMIT, ROLLBACK, OTHER }

    static TransactionRole transactionRole(String statement) {
        List<String> w = words(statement, 3);
        String first = w.isEmpty() ? "" : w.getFirst();
        return switch (first) {
            case "BEGIN", "START" -> TransactionRole.BEGIN;
            case "COMMIT", "END" -> w.contains("PREPARED") ? TransactionRole.OTHER : TransactionRole.COMMIT;
            case "ROLLBACK", "ABORT" -> w.contains("TO") || w.contains("PREPARED") ? TransactionRole.OTHER : TransactionRole.ROLLBACK;
            default -> TransactionRole.OTHER;
        };
    }

    /**
     * Whether the statements of one simple-query message can run in implicit transactions, as a server runs them: none
     * may change a session setting (the proxy remembers settings, which a rollback would not undo), use savepoints or
     * two-phase commit, or be one that cannot run inside a transaction block (VACUUM, CREATE DATABASE, …, which a server
     * refuses in such a message). Otherwise each runs on its own.
     */
    static boolean implicitTransactions(List<String> statements) {
        if (statements.size() < 2) {
            return false;
        }
        for (String statement : statements) {
            List<String> w = words(statement, 3);
            String first = w.isEmpty() ? "" : w.getFirst();
            String second = w.size() > 1 ? w.get(1) : "";
            boolean alone = switch (first) {
                case "SAVEPOINT", "RELEASE", "PREPARE", "SET", "RESET", "VACUUM", "COPY", "DISCARD" -> true;
                case "ROLLBACK", "COMMIT" -> w.contains("TO") || w.contains("PREPARED");
                case "ALTER" -> second.equals("SYSTEM");
                case "CREATE", "DROP" -> second.equals("DATABASE") || second.equals("TABLESPACE") || w.contains("CONCURRENTLY");
                case "REINDEX" -> second.equals("DATABASE") || second.equals("SYSTEM");
                default -> false;
            };
            if (alone) {
                return false;
            }
        }
        return true;
    }

    static boolean isBlank(String sql) {
        String s = sql.strip();
        while (!s.isEmpty()) {
            if (s.startsWith("--")) {
                int end = s.indexOf('\n');
                s = end < 0 ? "" : s.substring(end + 1).strip();
            } else if (s.startsWith("/*")) {
                int end = skipBlockComment(s, 0);
                s = s.substring(Math.min(end, s.length())).strip();
            } else {
                return false;
            }
        }
        return true;
    }

    private static int skipQuoted(String sql, int i, char quote, boolean backslashEscapes) {
        int j = i + 1;
        while (j < sql.length()) {
            char c = sql.charAt(j);
            if (backslashEscapes && c == '\\') {
                j += 2;
                continue;
            }
            if (c == quote) {
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

    private static int skipBlockComment(String sql, int i) {
        int depth = 0;
        int j = i;
        while (j + 1 < sql.length()) {
            if (sql.charAt(j) == '/' && sql.charAt(j + 1) == '*') {
                depth++;
                j += 2;
            } else if (sql.charAt(j) == '*' && sql.charAt(j + 1) == '/') {
                depth--;
                j += 2;
                if (depth == 0) {
                    return j;
                }
            } else {
                j++;
            }
        }
        return sql.length();
    }

    /** {@code $tag$ … $tag$}; a {@code $} that does not open a dollar quote (e.g. {@code $1}) is skipped alone. */
    private static int skipDollarQuoted(String sql, int i) {
        int j = i + 1;
        while (j < sql.length() && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
            j++;
        }
        if (j >= sql.length() || sql.charAt(j) != '$' || (j > i + 1 && Character.isDigit(sql.charAt(i + 1)))) {
            return i + 1;
        }
        String tag = sql.substring(i, j + 1);
        int end = sql.indexOf(tag, j + 1);
        return end < 0 ? sql.length() : end + tag.length();
    }

    /** The CommandComplete tag PostgreSQL sends for {@code sql} with this result. */
    static String tag(String sql, StatementResult result) {
        List<String> words = words(sql, 4);
        String first = words.isEmpty() ? "" : words.getFirst();
        long count = switch (result) {
            case StatementResult.Rows r -> r.rows().size();
            case StatementResult.Update u -> u.affectedRows();
            case StatementResult.Stream st -> throw new IllegalArgumentException("a streamed result is tagged with its rows sent");
        };
        return switch (first) {
            case "INSERT" -> "INSERT 0 " + count;
            case "UPDATE", "DELETE", "MERGE", "MOVE", "FETCH", "COPY" -> first + " " + count;
            case "SELECT", "WITH", "VALUES", "TABLE" -> result instanceof StatementResult.Rows || first.equals("SELECT")
                    ? "SELECT " + count : first;
            case "BEGIN" -> "BEGIN";
            case "START" -> "START TRANSACTION";
            case "COMMIT", "END" -> "COMMIT";
            case "ROLLBACK", "ABORT" -> words.size() > 1 && (words.get(1).equals("TO")
                    || words.size() > 2 && words.get(2).equals("TO")) ? "ROLLBACK" : "ROLLBACK";
            case "CREATE", "DROP", "ALTER" -> first + " " + object(words);
            case "TRUNCATE" -> "TRUNCATE TABLE";
            case "DISCARD" -> words.size() > 1 ? "DISCARD " + (words.get(1).equals("TEMPORARY") ? "TEMP" : words.get(1)) : "DISCARD";
            case "DECLARE" -> "DECLARE CURSOR";
            case "CLOSE" -> words.size() > 1 && words.get(1).equals("ALL") ? "CLOSE CURSOR ALL" : "CLOSE CURSOR";
            case "SHOW" -> "SHOW";
            case "DEALLOCATE" -> words.size() > 1 && words.get(1).equals("ALL")
                    || words.size() > 2 && words.get(1).equals("PREPARE") && words.get(2).equals("ALL") ? "DEALLOCATE ALL" : first;
            default -> first;
        };
    }

    /** The object word of CREATE/DROP/ALTER: skips OR REPLACE, UNIQUE, TEMP/TEMPORARY, UNLOGGED. */
    private static String object(List<String> words) {
        for (int i = 1; i < words.size(); i++) {
            String w = words.get(i);
            if (!(w.equals("OR") || w.equals("REPLACE") || w.equals("UNIQUE") || w.equals("TEMP") || w.equals("TEMPORARY")
                    || w.equals("UNLOGGED") || w.equals("GLOBAL") || w.equals("LOCAL"))) {
                return w;
            }
        }
        return "";
    }

    /** The first {@code max} words, upper-case, after leading comments and parentheses. */
    /** Whether the statement's first word is {@code word} (upper case), without allocating: a per-statement check. */
    static boolean firstWordIs(String sql, String word) {
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i);
            } else if (Character.isWhitespace(c) || c == '(') {
                i++;
            } else {
                int end = i + word.length();
                return sql.regionMatches(true, i, word, 0, word.length())
                        && (end == n || !(Character.isLetterOrDigit(sql.charAt(end)) || sql.charAt(end) == '_'));
            }
        }
        return false;
    }

    static List<String> words(String sql, int max) {
        List<String> out = new ArrayList<>(max);
        int i = 0;
        int n = sql.length();
        while (i < n && out.size() < max) {
            char c = sql.charAt(i);
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i);
            } else if (Character.isLetter(c) || c == '_') {
                int j = i;
                while (j < n && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
                    j++;
                }
                out.add(sql.substring(i, j).toUpperCase(Locale.ROOT));
                i = j;
            } else if (Character.isWhitespace(c) || c == '(') {
                i++;
            } else {
                break;
            }
        }
        return out;
    }
}

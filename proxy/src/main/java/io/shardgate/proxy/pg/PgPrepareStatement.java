package io.shardgate.proxy.pg;

import io.shardgate.proxy.error.ProxyException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * PostgreSQL's SQL-level prepared-statement commands as the front end reads them: {@code PREPARE name [(type, …)] AS
 * statement}, {@code EXECUTE name [(argument, …)]} and {@code DEALLOCATE [PREPARE] {name | ALL}}. Names follow the
 * server's identifier rules (unquoted names fold to lower case, {@code "…"} keeps case); types and arguments are kept
 * as their SQL text, split on the commas outside quotes, dollar quotes, comments and brackets. A command that cannot be
 * read is refused with the server's 42601 before anything runs.
 */
sealed interface PgPrepareStatement {

    /** {@code PREPARE name [(types)] AS body}: {@code types} as written (empty when none are declared). */
    record Prepare(String name, List<String> types, String body) implements PgPrepareStatement {
        public Prepare {
            types = List.copyOf(types);
        }
    }

    /** {@code EXECUTE name [(arguments)]}: each argument an SQL expression as written. */
    record Execute(String name, List<String> arguments) implements PgPrepareStatement {
        public Execute {
            arguments = List.copyOf(arguments);
        }
    }

    /** {@code DEALLOCATE [PREPARE] name}; an empty name is {@code DEALLOCATE ALL}. */
    record Deallocate(Optional<String> name) implements PgPrepareStatement {}

    /**
     * The command {@code sql} is, or empty when it is none of them (including {@code PREPARE TRANSACTION 'gid'}, which is
     * two-phase commit).
     */
    static Optional<PgPrepareStatement> parse(String sql) {
        Scanner s = new Scanner(sql);
        String first = s.keyword();
        return switch (first) {
            case "PREPARE" -> s.transactionFollows() ? Optional.empty() : Optional.of(prepare(s));
            case "EXECUTE" -> Optional.of(execute(s));
            case "DEALLOCATE" -> Optional.of(deallocate(s));
            default -> Optional.empty();
        };
    }

    private static Prepare prepare(Scanner s) {
        String name = s.name();
        List<String> types = s.at('(') ? s.list() : List.of();
        if (!s.keywordIs("AS")) {
            throw s.syntaxError();
        }
        s.keyword();
        String body = s.rest();
        if (body.isEmpty()) {
            throw s.syntaxError();
        }
        return new Prepare(name, types, body);
    }

    private static Execute execute(Scanner s) {
        String name = s.name();
        List<String> arguments = s.at('(') ? s.list() : List.of();
        s.end();
        return new Execute(name, arguments);
    }

    private static Deallocate deallocate(Scanner s) {
        if (s.keywordIs("PREPARE") && !s.endsAfterWord()) {
            s.keyword();
        }
        if (s.keywordIs("ALL")) {
            s.keyword();
            s.end();
            return new Deallocate(Optional.empty());
        }
        String name = s.name();
        s.end();
        return new Deallocate(Optional.of(name));
    }

    /** Reads tokens of one statement, skipping white space and comments between them. */
    final class Scanner {
        private final String sql;
        private int pos;

        Scanner(String sql) {
            this.sql = sql;
        }

        /** The next word, upper-case, consumed; empty when the next token is not a plain word. */
        String keyword() {
            skipSpace();
            int end = wordEnd(pos);
            String word = sql.substring(pos, end).toUpperCase(Locale.ROOT);
            pos = end;
            return word;
        }

        boolean keywordIs(String word) {
            skipSpace();
            int end = wordEnd(pos);
            return sql.substring(pos, end).equalsIgnoreCase(word);
        }

        /** After PREPARE: {@code TRANSACTION 'gid'} (two-phase commit), not a statement named "transaction". */
        boolean transactionFollows() {
            skipSpace();
            int end = wordEnd(pos);
            if (!sql.substring(pos, end).equalsIgnoreCase("TRANSACTION")) {
                return false;
            }
            int save = pos;
            pos = end;
            skipSpace();
            boolean string = pos < sql.length() && (sql.charAt(pos) == '\'' || sql.charAt(pos) == '$'
                    || (sql.charAt(pos) == 'E' || sql.charAt(pos) == 'e') && pos + 1 < sql.length() && sql.charAt(pos + 1) == '\'');
            pos = save;
            return string;
        }

        /** Whether nothing but the current word is left. */
        boolean endsAfterWord() {
            skipSpace();
            int save = pos;
            pos = wordEnd(pos);
            skipSpace();
            boolean end = pos >= sql.length();
            pos = save;
            return end;
        }

        /** A statement name: a {@code "quoted"} identifier as written, an unquoted one in lower case. */
        String name() {
            skipSpace();
            if (pos < sql.length() && sql.charAt(pos) == '"') {
                int end = skipQuoted(pos, '"', false);
                if (end == pos + 2) {
                    throw ProxyException.backend(0, "42601", "zero-length delimited identifier at or near \"\"\"\"", null);
                }
                if (end > sql.length()) {
                    throw syntaxError();
                }
                String name = sql.substring(pos + 1, end - 1).replace("\"\"", "\"");
                pos = end;
                return name;
            }
            int end = wordEnd(pos);
            if (end == pos || Character.isDigit(sql.charAt(pos))) {
                throw syntaxError();
            }
            String name = asciiLowerCase(sql.substring(pos, end));
            pos = end;
            return name;
        }

        /** How a UTF8 server folds an unquoted identifier: A-Z only, other letters keep their case. */
        private static String asciiLowerCase(String word) {
            StringBuilder out = new StringBuilder(word.length());
            for (int i = 0; i < word.length(); i++) {
                char c = word.charAt(i);
                out.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c);
            }
            return out.toString();
        }

        boolean at(char c) {
            skipSpace();
            return pos < sql.length() && sql.charAt(pos) == c;
        }

        /** {@code (item, …)}: the items' text, split on the commas outside quotes and brackets; none is empty. */
        List<String> list() {
            pos++;
            List<String> items = new ArrayList<>();
            int start = pos;
            int depth = 0;
            while (pos < sql.length()) {
                char c = sql.charAt(pos);
                int skipped = skip(pos);
                if (skipped > pos) {
                    pos = skipped;
                } else if (c == '(' || c == '[') {
                    depth++;
                    pos++;
                } else if ((c == ')' || c == ']') && depth > 0) {
                    depth--;
                    pos++;
                } else if (c == ',' && depth == 0 || c == ')') {
                    String item = sql.substring(start, pos).strip();
                    if (item.isEmpty()) {
                        throw syntaxError();
                    }
                    items.add(item);
                    pos++;
                    if (c == ')') {
                        return items;
                    }
                    start = pos;
                } else {
                    pos++;
                }
            }
            throw syntaxError();
        }

        /** The rest of the statement, trimmed. */
        String rest() {
            skipSpace();
            String rest = sql.substring(pos).strip();
            pos = sql.length();
            return rest;
        }

        void end() {
            skipSpace();
            if (pos < sql.length()) {
                throw syntaxError();
            }
        }

        /** PostgreSQL's answer to what it cannot parse, naming the token it stopped at. */
        ProxyException syntaxError() {
            skipSpace();
            if (pos >= sql.length()) {
                return ProxyException.backend(0, "42601", "syntax error at end of input", null);
            }
            int end = Math.max(wordEnd(pos), pos + 1);
            return ProxyException.backend(0, "42601", "syntax error at or near \"" + sql.substring(pos, end) + "\"", null);
        }

        private int wordEnd(int from) {
            int i = from;
            while (i < sql.length() && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_'
                    || sql.charAt(i) == '$' && i > from)) {
                i++;
            }
            return i;
        }

        private void skipSpace() {
            while (pos < sql.length()) {
                char c = sql.charAt(pos);
                if (Character.isWhitespace(c)) {
                    pos++;
                } else if (c == '-' && sql.startsWith("--", pos) || c == '/' && sql.startsWith("/*", pos)) {
                    pos = skip(pos);
                } else {
                    return;
                }
            }
        }

        /** The end of the quoted string, dollar quote or comment starting at {@code i}; {@code i} when none starts there. */
        private int skip(int i) {
            char c = sql.charAt(i);
            if (c == '\'') {
                boolean escapes = i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(sql.charAt(i - 2)) && sql.charAt(i - 2) != '_');
                return skipQuoted(i, '\'', escapes);
            }
            if (c == '"') {
                return skipQuoted(i, '"', false);
            }
            if (c == '-' && sql.startsWith("--", i)) {
                int end = sql.indexOf('\n', i);
                return end < 0 ? sql.length() : end + 1;
            }
            if (c == '/' && sql.startsWith("/*", i)) {
                int depth = 0;
                int j = i;
                while (j + 1 < sql.length()) {
                    if (sql.startsWith("/*", j)) {
                        depth++;
                        j += 2;
                    } else if (sql.startsWith("*/", j)) {
                        j += 2;
                        if (--depth == 0) {
                            return j;
                        }
                    } else {
                        j++;
                    }
                }
                return sql.length();
            }
            if (c == '$' && (i == 0 || !Character.isLetterOrDigit(sql.charAt(i - 1)) && sql.charAt(i - 1) != '_')) {
                int j = i + 1;
                while (j < sql.length() && (Character.isLetterOrDigit(sql.charAt(j)) || sql.charAt(j) == '_')) {
                    j++;
                }
                if (j >= sql.length() || sql.charAt(j) != '$' || j > i + 1 && Character.isDigit(sql.charAt(i + 1))) {
                    return i; // $1: a parameter, not a dollar quote
                }
                String tag = sql.substring(i, j + 1);
                int end = sql.indexOf(tag, j + 1);
                return end < 0 ? sql.length() : end + tag.length();
            }
            return i;
        }

        private int skipQuoted(int i, char quote, boolean backslashEscapes) {
            int j = i + 1;
            while (j < sql.length()) {
                char c = sql.charAt(j);
                if (backslashEscapes && c == '\\') {
                    j += 2;
                } else if (c == quote && j + 1 < sql.length() && sql.charAt(j + 1) == quote) {
                    j += 2;
                } else if (c == quote) {
                    return j + 1;
                } else {
                    j++;
                }
            }
            return sql.length() + 1; // unterminated
        }
    }
}

package io.shardgate.proxy.pg;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A {@code COPY table [(columns)] FROM STDIN [options]} statement as the front end runs it: the rows a client sends
 * become INSERTs, so every row is routed by its shard key exactly as an INSERT of it would be. Both option syntaxes are
 * read ({@code WITH (FORMAT csv, HEADER true)} and the older {@code WITH CSV HEADER DELIMITER ','}). What the proxy
 * cannot do is refused with the reason: COPY TO, COPY from a server file or program, COPY of a query, the binary
 * format, a WHERE clause, FORCE_NULL / FORCE_NOT_NULL, and encodings other than UTF8. FREEZE is accepted and has no
 * effect (rows arrive as INSERTs).
 *
 * @param table     the table as written (possibly quoted or schema-qualified), used as written in the INSERTs
 * @param columns   the column list as written, empty when the COPY has none
 * @param csv       CSV format, else text
 * @param delimiter the field separator: tab in text format, comma in CSV
 * @param nullText  the text of a NULL: {@code \N} in text format, the empty unquoted string in CSV
 * @param header    CSV: the first line is a header and is skipped
 * @param quote     CSV quote character
 * @param escape    CSV escape character inside quotes (the quote itself by default)
 */
record PgCopyStatement(String table, List<String> columns, boolean csv, char delimiter, String nullText, boolean header,
        char quote, char escape) {

    static PgCopyStatement parse(String sql) {
        Tokens t = new Tokens(sql);
        t.expectWord("COPY");
        if (t.peekIs("(")) {
            throw refused("COPY of a query is not supported by Shardgate (only COPY table FROM STDIN)");
        }
        StringBuilder table = new StringBuilder(t.identifier("table name"));
        while (t.peekIs(".")) {
            t.next();
            table.append('.').append(t.identifier("table name"));
        }
        List<String> columns = new ArrayList<>();
        if (t.peekIs("(")) {
            t.next();
            do {
                columns.add(t.identifier("column name"));
            } while (t.nextIf(","));
            t.expect(")");
        }
        String direction = t.word("FROM or TO");
        if (direction.equals("TO")) {
            throw refused("COPY TO is not supported by Shardgate yet; read the rows with SELECT (psql: \\copy (SELECT …) TO …"
                    + " is answered by a SELECT too)");
        }
        if (!direction.equals("FROM")) {
            throw syntax("expected FROM or TO after the table, found " + direction);
        }
        if (t.atEnd()) {
            throw syntax("COPY ends too early: FROM STDIN expected");
        }
        String source = t.peek();
        if (!source.equalsIgnoreCase("STDIN")) {
            throw refused("COPY FROM " + source + " is not supported by Shardgate: the file or program would be read on one"
                    + " shard; send the rows with COPY … FROM STDIN (psql: \\copy)");
        }
        t.next();
        Options o = new Options();
        if (t.nextIfWord("WITH") && !t.peekIs("(")) {
            legacyOptions(t, o);
        } else if (t.peekIs("(")) {
            t.next();
            do {
                String name = t.word("COPY option");
                String value = t.peekIs(",") || t.peekIs(")") ? "" : t.value();
                o.set(name, value);
            } while (t.nextIf(","));
            t.expect(")");
        } else {
            legacyOptions(t, o);
        }
        if (!t.atEnd()) {
            String next = t.peek();
            throw next.equalsIgnoreCase("WHERE") ? refused("COPY FROM … WHERE is not supported by Shardgate; filter the rows"
                    + " before sending them") : syntax("unexpected " + next + " after the COPY options");
        }
        return o.statement(table.toString(), columns);
    }

    /** {@code [WITH] [BINARY] [DELIMITER [AS] 'c'] [NULL [AS] 's'] [CSV [HEADER] [QUOTE [AS] 'q'] [ESCAPE [AS] 'e'] …]}. */
    private static void legacyOptions(Tokens t, Options o) {
        while (!t.atEnd() && !t.peek().equalsIgnoreCase("WHERE")) {
            String word = t.word("COPY option");
            switch (word) {
                case "BINARY" -> o.set("FORMAT", "binary");
                case "CSV" -> o.set("FORMAT", "csv");
                case "HEADER" -> o.set("HEADER", "true");
                case "FREEZE" -> o.set("FREEZE", "true");
                case "DELIMITER", "NULL", "QUOTE", "ESCAPE", "ENCODING" -> {
                    t.nextIfWord("AS");
                    o.set(word, t.value());
                }
                case "FORCE" -> throw refused("COPY option FORCE … is not supported by Shardgate");
                default -> throw syntax("unknown COPY option " + word);
            }
        }
    }

    private static final class Options {
        private String format = "text";
        private String delimiter;
        private String nullText;
        private boolean header;
        private String quote;
        private String escape;

        void set(String name, String value) {
            switch (name) {
                case "FORMAT" -> format = value.toLowerCase(Locale.ROOT);
                case "DELIMITER" -> delimiter = value;
                case "NULL" -> nullText = value;
                case "HEADER" -> header = value.isEmpty() || bool(value, name);
                case "QUOTE" -> quote = value;
                case "ESCAPE" -> escape = value;
                case "FREEZE" -> bool(value.isEmpty() ? "true" : value, name);  // no effect: the rows arrive as INSERTs
                case "ENCODING" -> {
                    String e = value.toUpperCase(Locale.ROOT).replace("-", "").replace("_", "");
                    if (!e.equals("UTF8")) {
                        throw refused("COPY ENCODING '" + value + "' is not supported by Shardgate: send UTF8");
                    }
                }
                case "FORCE_NULL", "FORCE_NOT_NULL", "FORCE_QUOTE" -> throw refused("COPY option " + name
                        + " is not supported by Shardgate");
                default -> throw syntax("option \"" + name.toLowerCase(Locale.ROOT) + "\" not recognized");
            }
        }

        PgCopyStatement statement(String table, List<String> columns) {
            boolean csv = switch (format) {
                case "text" -> false;
                case "csv" -> true;
                case "binary" -> throw refused("COPY in binary format is not supported by Shardgate: use text or CSV");
                default -> throw syntax("COPY format \"" + format + "\" not recognized");
            };
            if (!csv && (quote != null || escape != null || header)) {
                throw syntax("COPY QUOTE, ESCAPE and HEADER are available only in CSV mode");
            }
            char delim = single(delimiter, csv ? ',' : '\t', "DELIMITER");
            char q = single(quote, '"', "QUOTE");
            char esc = single(escape, q, "ESCAPE");
            if (delim == '\n' || delim == '\r' || (!csv && delim == '\\')) {
                throw syntax("COPY delimiter cannot be newline, carriage return or (in text format) backslash");
            }
            return new PgCopyStatement(table, List.copyOf(columns), csv, delim, nullText != null ? nullText : csv ? "" : "\\N",
                    header, q, esc);
        }

        private static char single(String value, char defaultValue, String name) {
            if (value == null) {
                return defaultValue;
            }
            if (value.length() != 1) {
                throw syntax("COPY " + name + " must be a single one-byte character");
            }
            return value.charAt(0);
        }

        private static boolean bool(String value, String name) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true", "on", "1" -> true;
                case "false", "off", "0" -> false;
                default -> throw syntax(name.toLowerCase(Locale.ROOT) + " requires a Boolean value");
            };
        }
    }

    static ProxyException refused(String message) {
        return new ProxyException(ErrorCode.UNSUPPORTED, message);
    }

    private static ProxyException syntax(String message) {
        return ProxyException.backend(0, "42601", message, null);
    }

    /** Words, quoted identifiers, string literals and punctuation of a COPY statement. */
    private static final class Tokens {
        private final List<String> tokens = new ArrayList<>();
        private int pos;

        Tokens(String sql) {
            int i = 0;
            int n = sql.length();
            while (i < n) {
                char c = sql.charAt(i);
                if (Character.isWhitespace(c) || c == ';') {
                    i++;
                } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                    while (i < n && sql.charAt(i) != '\n') {
                        i++;
                    }
                } else if (c == '"' || c == '\'' || ((c == 'E' || c == 'e') && i + 1 < n && sql.charAt(i + 1) == '\'')) {
                    int start = i;
                    boolean escapes = c != '"' && c != '\'';
                    char q = escapes ? '\'' : c;
                    i += escapes ? 2 : 1;
                    while (i < n) {
                        char d = sql.charAt(i);
                        if (escapes && d == '\\' && i + 1 < n) {
                            i += 2;
                        } else if (d == q && i + 1 < n && sql.charAt(i + 1) == q) {
                            i += 2;
                        } else if (d == q) {
                            break;
                        } else {
                            i++;
                        }
                    }
                    if (i >= n) {
                        throw syntax("unterminated quoted string or identifier in COPY");
                    }
                    tokens.add(sql.substring(start, ++i));
                } else if (Character.isLetterOrDigit(c) || c == '_' || c == '$') {
                    int start = i;
                    while (i < n && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_' || sql.charAt(i) == '$')) {
                        i++;
                    }
                    tokens.add(sql.substring(start, i));
                } else {
                    tokens.add(String.valueOf(c));
                    i++;
                }
            }
        }

        boolean atEnd() {
            return pos >= tokens.size();
        }

        String peek() {
            return atEnd() ? "end of statement" : tokens.get(pos);
        }

        boolean peekIs(String token) {
            return !atEnd() && tokens.get(pos).equals(token);
        }

        String next() {
            if (atEnd()) {
                throw syntax("COPY ends too early");
            }
            return tokens.get(pos++);
        }

        boolean nextIf(String token) {
            if (peekIs(token)) {
                pos++;
                return true;
            }
            return false;
        }

        boolean nextIfWord(String word) {
            if (!atEnd() && tokens.get(pos).equalsIgnoreCase(word)) {
                pos++;
                return true;
            }
            return false;
        }

        void expect(String token) {
            if (!nextIf(token)) {
                throw syntax("expected " + token + " in COPY, found " + peek());
            }
        }

        void expectWord(String word) {
            if (!nextIfWord(word)) {
                throw syntax("expected " + word + ", found " + peek());
            }
        }

        /** An unquoted word, upper-cased. */
        String word(String what) {
            String token = next();
            if (!Character.isLetter(token.charAt(0))) {
                throw syntax("expected " + what + ", found " + token);
            }
            return token.toUpperCase(Locale.ROOT);
        }

        /** A table or column name as written (quoted ones keep their quotes). */
        String identifier(String what) {
            String token = next();
            if (!(token.charAt(0) == '"' || Character.isLetter(token.charAt(0)) || token.charAt(0) == '_')) {
                throw syntax("expected a " + what + ", found " + token);
            }
            return token;
        }

        /** An option value: a string literal (unquoted), a number or a word. */
        String value() {
            String token = next();
            if (token.startsWith("'")) {
                return token.substring(1, token.length() - 1).replace("''", "'");
            }
            if (token.length() > 2 && (token.charAt(0) == 'E' || token.charAt(0) == 'e') && token.charAt(1) == '\'') {
                return unescape(token.substring(2, token.length() - 1));
            }
            return token;
        }

        private static String unescape(String s) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < s.length()) {
                    char d = s.charAt(++i);
                    out.append(switch (d) {
                        case 't' -> '\t';
                        case 'n' -> '\n';
                        case 'r' -> '\r';
                        case 'b' -> '\b';
                        case 'f' -> '\f';
                        default -> d;
                    });
                } else if (c == '\'' && i + 1 < s.length() && s.charAt(i + 1) == '\'') {
                    out.append('\'');
                    i++;
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }
    }
}

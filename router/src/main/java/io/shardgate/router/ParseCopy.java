package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What JSqlParser is given for a MySQL DML statement (SELECT, INSERT, REPLACE, UPDATE, DELETE, WITH) that holds what it
 * cannot parse: a character set introducer before a literal ({@code _utf8mb4 X'C3A9'}, {@code _latin1'é'},
 * {@code _binary 0x1F}) and {@code COLLATE name} after an expression. Both are overwritten with spaces, so the copy has
 * the original's length and every offset in it is the original's; quoted text, identifiers and comments are never
 * touched. The copy is for analysis only: whoever sends the statement sends {@link #original()} (the client's bytes),
 * and must refuse a statement whose shard SQL is not the copy as it is, since that SQL would lose what was blanked.
 *
 * <p>What was blanked is listed, so the caller can decide whether analysing without it is safe for the plan it got:
 * a {@code COLLATE} under which different strings are equal, or a string whose introducer makes the server read its
 * bytes otherwise than the proxy did, changes which rows a shard key matches.
 *
 * @param original    the text given
 * @param text        the copy to parse ({@code original} itself when nothing was blanked)
 * @param introducers the introducers blanked, in order
 * @param collations  the collation names of the {@code COLLATE} clauses blanked, lower-case, in order
 */
public record ParseCopy(String original, String text, List<Introducer> introducers, List<String> collations) {
    /** The kind of literal an introducer stood before. */
    public enum Literal { STRING, HEX, BIT }

    /**
     * A blanked introducer.
     *
     * @param charset      its character set, lower-case ({@code latin1} for {@code _latin1})
     * @param literal      what it introduced
     * @param asciiContent a quoted string whose characters are all ASCII (hex and bit literals: false)
     */
    public record Introducer(String charset, Literal literal, boolean asciiContent) {
        public Introducer {
            Objects.requireNonNull(charset, "charset");
            Objects.requireNonNull(literal, "literal");
        }
    }

    public ParseCopy {
        Objects.requireNonNull(original, "original");
        Objects.requireNonNull(text, "text");
        if (text.length() != original.length()) {
            throw new IllegalArgumentException("a parse copy keeps the original's length");
        }
        introducers = List.copyOf(introducers);
        collations = List.copyOf(collations);
    }

    /** Whether anything was blanked (the copy differs from the original). */
    public boolean changed() {
        return !introducers.isEmpty() || !collations.isEmpty();
    }

    /** The parse copy of {@code sql}: {@code sql} itself unless it is a MySQL DML statement with something to blank. */
    public static ParseCopy of(String sql, Dialect dialect) {
        if (dialect != Dialect.MYSQL || !mayHaveAny(sql) || !dml(sql)) {
            return new ParseCopy(sql, sql, List.of(), List.of());
        }
        return new Scanner(sql).run();
    }

    /** A cheap look before the scan: an introducer needs '_', a COLLATE clause the word. */
    private static boolean mayHaveAny(String sql) {
        if (sql.indexOf('_') >= 0) {
            return true;
        }
        for (int i = 0; i + 7 <= sql.length(); i++) {
            char c = sql.charAt(i);
            if ((c == 'C' || c == 'c') && sql.regionMatches(true, i, "COLLATE", 0, 7)) {
                return true;
            }
        }
        return false;
    }

    private static boolean dml(String sql) {
        List<String> first = SqlText.firstWords(sql, 1);
        if (first.isEmpty()) {
            return false;
        }
        return switch (first.getFirst().toUpperCase(Locale.ROOT)) {
            case "SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE", "WITH" -> true;
            default -> false;
        };
    }

    private static final class Scanner {
        private final String sql;
        private final char[] out;
        private final List<Introducer> introducers = new ArrayList<>();
        private final List<String> collations = new ArrayList<>();

        Scanner(String sql) {
            this.sql = sql;
            this.out = sql.toCharArray();
        }

        ParseCopy run() {
            int i = 0;
            int n = sql.length();
            while (i < n) {
                int skip = SqlText.skipQuotedOrComment(sql, i, Dialect.MYSQL);
                if (skip > i) {
                    i = skip;
                    continue;
                }
                char c = sql.charAt(i);
                if (wordStart(c) && (i == 0 || !attached(sql.charAt(i - 1)))) {
                    int end = wordEnd(i);
                    String word = sql.substring(i, end).toUpperCase(Locale.ROOT);
                    if (word.length() > 1 && word.charAt(0) == '_' && SqlTemplate.isCharsetName(word.substring(1))) {
                        introducer(i, end, word.substring(1).toLowerCase(Locale.ROOT));
                    } else if (word.equals("COLLATE")) {
                        collate(i, end);
                    }
                    i = end;
                    continue;
                }
                i++;
            }
            if (introducers.isEmpty() && collations.isEmpty()) {
                return new ParseCopy(sql, sql, List.of(), List.of());
            }
            return new ParseCopy(sql, new String(out), introducers, collations);
        }

        /** {@code _cs} at [start, end): blanked when a literal follows (else it is a name, as in {@code SELECT _latin1}). */
        private void introducer(int start, int end, String charset) {
            int at = blanks(end);
            if (at >= sql.length()) {
                return;
            }
            char c = sql.charAt(at);
            Literal kind;
            boolean ascii = false;
            if (c == '\'' || c == '"') {
                int close = SqlText.quotedEnd(sql, at, true);
                if (close < 0) {
                    return;
                }
                kind = Literal.STRING;
                ascii = sql.substring(at, close).chars().allMatch(ch -> ch < 0x80);
            } else if ((c == 'x' || c == 'X') && next(at) == '\'') {
                kind = Literal.HEX;
            } else if ((c == 'b' || c == 'B') && next(at) == '\'') {
                kind = Literal.BIT;
            } else if (c == '0' && (next(at) == 'x' || next(at) == 'b')) {
                kind = next(at) == 'x' ? Literal.HEX : Literal.BIT;
            } else {
                return;
            }
            blank(start, end);
            introducers.add(new Introducer(charset, kind, ascii));
        }

        /** {@code COLLATE} at [start, end) and the name after it (a word, or quoted with ` ' or "). */
        private void collate(int start, int end) {
            int at = blanks(end);
            if (at >= sql.length()) {
                return;
            }
            char c = sql.charAt(at);
            int nameEnd;
            String name;
            if (c == '`' || c == '\'' || c == '"') {
                nameEnd = SqlText.skipQuotedOrComment(sql, at, Dialect.MYSQL);
                if (nameEnd <= at + 1) {
                    return;
                }
                name = sql.substring(at + 1, nameEnd - 1);
            } else if (wordStart(c)) {
                nameEnd = wordEnd(at);
                name = sql.substring(at, nameEnd);
            } else {
                return;
            }
            blank(start, nameEnd);
            collations.add(name.toLowerCase(Locale.ROOT));
        }

        private void blank(int from, int to) {
            for (int k = from; k < to; k++) {
                out[k] = ' ';
            }
        }

        private char next(int i) {
            return i + 1 < sql.length() ? sql.charAt(i + 1) : 0;
        }

        private int blanks(int i) {
            while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
                i++;
            }
            return i;
        }

        private int wordEnd(int i) {
            int k = i;
            while (k < sql.length() && wordPart(sql.charAt(k))) {
                k++;
            }
            return k;
        }

        private static boolean wordStart(char c) {
            return Character.isLetter(c) || c == '_';
        }

        private static boolean wordPart(char c) {
            return Character.isLetterOrDigit(c) || c == '_' || c == '$';
        }

        /** A word right after one of these is part of a longer name ({@code t._latin1}, {@code @_x}, {@code 1_a}). */
        private static boolean attached(char c) {
            return wordPart(c) || c == '.' || c == '@';
        }
    }
}

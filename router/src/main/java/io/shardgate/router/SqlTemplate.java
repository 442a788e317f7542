package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Turns a text-protocol DML statement into a template with {@code ?} (PostgreSQL: {@code $1}, {@code $2}, …)
 * in place of its value literals, plus those literals, so that statements differing only in values share one cached analysis
 * (JSqlParser costs hundreds of microseconds per statement; a cached route costs well under one).
 *
 * <p>Only literals in positions where a bound parameter means exactly the same are replaced: right
 * after a comparison operator ({@code = <> != < > <= >= <=>}), after {@code LIKE}, as an operand
 * of {@code BETWEEN … AND …}, and as items of an {@code IN (…)} list or a {@code VALUES (…)} row.
 * {@code ORDER BY 1}, {@code LIMIT 10}, {@code INTERVAL 1 DAY}, function arguments, literals with
 * a hex/bit prefix, exponents and double-quoted strings stay in the text. A string with a charset introducer
 * ({@code _binary'…'}) or {@code N'…'} in a value position is replaced like a plain string.
 * Only SELECT, INSERT, REPLACE, UPDATE and DELETE are templated (a {@code SET x = 1} must keep its
 * value); a statement that already contains {@code ?} is left alone.
 *
 * @param template the SQL with {@code ?} (PostgreSQL: {@code $n}) for each replaced literal
 * @param literals the replaced values in order: Long or BigInteger for integers, BigDecimal for
 *                 decimals, String for quoted strings
 * @param sources  each replaced literal as it was spelled in the statement (quotes, escapes and all), so SQL made
 *                 from the template can carry the client's own text of every literal (see {@link #render})
 */
public record SqlTemplate(String template, List<Object> literals, List<String> sources) {
    private static final int MAX_PARENS = 64;
    /** MySQL's and MariaDB's character set names, upper-case: {@code _name'…'} introduces a string. */
    private static final java.util.Set<String> CHARSETS = java.util.Set.of("ARMSCII8", "ASCII", "BIG5", "BINARY", "CP1250",
            "CP1251", "CP1256", "CP1257", "CP850", "CP852", "CP866", "CP932", "DEC8", "EUCJPMS", "EUCKR", "GB18030", "GB2312",
            "GBK", "GEOSTD8", "GREEK", "HEBREW", "HP8", "KEYBCS2", "KOI8R", "KOI8U", "LATIN1", "LATIN2", "LATIN5", "LATIN7",
            "MACCE", "MACROMAN", "SJIS", "SWE7", "TIS620", "UCS2", "UJIS", "UTF16", "UTF16LE", "UTF32", "UTF8", "UTF8MB3",
            "UTF8MB4");

    /** Whether {@code upperCaseName} is a MySQL/MariaDB character set name ({@code _name} before a literal introduces it). */
    static boolean isCharsetName(String upperCaseName) {
        return CHARSETS.contains(upperCaseName);
    }

    public SqlTemplate {
        literals = java.util.Collections.unmodifiableList(new ArrayList<>(literals));
        sources = List.copyOf(sources);
    }

    /** A template whose literals' spelling is not known (tests that only compare templates and values). */
    public SqlTemplate(String template, List<Object> literals) {
        this(template, literals, List.of());
    }

    /**
     * {@code sql} (made from this template by the router, with JDBC {@code ?} placeholders outside quotes and comments)
     * with each placeholder replaced by the original spelling of the literal it stands for: {@code parameters} gives,
     * per placeholder in order, the 0-based index of the literal. The literals are never re-quoted or re-escaped.
     */
    public String render(String sql, List<Integer> parameters) {
        if (parameters.isEmpty()) {
            return sql;
        }
        StringBuilder out = new StringBuilder(sql.length() + 16 * parameters.size());
        int next = 0;
        int i = 0;
        while (i < sql.length()) {
            int skip = SqlText.skipQuotedOrComment(sql, i, Dialect.MYSQL);
            if (skip > i) {
                out.append(sql, i, skip);
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            if (c == '?') {
                if (next >= parameters.size()) {
                    throw new IllegalArgumentException("more placeholders than parameters in: " + sql);
                }
                out.append(sources.get(parameters.get(next++)));
            } else {
                out.append(c);
            }
            i++;
        }
        if (next != parameters.size()) {
            throw new IllegalArgumentException(parameters.size() + " parameters for " + next + " placeholders in: " + sql);
        }
        return out.toString();
    }

    /** Equal templates with equal values are equal, however their literals were spelled. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SqlTemplate t && template.equals(t.template) && literals.equals(t.literals);
    }

    @Override
    public int hashCode() {
        return 31 * template.hashCode() + literals.hashCode();
    }

    /** The template of {@code sql}, or empty when it has no replaceable literal or is not templated. */
    public static Optional<SqlTemplate> of(String sql, Dialect dialect) {
        return new Lexer(sql, dialect).run();
    }

    private static final class Lexer {
        private final String sql;
        private final Dialect dialect;
        private final StringBuilder out;
        private final List<Object> literals = new ArrayList<>();
        private final List<String> sources = new ArrayList<>();
        private int pos;
        private int copiedUpTo;
        /** Last significant token, upper-cased for words, the character for punctuation. */
        private String previous = "";
        /** Per open parenthesis: whether its items are values (IN list, VALUES row). */
        private final boolean[] valueList = new boolean[MAX_PARENS];
        private int depth;
        private boolean inValuesClause;
        private int betweenOperand;

        Lexer(String sql, Dialect dialect) {
            this.sql = sql;
            this.dialect = dialect;
            this.out = new StringBuilder(sql.length());
        }

        Optional<SqlTemplate> run() {
            if (dialect == Dialect.POSTGRES && sql.indexOf('$') >= 0) {
                return Optional.empty(); // $n parameters or dollar-quoted strings: not worth lexing here
            }
            if (!templated()) {
                return Optional.empty();
            }
            while (pos < sql.length()) {
                if (!step()) {
                    return Optional.empty();
                }
            }
            if (literals.isEmpty()) {
                return Optional.empty();
            }
            out.append(sql, copiedUpTo, sql.length());
            return Optional.of(new SqlTemplate(out.toString(), literals, sources));
        }

        /** The statements templated, by their first word. */
        private static final List<String> TEMPLATED = List.of("SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE");

        /** Whether the statement's first word (its letters) is one of {@link #TEMPLATED}, in any case. */
        private boolean templated() {
            int i = skipSpaceAndComments(0);
            if (i < 0) {
                return false;
            }
            int start = i;
            while (i < sql.length() && Character.isLetter(sql.charAt(i))) {
                i++;
            }
            for (String word : TEMPLATED) {
                if (word.length() == i - start && upperCaseEquals(start, word)) {
                    return true;
                }
            }
            return false;
        }

        /** Consumes one token; false means "do not template this statement". */
        private boolean step() {
            int next = skipSpaceAndComments(pos);
            if (next < 0) {
                return false;
            }
            pos = next;
            if (pos >= sql.length()) {
                return true;
            }
            char c = sql.charAt(pos);
            if (c == '?') {
                return false;
            }
            if (c == ';' && skipSpaceAndComments(pos + 1) != sql.length()) {
                return false; // text after a semicolon: another statement (or an error), which the server reads as sent
            }
            if (c == '\'') {
                return string();
            }
            if (Character.isDigit(c) || (c == '.' && pos + 1 < sql.length() && Character.isDigit(sql.charAt(pos + 1)))) {
                return number(pos, false);
            }
            if (c == '-' && valuePosition() && pos + 1 < sql.length() && Character.isDigit(sql.charAt(pos + 1))) {
                return number(pos + 1, true);
            }
            if (Character.isLetter(c) || c == '_' || c == '@' || c == '$') {
                return word();
            }
            if (c == '`' || c == '"') {
                return quotedIdentifier(c);
            }
            return punctuation(c);
        }

        private boolean word() {
            int start = pos;
            while (pos < sql.length()) {
                char c = sql.charAt(pos);
                if (!(Character.isLetterOrDigit(c) || c == '_' || c == '@' || c == '$' || c == '.')) {
                    break;
                }
                pos++;
            }
            String w = keyword(start, pos);
            if (dialect == Dialect.MYSQL && (w.equals("N") || (sql.charAt(start) == '_'
                    && introducer(sql.substring(start, pos).toUpperCase(Locale.ROOT))))) {
                int quote = skipBlanks(pos);
                if (quote < sql.length() && sql.charAt(quote) == '\'') {
                    return introducedString(start, quote);
                }
            }
            if (pos < sql.length() && sql.charAt(pos) == '\'') {
                // _utf8mb4'x', N'x', X'0F', B'01': the literal belongs to its prefix; keep both
                int end = skipString(pos);
                if (end < 0) {
                    return false;
                }
                pos = end;
                remember("LITERAL");
                return true;
            }
            switch (w) {
                case "VALUES", "VALUE" -> inValuesClause = true;
                case "ON", "SELECT", "SET", "WHERE", "RETURNING" -> inValuesClause = false;
                case "BETWEEN" -> betweenOperand = 1;
                case "AND" -> {
                    if (betweenOperand == 2) {
                        betweenOperand = 3;
                        remember("BETWEEN_AND");
                        return true;
                    }
                }
                default -> { }
            }
            remember(w);
            return true;
        }

        /** The words the lexer tells apart (upper case); every other word is {@link #OTHER_WORD}. */
        private static final List<String> KEYWORDS = List.of("VALUES", "VALUE", "ON", "SELECT", "SET", "WHERE", "RETURNING",
                "BETWEEN", "AND", "IN", "LIKE", "N", "BETWEEN_AND");
        /** Any word not in {@link #KEYWORDS}: no case of the lexer tests for it. */
        private static final String OTHER_WORD = "WORD";

        /**
         * The word {@code sql[start, end)} upper-cased if it is one of {@link #KEYWORDS}, else {@link #OTHER_WORD}: the
         * lexer only ever compares a word with those, and upper-casing every word (a copy and a case mapping) was a
         * visible share of a text point select's CPU. Compared per character with {@link Character#toUpperCase(char)},
         * as {@code toUpperCase(Locale.ROOT)} maps them (no keyword holds a letter pair that one character upper-cases
         * to, such as SS or ST).
         */
        private String keyword(int start, int end) {
            int length = end - start;
            for (String k : KEYWORDS) {
                if (k.length() == length && upperCaseEquals(start, k)) {
                    return k;
                }
            }
            return OTHER_WORD;
        }

        private boolean upperCaseEquals(int start, String upper) {
            for (int i = 0; i < upper.length(); i++) {
                if (Character.toUpperCase(sql.charAt(start + i)) != upper.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        /**
         * {@code _binary'…'}, {@code _latin1 '…'}, {@code N'…'} in a value position: a parameter like any string, whose
         * source (introducer and all) is what the shard gets back. JSqlParser cannot parse introducers in expressions,
         * so mysqldump files and PyMySQL's {@code _binary'…'} parse only this way; elsewhere they stay in the text.
         */
        private boolean introducedString(int start, int quote) {
            int end = skipString(quote);
            if (end < 0) {
                return false;
            }
            if (valuePosition()) {
                replace(start, end, unquote(quote, end));
            }
            pos = end;
            remember("LITERAL");
            return true;
        }

        private static boolean introducer(String word) {
            return word.length() > 1 && word.charAt(0) == '_' && CHARSETS.contains(word.substring(1));
        }

        private int skipBlanks(int i) {
            while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
                i++;
            }
            return i;
        }

        private boolean punctuation(char c) {
            if (c == '(') {
                if (depth >= MAX_PARENS) {
                    return false;
                }
                // IN (…) items, and the rows of VALUES (…), (…) at the statement's top level
                valueList[depth] = previous.equals("IN") || (inValuesClause && depth == 0);
                depth++;
                pos++;
                remember("(");
                return true;
            }
            if (c == ')') {
                depth = Math.max(0, depth - 1);
                pos++;
                remember(")");
                return true;
            }
            int start = pos;
            if ("<>!=".indexOf(c) >= 0) {
                while (pos < sql.length() && "<>!=".indexOf(sql.charAt(pos)) >= 0) {
                    pos++;
                }
            } else {
                pos++;
            }
            remember(pos - start == 1 && c < ONE_CHAR.length ? ONE_CHAR[c] : sql.substring(start, pos));
            return true;
        }

        /** One-character ASCII tokens as strings, made once rather than for every comma and equals sign. */
        private static final String[] ONE_CHAR = new String[128];

        static {
            for (char c = 0; c < ONE_CHAR.length; c++) {
                ONE_CHAR[c] = String.valueOf(c);
            }
        }

        private boolean quotedIdentifier(char quote) {
            int end = sql.indexOf(quote, pos + 1);
            while (end >= 0 && end + 1 < sql.length() && sql.charAt(end + 1) == quote) {
                end = sql.indexOf(quote, end + 2);
            }
            if (end < 0) {
                return false;
            }
            pos = end + 1;
            remember("IDENT");
            return true;
        }

        private boolean string() {
            int end = skipString(pos);
            if (end < 0) {
                return false;
            }
            if (valuePosition()) {
                replace(pos, end, unquote(pos, end));
            }
            pos = end;
            remember("LITERAL");
            return true;
        }

        private boolean number(int digitsAt, boolean negative) {
            int start = negative ? digitsAt - 1 : digitsAt;
            int i = digitsAt;
            boolean decimal = false;
            while (i < sql.length() && (Character.isDigit(sql.charAt(i)) || sql.charAt(i) == '.')) {
                decimal |= sql.charAt(i) == '.';
                i++;
            }
            boolean plain = i >= sql.length() || !(Character.isLetter(sql.charAt(i)) || sql.charAt(i) == '_');
            if (plain && valuePosition()) {
                String text = sql.substring(start, i);
                replace(start, i, decimal ? new BigDecimal(text) : integer(text));
            }
            if (!plain) {
                // 1e5, 0x1F, 3abc: not a plain number; skip the whole token as it is
                while (i < sql.length() && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_'
                        || sql.charAt(i) == '.' || ((sql.charAt(i) == '-' || sql.charAt(i) == '+')
                        && Character.toLowerCase(sql.charAt(i - 1)) == 'e'))) {
                    i++;
                }
            }
            pos = i;
            remember("LITERAL");
            return true;
        }

        private static Object integer(String text) {
            if (text.length() < 19) {
                return Long.parseLong(text);
            }
            BigInteger bi = new BigInteger(text);
            return bi.bitLength() < 64 ? (Object) bi.longValue() : bi;
        }

        /** Whether a literal at the current position is a pure value a parameter can stand for. */
        private boolean valuePosition() {
            return switch (previous) {
                case "=", "<>", "!=", "<", ">", "<=", ">=", "<=>", "LIKE", "BETWEEN", "BETWEEN_AND" -> true;
                case "(", "," -> depth > 0 && valueList[depth - 1];
                default -> false;
            };
        }

        /** A parameter in the dialect's own spelling: PostgreSQL statements number theirs ($1, $2, …). */
        private void replace(int start, int end, Object value) {
            out.append(sql, copiedUpTo, start);
            if (dialect == Dialect.POSTGRES) {
                out.append('$').append(literals.size() + 1);
            } else {
                out.append('?');
            }
            copiedUpTo = end;
            literals.add(value);
            sources.add(sql.substring(start, end));
        }

        private void remember(String token) {
            previous = token;
            if (betweenOperand == 1 && !token.equals("BETWEEN")) {
                betweenOperand = 2;
            } else if (betweenOperand == 3 && !token.equals("BETWEEN_AND")) {
                betweenOperand = 0;
            }
        }

        /** End (exclusive) of the quoted string starting at {@code start}, or -1 if unterminated. */
        private int skipString(int start) {
            return SqlText.quotedEnd(sql, start, dialect == Dialect.MYSQL);
        }

        private String unquote(int start, int end) {
            StringBuilder s = new StringBuilder(end - start);
            char quote = sql.charAt(start);
            for (int i = start + 1; i < end - 1; i++) {
                char c = sql.charAt(i);
                if (c == quote) {
                    i++; // doubled quote
                    s.append(quote);
                } else if (c == '\\' && dialect == Dialect.MYSQL && i + 1 < end - 1) {
                    s.append(unescape(sql.charAt(++i)));
                } else {
                    s.append(c);
                }
            }
            return s.toString();
        }

        private static String unescape(char c) {
            return switch (c) {
                case '0' -> "\0";
                case 'b' -> "\b";
                case 'n' -> "\n";
                case 'r' -> "\r";
                case 't' -> "\t";
                case 'Z' -> "\u001A";
                // MySQL keeps the backslash for \% and \_ (they matter to LIKE)
                case '%', '_' -> "\\" + c;
                default -> String.valueOf(c);
            };
        }

        /** Skips white space and comments; -1 for an unterminated comment or an executable comment. */
        private int skipSpaceAndComments(int i) {
            while (i < sql.length()) {
                char c = sql.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (c == '/' && i + 1 < sql.length() && sql.charAt(i + 1) == '*') {
                    if (i + 2 < sql.length() && (sql.charAt(i + 2) == '!' || sql.charAt(i + 2) == '+')) {
                        return -1; // /*! … */ runs on MySQL and /*+ … */ are hints: leave such statements alone
                    }
                    int end = sql.indexOf("*/", i + 2);
                    if (end < 0) {
                        return -1;
                    }
                    i = end + 2;
                } else if ((c == '-' && i + 2 < sql.length() && sql.charAt(i + 1) == '-' && Character.isWhitespace(sql.charAt(i + 2)))
                        || (c == '#' && dialect == Dialect.MYSQL)) {
                    int end = sql.indexOf('\n', i);
                    i = end < 0 ? sql.length() : end + 1;
                } else {
                    return i;
                }
            }
            return i;
        }
    }
}

package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.ServerState;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SQL-level prepared statements of one MySQL session ({@code PREPARE s FROM '…'}, {@code EXECUTE s USING @a, @b},
 * {@code DEALLOCATE PREPARE s}), kept by the proxy rather than on a server: the statement's text is checked and routed
 * at PREPARE like any statement (so a statement the proxy would refuse is refused then), and each EXECUTE runs it as an
 * ordinary statement with the values of the USING variables (which the session keeps as literals) in place of its
 * {@code ?}s, so it is routed by those values like any statement. No server connection holds anything.
 */
final class SqlPrepared {
    private static final Pattern PREPARE = Pattern.compile("(?is)^\\s*PREPARE\\s+(`[^`]+`|[\\w$]+)\\s+FROM\\s+(.+?)\\s*$");
    private static final Pattern EXECUTE = Pattern.compile("(?is)^\\s*EXECUTE\\s+(`[^`]+`|[\\w$]+)(?:\\s+USING\\s+(.+?))?\\s*$");
    private static final Pattern DEALLOCATE = Pattern.compile("(?is)^\\s*(?:DEALLOCATE|DROP)\\s+PREPARE\\s+(`[^`]+`|[\\w$]+)\\s*$");
    private static final Pattern VARIABLE = Pattern.compile("(?s)\\s*@(`[^`]+`|[\\w$.]+)\\s*");
    private static final Pattern SELECT = Pattern.compile("(?i)^[\\s(]*(SELECT|WITH|VALUES|TABLE)\\b");

    private final Map<String, String> statements = new HashMap<>();

    private static final String[] QUERY_WORDS = {"select", "with", "values", "table"};

    /**
     * Whether {@code sql} is a query (its columns are labelled by their text, so nothing in it may be rewritten): after
     * whitespace and opening parentheses it starts with SELECT, WITH, VALUES or TABLE (ASCII, any case) as a whole word.
     * Written out by hand: asked for every relayed statement, where the equivalent regex cost ~3 % of the proxy's CPU.
     */
    static boolean isSelect(String sql) {
        int n = sql.length();
        int i = 0;
        while (i < n && isSpaceOrParen(sql.charAt(i))) {
            i++;
        }
        for (String word : QUERY_WORDS) {
            int end = i + word.length();
            if (end <= n && startsWithAsciiIgnoringCase(sql, i, word) && (end == n || !isWordChar(sql.charAt(end)))) {
                return true;
            }
        }
        return false;
    }

    /** The regex that {@link #isSelect} spells out (kept for its test). */
    static boolean isSelectByPattern(String sql) {
        return SELECT.matcher(sql).lookingAt();
    }

    private static boolean isSpaceOrParen(char c) {
        return c == '(' || c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }

    /** {@code lowerWord} (ASCII lower case) at {@code from}, ASCII letters compared in either case. */
    private static boolean startsWithAsciiIgnoringCase(String sql, int from, String lowerWord) {
        for (int k = 0; k < lowerWord.length(); k++) {
            char c = sql.charAt(from + k);
            if (c != lowerWord.charAt(k) && !(c >= 'A' && c <= 'Z' && (char) (c + 32) == lowerWord.charAt(k))) {
                return false;
            }
        }
        return true;
    }

    /** A word character for the regex's {@code \\b} (ASCII since JDK 19, as {@code \\w}): a letter, a digit or an underscore. */
    private static boolean isWordChar(char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }

    /**
     * Where {@code LAST_INSERT_ID()} may be replaced by the session's value: anywhere in a write, after the select list
     * of a SELECT whose select list does not name it; -1 when it may not.
     */
    static int lastInsertIdFrom(String sql) {
        if (!isSelect(sql)) {
            return 0;
        }
        int end = ServerState.selectListEnd(sql);
        String selectList = end > 0 ? sql.substring(0, end) : "";
        return end > 0 && ServerState.withLastInsertId(selectList, "?").equals(selectList) ? end : -1;
    }

    private static final Pattern ROW_WRITE = Pattern.compile("(?is)^[\\s(]*(INSERT|UPDATE|DELETE|REPLACE)\\b.*");
    private static final Pattern SET_OPERATION = Pattern.compile("(?i)\\b(UNION|INTERSECT|EXCEPT)\\b");
    private static final Pattern RETURNING = Pattern.compile("(?i)\\bRETURNING\\b");

    /**
     * Where a call of the argument-less MySQL function {@code function} may be replaced by a literal of its value without
     * changing what the client sees; -1 when it may not. In a row write (INSERT, UPDATE, DELETE, REPLACE) anywhere: the
     * value goes into a column, whose type decides, or into a condition (not with MariaDB's RETURNING, a select list).
     * In a SELECT only after its select list, when
     * neither the select list (whose text labels the columns, and whose types the client sees) nor a set operation
     * (whose later select lists decide the types too) holds the call. Anywhere else (CREATE TABLE … SELECT, SET, DO …)
     * a literal could change a type the client sees: never.
     */
    static int callReplaceableFrom(String sql, String function) {
        if (ROW_WRITE.matcher(sql).matches()) {
            return RETURNING.matcher(sql).find() ? -1 : 0;
        }
        if (!isSelect(sql) || SET_OPERATION.matcher(sql).find()) {
            return -1;
        }
        int end = ServerState.selectListEnd(sql);
        String selectList = end > 0 ? sql.substring(0, end) : "";
        return end > 0 && ServerState.withCall(selectList, function, "?", 0).equals(selectList) ? end : -1;
    }

    StatementResult run(String sql, ProxySession session) {
        Matcher m = PREPARE.matcher(sql);
        if (m.matches()) {
            return prepare(key(m.group(1)), source(m.group(2), session), session);
        }
        m = EXECUTE.matcher(sql);
        if (m.matches()) {
            return execute(m.group(1), m.group(2), session);
        }
        m = DEALLOCATE.matcher(sql);
        if (m.matches()) {
            if (statements.remove(key(m.group(1))) == null) {
                throw unknown(name(m.group(1)), "DEALLOCATE PREPARE");
            }
            return StatementResult.Update.of(0);
        }
        throw new ProxyException(ErrorCode.PARSE_ERROR, "cannot read this PREPARE, EXECUTE or DEALLOCATE PREPARE statement");
    }

    private StatementResult prepare(String name, String text, ProxySession session) {
        statements.remove(name); // as on a server: a failed PREPARE leaves no statement of that name
        session.check(text);
        statements.put(name, text);
        return new StatementResult.Update(0, 0, 0, "Statement prepared");
    }

    private StatementResult execute(String name, String using, ProxySession session) {
        String text = statements.get(key(name));
        if (text == null) {
            throw unknown(name(name), "EXECUTE");
        }
        List<String> literals = new ArrayList<>();
        if (using != null) {
            for (String part : using.split(",")) {
                Matcher v = VARIABLE.matcher(part);
                if (!v.matches()) {
                    throw new ProxyException(ErrorCode.PARSE_ERROR, "EXECUTE … USING takes user variables (@a, @b), not '"
                            + part.strip() + "'");
                }
                literals.add(session.backends().variables().getOrDefault(name(v.group(1)).toLowerCase(Locale.ROOT), "NULL"));
            }
        }
        if (literals.size() != placeholders(text)) {
            throw new ProxyException(ErrorCode.WRONG_PARAMETER_COUNT, "Incorrect arguments to EXECUTE");
        }
        return session.query(ServerState.bindPlaceholders(text, literals));
    }

    private static int placeholders(String text) {
        String marked = ServerState.bindPlaceholders(text, java.util.Collections.nCopies(text.length(), "\u0000"));
        return (int) marked.chars().filter(c -> c == 0).count();
    }

    /** The statement text: a string literal, or a user variable holding it. */
    private static String source(String source, ProxySession session) {
        String s = source.strip();
        if (s.startsWith("@")) {
            String literal = session.backends().variables().get(name(s.substring(1)).toLowerCase(Locale.ROOT));
            if (literal == null || literal.equals("NULL")) {
                throw new ProxyException(ErrorCode.PARSE_ERROR, "PREPARE … FROM " + s + ": the variable holds no statement text");
            }
            int hex = literal.indexOf("X'");
            return hex < 0 ? literal : new String(HexFormat.of().parseHex(literal.substring(hex + 2, literal.length() - 1)),
                    StandardCharsets.UTF_8);
        }
        if (s.length() >= 2 && (s.charAt(0) == '\'' || s.charAt(0) == '"') && s.charAt(s.length() - 1) == s.charAt(0)) {
            return unescape(s.substring(1, s.length() - 1), s.charAt(0));
        }
        throw new ProxyException(ErrorCode.PARSE_ERROR, "PREPARE … FROM takes a string literal or a user variable, not " + s);
    }

    /** A MySQL string literal's content: doubled quotes and backslash escapes. */
    private static String unescape(String body, char quote) {
        StringBuilder out = new StringBuilder(body.length());
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '\\' && i + 1 < body.length()) {
                char n = body.charAt(++i);
                out.append(switch (n) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    case '0' -> '\0';
                    case 'Z' -> (char) 26;
                    default -> n;
                });
            } else if (c == quote && i + 1 < body.length() && body.charAt(i + 1) == quote) {
                out.append(quote);
                i++;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String name(String name) {
        return name.startsWith("`") ? name.substring(1, name.length() - 1).replace("``", "`") : name;
    }

    /** Statement names ignore case, as on a server. */
    private static String key(String name) {
        return name(name).toLowerCase(Locale.ROOT);
    }

    private static ProxyException unknown(String name, String command) {
        return new ProxyException(ErrorCode.UNKNOWN_PREPARED_STATEMENT, "Unknown prepared statement handler (" + name
                + ") given to " + command);
    }
}

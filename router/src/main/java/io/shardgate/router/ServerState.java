package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a statement does with state that a server keeps per connection (DESIGN.md, "Right or refused: Session state on a
 * server"): a pooling proxy gets these silently wrong unless it keeps the connection (pins it) or answers itself.
 * Read from the statement's text once per analysed statement, by a lexical scan that skips quoted text and comments;
 * {@link #NONE} for the ordinary statement, which then costs nothing more.
 *
 * @param uses      the kinds of state the statement touches
 * @param variables user variables it names ({@code @x}), lower-case (MySQL user variable names ignore case)
 * @param assigned  those it assigns ({@code @x := …}, {@code SET @x = …}, {@code … INTO @x})
 */
public record ServerState(Set<Use> uses, List<String> variables, List<String> assigned) {
    public static final ServerState NONE = new ServerState(EnumSet.noneOf(Use.class), List.of(), List.of());

    public ServerState {
        uses = uses.isEmpty() ? Set.of() : Set.copyOf(uses);
        variables = List.copyOf(variables);
        assigned = List.copyOf(assigned);
    }

    /** The kinds of per-connection server state. */
    public enum Use {
        /** GET_LOCK, RELEASE_LOCK, RELEASE_ALL_LOCKS, IS_USED_LOCK, IS_FREE_LOCK; PostgreSQL session advisory locks. */
        NAMED_LOCK,
        /** {@code @x} read or assigned. */
        USER_VARIABLE,
        /** CREATE TEMPORARY TABLE (PostgreSQL: TEMP too). */
        TEMPORARY_TABLE,
        /** {@code SELECT SQL_CALC_FOUND_ROWS …}: the proxy counts the rows itself. */
        CALC_FOUND_ROWS,
        /** {@code FOUND_ROWS()}: answered by the proxy. */
        FOUND_ROWS,
        /** {@code ROW_COUNT()}: answered by the proxy. */
        ROW_COUNT,
        /** {@code LAST_INSERT_ID(expr)}: sets the value the session's next {@code LAST_INSERT_ID()} returns. */
        LAST_INSERT_ID_EXPR,
        /** {@code LAST_INSERT_ID()} inside a statement the proxy does not answer itself. */
        LAST_INSERT_ID,
        /** SQL {@code PREPARE}, {@code EXECUTE}, {@code DEALLOCATE PREPARE} / {@code DROP PREPARE}. */
        SQL_PREPARE,
        /** {@code DROP [TEMPORARY] TABLE}: may drop a temporary table, after which its connection need not stay pinned. */
        DROP_TABLE,
        /** PostgreSQL {@code lastval()}, {@code currval(…)}: the last {@code nextval} of the server connection. */
        SEQUENCE_VALUE,
        /**
         * {@code CONNECTION_ID()}, PostgreSQL {@code pg_backend_pid()}: on a shard the id of the pooled backend connection
         * that runs the statement, not the id the proxy gave the session (handshake, BackendKeyData).
         */
        SESSION_ID,
        /**
         * PostgreSQL {@code pg_cancel_backend(pid)}, {@code pg_terminate_backend(pid)}: on a shard they signal that
         * server's backend of the pid, which is not a session of the proxy's.
         */
        SIGNAL_BACKEND
    }

    public boolean none() {
        return uses.isEmpty();
    }

    public boolean has(Use use) {
        return uses.contains(use);
    }

    private static final Set<String> LOCK_FUNCTIONS = Set.of("GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS", "IS_USED_LOCK",
            "IS_FREE_LOCK");
    private static final Set<String> PG_LOCK_FUNCTIONS = Set.of("PG_ADVISORY_LOCK", "PG_ADVISORY_LOCK_SHARED", "PG_TRY_ADVISORY_LOCK",
            "PG_TRY_ADVISORY_LOCK_SHARED", "PG_ADVISORY_UNLOCK", "PG_ADVISORY_UNLOCK_SHARED", "PG_ADVISORY_UNLOCK_ALL");

    /** Scans {@code sql}; cheap when nothing matches (one pass, no allocation but the word buffer). */
    static ServerState of(String sql, Dialect dialect) {
        EnumSet<Use> uses = EnumSet.noneOf(Use.class);
        Set<String> variables = new LinkedHashSet<>();
        Set<String> assigned = new LinkedHashSet<>();
        List<String> firstWords = new ArrayList<>(3);
        boolean mysql = dialect == Dialect.MYSQL;
        boolean into = false;
        int n = sql.length();
        int i = 0;
        while (i < n) {
            int skip = SqlText.skipQuotedOrComment(sql, i, dialect);
            if (skip > i) {
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            if (c == '@' && mysql) {
                if (i + 1 < n && sql.charAt(i + 1) == '@') {
                    i = wordEnd(sql, i + 2, true); // a system variable (@@x, @@session.x)
                    continue;
                }
                int end = variableEnd(sql, i + 1);
                String name = variableName(sql.substring(i + 1, end)).toLowerCase(Locale.ROOT);
                i = end;
                if (name.isEmpty()) {
                    continue;
                }
                uses.add(Use.USER_VARIABLE);
                variables.add(name);
                int next = skipSpaces(sql, i);
                boolean set = !firstWords.isEmpty() && firstWords.getFirst().equals("SET");
                if (into || sql.startsWith(":=", next) || set && next < n && sql.charAt(next) == '=') {
                    assigned.add(name);
                }
                continue;
            }
            if (Character.isLetter(c) || c == '_') {
                int end = wordEnd(sql, i, false);
                String word = sql.substring(i, end).toUpperCase(Locale.ROOT);
                if (firstWords.size() < 3) {
                    firstWords.add(word);
                }
                int next = skipSpaces(sql, end);
                boolean call = next < n && sql.charAt(next) == '(';
                into = word.equals("INTO");
                word(word, call, sql, next, mysql, uses);
                i = end;
                continue;
            }
            if (c == ',' && into) {
                // INTO @a, @b: the comma keeps the list going
                i++;
                continue;
            }
            if (!Character.isWhitespace(c)) {
                into = false;
            }
            i++;
        }
        statementKind(firstWords, mysql, uses);
        if (uses.isEmpty()) {
            return NONE;
        }
        return new ServerState(uses, List.copyOf(variables), List.copyOf(assigned));
    }

    private static void word(String word, boolean call, String sql, int next, boolean mysql, Set<Use> uses) {
        if (!call) {
            if (word.equals("SQL_CALC_FOUND_ROWS")) {
                uses.add(Use.CALC_FOUND_ROWS);
            }
            return;
        }
        if (mysql ? LOCK_FUNCTIONS.contains(word) : PG_LOCK_FUNCTIONS.contains(word)) {
            uses.add(Use.NAMED_LOCK);
        } else if (mysql && word.equals("FOUND_ROWS")) {
            uses.add(Use.FOUND_ROWS);
        } else if (mysql && word.equals("ROW_COUNT")) {
            uses.add(Use.ROW_COUNT);
        } else if (!mysql && (word.equals("LASTVAL") || word.equals("CURRVAL"))) {
            uses.add(Use.SEQUENCE_VALUE);
        } else if (mysql ? word.equals("CONNECTION_ID") : word.equals("PG_BACKEND_PID")) {
            uses.add(Use.SESSION_ID);
        } else if (!mysql && (word.equals("PG_CANCEL_BACKEND") || word.equals("PG_TERMINATE_BACKEND"))) {
            uses.add(Use.SIGNAL_BACKEND);
        } else if (mysql && word.equals("LAST_INSERT_ID")) {
            int arg = skipSpaces(sql, next + 1);
            uses.add(arg < sql.length() && sql.charAt(arg) == ')' ? Use.LAST_INSERT_ID : Use.LAST_INSERT_ID_EXPR);
        }
    }

    private static void statementKind(List<String> w, boolean mysql, Set<Use> uses) {
        if (w.isEmpty()) {
            return;
        }
        String first = w.getFirst();
        String second = w.size() > 1 ? w.get(1) : "";
        if (first.equals("CREATE") && (second.equals("TEMPORARY") || !mysql && second.equals("TEMP"))) {
            uses.add(Use.TEMPORARY_TABLE);
        } else if (first.equals("PREPARE") || first.equals("EXECUTE") || first.equals("DEALLOCATE")
                || first.equals("DROP") && second.equals("PREPARE")) {
            uses.add(Use.SQL_PREPARE);
        } else if (first.equals("DROP") && (second.equals("TABLE") || second.equals("TEMPORARY"))) {
            uses.add(Use.DROP_TABLE);
        }
    }

    /** A {@code SELECT … INTO @a, @b …}: the SELECT without its INTO clause, and the variables it assigns (lower-case). */
    public record SelectInto(String select, List<String> variables) {
        public SelectInto {
            variables = List.copyOf(variables);
        }
    }

    /** The INTO @variables clause of a MySQL SELECT (at the top level, before FROM or at the end), if it has one. */
    public static java.util.Optional<SelectInto> selectInto(String sql) {
        int depth = 0;
        int i = 0;
        while (i < sql.length()) {
            int skip = SqlText.skipQuotedOrComment(sql, i, Dialect.MYSQL);
            if (skip > i) {
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            if (c == '(' || c == ')') {
                depth += c == '(' ? 1 : -1;
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int end = wordEnd(sql, i, false);
                if (depth == 0 && sql.substring(i, end).equalsIgnoreCase("INTO")) {
                    List<String> names = new ArrayList<>();
                    int at = skipSpaces(sql, end);
                    while (at < sql.length() && sql.charAt(at) == '@') {
                        int nameEnd = variableEnd(sql, at + 1);
                        names.add(variableName(sql.substring(at + 1, nameEnd)).toLowerCase(Locale.ROOT));
                        int next = skipSpaces(sql, nameEnd);
                        end = nameEnd;
                        if (next < sql.length() && sql.charAt(next) == ',') {
                            at = skipSpaces(sql, next + 1);
                        } else {
                            break;
                        }
                    }
                    return names.isEmpty() ? java.util.Optional.empty()
                            : java.util.Optional.of(new SelectInto(sql.substring(0, i) + " " + sql.substring(end), names));
                }
                i = end;
            } else {
                i++;
            }
        }
        return java.util.Optional.empty();
    }

    private static final java.util.regex.Pattern CREATE_TEMPORARY = java.util.regex.Pattern.compile(
            "(?is)^\\s*CREATE\\s+TEMP(?:ORARY)?\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?((?:[`\"][^`\"]+[`\"]|[\\w$]+)(?:\\.(?:[`\"][^`\"]+[`\"]|[\\w$]+))?).*");
    private static final java.util.regex.Pattern DROP_TABLES = java.util.regex.Pattern.compile(
            "(?is)^\\s*DROP\\s+(?:TEMPORARY\\s+)?TABLE\\s+(?:IF\\s+EXISTS\\s+)?(.+?)(?:\\s+(?:CASCADE|RESTRICT))?\\s*$");

    /** The table a {@code CREATE TEMPORARY TABLE} creates, unquoted and without its schema. */
    public static java.util.Optional<String> temporaryTableCreated(String sql) {
        java.util.regex.Matcher m = CREATE_TEMPORARY.matcher(sql);
        return m.matches() ? java.util.Optional.of(tableName(m.group(1))) : java.util.Optional.empty();
    }

    /** The tables a {@code DROP [TEMPORARY] TABLE a, b} drops, unquoted and without their schema. */
    public static List<String> tablesDropped(String sql) {
        java.util.regex.Matcher m = DROP_TABLES.matcher(sql);
        if (!m.matches()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String part : m.group(1).split(",")) {
            out.add(tableName(part.strip()));
        }
        return out;
    }

    private static String tableName(String qualified) {
        String last = qualified.substring(qualified.lastIndexOf('.') + 1);
        return variableName(last);
    }

    /**
     * {@code sql} with each MySQL {@code ?} placeholder (outside quotes and comments) replaced by the next of
     * {@code literals}: how the proxy runs SQL {@code EXECUTE … USING @a, @b} with the values of the variables.
     */
    public static String bindPlaceholders(String sql, List<String> literals) {
        StringBuilder out = new StringBuilder(sql.length() + 16 * literals.size());
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
            if (c == '?' && next < literals.size()) {
                out.append(literals.get(next++));
            } else {
                out.append(c);
            }
            i++;
        }
        return out.toString();
    }

    /** {@code LAST_INSERT_ID()} (no argument, outside quotes and comments) in {@code sql} replaced by {@code value}. */
    public static String withLastInsertId(String sql, String value) {
        return withLastInsertId(sql, value, 0);
    }

    /**
     * Where the select list of a SELECT ends: the first FROM outside parentheses, quotes and comments, or -1. Its columns
     * are labelled by their text, so the proxy rewrites nothing before it.
     */
    public static int selectListEnd(String sql) {
        int depth = 0;
        int i = 0;
        while (i < sql.length()) {
            int skip = SqlText.skipQuotedOrComment(sql, i, Dialect.MYSQL);
            if (skip > i) {
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            if (c == '(' || c == ')') {
                depth += c == '(' ? 1 : -1;
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int end = wordEnd(sql, i, false);
                if (depth == 0 && end - i == 4 && sql.regionMatches(true, i, "FROM", 0, 4)) {
                    return i;
                }
                i = end;
            } else {
                i++;
            }
        }
        return -1;
    }

    /** {@code LAST_INSERT_ID()} from index {@code from} on replaced by {@code value}. */
    public static String withLastInsertId(String sql, String value, int from) {
        return withCall(sql, "LAST_INSERT_ID", value, from);
    }

    /**
     * Each call of the MySQL function {@code function} without arguments ({@code NAME()}, any case, spaces allowed
     * inside the parentheses; outside quotes and comments) from index {@code from} on replaced by {@code value}.
     */
    public static String withCall(String sql, String function, String value, int from) {
        StringBuilder out = new StringBuilder(sql.length()).append(sql, 0, from);
        int i = from;
        while (i < sql.length()) {
            int skip = SqlText.skipQuotedOrComment(sql, i, Dialect.MYSQL);
            if (skip > i) {
                out.append(sql, i, skip);
                i = skip;
                continue;
            }
            char c = sql.charAt(i);
            if (Character.isLetter(c) || c == '_') {
                int end = wordEnd(sql, i, false);
                int open = skipSpaces(sql, end);
                int close = open < sql.length() && sql.charAt(open) == '(' ? skipSpaces(sql, open + 1) : -1;
                if (sql.substring(i, end).equalsIgnoreCase(function) && close >= 0 && close < sql.length()
                        && sql.charAt(close) == ')') {
                    out.append(value);
                    i = close + 1;
                } else {
                    out.append(sql, i, end);
                    i = end;
                }
                continue;
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    private static int wordEnd(String sql, int from, boolean dotted) {
        int i = from;
        while (i < sql.length()) {
            char c = sql.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '_' || c == '$' || dotted && c == '.')) {
                break;
            }
            i++;
        }
        return i;
    }

    /** End of a user variable's name: {@code @x}, {@code @`a b`}, {@code @'a b'}, {@code @x.y}. */
    private static int variableEnd(String sql, int from) {
        if (from < sql.length() && (sql.charAt(from) == '`' || sql.charAt(from) == '\'' || sql.charAt(from) == '"')) {
            int end = SqlText.quotedEnd(sql, from, sql.charAt(from) != '`');
            return end < 0 ? sql.length() : end;
        }
        return wordEnd(sql, from, true);
    }

    /** {@code x}, {@code `a b`}, {@code 'a b'} or {@code "a b"} → the name (a doubled quote stands for itself). */
    private static String variableName(String written) {
        if (written.length() >= 2 && (written.charAt(0) == '`' || written.charAt(0) == '\'' || written.charAt(0) == '"')) {
            String q = String.valueOf(written.charAt(0));
            return written.substring(1, written.length() - 1).replace(q + q, q);
        }
        return written;
    }

    private static int skipSpaces(String sql, int from) {
        int i = from;
        while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
            i++;
        }
        return i;
    }
}

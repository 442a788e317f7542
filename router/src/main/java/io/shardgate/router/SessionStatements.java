package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.SessionCommand;
import io.shardgate.router.plan.SessionCommand.Assignment;
import io.shardgate.router.plan.SessionCommand.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises session and transaction statements, SHOW and DESCRIBE by their leading words, before
 * any parsing: they are frequent (drivers send several on connect), JSqlParser 5.3 does not parse
 * several of them ({@code BEGIN}, {@code START TRANSACTION}, {@code SET TRANSACTION}, most SHOWs),
 * and none needs an expression tree.
 */
final class SessionStatements {
    private SessionStatements() {}

    /** What a lexically recognised statement is. */
    sealed interface Lexical {}

    record Command(SessionCommand command) implements Lexical {}

    /** SHOW / DESCRIBE, naming a table when it is about one. */
    record Show(Optional<String> table) implements Lexical {}

    record Refused(RejectReason reason, String message) implements Lexical {}

    /**
     * A statement about whole tables that the SQL parser does not read, run where those tables are: DROP TABLE and
     * TRUNCATE of several tables, and PostgreSQL's VACUUM and ANALYZE ({@code tables} empty: all of a database's).
     * Names as written (quotes kept, possibly schema-qualified).
     */
    record TableMaintenance(List<String> tables, boolean restartsIdentity) implements Lexical {
        public TableMaintenance {
            tables = List.copyOf(tables);
        }

        TableMaintenance(List<String> tables) {
            this(tables, false);
        }
    }

    /** The identity trailers of TRUNCATE, which the SQL parser does not read. */
    private static final Pattern IDENTITY_TRAILER = Pattern.compile("(?is)\\b(RESTART|CONTINUE)\\s+IDENTITY\\b");

    private static final Pattern TABLE_NAME = Pattern.compile("(?:\"[^\"]+\"|[\\w$]+)(?:\\.(?:\"[^\"]+\"|[\\w$]+))?");
    private static final Set<String> TRAILERS = Set.of("CASCADE", "RESTRICT", "RESTART IDENTITY", "CONTINUE IDENTITY");

    private static final Set<String> TRUE = Set.of("1", "ON", "TRUE");
    private static final Set<String> FALSE = Set.of("0", "OFF", "FALSE");
    private static final Pattern SHOW_TABLE = Pattern.compile(
            "(?is)^\\s*(?:SHOW\\s+(?:CREATE\\s+TABLE|(?:FULL\\s+)?(?:COLUMNS|FIELDS)\\s+(?:FROM|IN)|(?:INDEX|INDEXES|KEYS)\\s+(?:FROM|IN))|DESCRIBE|DESC)\\s+([`\"]?[\\w$]+[`\"]?(?:\\.[`\"]?[\\w$]+[`\"]?)?)");
    private static final Pattern SET_NAMES = Pattern.compile(
            "(?is)^SET\\s+NAMES\\s+['\"`]?([\\w]+)['\"`]?(?:\\s+COLLATE\\s+['\"`]?([\\w]+)['\"`]?)?\\s*$");
    /** {@code SET CHARACTER SET x} / {@code SET CHARSET x}: the client character set, as SET NAMES (the server sets the rest). */
    private static final Pattern SET_CHARACTER_SET = Pattern.compile(
            "(?is)^SET\\s+(?:CHARACTER\\s+SET|CHARSET)\\s+['\"`]?([\\w]+)['\"`]?\\s*$");
    private static final Pattern ASSIGNMENT = Pattern.compile(
            "(?is)^\\s*(GLOBAL\\s+|SESSION\\s+|LOCAL\\s+|PERSIST\\s+|PERSIST_ONLY\\s+)?(@@(?:(global|session|local|persist)\\.)?|@)?"
                    + "([`\"]?[\\w$.]+[`\"]?)\\s*(?:=|:=|\\s+TO\\s+)\\s*(.+?)\\s*$");

    static Optional<Lexical> classify(String sql, Dialect dialect) {
        List<String> w = SqlText.firstWords(sql, 4);
        if (w.isEmpty()) {
            return Optional.of(new Refused(RejectReason.PARSE_ERROR, "the statement is empty"));
        }
        return switch (w.getFirst()) {
            case "BEGIN" -> Optional.of(new Command(new SessionCommand.Begin(rest(sql, w.size() > 1 && isWorkWord(w.get(1)) ? 2 : 1))));
            case "START" -> w.size() > 1 && w.get(1).equals("TRANSACTION")
                    ? Optional.of(new Command(new SessionCommand.Begin(rest(sql, 2)))) : Optional.empty();
            case "COMMIT", "END" -> Optional.of(new Command(new SessionCommand.Commit()));
            case "ROLLBACK", "ABORT" -> Optional.of(rollback(sql, w));
            case "SAVEPOINT" -> Optional.of(new Command(new SessionCommand.Savepoint(name(sql, 1))));
            case "RELEASE" -> Optional.of(new Command(new SessionCommand.ReleaseSavepoint(
                    name(sql, w.size() > 1 && w.get(1).equals("SAVEPOINT") ? 2 : 1))));
            case "USE" -> Optional.of(new Command(new SessionCommand.Use(name(sql, 1))));
            case "SET" -> Optional.of(set(sql, w, dialect));
            case "SHOW" -> Optional.of(show(sql, w));
            case "DESCRIBE", "DESC" -> w.size() > 1 && Set.of("SELECT", "INSERT", "UPDATE", "DELETE").contains(w.get(1))
                    ? Optional.empty() : Optional.of(show(sql, w));
            case "DROP" -> w.size() > 1 && w.get(1).equals("TABLE") ? severalTables(sql, 2, true) : Optional.empty();
            case "TRUNCATE" -> truncate(sql, w);
            case "VACUUM", "ANALYZE", "ANALYSE" -> dialect == Dialect.POSTGRES ? maintenance(sql) : Optional.empty();
            // the MySQL front end answers KILL itself (its ids are the proxy's); on a shard the id names another connection
            case "KILL" -> dialect == Dialect.MYSQL ? Optional.of(new Refused(RejectReason.UNSUPPORTED_STATEMENT,
                    "KILL is served only as a statement of its own, not in a multi-statement message or as a prepared"
                            + " statement: send KILL [CONNECTION | QUERY] <id> alone")) : Optional.empty();
            case "RESET" -> dialect == Dialect.POSTGRES ? Optional.of(reset(sql)) : Optional.empty();
            case "DISCARD" -> dialect == Dialect.POSTGRES ? Optional.of(discard(w)) : Optional.empty();
            case "DECLARE", "FETCH", "MOVE", "CLOSE" -> dialect == Dialect.POSTGRES ? Optional.of(cursor(w.getFirst())) : Optional.empty();
            default -> Optional.empty();
        };
    }

    private static final Pattern RESET = Pattern.compile("(?is)^\\s*RESET\\s+(\"[^\"]+\"|[\\w$.]+)\\s*;?\\s*$");

    /** {@code RESET name} / {@code RESET ALL}; the name lower-case, as a server matches parameter names and as a SET is kept. */
    private static Lexical reset(String sql) {
        Matcher m = RESET.matcher(sql);
        if (!m.matches()) {
            return new Refused(RejectReason.PARSE_ERROR, "cannot read the RESET statement; write RESET name or RESET ALL");
        }
        String name = m.group(1);
        if (name.equalsIgnoreCase("ALL")) {
            return new Command(new SessionCommand.Reset(Optional.empty()));
        }
        return new Command(new SessionCommand.Reset(Optional.of(SqlText.unquote(name).toLowerCase(Locale.ROOT))));
    }

    private static Lexical discard(List<String> w) {
        String what = w.size() == 2 ? w.get(1) : "";
        return switch (what) {
            case "ALL" -> new Command(new SessionCommand.Discard(SessionCommand.DiscardWhat.ALL));
            case "PLANS" -> new Command(new SessionCommand.Discard(SessionCommand.DiscardWhat.PLANS));
            case "SEQUENCES" -> new Command(new SessionCommand.Discard(SessionCommand.DiscardWhat.SEQUENCES));
            case "TEMP", "TEMPORARY" -> new Command(new SessionCommand.Discard(SessionCommand.DiscardWhat.TEMP));
            default -> new Refused(RejectReason.PARSE_ERROR, "cannot read the DISCARD statement; write DISCARD ALL, PLANS, SEQUENCES or TEMP");
        };
    }

    /**
     * SQL cursors ({@code DECLARE … CURSOR}, FETCH, MOVE, CLOSE) are served by the session, which knows where each cursor
     * lives; one reaching the router came with bound parameters, which are refused.
     */
    private static Lexical cursor(String word) {
        return new Refused(RejectReason.UNSUPPORTED_STATEMENT, word + " with bound parameters ($n) is not supported by"
                + " Shardgate; write the values into the statement");
    }

    private static boolean isWorkWord(String word) {
        return word.equals("WORK") || word.equals("TRANSACTION");
    }

    private static Lexical rollback(String sql, List<String> w) {
        int i = w.size() > 1 && isWorkWord(w.get(1)) ? 2 : 1;
        if (w.size() > i && w.get(i).equals("TO")) {
            int nameAt = w.size() > i + 1 && w.get(i + 1).equals("SAVEPOINT") ? i + 2 : i + 1;
            return new Command(new SessionCommand.RollbackToSavepoint(name(sql, nameAt)));
        }
        return new Command(new SessionCommand.Rollback());
    }

    private static Lexical show(String sql, List<String> w) {
        if (w.size() > 1 && (w.get(1).equals("WARNINGS") || w.get(1).equals("ERRORS")
                || (w.get(1).equals("COUNT") && sql.toUpperCase(Locale.ROOT).matches("(?s).*\\)\\s*(WARNINGS|ERRORS)\\s*")))) {
            return new Command(new SessionCommand.ShowDiagnostics(sql));
        }
        Matcher m = SHOW_TABLE.matcher(sql);
        if (m.find()) {
            String qualified = m.group(1);
            String table = qualified.substring(qualified.lastIndexOf('.') + 1);
            return new Show(Optional.of(SqlText.unquote(table)));
        }
        return new Show(Optional.empty());
    }

    private static Lexical set(String sql, List<String> w, Dialect dialect) {
        String second = w.size() > 1 ? w.get(1) : "";
        String third = w.size() > 2 ? w.get(2) : "";
        if (second.equals("TRANSACTION") || ((second.equals("SESSION") || second.equals("LOCAL")) && third.equals("TRANSACTION"))
                || (second.equals("SESSION") && third.equals("CHARACTERISTICS"))) {
            return new Command(new SessionCommand.SetTransaction(rest(sql, second.equals("TRANSACTION") ? 2 : 3)));
        }
        if (second.equals("GLOBAL") || second.equals("PERSIST") || second.equals("PERSIST_ONLY")) {
            return new Refused(RejectReason.UNSUPPORTED_STATEMENT,
                    "SET " + second + " would change one backend server only; set it on every shard's server instead");
        }
        Matcher names = SET_NAMES.matcher(sql);
        if (names.matches()) {
            return new Command(new SessionCommand.SetNames(names.group(1).toLowerCase(Locale.ROOT),
                    Optional.ofNullable(names.group(2)).map(s -> s.toLowerCase(Locale.ROOT))));
        }
        Matcher characterSet = SET_CHARACTER_SET.matcher(sql);
        if (characterSet.matches()) {
            return new Command(new SessionCommand.SetNames(characterSet.group(1).toLowerCase(Locale.ROOT), Optional.empty()));
        }
        return assignments(sql.substring(sql.toUpperCase(Locale.ROOT).indexOf("SET") + 3), dialect);
    }

    /**
     * MySQL's SET assigns several variables separated by commas; PostgreSQL's SET assigns one parameter, whose value
     * may be a comma-separated list ({@code SET search_path = a, b}).
     */
    private static Lexical assignments(String text, Dialect dialect) {
        List<Assignment> out = new ArrayList<>();
        for (String part : dialect == Dialect.POSTGRES ? List.of(text) : splitTopLevel(text)) {
            Matcher m = ASSIGNMENT.matcher(part);
            if (!m.matches()) {
                return new Refused(RejectReason.PARSE_ERROR, "cannot read the SET assignment '" + part.strip() + "'");
            }
            String keywordScope = m.group(1) == null ? "" : m.group(1).strip().toUpperCase(Locale.ROOT);
            String sigil = m.group(2) == null ? "" : m.group(2);
            String atScope = m.group(3) == null ? "" : m.group(3).toUpperCase(Locale.ROOT);
            if (keywordScope.startsWith("GLOBAL") || keywordScope.startsWith("PERSIST") || atScope.equals("GLOBAL") || atScope.startsWith("PERSIST")) {
                return new Refused(RejectReason.UNSUPPORTED_STATEMENT, "SET GLOBAL " + SqlText.unquote(m.group(4))
                        + " would change one backend server only; set it on every shard's server instead");
            }
            Scope scope = sigil.equals("@") ? Scope.USER : Scope.SESSION;
            out.add(new Assignment(scope, SqlText.unquote(m.group(4)), m.group(5)));
        }
        if (out.size() == 1 && out.getFirst().scope() == Scope.SESSION && out.getFirst().name().equals("autocommit")) {
            String v = out.getFirst().value().replace("'", "").toUpperCase(Locale.ROOT);
            if (TRUE.contains(v) || FALSE.contains(v)) {
                return new Command(new SessionCommand.SetAutocommit(TRUE.contains(v)));
            }
        }
        return new Command(new SessionCommand.SetVariables(out));
    }

    /**
     * {@code DROP TABLE [IF EXISTS] a, b [CASCADE]} and {@code TRUNCATE [TABLE] [ONLY] a, b [RESTART IDENTITY]
     * [CASCADE]}: a {@link TableMaintenance} when more than one table is named (one table is left to the parser).
     */
    private static Optional<Lexical> severalTables(String sql, int skipWords, boolean needSeveral) {
        String text = afterWords(sql, skipWords);
        Matcher ifExists = Pattern.compile("(?is)^\\s*IF\\s+EXISTS\\b").matcher(text);
        if (ifExists.find()) {
            text = text.substring(ifExists.end());
        }
        Optional<List<String>> tables = tableList(text);
        return tables.filter(t -> !needSeveral || t.size() > 1).map(TableMaintenance::new);
    }

    /**
     * {@code TRUNCATE [TABLE] [ONLY] a, b [RESTART IDENTITY | CONTINUE IDENTITY] [CASCADE | RESTRICT]}: several tables,
     * or one with an identity trailer (which the parser does not read), as a {@link TableMaintenance}; else the parser's.
     */
    private static Optional<Lexical> truncate(String sql, List<String> w) {
        Matcher identity = IDENTITY_TRAILER.matcher(sql);
        boolean trailer = identity.find();
        boolean restarts = trailer && identity.group(1).equalsIgnoreCase("RESTART");
        return severalTables(sql, w.size() > 1 && w.get(1).equals("TABLE") ? 2 : 1, !trailer)
                .map(m -> new TableMaintenance(((TableMaintenance) m).tables(), restarts));
    }

    /** {@code VACUUM [(options)] [FULL] [FREEZE] [VERBOSE] [ANALYZE] [t [(columns)], …]}, {@code ANALYZE [VERBOSE] [t, …]}. */
    private static Optional<Lexical> maintenance(String sql) {
        String text = afterWords(sql, 1).strip();
        if (text.startsWith("(")) {
            int close = text.indexOf(')');
            if (close < 0) {
                return Optional.empty();
            }
            text = text.substring(close + 1);
        }
        Matcher options = Pattern.compile("(?is)^(\\s*(FULL|FREEZE|VERBOSE|ANALYZE|ANALYSE)\\b)*").matcher(text);
        if (options.find()) {
            text = text.substring(options.end());
        }
        if (text.isBlank()) {
            return Optional.of(new TableMaintenance(List.of()));
        }
        return tableList(text).map(TableMaintenance::new);
    }

    /** Comma-separated table names, each maybe with ONLY, a trailing {@code *} or a column list; the last maybe with trailers. */
    private static Optional<List<String>> tableList(String text) {
        List<String> tables = new ArrayList<>();
        List<String> parts = splitTopLevel(text);
        for (int i = 0; i < parts.size(); i++) {
            String part = parts.get(i).strip().replaceFirst("(?is)^ONLY\\s+", "");
            if (i == parts.size() - 1) {
                boolean stripped = true;
                while (stripped) {
                    stripped = false;
                    for (String trailer : TRAILERS) {
                        Matcher m = Pattern.compile("(?is)\\s+" + trailer.replace(" ", "\\s+") + "\\s*$").matcher(part);
                        if (m.find()) {
                            part = part.substring(0, m.start());
                            stripped = true;
                        }
                    }
                }
            }
            part = part.replaceFirst("\\s*\\(.*\\)\\s*$", "").replaceFirst("\\s*\\*$", "").strip();
            if (!TABLE_NAME.matcher(part).matches()) {
                return Optional.empty();
            }
            tables.add(part);
        }
        return Optional.of(tables);
    }

    /** The statement's text after its first {@code words} words, as written. */
    private static String afterWords(String sql, int words) {
        Matcher m = Pattern.compile("(?s)^\\s*(?:\\S+\\s+){" + words + "}").matcher(sql + " ");
        return m.find() ? (sql + " ").substring(m.end()) : "";
    }

    /** Splits on commas that are outside quotes and parentheses. */
    private static List<String> splitTopLevel(String text) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            int skip = SqlText.skipQuotedOrComment(text, i, Dialect.MYSQL);
            if (skip > i) {
                i = skip;
                continue;
            }
            char c = text.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
            i++;
        }
        parts.add(text.substring(start));
        return parts;
    }

    /** Text after the first {@code words} words, upper-case and single-spaced. */
    private static String rest(String sql, int words) {
        List<String> all = SqlText.firstWords(sql, 64);
        return String.join(" ", all.subList(Math.min(words, all.size()), all.size()));
    }

    private static String name(String sql, int wordIndex) {
        String[] tokens = sql.strip().split("\\s+");
        return wordIndex < tokens.length ? SqlText.unquote(tokens[wordIndex]) : "";
    }
}

package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.parser.ParseException;
import net.sf.jsqlparser.statement.Statement;

/**
 * A statement read once, independent of any cluster: either recognised by its leading words (session
 * statements, SHOW), or parsed by JSqlParser, or not understood.
 *
 * @param sql            the client's text without a trailing semicolon
 * @param parseText      what JSqlParser read: MySQL {@code ?} numbered {@code ?1, ?2, …}, a trailing MySQL
 *                       {@code LOCK IN SHARE MODE} (which JSqlParser 5.3 cannot read) removed, MySQL executable
 *                       comments as the server reads them ({@link MySqlLexer#forAnalysis})
 * @param parameterCount number of parameters the statement takes
 * @param copy           what was blanked in {@code parseText} for JSqlParser (charset introducers, COLLATE), when the
 *                       text as it is did not parse (see {@link ParseCopy}); unchanged otherwise
 */
record ParsedStatement(String sql, Dialect dialect, String parseText, int parameterCount, Form form, ParseCopy copy) {

    ParsedStatement {
        Objects.requireNonNull(sql, "sql");
        Objects.requireNonNull(dialect, "dialect");
        Objects.requireNonNull(parseText, "parseText");
        Objects.requireNonNull(form, "form");
        Objects.requireNonNull(copy, "copy");
    }

    ParsedStatement(String sql, Dialect dialect, String parseText, int parameterCount, Form form) {
        this(sql, dialect, parseText, parameterCount, form, new ParseCopy(parseText, parseText, java.util.List.of(), java.util.List.of()));
    }

    sealed interface Form {}

    record Lexical(SessionStatements.Lexical statement) implements Form {}

    record Parsed(Statement statement) implements Form {}

    record Unparseable(String message) implements Form {}

    /**
     * MySQL text that a server refuses with a syntax error before running any of it, for a lexical reason: several
     * statements (without CLIENT_MULTI_STATEMENTS), a block comment left open. A shard is asked for that
     * error (its connections never allow several statements), since the proxy's parser might read a part of the text.
     */
    record ServerSyntaxError() implements Form {}

    /** Past a {@link StatementLimits} limit: refused before it is parsed, with the message naming the limit. */
    record TooComplex(String message) implements Form {}

    private static final SessionStatements.Refused PARAMETER_IN_COMMENT = new SessionStatements.Refused(
            io.shardgate.router.plan.RejectReason.UNSUPPORTED_STATEMENT,
            "a ? parameter inside an executable comment (/*! … */) is not supported; write it outside the comment");

    private static final Pattern LOCK_IN_SHARE_MODE = Pattern.compile("(?is)\\s+LOCK\\s+IN\\s+SHARE\\s+MODE\\s*$");

    /**
     * JSqlParser's "complex parsing" (more lookahead) is tried only when the fast mode fails and the nesting is
     * shallow, as JSqlParser's own {@code CCJSqlParserUtil.parse} does: its cost doubles with each level of nesting.
     */
    private static final int COMPLEX_PARSING_MAX_DEPTH = 6;

    static ParsedStatement parse(String clientSql, Dialect dialect) {
        return parse(clientSql, dialect, MySqlLexer.Gate.DEFAULT, StatementLimits.DEFAULTS);
    }

    static ParsedStatement parse(String clientSql, Dialect dialect, MySqlLexer.Gate gate, StatementLimits limits) {
        String sql = SqlText.stripTerminator(clientSql);
        Optional<String> tooComplex = limits.check(sql, dialect);
        if (tooComplex.isPresent()) {
            return tooComplex(sql, dialect, tooComplex.get());
        }
        try {
            return parseWithinLimits(sql, dialect, gate);
        } catch (StackOverflowError e) {
            return tooComplex(sql, dialect, StatementLimits.overflowMessage());
        }
    }

    /** Counted parameters all the same: a client that binds them gets the refusal, not a wrong parameter count. */
    private static ParsedStatement tooComplex(String sql, Dialect dialect, String message) {
        return new ParsedStatement(sql, dialect, sql, SqlText.numberPlaceholders(sql, dialect).parameterCount(),
                new TooComplex(message));
    }

    private static ParsedStatement parseWithinLimits(String sql, Dialect dialect, MySqlLexer.Gate gate) {
        String analysed = sql;
        if (dialect == Dialect.MYSQL) {
            if (MySqlLexer.serverSyntaxError(sql, gate)) {
                return new ParsedStatement(sql, dialect, sql, 0, new ServerSyntaxError());
            }
            analysed = MySqlLexer.forAnalysis(sql, gate);
            if (analysed != sql) {
                analysed = analysed.strip(); // a leading /*!40101 is blanked; lexical rules read from the first word
                int parameters = SqlText.numberPlaceholders(analysed, dialect).parameterCount();
                if (parameters != SqlText.numberPlaceholders(sql, dialect).parameterCount()) {
                    // the text sent to shards binds parameters outside comments only: the two would not agree
                    return new ParsedStatement(sql, dialect, analysed, parameters, new Lexical(PARAMETER_IN_COMMENT));
                }
            }
        }
        var lexical = SessionStatements.classify(analysed, dialect);
        SqlText.Numbered numbered = SqlText.numberPlaceholders(analysed, dialect);
        if (lexical.isPresent()) {
            return new ParsedStatement(sql, dialect, numbered.sql(), numbered.parameterCount(), new Lexical(lexical.get()));
        }
        String parseText = withoutShareLock(numbered.sql());
        try {
            return new ParsedStatement(sql, dialect, parseText, numbered.parameterCount(), new Parsed(read(parseText, dialect)));
        } catch (JSQLParserException | ParseException | RuntimeException e) {
            Unparseable failure = new Unparseable(firstLine(e));
            return dialect == Dialect.MYSQL ? parseCopy(sql, parseText, numbered.parameterCount(), failure)
                    : new ParsedStatement(sql, dialect, parseText, numbered.parameterCount(), failure);
        }
    }

    /**
     * JSqlParser cannot read a charset introducer before a literal outside a few places, nor COLLATE after an
     * expression: the text with them blanked is parsed instead (see {@link ParseCopy}); the router then only lets
     * through plans that send the client's text unchanged ({@link ParseCopyPlans}). The first error stands when the
     * copy does not parse either, or has nothing blanked.
     */
    private static ParsedStatement parseCopy(String sql, String parseText, int parameterCount, Unparseable failure) {
        ParseCopy copy = ParseCopy.of(parseText, Dialect.MYSQL);
        if (!copy.changed()) {
            return new ParsedStatement(sql, Dialect.MYSQL, parseText, parameterCount, failure);
        }
        try {
            return new ParsedStatement(sql, Dialect.MYSQL, copy.text(), parameterCount, new Parsed(read(copy.text(), Dialect.MYSQL)), copy);
        } catch (JSQLParserException | ParseException | RuntimeException e) {
            return new ParsedStatement(sql, Dialect.MYSQL, parseText, parameterCount, failure);
        }
    }

    /** A new tree of the same statement, for rewrites that change it. */
    Statement freshTree() {
        try {
            return read(parseText, dialect);
        } catch (JSQLParserException | ParseException e) {
            throw new IllegalStateException("statement parsed once but not twice: " + parseText, e);
        }
    }

    /** MySQL's old spelling of FOR SHARE; rewritten SQL gets it back from {@link #lockSuffix()}. */
    String lockSuffix() {
        Matcher m = LOCK_IN_SHARE_MODE.matcher(sql);
        return m.find() ? " LOCK IN SHARE MODE" : "";
    }

    private static String withoutShareLock(String text) {
        return LOCK_IN_SHARE_MODE.matcher(text).replaceFirst("");
    }

    private static Statement read(String text, Dialect dialect) throws JSQLParserException, ParseException {
        ValueLists.Collapsed collapsed = ValueLists.collapse(text, dialect);
        if (collapsed.any()) {
            try {
                Statement statement = readText(collapsed.parseText());
                if (ValueLists.restore(statement, collapsed)) {
                    return statement;
                }
            } catch (ParseException e) {
                // the collapsed text may read differently: the full text decides
            }
        }
        return readText(text);
    }

    private static Statement readText(String text) throws ParseException {
        // the parser directly, not CCJSqlParserUtil.parse: that one starts an executor thread per call
        try {
            return CCJSqlParserUtil.newParser(text).withAllowComplexParsing(false).Statement();
        } catch (ParseException e) {
            if (CCJSqlParserUtil.getNestingDepth(text) > COMPLEX_PARSING_MAX_DEPTH) {
                throw e;
            }
            return CCJSqlParserUtil.newParser(text).withAllowComplexParsing(true).Statement();
        }
    }

    private static String firstLine(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m).strip();
    }
}

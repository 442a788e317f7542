package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.SessionSettings;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.SessionCommand;
import io.shardgate.router.plan.SessionCommand.Assignment;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Applies a {@link SessionCommand} to a session (transactions, settings, USE). */
final class SessionCommands {
    /** The session-settings key of the client character set (SET NAMES, SET CHARACTER SET). */
    private static final String NAMES = "names";
    /** The session-settings key of PostgreSQL's SET SESSION CHARACTERISTICS AS TRANSACTION. */
    private static final String TRANSACTION_CHARACTERISTICS = "transaction characteristics";

    private SessionCommands() {}

    /** The command's result: an empty OK, or the rows of SHOW WARNINGS / ERRORS. */
    static StatementResult apply(ProxySession session, SessionCommand command, String sql) {
        switch (command) {
            case SessionCommand.Begin b -> session.begin(b.characteristics());
            case SessionCommand.Commit c -> session.commit();
            case SessionCommand.Rollback r -> session.rollback();
            case SessionCommand.Savepoint s -> session.backends().savepoint(s.name());
            case SessionCommand.RollbackToSavepoint s -> session.backends().rollbackToSavepoint(s.name());
            case SessionCommand.ReleaseSavepoint s -> session.backends().releaseSavepoint(s.name());
            case SessionCommand.SetAutocommit a -> session.setAutocommit(a.enabled());
            case SessionCommand.SetNames n -> setNames(session, n, sql);
            case SessionCommand.SetTransaction t -> setTransaction(session, t, sql);
            case SessionCommand.SetVariables v -> setVariables(session, v.assignments(), sql);
            case SessionCommand.Use u -> session.use(u.schema());
            case SessionCommand.Reset r -> reset(session, r, sql);
            case SessionCommand.Discard d -> discard(session, d, sql);
            case SessionCommand.ShowDiagnostics d -> {
                return session.diagnostics(d.sql());
            }
        }
        return StatementResult.Update.of(0);
    }

    /**
     * {@code SET NAMES x [COLLATE y]} and {@code SET CHARACTER SET x}: the client's statement becomes a session setting
     * (replayed as written on every backend connection, so the shard reads the statement bytes and converts results as
     * for a direct client) and {@code x} how the proxy reads the statement bytes. A utf8mb4 session asking for utf8mb4
     * again, with no collation, changes nothing (it is what drivers send at connect; backends already talk utf8mb4).
     */
    private static void setNames(ProxySession session, SessionCommand.SetNames n, String sql) {
        if (session.postgres()) {
            requirePostgresUtf8("SET NAMES", n.charset());
            return;
        }
        String what = sql.strip();
        ClientCharset charset = served(what, n.charset());
        n.collation().ifPresent(c -> servedCollation(what, c));
        if (charset.utf8mb4() && n.collation().isEmpty() && session.charset().utf8mb4() && !session.backends().settings().has(NAMES)) {
            return;
        }
        useCharset(session, charset, what);
    }

    /**
     * What the server does at login for a client's capability flags, as session settings: {@code CLIENT_IGNORE_SPACE} adds
     * IGNORE_SPACE to the session's sql_mode, {@code CLIENT_INTERACTIVE} starts wait_timeout at interactive_timeout.
     * Each is a setting of its variable, so a later SET of the variable replaces it as it replaces the server's.
     * ({@code CLIENT_FOUND_ROWS} chooses the backend connections instead, see {@link io.shardgate.proxy.exec.ShardPools}.)
     */
    static SessionSettings clientFlags(io.shardgate.proxy.session.ClientFlags flags) {
        SessionSettings settings = SessionSettings.NONE;
        if (flags.ignoreSpace()) {
            settings = settings.with("SET @@SESSION.sql_mode = CONCAT_WS(',', NULLIF(@@GLOBAL.sql_mode, ''), 'IGNORE_SPACE')",
                    "sql_mode");
        }
        if (flags.interactive()) {
            settings = settings.with("SET @@SESSION.wait_timeout = @@GLOBAL.interactive_timeout", "wait_timeout");
        }
        return settings;
    }

    /** Puts {@code statement} (which sets the client character set to {@code charset}) on the session's backends. */
    static void useCharset(ProxySession session, ClientCharset charset, String statement) {
        SessionBackends b = session.backends();
        b.changeSettings(b.settings().with(statement, NAMES), statement, session.defaultShard());
        session.charset(charset);
        session.results(charset);
    }

    private static ClientCharset served(String what, String charset) {
        return ClientCharset.byName(charset).orElseThrow(() -> new ProxyException(ErrorCode.UNSUPPORTED, what + ": the character"
                + " set '" + charset + "' is not supported by Shardgate; use one of " + ClientCharset.SUPPORTED));
    }

    private static void servedCollation(String what, String collation) {
        if (ClientCharset.byCollationName(collation).isEmpty()) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, what + ": the collation '" + collation + "' is not of a character set"
                    + " Shardgate supports; use one of " + ClientCharset.SUPPORTED);
        }
    }

    private static void setTransaction(ProxySession session, SessionCommand.SetTransaction t, String sql) {
        if (session.postgres()) {
            setPostgresTransaction(session, t, sql);
            return;
        }
        boolean sessionScope = sql.strip().toUpperCase(Locale.ROOT).matches("(?s)SET\\s+(SESSION|LOCAL)\\b.*");
        if (!sessionScope) {
            session.setNextTransaction(t.characteristics());
            return;
        }
        String statement = "SET SESSION TRANSACTION " + t.characteristics();
        SessionBackends b = session.backends();
        b.changeSettings(b.settings().with(statement, "transaction " + t.characteristics()), statement, session.defaultShard());
    }

    /**
     * PostgreSQL: {@code SET SESSION CHARACTERISTICS AS TRANSACTION …} is a session setting, replayed as written;
     * {@code SET TRANSACTION …} is about the current transaction only.
     */
    private static void setPostgresTransaction(ProxySession session, SessionCommand.SetTransaction t, String sql) {
        String upper = sql.strip().toUpperCase(Locale.ROOT);
        if (upper.matches("(?s)SET\\s+SESSION\\s+CHARACTERISTICS\\b.*")) {
            String statement = sql.strip();
            SessionBackends b = session.backends();
            b.changeSettings(b.settings().with(statement, TRANSACTION_CHARACTERISTICS), statement, session.defaultShard());
            return;
        }
        session.setCurrentTransaction(t.characteristics());
    }

    private static void setVariables(ProxySession session, List<Assignment> assignments, String statement) {
        if (session.postgres()) {
            setPostgresVariables(session, assignments, statement);
            return;
        }
        List<String> user = assignments.stream().filter(a -> a.scope() == SessionCommand.Scope.USER)
                .map(a -> a.name().toLowerCase(Locale.ROOT)).distinct().toList();
        if (!user.isEmpty()) {
            session.stateRules().setUserVariables(statement, user, user.size() != assignments.size());
            return;
        }
        StringBuilder sql = new StringBuilder();
        SessionBackends b = session.backends();
        SessionSettings next = b.settings();
        ClientCharset clientCharset = null;
        ClientCharset results = null;
        for (Assignment a : assignments) {
            switch (a.scope()) {
                case USER -> throw new IllegalStateException("user variables are set above");
                case SESSION -> {
                    String name = a.name().toLowerCase(Locale.ROOT);
                    String one = "SET @@SESSION." + name + " = " + a.value();
                    if (name.startsWith("character_set_") || name.startsWith("collation_")) {
                        clientCharset = characterSetVariable(name, unquote(a.value()), one).orElse(clientCharset);
                        if (name.equals("character_set_results")) {
                            // NULL and binary: no conversion, names and error texts in the system set (utf8)
                            results = ClientCharset.byName(unquote(a.value())).filter(c -> c != ClientCharset.BINARY)
                                    .orElse(ClientCharset.UTF8MB3);
                        }
                    }
                    next = next.with(one, name);
                    sql.append(sql.isEmpty() ? "SET " : ", ").append("@@SESSION.").append(name).append(" = ").append(a.value());
                }
            }
        }
        if (!sql.isEmpty()) {
            b.changeSettings(next, sql.toString(), session.defaultShard());
            assignments.stream().filter(a -> a.scope() == SessionCommand.Scope.SESSION && a.name().equalsIgnoreCase("sql_mode"))
                    .forEach(a -> session.sqlModeSet(a.value()));
        }
        if (clientCharset != null) {
            session.charset(clientCharset);
        }
        if (results != null) {
            session.results(results);
        }
    }

    /**
     * {@code SET character_set_x = …} / {@code collation_x = …}: a session setting like any other, refused for a set the
     * proxy does not serve; {@code character_set_client} also changes how the proxy reads the statement bytes.
     */
    private static java.util.Optional<ClientCharset> characterSetVariable(String name, String value, String what) {
        String v = value.toLowerCase(Locale.ROOT);
        if (name.equals("character_set_results") && (v.equals("null") || v.equals("binary"))) {
            return java.util.Optional.empty(); // results as stored, no conversion: bytes the proxy passes through
        }
        if (name.startsWith("collation_")) {
            servedCollation(what, v);
            return java.util.Optional.empty();
        }
        if (!name.equals("character_set_client") && !name.equals("character_set_results") && !name.equals("character_set_connection")) {
            return java.util.Optional.empty(); // character_set_database/server/filesystem: the server's business
        }
        ClientCharset charset = served(what, v);
        return name.equals("character_set_client") ? java.util.Optional.of(charset) : java.util.Optional.empty();
    }

    /**
     * PostgreSQL {@code SET name = value | TO value}: each remembered as {@code SET name = value} and replayed on every
     * connection the session uses. {@code SET LOCAL} (until the end of the transaction) is refused for now: a shard the
     * transaction reaches later would miss it.
     */
    private static void setPostgresVariables(ProxySession session, List<Assignment> assignments, String sql) {
        if (sql.strip().toUpperCase(Locale.ROOT).matches("(?s)SET\\s+LOCAL\\b.*")) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "SET LOCAL is not supported by Shardgate yet: a shard the transaction"
                    + " reaches after it would not get the setting; use SET (session scope) or set it in the statement");
        }
        SessionBackends b = session.backends();
        for (Assignment a : assignments) {
            String name = a.name().toLowerCase(Locale.ROOT);
            if (a.scope() == SessionCommand.Scope.USER) {
                throw new ProxyException(ErrorCode.PARSE_ERROR, "cannot read the SET assignment of @" + a.name());
            }
            if (name.equals("client_encoding") || name.equals("names")) {
                requirePostgresUtf8("SET " + a.name(), unquote(a.value()));
                continue;
            }
            String one = "SET " + name + " = " + a.value();
            b.changeSettings(b.settings().with(one, name), one, session.defaultShard());
        }
    }

    /**
     * PostgreSQL {@code RESET name | ALL}: the setting leaves the session's settings, so connections the session uses
     * later get the server default, and the RESET runs on the connections it keeps (see {@link SessionBackends#resetSettings}).
     * Two settings stay as a RESET replayed on every connection, because the server's state after it is not a fresh
     * connection's: a custom parameter ({@code myapp.tenant}) once set stays defined, as '' (a fresh connection has none:
     * {@code current_setting(name, true)} is NULL there; replaying its RESET is right whether or not the RESET alone
     * defines it), and a {@code default_transaction_*} parameter that SET SESSION
     * CHARACTERISTICS also set is reset after it.
     */
    private static void reset(ProxySession session, SessionCommand.Reset r, String sql) {
        if (!session.postgres()) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "RESET is a PostgreSQL statement");
        }
        SessionBackends b = session.backends();
        SessionSettings current = b.settings();
        SessionSettings next;
        if (r.name().isPresent()) {
            String name = r.name().get();
            next = current.without(name);
            if (isCustomParameter(name)
                    || name.startsWith("default_transaction_") && next.has(TRANSACTION_CHARACTERISTICS)) {
                next = next.with("RESET " + quoteParameter(name), name);
            }
        } else {
            next = SessionSettings.NONE;
            for (String key : current.keys()) {
                if (isCustomParameter(key)) {
                    next = next.with("RESET " + quoteParameter(key), key);
                }
            }
        }
        b.resetSettings(next, "RESET " + r.name().map(SessionCommands::quoteParameter).orElse("ALL"), session.defaultShard());
    }

    /** A parameter of an extension or an application ({@code myapp.tenant}): the server defines it on its first SET. */
    private static boolean isCustomParameter(String name) {
        return name.contains(".") && !name.contains(" ");
    }

    private static String quoteParameter(String name) {
        return name.matches("[a-z_][a-z0-9_$.]*") ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /**
     * PostgreSQL {@code DISCARD}. ALL (refused inside a transaction block, as by a server) lets go of every connection
     * kept for the session's state after taking that state away, and of the settings; the front end forgets the
     * session's prepared statements. TEMP drops the temporary tables where they live; PLANS and SEQUENCES run on the
     * connections the session keeps (others carry nothing of the session's).
     */
    private static void discard(ProxySession session, SessionCommand.Discard d, String sql) {
        if (!session.postgres()) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "DISCARD is a PostgreSQL statement");
        }
        switch (d.what()) {
            case ALL -> {
                if (session.inTransaction()) {
                    throw ProxyException.backend(1568, "25001", "DISCARD ALL cannot run inside a transaction block", null);
                }
                session.stateRules().discardAll();
            }
            case TEMP -> session.stateRules().discardTemporaryTables("DISCARD TEMP");
            case PLANS -> session.backends().runOnKept("DISCARD PLANS");
            case SEQUENCES -> session.backends().runOnKept("DISCARD SEQUENCES");
        }
    }

    /** PostgreSQL: the proxy's shards talk UTF8 (pgJDBC), so a client must too; DEFAULT is the server's, UTF8. */
    private static void requirePostgresUtf8(String what, String encoding) {
        if (io.shardgate.proxy.session.PgClientEncoding.served(encoding).isEmpty() && !encoding.equalsIgnoreCase("default")) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, what + " " + encoding + " is not supported: Shardgate talks UTF8 to every"
                    + " PostgreSQL shard, so the client encoding must be " + io.shardgate.proxy.session.PgClientEncoding.SUPPORTED);
        }
    }

    private static String unquote(String value) {
        String v = value.strip();
        if (v.length() >= 2 && (v.startsWith("'") || v.startsWith("\"") || v.startsWith("`"))) {
            return v.substring(1, v.length() - 1);
        }
        return v;
    }
}

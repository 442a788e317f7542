package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.SessionSettings;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.SessionCommand;
import io.shardgate.router.plan.SessionCommand.Assignment;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** Applies a {@link SessionCommand} to a session (transactions, settings, USE). */
final class SessionCommands {
    /** Character sets whose bytes the proxy passes through unchanged between a client and utf8mb4 backends. */
    private static final Set<String> PASS_THROUGH_CHARSETS = Set.of("utf8mb4", "utf8", "utf8mb3", "binary");

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
            case SessionCommand.SetNames n -> requirePassThrough("SET NAMES " + n.charset(), n.charset());
            case SessionCommand.SetTransaction t -> setTransaction(session, t, sql);
            case SessionCommand.SetVariables v -> setVariables(session, v.assignments(), sql);
            case SessionCommand.Use u -> session.use(u.schema());
            case SessionCommand.ShowDiagnostics d -> {
                return session.diagnostics(d.sql());
            }
        }
        return StatementResult.Update.of(0);
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
            b.changeSettings(b.settings().with(statement, "transaction characteristics"), statement, session.defaultShard());
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
        for (Assignment a : assignments) {
            switch (a.scope()) {
                case USER -> throw new IllegalStateException("user variables are set above");
                case SESSION -> {
                    String name = a.name().toLowerCase(Locale.ROOT);
                    if (name.startsWith("character_set_") || name.startsWith("collation_") || name.equals("names")) {
                        requirePassThrough("SET " + a.name(), unquote(a.value()));
                        continue;
                    }
                    String one = "SET @@SESSION." + name + " = " + a.value();
                    next = next.with(one, name);
                    sql.append(sql.isEmpty() ? "SET " : ", ").append("@@SESSION.").append(name).append(" = ").append(a.value());
                }
            }
        }
        if (!sql.isEmpty()) {
            b.changeSettings(next, sql.toString(), session.defaultShard());
        }
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
                requirePassThrough("SET " + a.name(), unquote(a.value()));
                continue;
            }
            String one = "SET " + name + " = " + a.value();
            b.changeSettings(b.settings().with(one, name), one, session.defaultShard());
        }
    }

    private static void requirePassThrough(String what, String charset) {
        String c = charset.toLowerCase(Locale.ROOT);
        boolean ok = PASS_THROUGH_CHARSETS.contains(c) || c.startsWith("utf8mb4_") || c.startsWith("utf8_") || c.startsWith("utf8mb3_")
                || c.equals("default") || c.equals("null");
        if (!ok) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, what + " is not supported: Shardgate talks utf8mb4 to every shard and"
                    + " passes bytes through, so clients must use utf8mb4 (or utf8/binary)");
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

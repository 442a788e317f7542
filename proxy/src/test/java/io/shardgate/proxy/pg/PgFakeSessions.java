package io.shardgate.proxy.pg;

import io.shardgate.cluster.Dialect;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.PreparedInfo;
import io.shardgate.proxy.session.SessionFactory;
import io.shardgate.proxy.session.SessionState;
import io.shardgate.proxy.session.SqlPreparedStatement;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A hand-written stand-in for the proxy core behind the PostgreSQL front end (STYLE.md #9): configured users, one
 * database, a cluster of a chosen dialect, and sessions that accept SET and answer {@code SELECT 1} with one int4 row
 * (also as an SQL PREPARE's statement).
 * Anything else fails with a PARSE_ERROR naming the statement. Every statement is recorded.
 */
final class PgFakeSessions implements SessionFactory {
    static final String DATABASE = "shardgate";
    static final ColumnInfo ONE = new ColumnInfo("", "", "", "?column?", "", ColumnType.INT, 4, 0, false, false, true, 63, 23, -1);

    private final Map<String, String> users;
    private final Dialect dialect;
    final List<String> statements = new CopyOnWriteArrayList<>();

    PgFakeSessions(Map<String, String> users, Dialect dialect) {
        this.users = Map.copyOf(users);
        this.dialect = dialect;
    }

    @Override
    public Optional<String> password(String user) {
        return Optional.ofNullable(users.get(user));
    }

    @Override
    public Optional<Dialect> dialect() {
        return Optional.of(dialect);
    }

    @Override
    public String serverVersion() {
        return "15.20";
    }

    @Override
    public FrontendSession open(ClientInfo client) {
        if (client.schema() != null && !client.schema().equals(DATABASE)) {
            throw new ProxyException(ErrorCode.UNKNOWN_DATABASE, "Unknown database '" + client.schema() + "'");
        }
        return new FrontendSession() {
            @Override
            public void initDb(String schema) {}

            @Override
            public StatementResult query(String sql) {
                statements.add(sql);
                String s = sql.strip().toUpperCase(Locale.ROOT);
                if (s.startsWith("SET ")) {
                    return StatementResult.Update.of(0);
                }
                if (s.equals("SELECT OVERFLOW")) {
                    throw new StackOverflowError("the fake session's overflow"); // what no limit caught: the last resort's case
                }
                if (s.equals("SELECT 1")) {
                    return new StatementResult.Rows(List.of(ONE), List.<byte[][]>of(new byte[][] {"1".getBytes(StandardCharsets.UTF_8)}), 0);
                }
                throw new ProxyException(ErrorCode.PARSE_ERROR, "the fake session does not know: " + sql);
            }

            @Override
            public PreparedInfo prepare(String sql) {
                return new PreparedInfo(1, List.of(), sql.strip().equalsIgnoreCase("SELECT 1") ? List.of(ONE) : List.of());
            }

            /** SQL PREPARE of anything: no parameters; an EXECUTE runs the text as {@link #query} does. */
            @Override
            public SqlPreparedStatement prepareSql(String sql, List<String> declaredTypes) {
                statements.add("prepareSql " + sql);
                return new SqlPreparedStatement(sql, List.of(), List.of(), sql.strip().equalsIgnoreCase("SELECT 1") ? List.of(ONE) : List.of());
            }

            @Override
            public StatementResult executeSql(String name, SqlPreparedStatement statement, List<String> arguments) {
                return query(statement.sql());
            }

            @Override
            public StatementResult execute(int statementId, List<Object> parameters) {
                throw new ProxyException(ErrorCode.UNSUPPORTED, "not used by the PostgreSQL front end");
            }

            @Override
            public void closeStatement(int statementId) {}

            @Override
            public void resetStatement(int statementId) {}

            @Override
            public SessionState state() {
                return new SessionState(DATABASE, true, false);
            }

            @Override
            public void close() {}
        };
    }
}

package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.ServerState;
import io.shardgate.router.ServerState.Use;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.RoutePlan;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * How one session runs statements that touch per-connection server state (DESIGN.md, "Right or refused: Session state on
 * a server"), and what the session remembers for the functions only the proxy can answer. Decided per kind of state:
 * <ul>
 *   <li><b>Named locks</b> (GET_LOCK and its family; PostgreSQL session advisory locks) run on the <b>default shard</b>
 *       only, on a connection reserved for the session: every session of every proxy then contends on one server, as
 *       on one MySQL. A statement that would run them elsewhere, or on several shards, is refused.</li>
 *   <li><b>Temporary tables</b> live on the shard their CREATE ran on (an undeclared name is a single table of the
 *       default shard), whose connection is reserved; statements naming the table are routed there as for any single
 *       table, so they see it. One named like a sharded or broadcast table, or created from a SELECT, is refused.</li>
 *   <li><b>User variables</b> ({@code @x}) are kept on every shard the session reaches with them: a statement naming
 *       one reserves the connections of the shards it runs on, each of which gets all the session's variables; a
 *       statement assigning one ({@code SET @x}, {@code @x := …}, {@code INTO @x}) must run on one shard, after which
 *       the proxy reads the new values there and sets them on the session's other reserved connections. A statement
 *       that would assign variables on several shards at once is refused (each shard would assign its own value).</li>
 *   <li><b>SQL PREPARE / EXECUTE / DEALLOCATE</b> are kept by the proxy (see {@link SqlPrepared}): no server state.</li>
 *   <li><b>{@code FOUND_ROWS()}, {@code ROW_COUNT()}, {@code LAST_INSERT_ID()}</b> are answered by the proxy from what
 *       the session's statements returned: {@code SQL_CALC_FOUND_ROWS} sums the shards' FOUND_ROWS() (each asked on
 *       the connection that ran its part; refused over grouped or DISTINCT merges, where a sum would count a group
 *       twice), ROW_COUNT() is the affected-row count the client saw (-1 after a result set), and
 *       {@code LAST_INSERT_ID(expr)} sets the session's value. They are refused inside statements the proxy does not
 *       answer itself, except {@code LAST_INSERT_ID()} in a write, which gets the session's value as a literal.</li>
 *   <li><b>Session ids</b>: {@code CONNECTION_ID()} is the handshake's id: answered by the proxy when selected on its
 *       own, replaced by {@code CAST(<id> AS UNSIGNED)} where a literal cannot change what the client sees
 *       ({@link SqlPrepared#callReplaceableFrom}), refused elsewhere. PostgreSQL {@code SELECT pg_backend_pid()} on
 *       its own is answered by the proxy with the session's BackendKeyData pid (GUI tools ask for it); in any other
 *       statement it is refused, and so are {@code pg_cancel_backend()} and {@code pg_terminate_backend()}: on a shard
 *       they would name or signal a pooled backend process, not the session's BackendKeyData pid.</li>
 * </ul>
 * Reserved connections stay the session's until it ends, except that a shard's connection kept for temporary tables
 * only goes back to the pool (reset) when the session drops the last of them; named locks and user variables are not
 * tracked to their end (a RELEASE_LOCK keeps the reservation). The limit per shard is checked before a statement
 * reserves a connection.
 */
final class ServerStateRules {
    private static final String NAMED_LOCK = "named lock";
    private static final String TEMPORARY_TABLE = "temporary table";
    private static final String USER_VARIABLES = "user variables";
    private static final String FOUND_ROWS = "SQL_CALC_FOUND_ROWS";
    private static final String LAST_INSERT_ID = "LAST_INSERT_ID(expr)";
    private static final String CONNECTION_ID = "CONNECTION_ID";

    private final ProxySession session;
    private final SessionBackends backends;
    private final SqlPrepared sqlPrepared = new SqlPrepared();
    /** Temporary tables the session created, by shard: when the last one is dropped its connection is let go. */
    private final java.util.Map<String, java.util.Set<String>> temporaryTables = new java.util.HashMap<>();
    private long foundRows;
    private long rowCount;

    ServerStateRules(ProxySession session, SessionBackends backends) {
        this.session = session;
        this.backends = backends;
    }

    long foundRows() {
        return foundRows;
    }

    long rowCount() {
        return rowCount;
    }

    /** Remembers what FOUND_ROWS() and ROW_COUNT() answer after {@code result}; called for every statement. */
    StatementResult seen(StatementResult result) {
        switch (result) {
            case StatementResult.Rows r -> {
                foundRows = r.rows().size();
                rowCount = -1;
            }
            case StatementResult.Update u -> rowCount = u.affectedRows();
            case StatementResult.Stream st -> rowCount = -1; // its rows are counted as they go out (see seenRows)
        }
        return result;
    }

    /**
     * What the proxy does with a statement before routing it, if anything: SQL PREPARE / EXECUTE / DEALLOCATE (kept by
     * the proxy), {@code SELECT … INTO @x} (the SELECT is run and merged as any other, then its row assigned), and a
     * statement using {@code LAST_INSERT_ID()}, which gets the session's value as a literal (not in a select list, whose
     * text labels its columns: there the proxy answers a table-less SELECT itself, or refuses).
     */
    java.util.Optional<StatementResult> beforeRouting(String sql, ServerState state, List<Object> parameters) {
        if (session.postgres()) {
            return java.util.Optional.empty();
        }
        if (state.has(Use.SQL_PREPARE)) {
            return java.util.Optional.of(seen(sqlPrepared.run(sql, session)));
        }
        if (!state.assigned().isEmpty() && SqlPrepared.isSelect(sql)) {
            var into = ServerState.selectInto(sql);
            if (into.isPresent()) {
                return java.util.Optional.of(selectInto(into.get(), session.query(into.get().select(), parameters)));
            }
        }
        int from = state.has(Use.LAST_INSERT_ID) ? SqlPrepared.lastInsertIdFrom(sql) : -1;
        if (from >= 0) {
            String literal = Long.toUnsignedString(session.lastInsertId());
            return java.util.Optional.of(session.query(ServerState.withLastInsertId(sql, literal, from), parameters));
        }
        from = state.has(Use.SESSION_ID) ? SqlPrepared.callReplaceableFrom(sql, CONNECTION_ID) : -1;
        if (from >= 0) {
            // unsigned as the function is, so arithmetic on it behaves (and overflows) as on the server
            String literal = "CAST(" + session.connectionId() + " AS UNSIGNED)";
            return java.util.Optional.of(session.query(ServerState.withCall(sql, CONNECTION_ID, literal, from), parameters));
        }
        return java.util.Optional.empty();
    }

    /** A statement failed: ROW_COUNT() is -1 then, as on a server. */
    void failed() {
        rowCount = -1;
    }

    /** A result set of {@code rows} rows went to the client without passing through {@link #seen} (a relayed reply). */
    void seenRows(long rows) {
        foundRows = rows;
        rowCount = -1;
    }

    /**
     * Runs a statement that touches server state, planned as {@code plan}: refuses what cannot be right, reserves the
     * connections its state needs, runs it ({@code execute}), then records what the proxy must remember.
     */
    StatementResult execute(AnalysedStatement statement, ServerState state, RoutePlan plan, Supplier<StatementResult> execute) {
        if (plan instanceof RoutePlan.Rejected || plan instanceof RoutePlan.Held || plan instanceof RoutePlan.Session) {
            return seen(execute.get());
        }
        List<String> shards = shards(plan);
        String where = shards.size() == 1 ? "shard " + shards.getFirst() : "shards " + shards;
        if (state.has(Use.FOUND_ROWS) || state.has(Use.ROW_COUNT) || !session.postgres() && (state.has(Use.LAST_INSERT_ID)
                || state.has(Use.SESSION_ID))) {
            var local = session.localAnswer(plan, statement.sql());
            if (local.isPresent()) {
                return seen(local.get());
            }
            if (state.has(Use.SESSION_ID) && !session.postgres()) {
                throw unsupported("CONNECTION_ID() is this session's id, which Shardgate answers itself: selected on its own"
                        + " (SELECT CONNECTION_ID()), or replaced by its value after the select list and in writes; here, in a"
                        + " select list whose text labels the column, " + where + " would compute it for its own pooled"
                        + " backend connection, another id. Select it on its own and use the value");
            }
            String functions = state.has(Use.FOUND_ROWS) || state.has(Use.ROW_COUNT) ? "FOUND_ROWS() and ROW_COUNT()" : "LAST_INSERT_ID()";
            throw unsupported(functions + " are answered by Shardgate itself, and in a SELECT only when selected on their"
                    + " own (SELECT " + (functions.startsWith("F") ? "FOUND_ROWS()" : "LAST_INSERT_ID()") + "): in this statement "
                    + where + " would compute them for its own backend connection, not for this session");
        }
        if (state.has(Use.SESSION_ID)) {
            var pid = session.backendPidAnswer(plan, statement.sql());
            if (pid.isPresent()) {
                return seen(pid.get());
            }
            throw unsupported("pg_backend_pid() would answer the process id of the pooled backend connection of " + where
                    + ", not the one Shardgate gave this session in BackendKeyData (which CancelRequest takes); use the driver's"
                    + " (pgJDBC PGConnection.getBackendPID(), libpq PQbackendPID())");
        }
        if (state.has(Use.SIGNAL_BACKEND)) {
            throw unsupported("pg_cancel_backend() and pg_terminate_backend() would signal a backend process of " + where
                    + ", which is none of Shardgate's sessions (the pid Shardgate gave a session in BackendKeyData names no"
                    + " process of a shard): cancel a session's statement with the driver's cancel (CancelRequest), which"
                    + " Shardgate passes to that session");
        }
        if (state.has(Use.SEQUENCE_VALUE) && (shards.size() != 1 || !backends.keepsSequenceValues(shards.getFirst()))) {
            throw unsupported("lastval() and currval() answer the last nextval() of the server connection that runs them, and"
                    + " Shardgate's connections to " + where + " are pooled and shared between sessions: outside a transaction that"
                    + " has written on that one shard they could answer for another session. Read the id with INSERT … RETURNING,"
                    + " or call them inside the transaction, after its INSERT, when it has touched no other shard");
        }
        if (state.has(Use.NAMED_LOCK)) {
            String home = session.defaultShard();
            if (!shards.equals(List.of(home)) || plan instanceof RoutePlan.MultiShard || plan instanceof RoutePlan.DualWrite) {
                throw unsupported("named locks (GET_LOCK, RELEASE_LOCK, …) are taken on the default shard " + home + " so that"
                        + " every session, through any proxy, contends on one server; this statement runs on " + where
                        + ": call the lock function in a statement of its own (SELECT GET_LOCK('name', timeout))");
            }
            backends.reserve(shards, NAMED_LOCK);
        }
        if (state.has(Use.TEMPORARY_TABLE)) {
            if (!(plan instanceof RoutePlan.SingleShard)) {
                throw unsupported("a temporary table lives on one shard; this one would be created on " + where
                        + ", so it would hide a sharded or broadcast table of that name on some shards only: choose another name");
            }
            if (statement.sql().toUpperCase(Locale.ROOT).matches("(?s).*\\bSELECT\\b.*")) {
                throw unsupported("CREATE TEMPORARY TABLE … SELECT is not supported: the SELECT would read the rows of shard "
                        + shards.getFirst() + " only; create the table, then fill it");
            }
            backends.reserve(shards, TEMPORARY_TABLE);
        }
        if (state.has(Use.USER_VARIABLE)) {
            if (!state.assigned().isEmpty() && (shards.size() != 1 || plan instanceof RoutePlan.DualWrite)) {
                throw unsupported("this statement assigns user variables (@" + String.join(", @", state.assigned()) + ") and runs on "
                        + where + ": each would assign its own value; restrict it to one shard (by its shard key), or assign"
                        + " from a statement that runs on one");
            }
            backends.reserve(shards, USER_VARIABLES);
        }
        boolean calcFoundRows = state.has(Use.CALC_FOUND_ROWS);
        if (calcFoundRows && plan instanceof RoutePlan.MultiShard m
                && !(m.merge() instanceof MergePlan.Rows r && !r.grouped() && !r.distinct())) {
            throw unsupported("SQL_CALC_FOUND_ROWS over several shards is answered by summing the shards' counts, which is"
                    + " right only for plain rows: with GROUP BY, DISTINCT or aggregates a group would be counted once per"
                    + " shard; count with SELECT COUNT(*) instead");
        }
        boolean lastInsertIdExpr = state.has(Use.LAST_INSERT_ID_EXPR) && !session.postgres();
        if (lastInsertIdExpr && shards.size() != 1) {
            throw unsupported("LAST_INSERT_ID(expr) in a statement that runs on " + where + " would set a value on each;"
                    + " restrict it to one shard (by its shard key)");
        }
        if (lastInsertIdExpr) {
            // held for the statement only: the value is read right after it. The connection may carry another session's
            // value, which a statement that sets none (no row matched) would leave: it gets the session's first
            backends.reserve(shards, LAST_INSERT_ID);
            runOn(shards.getFirst(), "SELECT LAST_INSERT_ID(" + Long.toUnsignedString(session.lastInsertId()) + ")");
        }
        if (calcFoundRows) {
            backends.reserve(shards, FOUND_ROWS); // held for the statement only, to ask each connection its FOUND_ROWS()
        }
        try {
            return executeReserved(statement, state, shards, calcFoundRows, lastInsertIdExpr, execute);
        } finally {
            backends.unreserveIfOnly(shards, java.util.Set.of(FOUND_ROWS, LAST_INSERT_ID));
        }
    }

    /**
     * PostgreSQL {@code DISCARD TEMP}: drops the session's temporary tables where they live (its reserved connections);
     * a connection kept for them alone goes back to the pool.
     */
    void discardTemporaryTables(String sql) {
        backends.runOnKept(sql);
        temporaryTables.clear();
        backends.unreserveIfOnly(backends.reservedShards(), java.util.Set.of(TEMPORARY_TABLE));
    }

    /** PostgreSQL {@code DISCARD ALL} (outside a transaction): no temporary table, lock or setting of the session is left. */
    void discardAll() {
        temporaryTables.clear();
        backends.discardAll();
    }

    /**
     * Temporary tables a DROP removed: a shard left without any lets its connection go back to the pool (reset), unless
     * it is kept for other state (a lock, variables) or an open transaction.
     */
    private void dropped(List<String> tables, List<String> shards) {
        for (String shard : shards) {
            java.util.Set<String> mine = temporaryTables.get(shard);
            if (mine != null && mine.removeAll(tables) && mine.isEmpty()) {
                temporaryTables.remove(shard);
                backends.unreserveIfOnly(List.of(shard), java.util.Set.of(TEMPORARY_TABLE));
            }
        }
    }

    private StatementResult executeReserved(AnalysedStatement statement, ServerState state, List<String> shards, boolean calcFoundRows,
            boolean lastInsertIdExpr, Supplier<StatementResult> execute) {
        StatementResult result = execute.get();
        if (state.has(Use.TEMPORARY_TABLE)) {
            ServerState.temporaryTableCreated(statement.sql())
                    .ifPresent(t -> temporaryTables.computeIfAbsent(shards.getFirst(), s -> new java.util.HashSet<>()).add(t));
        }
        if (state.has(Use.DROP_TABLE)) {
            dropped(ServerState.tablesDropped(statement.sql()), shards);
        }
        if (state.has(Use.USER_VARIABLE) && !state.assigned().isEmpty()) {
            backends.variablesAssigned(shards.getFirst(), state.assigned(), ServerStateRules::literals);
        }
        if (lastInsertIdExpr) {
            session.lastInsertId(Long.parseUnsignedLong(value(runOn(shards.getFirst(), "SELECT LAST_INSERT_ID()"))));
        }
        seen(result);
        if (calcFoundRows) {
            long found = 0;
            for (String shard : shards) {
                found += Long.parseLong(value(runOn(shard, "SELECT FOUND_ROWS()")));
            }
            foundRows = found;
        }
        return result;
    }

    /**
     * {@code SET @x = …[, @y = …]}: runs on the default shard's reserved connection; the values read back there are
     * set on the session's other reserved connections. Session variables in the same SET are refused (they are replayed
     * on every connection; user variables are not); so is a value read from a table, which the default shard alone
     * would compute.
     */
    void setUserVariables(String sql, List<String> names, boolean mixed) {
        if (mixed) {
            throw unsupported("a SET of both user variables and session variables is not supported; set them in two statements");
        }
        String unquoted = sql.replaceAll("'(?:[^'\\\\]|\\\\.|'')*'|\"(?:[^\"\\\\]|\\\\.|\"\")*\"", "''");
        if (unquoted.toUpperCase(Locale.ROOT).matches("(?s).*\\bSELECT\\b.*")) {
            throw unsupported("SET @x = (SELECT …) would read the default shard's rows only; use SELECT … INTO @x, restricted to"
                    + " one shard");
        }
        String home = session.defaultShard();
        backends.reserve(List.of(home), USER_VARIABLES);
        runOn(home, sql);
        backends.variablesAssigned(home, names, ServerStateRules::literals);
    }

    /**
     * {@code SELECT … INTO @a, @b}: the proxy ran the SELECT (merged over shards like any other) and assigns its one row
     * to the variables on every connection the session keeps them on; no row leaves them as they were, as on a server.
     */
    StatementResult selectInto(io.shardgate.router.ServerState.SelectInto into, StatementResult result) {
        if (!(result instanceof StatementResult.Rows rows)) {
            throw new ProxyException(ErrorCode.INTERNAL, "SELECT … INTO ran without a result set: " + result);
        }
        if (rows.columns().size() != into.variables().size()) {
            throw ProxyException.backend(1222, "21000", "The used SELECT statements have a different number of columns", null);
        }
        if (rows.rows().size() > 1) {
            throw ProxyException.backend(1172, "42000", "Result consisted of more than one row", null);
        }
        if (rows.rows().size() == 1) {
            backends.assign(into.variables(), literals(rows));
        }
        return seen(StatementResult.Update.of(rows.rows().size()));
    }

    private StatementResult runOn(String shard, String sql) {
        return backends.query(shard, sql, List.of(), "");
    }

    private static String value(StatementResult result) {
        if (result instanceof StatementResult.Rows r && r.rows().size() == 1 && r.rows().getFirst()[0] != null) {
            return new String(r.rows().getFirst()[0], StandardCharsets.US_ASCII);
        }
        throw new ProxyException(ErrorCode.INTERNAL, "a shard answered a session function with " + result);
    }

    /**
     * The values of {@code SELECT @a, @b} as SQL literals of the same type: integers and decimals as written, doubles
     * with an exponent, strings as utf8mb4 hex (no escaping to get wrong), binary strings as hex, NULL.
     */
    static List<String> literals(StatementResult.Rows rows) {
        List<String> out = new ArrayList<>();
        byte[][] row = rows.rows().getFirst();
        for (int i = 0; i < rows.columns().size(); i++) {
            ColumnInfo c = rows.columns().get(i);
            byte[] v = row[i];
            if (v == null) {
                out.add("NULL");
                continue;
            }
            String text = new String(v, StandardCharsets.UTF_8);
            out.add(switch (c.type()) {
                case TINYINT, SMALLINT, MEDIUMINT, INT, BIGINT, YEAR -> c.unsigned() ? "CAST(" + text + " AS UNSIGNED)" : text;
                case DECIMAL -> text;
                case FLOAT, DOUBLE -> text.contains("e") || text.contains("E") ? text : text + "E0";
                default -> (c.collationId() == 63 ? "X'" : "_utf8mb4 X'") + HexFormat.of().formatHex(v) + "'";
            });
        }
        return out;
    }

    /** The shards a plan runs on. */
    static List<String> shards(RoutePlan plan) {
        return switch (plan) {
            case RoutePlan.SingleShard s -> List.of(s.statement().shard());
            case RoutePlan.MultiShard m -> m.shards();
            case RoutePlan.Broadcast b -> b.shards();
            case RoutePlan.AnyShard a -> List.of(a.statement().shard());
            case RoutePlan.DualWrite d -> List.of(d.statement().shard());
            case RoutePlan.Session s -> List.of();
            case RoutePlan.Held h -> List.of();
            case RoutePlan.Rejected r -> List.of();
        };
    }

    static ProxyException unsupported(String message) {
        return new ProxyException(ErrorCode.UNSUPPORTED, message);
    }
}

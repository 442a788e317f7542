package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.error.Rejections;
import io.shardgate.proxy.execute.PlanExecutor;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.proxy.session.BackendNotice;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.PreparedInfo;
import io.shardgate.proxy.session.SessionState;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client session: routes each statement with the current snapshot and hands the plans that reach shards to its
 * {@link PlanExecutor}, which runs them on the connections this session's transaction state decides
 * ({@link JdbcSessionCursor}). The session keeps what is the session's: its state and transaction, prepared statements,
 * local answers, sequence ids, holds and fencing while slots move. Called by one thread at a time (the front end's
 * session thread).
 *
 * <p>Decisions a client may notice:
 * <ul>
 *   <li>Session variables ({@code SET sql_mode = …}) are validated on a backend, remembered, and replayed on
 *       every backend connection the session uses. User variables ({@code SET @x}), temporary tables and named locks
 *       pin their connections to the session (see {@link ServerStateRules}).</li>
 *   <li>SQL text is the client's bytes in its character set (see {@link io.shardgate.proxy.session.ClientCharset} for the
 *       sets served): a MySQL statement goes to its shards as the client's bytes, with the client's own spelling of every
 *       literal where the router rewrote it. A character set other than utf8mb4 (from the handshake, {@code SET NAMES},
 *       {@code SET CHARACTER SET} or {@code SET character_set_client}) is a session setting replayed on every backend
 *       connection, so the shard reads the bytes and converts results as for a direct client.</li>
 *   <li>{@code SET TRANSACTION …} without SESSION applies to the session's next transaction;
 *       {@code SET SESSION TRANSACTION …} is a session setting.</li>
 *   <li>A statement's warning count is the sum of its shard calls' counts; a shard call that reported warnings has
 *       them listed (SHOW WARNINGS) on its connection right away, and the client's SHOW WARNINGS is answered from those
 *       lists ({@link StatementWarnings}). Without warnings, SHOW WARNINGS is answered by the backend connection of the
 *       previous statement while it is pinned to a transaction (it may list that statement's error); otherwise the
 *       answer is empty.</li>
 * </ul>
 */
final class ProxySession implements FrontendSession, LocalAnswers.SessionFacts {
    /** Notices and warnings the shards sent while this session's statements ran, until the front end takes them. */
    private final java.util.Queue<BackendNotice> notices = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private static final ColumnInfo PARAMETER = ColumnInfo.computed("?", ColumnType.VARCHAR, 0);

    private final ProxyCore core;
    private final ClientInfo client;
    private final long connectionId;
    /** The status flags of the session's sql_mode (see {@link SessionState#modeStatus}). */
    private int modeStatus;
    private final SessionBackends backends;
    /** The statement running now: its deadline, and what cancels it on its shards. */
    private final RunningStatement deadline;
    private final ServerStateRules stateRules;
    private final PgSqlPrepared pgSqlPrepared;
    private final Map<Integer, AnalysedStatement> prepared = new HashMap<>();
    /** MySQL: the bytes the client prepared, by statement id (what a relayed execute prepares on a shard). */
    private final Map<Integer, byte[]> preparedBytes = new HashMap<>();
    private int nextStatementId = 1;
    private String schema;
    /** The MySQL client character set: how the client's statement bytes are read (and the backends are told). */
    private io.shardgate.proxy.session.ClientCharset charset;
    /** character_set_results: what the server writes names, error texts and values in (NULL and binary: utf8, unconverted). */
    private io.shardgate.proxy.session.ClientCharset results = io.shardgate.proxy.session.ClientCharset.UTF8MB4;
    private boolean autocommit = true;
    private boolean explicitTransaction;
    private List<String> transactionStart = List.of();
    private String nextTransactionCharacteristics;
    private long lastInsertId;
    private String lastShard;
    private boolean closed;
    /** Spreads increments of split counter keys over their sub-rows: rotated per statement, sessions start apart. */
    private int spread;
    private final SessionIds ids;
    private final PlanExecutor executor;
    private final PgCursors cursors;
    /** The warnings of the last statement (what SHOW WARNINGS lists), and those of the statement running now. */
    private StatementWarnings warnings = new StatementWarnings();
    private StatementWarnings running;
    /** The warnings of the statement whose rows are streaming to the client now (its shards list theirs at the end). */
    private StatementWarnings streaming;
    /** The stream handed to the front end last, closed with the session if the front end has not (a suspended portal). */
    private io.shardgate.proxy.session.RowStream openStream;
    /** The running statement is SHOW WARNINGS or ERRORS, which leaves the list as it is. */
    private boolean keepWarnings;

    ProxySession(ProxyCore core, ClientInfo client, long connectionId, String schema) {
        this.core = core;
        this.client = client;
        this.connectionId = connectionId;
        this.schema = schema;
        this.deadline = core.runningStatement(core.topology().cluster().dialect() == io.shardgate.cluster.Dialect.POSTGRES);
        this.backends = new SessionBackends(core.pools(), core.connectionStates(), core.topology().cluster().dialect(), core.pinned(),
                client.flags().foundRows(), deadline, core.gate().transactionHold("connection " + connectionId));
        this.spread = (int) connectionId;
        this.stateRules = new ServerStateRules(this, backends);
        this.pgSqlPrepared = new PgSqlPrepared(backends, core.topology().logicalDatabase());
        this.executor = new PlanExecutor(new JdbcSessionCursor(this, backends, core), core.metrics(), core.parallel());
        this.cursors = new PgCursors(this, core, executor);
        this.ids = new SessionIds(core.sequences(), () -> backends.settings().fingerprint(), this::sqlMode);
        this.charset = client.charset();
        if (!postgres()) {
            backends.startWith(SessionCommands.clientFlags(client.flags()));
            if (core.nativeTransactions()) {
                backends.natives(new NativeTransactions());
            }
        }
        if (!charset.utf8mb4()) {
            SessionCommands.useCharset(this, charset, "SET NAMES " + charset.mysqlName());
        }
    }

    /**
     * The session's side of its native transaction connections: lent while no backend fault is injected (the fault hook
     * works on JDBC connections), warnings listed into the running statement's.
     */
    private final class NativeTransactions implements SessionBackends.NativeLender, NativeBackendConnection.Owner {
        @Override
        public io.shardgate.proxy.backend.mysql.LentConnection lend(String shard, io.shardgate.proxy.exec.SessionSettings settings) {
            if (core.backendFault() != null) {
                return null;
            }
            io.shardgate.cluster.ShardDefinition definition = core.snapshot().cluster().shard(shard).orElseThrow(() ->
                    new ProxyException(io.shardgate.proxy.error.ErrorCode.INTERNAL, "shard " + shard + " is not in the cluster definition"));
            io.shardgate.proxy.backend.mysql.LentConnection lent = core.nativeBackends().lend(definition, settings, foundRowsFlag());
            core.metrics().nativeTransactionConnection();
            return lent;
        }

        @Override
        public NativeBackendConnection.Owner owner() {
            return this;
        }

        @Override
        public boolean keeps(NativeBackendConnection c) {
            return true; // only pinned and reserved connections are native
        }

        @Override
        public void discarded(NativeBackendConnection c) {
            // closed: the session's next use of it fails and ends the transaction (see SessionBackends#isBroken)
        }

        @Override
        public void warnings(String shard, int count, List<byte[][]> rows) {
            listedWarnings(shard, count, rows);
        }

        @Override
        public io.shardgate.proxy.session.ClientCharset charset() {
            return charset;
        }

        @Override
        public boolean touchesCharset() {
            return backends.settings().touchesCharset();
        }

        @Override
        public String logicalDatabase() {
            return core.topology().logicalDatabase();
        }
    }

    // ---- FrontendSession

    @Override
    public void initDb(String schema) {
        this.schema = ProxyCore.requireDatabase(schema, core.topology());
    }

    @Override
    public StatementResult query(byte[] sql) {
        return deadline.run(() -> postgres() ? query(io.shardgate.proxy.session.ClientCharset.UTF8MB4.decode(sql))
                : query(io.shardgate.proxy.session.ClientSql.of(sql, charset)));
    }

    /** A MySQL text statement: analysed as text, sent as the client's bytes (see {@link SourceLiterals}). */
    private StatementResult query(io.shardgate.proxy.session.ClientSql sql) {
        io.shardgate.cluster.Dialect dialect = io.shardgate.cluster.Dialect.MYSQL;
        var template = io.shardgate.router.SqlTemplate.of(sql.text(), dialect);
        if (template.isPresent()) {
            AnalysedStatement statement = core.analyse(template.get().template(), dialect);
            if (statement.parameterCount() == template.get().literals().size()) {
                return run(statement, new SourceLiterals(sql, template.get()));
            }
        }
        return run(core.analyse(sql.text(), dialect), new SourceLiterals(sql, null));
    }

    @Override
    public boolean relay(byte[] sql, io.shardgate.proxy.backend.mysql.RelayTarget target) {
        return !postgres() && autocommit && !explicitTransaction && charset.utf8mb4()
                && fallsBackOnTime(deadline.run(() -> NativeRelay.tryRelay(core, this, backends, stateRules, sql, target, deadline)));
    }

    /**
     * {@code relayed}; when false, the usual path that runs the client's statement next keeps the relay's start, so the
     * statement's deadline counts the time the relay spent before it gave up (see {@link RunningStatement#carryToFallback}).
     */
    private boolean fallsBackOnTime(boolean relayed) {
        if (!relayed) {
            deadline.carryToFallback();
        }
        return relayed;
    }

    @Override
    public boolean relayPg(String sql, String text, io.netty.channel.Channel client) {
        return postgres() && !explicitTransaction && !state().inTransaction()
                && fallsBackOnTime(deadline.run(() -> PgNativeRelay.tryRelay(core, this, backends, stateRules, sql, text, client, deadline)));
    }

    @Override
    public boolean relayPgOnLoop(String sql, String text, io.netty.channel.Channel client,
            io.shardgate.proxy.session.FrontendSession.LoopRelayDone done) {
        return postgres() && !explicitTransaction && !state().inTransaction()
                && PgNativeRelay.tryRelayOnLoop(core, this, backends, stateRules, deadline, sql, text, client, done);
    }

    @Override
    public boolean relaysPg() {
        return postgres() && core.pgNativeBackends() != null;
    }

    @Override
    public io.shardgate.proxy.session.RelayOutcome relayPgExtended(String sql, List<Object> parameters,
            io.shardgate.proxy.backend.pg.PgExtendedRequest request, io.netty.channel.Channel client) {
        return postgres() && !explicitTransaction && !state().inTransaction()
                ? deadline.run(() -> PgNativeRelay.tryRelayExtended(core, this, backends, stateRules, sql, parameters, request, client,
                        deadline))
                : io.shardgate.proxy.session.RelayOutcome.NOT_RELAYED;
    }

    @Override
    public boolean relayPgExtendedOnLoop(String sql, List<Object> parameters, io.shardgate.proxy.backend.pg.PgExtendedRequest request,
            io.netty.channel.Channel client, io.shardgate.proxy.session.FrontendSession.LoopRelayDone done) {
        return postgres() && !explicitTransaction && !state().inTransaction()
                && PgNativeRelay.tryRelayExtendedOnLoop(core, this, backends, stateRules, deadline, sql, parameters, request, client,
                        done);
    }

    /**
     * A statement was relayed on {@code shard} (see {@link NativeRelay}) and the client was told of {@code warnings}
     * warnings, which the shard listed as {@code listed} (null: they could not be read, so they are counted, not listed).
     */
    void relayed(String shard, int warnings, List<byte[][]> listed) {
        lastShard = shard;
        this.warnings = new StatementWarnings();
        if (warnings > 0 && listed != null) {
            this.warnings.add(shard, warnings, new StatementResult.Rows(WARNING_COLUMNS, listed, 0));
        } else if (warnings > 0) {
            this.warnings.addUnlisted(shard, warnings);
        }
    }

    /**
     * A streamed read's shard reported {@code count} warnings at the end of its rows, which it listed as {@code listed}
     * (null: they could not be read, so they are counted, not listed); see {@link NativeReadConnection}.
     */
    void listedWarnings(String shard, int count, List<byte[][]> listed) {
        StatementWarnings target = running != null ? running : streaming;
        if (target == null) {
            return;
        }
        if (listed != null) {
            target.add(shard, count, new StatementResult.Rows(WARNING_COLUMNS, listed, 0));
        } else {
            target.addUnlisted(shard, count);
        }
    }

    /** The running statement, which tracks the work of the session's backend connections. */
    io.shardgate.proxy.exec.ShardWork.Tracker tracker() {
        return deadline;
    }

    /** The client's CLIENT_FOUND_ROWS flag. */
    boolean foundRowsFlag() {
        return client.flags().foundRows();
    }

    /** The columns of SHOW WARNINGS as MariaDB describes them. */
    private static final List<ColumnInfo> WARNING_COLUMNS = List.of(ColumnInfo.computedString("Level", 28, true),
            new ColumnInfo("", "", "", "Code", "", ColumnType.INT, 4, 0, true, true, true, 63),
            ColumnInfo.computedString("Message", 2048, true));

    @Override
    public PreparedInfo prepare(byte[] sql) {
        return deadline.run(() -> prepareBytes(sql));
    }

    private PreparedInfo prepareBytes(byte[] sql) {
        PreparedInfo info = prepare((postgres() ? io.shardgate.proxy.session.ClientCharset.UTF8MB4 : charset).decode(sql));
        if (!postgres()) {
            preparedBytes.put(info.statementId(), sql.clone());
        }
        return info;
    }

    @Override
    public java.util.concurrent.CompletableFuture<Void> relayFromLoop(byte[] sql, int statementId, List<Object> parameters,
            byte[] packet, io.shardgate.proxy.backend.mysql.RelayTarget target, java.util.concurrent.Executor blocking) {
        if (postgres() || !autocommit || explicitTransaction || !charset.utf8mb4() || closed) {
            return null;
        }
        if (statementId < 0) {
            return NativeRelay.relayFromLoop(core, this, backends, stateRules, sql, target, deadline, blocking);
        }
        AnalysedStatement statement = prepared.get(statementId);
        byte[] preparedSql = preparedBytes.get(statementId);
        if (statement == null || preparedSql == null || parameters.size() != statement.parameterCount()) {
            return null;
        }
        return NativeRelay.relayExecuteFromLoop(core, this, backends, stateRules, statement, preparedSql, decodeText(parameters),
                packet, target, deadline, blocking);
    }

    public boolean relayExecute(int statementId, List<Object> parameters, byte[] packet, io.shardgate.proxy.backend.mysql.RelayTarget target) {
        AnalysedStatement statement = prepared.get(statementId);
        byte[] sql = preparedBytes.get(statementId);
        return !postgres() && autocommit && !explicitTransaction && charset.utf8mb4() && statement != null && sql != null
                && parameters.size() == statement.parameterCount()
                && fallsBackOnTime(deadline.run(() -> NativeRelay.tryRelayExecute(core, this, backends, stateRules, statement, sql,
                        decodeText(parameters), packet, target, deadline)));
    }

    @Override
    public StatementResult query(String sql) {
        return deadline.run(() -> queryText(sql));
    }

    private StatementResult queryText(String sql) {
        if (!postgres()) {
            return query(io.shardgate.proxy.session.ClientSql.ofText(sql, charset));
        }
        if (PgCursors.isCursorStatement(sql)) {
            return cursors.run(sql);
        }
        RoutingSnapshot snapshot = core.snapshot();
        io.shardgate.cluster.Dialect dialect = snapshot.cluster().dialect();
        // statements that differ only in values share one analysis (see SqlTemplate); a template that
        // does not analyse to the same number of parameters falls back to the statement as sent
        var template = io.shardgate.router.SqlTemplate.of(sql, dialect);
        if (template.isPresent()) {
            AnalysedStatement statement = core.analyse(template.get().template(), dialect);
            if (statement.parameterCount() == template.get().literals().size()) {
                return run(statement, template.get().literals());
            }
        }
        return run(core.analyse(sql, dialect), List.of());
    }

    @Override
    public StatementResult query(String sql, List<Object> parameters) {
        return deadline.run(() -> queryBound(sql, parameters));
    }

    private StatementResult queryBound(String sql, List<Object> parameters) {
        if (parameters.isEmpty()) {
            return query(sql);
        }
        AnalysedStatement statement = core.analyse(sql, core.snapshot().cluster().dialect());
        if (parameters.size() != statement.parameterCount()) {
            throw new ProxyException(ErrorCode.WRONG_PARAMETER_COUNT, "the statement takes " + statement.parameterCount()
                    + " parameters, " + parameters.size() + " were bound");
        }
        return run(statement, parameters);
    }

    @Override
    public PreparedInfo prepare(String sql) {
        return deadline.run(() -> prepareText(sql));
    }

    private PreparedInfo prepareText(String sql) {
        RoutingSnapshot snapshot = core.snapshot();
        AnalysedStatement statement = core.analyse(sql, snapshot.cluster().dialect());
        List<Object> nulls = Collections.nCopies(statement.parameterCount(), null);
        RoutePlan plan = core.router().route(statement, nulls, snapshot);
        if (plan instanceof RoutePlan.Rejected r && (r.reason() == RejectReason.PARSE_ERROR
                || r.reason() == RejectReason.STATEMENT_TOO_COMPLEX)) {
            throw Rejections.of(r);
        }
        List<ColumnInfo> columns = postgres() && PgCursors.isCursorStatement(sql) ? cursors.describe(sql)
                : plan instanceof RoutePlan.Session ? List.of() : executor.describe(statement.jdbcSql(), metadataShard(plan, snapshot));
        int id = nextStatementId++;
        prepared.put(id, statement);
        return new PreparedInfo(id, Collections.nCopies(statement.parameterCount(), PARAMETER), columns);
    }

    /**
     * Asked on a native connection of the shard {@link #prepare} describes the statement on (its own shard when it routes
     * to one), which keeps the statement prepared for the executions relayed there (see {@link PgNativeRelay}).
     */
    @Override
    public byte[] describePgStatement(String sql, List<Integer> parameterTypes, long parsedNanos) {
        return deadline.run(() -> describeOnShard(sql, parameterTypes, parsedNanos));
    }

    private byte[] describeOnShard(String sql, List<Integer> parameterTypes, long parsedNanos) {
        io.shardgate.proxy.backend.pg.PgNativeBackends natives = core.pgNativeBackends();
        if (natives == null || !postgres() || inTransaction() || backends.hasPinned() || !backends.reservedUses().isEmpty()
                || PgCursors.isCursorStatement(sql)) {
            return null;
        }
        RoutingSnapshot snapshot = core.snapshot();
        AnalysedStatement statement = core.analyse(sql, snapshot.cluster().dialect());
        RoutePlan plan = core.router().route(statement, Collections.nCopies(statement.parameterCount(), null), snapshot);
        if (plan instanceof RoutePlan.Rejected r && (r.reason() == RejectReason.PARSE_ERROR
                || r.reason() == RejectReason.STATEMENT_TOO_COMPLEX)) {
            throw Rejections.of(r);
        }
        if (plan instanceof RoutePlan.Session) {
            return null;
        }
        String name = metadataShard(plan, snapshot);
        return snapshot.cluster().shard(name).map(shard -> natives.describeStatement(shard, sql, parameterTypes, parsedNanos,
                backends.settings(), JdbcBackendConnection.isCatalogShard(name, core))).orElse(null);
    }

    @Override
    public StatementResult execute(int statementId, List<Object> parameters) {
        return deadline.run(() -> executePrepared(statementId, parameters));
    }

    private StatementResult executePrepared(int statementId, List<Object> parameters) {
        AnalysedStatement statement = prepared(statementId, "mysqld_stmt_execute");
        if (parameters.size() != statement.parameterCount()) {
            throw new ProxyException(ErrorCode.WRONG_PARAMETER_COUNT, "Incorrect arguments to mysqld_stmt_execute: the statement takes "
                    + statement.parameterCount() + " parameters, " + parameters.size() + " were sent");
        }
        return run(statement, decodeText(parameters));
    }

    /** String parameters as the client's bytes become text in the session's character set (see ClientCharset#parameter). */
    private List<Object> decodeText(List<Object> parameters) {
        List<Object> values = null;
        for (int i = 0; i < parameters.size(); i++) {
            if (parameters.get(i) instanceof io.shardgate.proxy.session.ClientText t) {
                if (values == null) {
                    values = new ArrayList<>(parameters);
                }
                values.set(i, charset.parameter(t.bytes()));
            }
        }
        return values == null ? parameters : Collections.unmodifiableList(values);
    }

    /** Checked on the shard the statement would be described on, as {@link #prepare} describes it (see {@link PgSqlPrepared}). */
    @Override
    public io.shardgate.proxy.session.SqlPreparedStatement prepareSql(String sql, List<String> declaredTypes) {
        return deadline.run(() -> prepareSqlStatement(sql, declaredTypes));
    }

    private io.shardgate.proxy.session.SqlPreparedStatement prepareSqlStatement(String sql, List<String> declaredTypes) {
        requirePostgres("PREPARE … AS");
        RoutingSnapshot snapshot = core.snapshot();
        AnalysedStatement statement = core.analyse(sql, snapshot.cluster().dialect());
        RoutePlan plan = core.router().route(statement, Collections.nCopies(statement.parameterCount(), null), snapshot);
        io.shardgate.proxy.session.SqlPreparedStatement prepared = pgSqlPrepared.prepare(sql, declaredTypes, metadataShard(plan, snapshot));
        // refused now unless the refusal is about the values (a NULL key stands for every argument here)
        if (plan instanceof RoutePlan.Rejected r && r.reason() != RejectReason.BAD_SHARD_KEY_VALUE
                && r.reason() != RejectReason.MISSING_PARAMETER) {
            throw Rejections.of(r);
        }
        return prepared;
    }

    /** The arguments' values bound to the statement's {@code $n} with their types, routed by them (see {@link PgSqlPrepared}). */
    @Override
    public StatementResult executeSql(String name, io.shardgate.proxy.session.SqlPreparedStatement statement, List<String> arguments) {
        return deadline.run(() -> executeSqlStatement(name, statement, arguments));
    }

    private StatementResult executeSqlStatement(String name, io.shardgate.proxy.session.SqlPreparedStatement statement,
            List<String> arguments) {
        requirePostgres("EXECUTE");
        List<Object> values = pgSqlPrepared.arguments(name, statement, arguments, defaultShard());
        AnalysedStatement analysed = core.analyse(statement.sql(), core.snapshot().cluster().dialect());
        // a parameter declared but not used in the text is coerced (its errors are the server's) and not bound
        int used = Math.min(analysed.parameterCount(), values.size());
        return used == 0 ? query(statement.sql()) : run(analysed, values.subList(0, used));
    }

    private void requirePostgres(String command) {
        if (!postgres()) {
            throw new ProxyException(ErrorCode.INTERNAL, command + " of PostgreSQL's form reached a MySQL session");
        }
    }

    @Override
    public void closeStatement(int statementId) {
        prepared.remove(statementId);
        preparedBytes.remove(statementId);
    }

    @Override
    public void resetStatement(int statementId) {
        prepared(statementId, "mysqld_stmt_reset");
    }

    @Override
    public void cancel() {
        deadline.cancel(RunningStatement.Reason.REQUEST);
    }

    @Override
    public void clientGone() {
        deadline.cancel(RunningStatement.Reason.CLIENT_GONE);
    }

    @Override
    public List<BackendNotice> takeNotices() {
        if (notices.isEmpty()) {
            return List.of();
        }
        // a statement sent to several shards (DDL, scatter) gets the same notice from each: the client sees it once
        java.util.LinkedHashSet<BackendNotice> distinct = new java.util.LinkedHashSet<>();
        for (BackendNotice n; (n = notices.poll()) != null; ) {
            distinct.add(n);
        }
        return List.copyOf(distinct);
    }

    @Override
    public SessionState state() {
        return new SessionState(schema, autocommit, inTransaction(), modeStatus);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (openStream != null) {
            try {
                openStream.close();
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(ProxySession.class).warn("closing a result stream with its session failed", e);
            }
        }
        core.sessionClosed();
        // rolling back on a shard that hangs must end too
        deadline.run(() -> {
            backends.endSession();
            return null;
        });
        deadline.close();
        prepared.clear();
        preparedBytes.clear();
    }

    // ---- SessionFacts

    @Override
    public String schema() {
        return schema;
    }

    @Override
    public long connectionId() {
        return connectionId;
    }

    @Override
    public long lastInsertId() {
        return lastInsertId;
    }

    @Override
    public String user() {
        return client.user() + "@" + client.remoteAddress();
    }

    @Override
    public boolean utf8mb4Results() {
        return results.utf8mb4();
    }

    /** What character_set_results is from now on (its SET is among the session settings). */
    void results(io.shardgate.proxy.session.ClientCharset charset) {
        this.results = charset;
    }

    @Override
    public String ownText(String text) {
        return results.utf8mb4() || postgres() ? text
                : io.shardgate.proxy.session.ClientCharset.UTF8MB4.decode(results.encodeReplacing(text));
    }

    @Override
    public long foundRows() {
        return stateRules.foundRows();
    }

    @Override
    public long rowCount() {
        return stateRules.rowCount();
    }

    @Override
    public long warningCount() {
        keepWarnings = true;
        return warnings.count();
    }

    void lastInsertId(long value) {
        lastInsertId = value;
    }

    ServerStateRules stateRules() {
        return stateRules;
    }

    /** The session's ids from cluster sequences (see {@link NativeWriteRelay}, which routes writes as {@link #run} does). */
    SessionIds ids() {
        return ids;
    }

    /** Which sub-row of a split counter key the next statement's increment goes to (see {@link #run}). */
    int nextSpread() {
        return spread++;
    }

    /** Refuses {@code sql} as {@link #prepare} would: when it cannot be parsed, or could never be routed. */
    void check(String sql) {
        RoutingSnapshot snapshot = core.snapshot();
        AnalysedStatement statement = core.analyse(sql, snapshot.cluster().dialect());
        RoutePlan plan = core.router().route(statement, Collections.nCopies(statement.parameterCount(), null), snapshot);
        if (plan instanceof RoutePlan.Rejected r && r.reason() == RejectReason.PARSE_ERROR) {
            throw Rejections.of(r);
        }
    }

    /** The proxy's own answer to a table-less SELECT, when it has one (MySQL only). */
    java.util.Optional<StatementResult.Rows> localAnswer(RoutePlan plan, String sql) {
        return plan instanceof RoutePlan.AnyShard a && !postgres() ? core.topology().localAnswers().answer(sql, a.columns(), this)
                : java.util.Optional.empty();
    }

    private static final java.util.regex.Pattern BACKEND_PID_ALONE =
            java.util.regex.Pattern.compile("(?i)\\s*SELECT\\s+pg_backend_pid\\s*\\(\\s*\\)\\s*;?\\s*");
    /** pg_backend_pid()'s column as a PostgreSQL server describes it: int4, no table, named after the function. */
    private static final ColumnInfo BACKEND_PID = new ColumnInfo("", "", "", "pg_backend_pid", "", ColumnType.INT, 11, 0, false,
            false, true, 63, io.shardgate.proxy.pg.codec.PgTypes.INT4, -1);

    /**
     * PostgreSQL {@code SELECT pg_backend_pid()} on its own (no alias, nothing else): the pid this session got in
     * BackendKeyData, which a server would answer for its own process; any other use stays with the caller (refused).
     */
    java.util.Optional<StatementResult.Rows> backendPidAnswer(RoutePlan plan, String sql) {
        if (!postgres() || !(plan instanceof RoutePlan.AnyShard) || !BACKEND_PID_ALONE.matcher(sql).matches()) {
            return java.util.Optional.empty();
        }
        byte[] pid = Long.toString(connectionId).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return java.util.Optional.of(new StatementResult.Rows(List.of(BACKEND_PID), List.<byte[][]>of(new byte[][] {pid}), 0));
    }

    // ---- routing

    /**
     * Routes with the current snapshot and runs the plan. A statement about sharded tables holds its snapshot
     * in the core's {@link SnapshotGate} until it has run, so the proxy acknowledges a new epoch only after it
     * finished: a write must not land on a shard that stopped being authoritative, and a read routed before a
     * cutover must not read a source whose copies the cleanup is deleting. (A statement that runs longer than
     * the drain timeout therefore delays a cutover, which the migrator retries.) A dual write inside a client transaction
     * keeps its snapshot held for cleanup barriers until the transaction ends (see {@link SnapshotGate}). A write to slots in cutover, and any
     * statement on a hot key being split or merged, is held (not failed) until a newer snapshot arrives, then routed
     * again; holding longer than the hold timeout fails it with WRITE_HOLD_TIMEOUT. Inside a client transaction the
     * held statement keeps the transaction's connections (and row locks) while it waits.
     */
    private StatementResult run(AnalysedStatement statement, List<Object> parameters) {
        if (running != null) {
            return runCounted(statement, parameters, false); // a statement the proxy runs for the client's (see ServerStateRules)
        }
        running = new StatementWarnings();
        keepWarnings = false;
        try {
            StatementResult result = runCounted(statement, parameters, true);
            return result instanceof StatementResult.Stream st ? counted(st, running) : running.withCount(result);
        } finally {
            if (!keepWarnings) {
                warnings = running;
            }
            running = null;
        }
    }

    /**
     * A client's read whose rows stream (see {@link #streams}): what the session derives from a result is taken as the
     * rows go out. FOUND_ROWS() is the count of rows sent once they all were, ROW_COUNT() -1 as after any result set; the
     * warning count is the statement's, whose shards list their warnings when their rows end; an error after some rows
     * is the statement's failure (it is sent after those rows, as a server sends it).
     */
    private StatementResult.Stream counted(StatementResult.Stream stream, StatementWarnings statementWarnings) {
        io.shardgate.proxy.session.RowStream rows = stream.rows();
        streaming = statementWarnings;
        io.shardgate.proxy.session.RowStream counted = new io.shardgate.proxy.session.RowStream() {
            private long sent;

            @Override
            public byte[][] next() {
                byte[][] row;
                try {
                    row = rows.next();
                } catch (RuntimeException e) {
                    stateRules.failed();
                    throw e;
                }
                if (row == null) {
                    stateRules.seenRows(sent);
                } else {
                    sent++;
                }
                return row;
            }

            @Override
            public int warnings() {
                return (int) Math.min(statementWarnings.count(), 0xFFFF);
            }

            @Override
            public int queryStatus() {
                return rows.queryStatus();
            }

            @Override
            public void close() {
                try {
                    rows.close();
                } finally {
                    if (streaming == statementWarnings) {
                        streaming = null;
                    }
                    if (openStream == this) {
                        openStream = null;
                    }
                }
            }
        };
        openStream = counted;
        return new StatementResult.Stream(stream.columns(), counted);
    }

    /**
     * Whether the client's statement has its rows streamed: a query (only rows come back) without server state to keep
     * (FOUND_ROWS(), SQL_CALC_FOUND_ROWS, INTO @x … are derived from whole results), sent by the client itself.
     */
    private static boolean streams(AnalysedStatement statement, boolean clientStatement) {
        return clientStatement && statement.isQuery() && statement.serverState().none();
    }

    private StatementResult runCounted(AnalysedStatement statement, List<Object> parameters, boolean clientStatement) {
        try {
            return runStatement(statement, parameters, streams(statement, clientStatement));
        } catch (RuntimeException e) {
            stateRules.failed();
            throw e;
        }
    }

    /** A call of the running statement on {@code shard} reported {@code count} warnings, which its connection listed as {@code shown}. */
    void warnings(String shard, int count, StatementResult.Rows shown) {
        StatementWarnings target = running != null ? running : streaming;
        if (target != null) {
            target.add(shard, count, shown);
        }
    }

    private StatementResult runStatement(AnalysedStatement statement, List<Object> parameters, boolean stream) {
        io.shardgate.router.ServerState state = statement.serverState();
        if (!state.none()) {
            // SQL PREPARE/EXECUTE, SELECT … INTO @x and LAST_INSERT_ID() in a statement are the proxy's before any routing
            var rewritten = stateRules.beforeRouting(statement.sql(), state, parameters);
            if (rewritten.isPresent()) {
                return rewritten.get();
            }
        }
        long holdStart = 0;
        while (true) {
            SnapshotGate.Ticket ticket = core.enter();
            boolean handedOver = false;
            try {
                RoutingSnapshot snapshot = ticket.snapshot();
                ids.begin();
                io.shardgate.router.RoutedStatement routed = core.router().routeStatement(statement, parameters, snapshot, spread++, ids);
                RoutePlan plan = routed.plan();
                core.metrics().statement(kind(plan));
                if (plan instanceof RoutePlan.Held h) {
                    ticket.close();
                    holdStart = holdStart == 0 ? System.nanoTime() : holdStart;
                    awaitRelease(h, holdStart);
                    continue;
                }
                if (routed.writesShardedRows()) {
                    checkFence(routed);
                    routed.writtenKeys().forEach(core.countWrite());
                } else if (!routed.holdsSnapshot()) {
                    ticket.close(); // see RoutedStatement#holdsSnapshot
                }
                if (transactional()) {
                    holdUntilTransactionEnds(routed, statement, ticket);
                }
                long previousInsertId = lastInsertId;
                List<Object> bound = ids.generated() && !(plan instanceof RoutePlan.Rejected) ? ids.withIds(parameters) : parameters;
                if (!state.none()) {
                    return withSequenceIds(stateRules.execute(statement, state, plan,
                            () -> execute(statement, plan, bound, snapshot, ticket, false)), previousInsertId);
                }
                StatementResult executed = execute(statement, plan, bound, snapshot, ticket, stream);
                if (postgres() && statement.modifiesRows() && inTransaction()) {
                    backends.transactionWrote(ServerStateRules.shards(plan));
                }
                StatementResult result = withSequenceIds(stateRules.seen(executed), previousInsertId);
                if (result instanceof StatementResult.Stream st) {
                    handedOver = true;
                    return holding(st, ticket);
                }
                return result;
            } finally {
                if (!handedOver) {
                    ticket.close();
                }
            }
        }
    }

    /**
     * A write of the client's transaction stays uncommitted until the transaction ends: a move must not start copying its
     * slots before then (the backfill cannot see a row it inserted), nor a cleanup deleting them if it made dual-write
     * copies. Broadcast tables never move. {@code ticket} is open: every write holds its snapshot.
     */
    private void holdUntilTransactionEnds(io.shardgate.router.RoutedStatement routed, AnalysedStatement statement,
            SnapshotGate.Ticket ticket) {
        RoutePlan plan = routed.plan();
        if ((routed.writesShardedRows() || statement.modifiesRows()) && !(plan instanceof RoutePlan.Broadcast)) {
            backends.holdWritesUntilTransactionEnds(ticket, ServerStateRules.shards(plan));
        }
        if (routed.writesMovingSlots()) {
            backends.holdCopiesUntilTransactionEnds(ticket);
        }
    }

    /**
     * An INSERT whose ids the proxy filled from a cluster sequence answers with the first of them, as MySQL does for
     * its own AUTO_INCREMENT (the shards saw explicit values); one that gave explicit ids only leaves
     * {@code LAST_INSERT_ID()} as it was.
     */
    private StatementResult withSequenceIds(StatementResult result, long previousInsertId) {
        if (ids.generated()) {
            lastInsertId = ids.first();
            ids.begin();
            return result instanceof StatementResult.Update u
                    ? new StatementResult.Update(u.affectedRows(), lastInsertId, u.warnings(), u.info(), u.queryStatus()) : result;
        }
        if (ids.touched()) {
            lastInsertId = previousInsertId;
        }
        ids.begin();
        return result;
    }

    /** The session's max_error_count (how many warnings SHOW WARNINGS lists) as a backend carrying its settings has it. */
    private long maxErrorCount() {
        StatementResult r = executor.outsideTransaction(defaultShard(), "SELECT @@SESSION.max_error_count");
        return r instanceof StatementResult.Rows rows && !rows.rows().isEmpty() && rows.rows().getFirst()[0] != null
                ? Long.parseLong(new String(rows.rows().getFirst()[0], java.nio.charset.StandardCharsets.US_ASCII)) : 64;
    }

    /**
     * The session's sql_mode was set to {@code value} (as written): its status flags follow it. They are read back from a
     * backend carrying the session's settings when the value names them, or when the session has some (a new value may
     * drop them); a value naming neither keeps none (Connector/J's {@code CONCAT(@@sql_mode, ',STRICT_TRANS_TABLES')} costs
     * no round trip).
     */
    void sqlModeSet(String value) {
        String v = value.toUpperCase(java.util.Locale.ROOT);
        if (modeStatus != 0 || v.contains("ANSI") || v.contains("BACKSLASH") || v.contains("ORACLE") || v.contains("MSSQL")
                || v.contains("DB2") || v.contains("POSTGRESQL") || v.contains("MAXDB")) {
            modeStatus = SessionState.modeStatus(sqlMode());
        }
    }

    /** The session's sql_mode as a backend carrying its settings has it (see {@link SessionIds}). */
    private String sqlMode() {
        StatementResult r = executor.outsideTransaction(defaultShard(), "SELECT @@SESSION.sql_mode");
        return r instanceof StatementResult.Rows rows && !rows.rows().isEmpty() && rows.rows().getFirst()[0] != null
                ? new String(rows.rows().getFirst()[0], java.nio.charset.StandardCharsets.UTF_8) : "";
    }

    /** {@code stream} holding the statement's snapshot until its rows are all sent (see {@link #run(AnalysedStatement, List)}). */
    private static StatementResult.Stream holding(StatementResult.Stream stream, SnapshotGate.Ticket ticket) {
        io.shardgate.proxy.session.RowStream rows = stream.rows();
        return new StatementResult.Stream(stream.columns(), new io.shardgate.proxy.session.RowStream() {
            @Override
            public byte[][] next() {
                return rows.next();
            }

            @Override
            public int warnings() {
                return rows.warnings();
            }

            @Override
            public int queryStatus() {
                return rows.queryStatus();
            }

            @Override
            public void close() {
                try {
                    rows.close();
                } finally {
                    ticket.close();
                }
            }
        });
    }

    private StatementResult execute(AnalysedStatement statement, RoutePlan plan, List<Object> parameters, RoutingSnapshot snapshot,
            SnapshotGate.Ticket ticket, boolean stream) {
        return switch (plan) {
            case RoutePlan.SingleShard s -> stream ? executor.singleStream(s.statement(), parameters)
                    : executor.single(s.statement(), parameters);
            case RoutePlan.MultiShard m -> stream && PlanExecutor.streams(m) ? executor.multiStream(m, parameters)
                    : executor.multi(m, parameters);
            case RoutePlan.Broadcast b -> {
                statement.createdStringKey(snapshot.cluster()).ifPresent(key -> KeyCollationCheck.require(key, postgres(), b.shards(),
                        backends, core.topology().logicalDatabase()));
                yield SequenceRegistration.afterDdl(core, backends, statement, snapshot, executor.broadcast(b, parameters));
            }
            case RoutePlan.AnyShard a -> anyShard(a, statement.sql(), parameters);
            case RoutePlan.Session s -> sessionCommand(s);
            case RoutePlan.DualWrite d -> executor.dualWrite(d, parameters);
            case RoutePlan.Rejected r -> {
                if (r.reason() == RejectReason.INSERT_WITHOUT_COLUMN_LIST) {
                    ticket.close();
                    yield runWithColumnList(statement, parameters, snapshot, r);
                }
                throw Rejections.of(r);
            }
            case RoutePlan.Held h -> throw new IllegalStateException("held plans are waited for before execution: " + h);
        };
    }

    // ---- moving slots

    /** A fenced proxy refuses writes to moving slots; one whose session may have expired refuses every sharded write. */
    void checkFence(io.shardgate.router.RoutedStatement routed) {
        boolean moving = routed.writesMovingSlots();
        if (core.fencedEverywhere()) {
            throw new ProxyException(ErrorCode.FENCED, "Shardgate refuses writes to sharded tables for now: its ZooKeeper session was"
                    + " lost, so slots may be moving without it knowing; retry once it has reconnected and re-read the slot map");
        }
        if (moving && core.fenced()) {
            throw new ProxyException(ErrorCode.FENCED, "Shardgate refuses writes to moving slots for now: its ZooKeeper connection is"
                    + " suspended; retry once it has reconnected and re-read the slot map");
        }
    }

    private void awaitRelease(RoutePlan.Held held, long holdStart) {
        long waited = System.nanoTime() - holdStart;
        java.time.Duration left = core.settings().holdTimeout().minusNanos(waited);
        boolean released;
        try {
            released = !left.isNegative() && core.gate().awaitNewerThan(held.epoch(), left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProxyException(ErrorCode.WRITE_HOLD_TIMEOUT, "interrupted while holding a statement: " + held.reason(), e);
        }
        if (!released) {
            // held plans are writes to slots in cutover, or any statement on a hot key being split or merged
            throw new ProxyException(ErrorCode.WRITE_HOLD_TIMEOUT, "Shardgate held this statement for "
                    + java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - holdStart) + " ms and no newer slot map"
                    + " released it (" + held.reason() + "); nothing was run, retry");
        }
        core.holds().record(System.nanoTime() - holdStart);
    }

    /** {@code INSERT INTO t VALUES …}: name t's columns (read from a shard now) and route again. */
    private StatementResult runWithColumnList(AnalysedStatement statement, List<Object> parameters, RoutingSnapshot snapshot,
            RoutePlan.Rejected why) {
        var dialect = snapshot.cluster().dialect();
        var named = InsertColumns.named(statement.sql(), dialect, table -> columnNames(table, dialect));
        if (named.isEmpty()) {
            throw Rejections.of(why);
        }
        AnalysedStatement completed = core.analyse(named.get(), dialect);
        if (core.router().route(completed, parameters, snapshot) instanceof RoutePlan.Rejected again
                && again.reason() == RejectReason.INSERT_WITHOUT_COLUMN_LIST) {
            throw Rejections.of(again);
        }
        return run(completed, parameters);
    }

    private List<String> columnNames(String table, io.shardgate.cluster.Dialect dialect) {
        StatementResult result = query("SELECT * FROM " + InsertColumns.quote(table, dialect) + " LIMIT 0");
        return result instanceof StatementResult.Rows rows
                ? rows.columns().stream().map(c -> c.orgName().isEmpty() ? c.name() : c.orgName()).toList()
                : List.of();
    }

    private StatementResult anyShard(RoutePlan.AnyShard plan, String sql, List<Object> parameters) {
        // PostgreSQL shards answer table-less SELECTs themselves: the local answers are MySQL's types and functions
        var local = parameters.isEmpty() && !postgres() ? core.topology().localAnswers().answer(sql, plan.columns(), this)
                : java.util.Optional.<StatementResult.Rows>empty();
        StatementResult result = local.isPresent() ? local.get() : executor.single(plan.statement(), parameters);
        if (!plan.columns().isEmpty() && running != null && running.count() == 0) {
            keepWarnings = true; // MariaDB clears the warnings list for a statement that uses tables or has warnings of its own
        }
        return result;
    }

    /** A connection of the transaction broke: the transaction is over, rolled back on every shard (see {@link SessionBackends#abandon}). */
    ProxyException endTransaction(ProxyException error, String brokenShard) {
        explicitTransaction = false;
        transactionStart = List.of();
        return backends.abandon(error, brokenShard);
    }

    // ---- session statements

    private StatementResult sessionCommand(RoutePlan.Session plan) {
        return SessionCommands.apply(this, plan.command(), plan.sql());
    }

    boolean transactional() {
        return explicitTransaction || !autocommit;
    }

    boolean inTransaction() {
        return explicitTransaction || backends.hasPinned();
    }

    /** SQL run on a connection when it joins the transaction (SET TRANSACTION, START TRANSACTION …). */
    List<String> transactionStart() {
        return transactionStart;
    }

    /** The shards rolled the transaction back (a deadlock, a failed dual-write copy): it is over for the client too. */
    void transactionEndedByShard() {
        explicitTransaction = false;
        cursors.transactionEnded();
    }

    void forgetTransactionStart() {
        transactionStart = List.of();
    }

    /** The shard whose connection answered the last statement (SHOW WARNINGS asks it while it is pinned). */
    void answeredBy(String shard) {
        lastShard = shard;
    }

    void notice(BackendNotice notice) {
        notices.add(notice);
    }

    void begin(String characteristics) {
        if (inTransaction()) {
            if (postgres()) {
                return; // PostgreSQL warns and goes on with the open transaction
            }
            commit(); // MySQL commits an open transaction on BEGIN
        }
        explicitTransaction = true;
        backends.transactionBegins();
        startTransactionWith(characteristics);
    }

    boolean postgres() {
        return core.topology().cluster().dialect() == io.shardgate.cluster.Dialect.POSTGRES;
    }

    /**
     * PostgreSQL {@code SET TRANSACTION …} inside a transaction: applies to it, so to every shard's part of it (the
     * shards it reaches later get it as they join). Outside one PostgreSQL only warns, and so does nothing here.
     */
    void setCurrentTransaction(String characteristics) {
        if (!explicitTransaction) {
            return;
        }
        String sql = "SET TRANSACTION " + characteristics;
        List<String> start = new ArrayList<>(transactionStart);
        start.add(sql);
        transactionStart = List.copyOf(start);
        backends.runOnPinned(sql);
    }

    /**
     * Consumes a pending SET TRANSACTION; both it and BEGIN's own characteristics apply, as in MySQL. On PostgreSQL the
     * driver has already begun the shard's transaction when these run, so BEGIN's characteristics become SET TRANSACTION.
     */
    private void startTransactionWith(String characteristics) {
        List<String> sql = new ArrayList<>(2);
        if (nextTransactionCharacteristics != null) {
            sql.add("SET TRANSACTION " + nextTransactionCharacteristics);
            nextTransactionCharacteristics = null;
        }
        if (!characteristics.isEmpty()) {
            sql.add((postgres() ? "SET TRANSACTION " : "START TRANSACTION ") + characteristics);
        }
        transactionStart = List.copyOf(sql);
    }

    void commit() {
        try {
            backends.commit();
        } finally {
            endTransactionState();
        }
    }

    void rollback() {
        backends.rollback();
        endTransactionState();
    }

    private void endTransactionState() {
        explicitTransaction = false;
        cursors.transactionEnded();
        transactionStart = List.of();
        if (!autocommit && nextTransactionCharacteristics != null) {
            startTransactionWith("");
        }
    }

    void setAutocommit(boolean enabled) {
        if (enabled && !autocommit && inTransaction()) {
            commit(); // MySQL commits when autocommit goes from 0 to 1
        }
        autocommit = enabled;
    }

    void setNextTransaction(String characteristics) {
        if (inTransaction()) {
            throw ProxyException.backend(1568, "25001", "Transaction characteristics can't be changed while a transaction is in progress",
                    null);
        }
        nextTransactionCharacteristics = characteristics;
        if (!autocommit) {
            startTransactionWith(""); // the next statement starts the transaction
        }
    }

    SessionBackends backends() {
        return backends;
    }

    io.shardgate.proxy.session.ClientCharset charset() {
        return charset;
    }

    /** The client character set from now on (its SET is already among the session settings). */
    void charset(io.shardgate.proxy.session.ClientCharset charset) {
        this.charset = charset;
    }

    String defaultShard() {
        return core.topology().cluster().defaultShard();
    }

    void use(String schema) {
        initDb(schema);
    }

    /**
     * SHOW WARNINGS / ERRORS: from the previous statement's warnings when it had some, else on the previous statement's
     * connection while it is pinned, else an empty answer.
     */
    StatementResult diagnostics(String sql) {
        keepWarnings = true;
        if (warnings.count() > 0) {
            var listed = warnings.answer(sql, this::maxErrorCount);
            if (listed.isPresent()) {
                return listed.get();
            }
        }
        if (lastShard != null) {
            var answer = executor.onPinned(lastShard, sql);
            if (answer.isPresent()) {
                return answer.get();
            }
        }
        if (sql.toUpperCase(java.util.Locale.ROOT).contains("COUNT")) {
            boolean errors = sql.toUpperCase(java.util.Locale.ROOT).contains("ERRORS");
            return new StatementResult.Rows(List.of(ColumnInfo.computedCounter("@@session." + (errors ? "error_count" : "warning_count"))),
                    List.<byte[][]>of(new byte[][] {"0".getBytes()}), 0);
        }
        return new StatementResult.Rows(WARNING_COLUMNS, List.of(), 0);
    }

    // ---- prepare helpers

    private AnalysedStatement prepared(int id, String command) {
        AnalysedStatement s = prepared.get(id);
        if (s == null) {
            throw new ProxyException(ErrorCode.UNKNOWN_PREPARED_STATEMENT, "Unknown prepared statement handler (" + id + ") given to "
                    + command);
        }
        return s;
    }

    private static String metadataShard(RoutePlan plan, RoutingSnapshot snapshot) {
        return switch (plan) {
            case RoutePlan.SingleShard s -> s.statement().shard();
            case RoutePlan.MultiShard m -> m.statements().getFirst().shard();
            case RoutePlan.Broadcast b -> b.shards().getFirst();
            case RoutePlan.AnyShard a -> a.statement().shard();
            case RoutePlan.DualWrite d -> d.statement().shard();
            case RoutePlan.Session s -> snapshot.cluster().defaultShard();
            case RoutePlan.Held h -> snapshot.cluster().defaultShard();
            case RoutePlan.Rejected r -> snapshot.cluster().defaultShard();
        };
    }

    /** The metrics label of a plan. */
    private static String kind(RoutePlan plan) {
        return switch (plan) {
            case RoutePlan.SingleShard s -> "single";
            case RoutePlan.MultiShard m -> m.copies().isEmpty() ? "multi" : "multi-dual-write";
            case RoutePlan.DualWrite d -> "dual-write";
            case RoutePlan.Broadcast b -> "broadcast";
            case RoutePlan.AnyShard a -> "any";
            case RoutePlan.Session x -> "session";
            case RoutePlan.Held h -> "held";
            case RoutePlan.Rejected r -> "rejected";
        };
    }
}

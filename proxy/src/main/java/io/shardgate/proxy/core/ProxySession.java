package io.shardgate.proxy.core;

import io.shardgate.proxy.core.SessionBackends.Lease;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendErrors;
import io.shardgate.proxy.exec.ShardExecutor;
import io.shardgate.proxy.exec.merge.ResultMerger;
import io.shardgate.proxy.exec.merge.ShardRows;
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
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * One client session: routes each statement with the current snapshot, runs the plan on the shards'
 * connections and merges the results. Called by one thread at a time (the front end's session thread);
 * multi-shard plans run their shards in parallel on virtual threads.
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
 *   <li>SHOW WARNINGS is answered by the backend connection of the previous statement only while it is
 *       pinned to a transaction; otherwise the warnings went back to the pool with it and the answer is empty.</li>
 * </ul>
 */
final class ProxySession implements FrontendSession, LocalAnswers.SessionFacts {
    /** Notices and warnings the shards sent while this session's statements ran, until the front end takes them. */
    private final java.util.Queue<BackendNotice> notices = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private static final ColumnInfo PARAMETER = ColumnInfo.computed("?", ColumnType.VARCHAR, 0);
    private static final int NOT_PREPARABLE = 1295;
    private static final int DEADLOCK = 1213;
    private static final String PG_DEADLOCK = "40P01";
    private static final int LOCK_WAIT_TIMEOUT = 1205;
    private static final String PG_LOCK_NOT_AVAILABLE = "55P03";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProxySession.class);

    private final ProxyCore core;
    private final ClientInfo client;
    private final long connectionId;
    private final SessionBackends backends;
    private final ServerStateRules stateRules;
    private final Map<Integer, AnalysedStatement> prepared = new HashMap<>();
    private int nextStatementId = 1;
    private String schema;
    /** The MySQL client character set: how the client's statement bytes are read (and the backends are told). */
    private io.shardgate.proxy.session.ClientCharset charset;
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

    ProxySession(ProxyCore core, ClientInfo client, long connectionId, String schema) {
        this.core = core;
        this.client = client;
        this.connectionId = connectionId;
        this.schema = schema;
        this.backends = new SessionBackends(core.pools(), core.connectionStates(), core.topology().cluster().dialect(), core.pinned());
        this.spread = (int) connectionId;
        this.stateRules = new ServerStateRules(this, backends);
        this.ids = new SessionIds(core.sequences(), () -> backends.settings().fingerprint(), this::sqlMode);
        this.charset = client.charset();
        if (!charset.utf8mb4()) {
            SessionCommands.useCharset(this, charset, "SET NAMES " + charset.mysqlName());
        }
    }

    // ---- FrontendSession

    @Override
    public void initDb(String schema) {
        this.schema = ProxyCore.requireDatabase(schema, core.topology());
    }

    @Override
    public StatementResult query(byte[] sql) {
        return postgres() ? query(io.shardgate.proxy.session.ClientCharset.UTF8MB4.decode(sql))
                : query(io.shardgate.proxy.session.ClientSql.of(sql, charset));
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
                && NativeRelay.tryRelay(core, this, backends, stateRules, sql, target);
    }

    /** A statement was relayed on {@code shard} (see {@link NativeRelay}). */
    void relayed(String shard) {
        lastShard = shard;
    }

    @Override
    public PreparedInfo prepare(byte[] sql) {
        return prepare((postgres() ? io.shardgate.proxy.session.ClientCharset.UTF8MB4 : charset).decode(sql));
    }

    @Override
    public StatementResult query(String sql) {
        if (!postgres()) {
            return query(io.shardgate.proxy.session.ClientSql.ofText(sql, charset));
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
        RoutingSnapshot snapshot = core.snapshot();
        AnalysedStatement statement = core.analyse(sql, snapshot.cluster().dialect());
        List<Object> nulls = Collections.nCopies(statement.parameterCount(), null);
        RoutePlan plan = core.router().route(statement, nulls, snapshot);
        if (plan instanceof RoutePlan.Rejected r && (r.reason() == RejectReason.PARSE_ERROR
                || r.reason() == RejectReason.STATEMENT_TOO_COMPLEX)) {
            throw rejected(r);
        }
        List<ColumnInfo> columns = plan instanceof RoutePlan.Session ? List.of() : describe(statement.jdbcSql(), metadataShard(plan, snapshot));
        int id = nextStatementId++;
        prepared.put(id, statement);
        return new PreparedInfo(id, Collections.nCopies(statement.parameterCount(), PARAMETER), columns);
    }

    @Override
    public StatementResult execute(int statementId, List<Object> parameters) {
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

    @Override
    public void closeStatement(int statementId) {
        prepared.remove(statementId);
    }

    @Override
    public void resetStatement(int statementId) {
        prepared(statementId, "mysqld_stmt_reset");
    }

    @Override
    public void cancel() {
        backends.cancelRunning();
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
        return new SessionState(schema, autocommit, inTransaction());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        core.sessionClosed();
        backends.endSession();
        prepared.clear();
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
    public long foundRows() {
        return stateRules.foundRows();
    }

    @Override
    public long rowCount() {
        return stateRules.rowCount();
    }

    void lastInsertId(long value) {
        lastInsertId = value;
    }

    ServerStateRules stateRules() {
        return stateRules;
    }

    /** Refuses {@code sql} as {@link #prepare} would: when it cannot be parsed, or could never be routed. */
    void check(String sql) {
        RoutingSnapshot snapshot = core.snapshot();
        AnalysedStatement statement = core.analyse(sql, snapshot.cluster().dialect());
        RoutePlan plan = core.router().route(statement, Collections.nCopies(statement.parameterCount(), null), snapshot);
        if (plan instanceof RoutePlan.Rejected r && r.reason() == RejectReason.PARSE_ERROR) {
            throw rejected(r);
        }
    }

    /** The proxy's own answer to a table-less SELECT, when it has one (MySQL only). */
    java.util.Optional<StatementResult.Rows> localAnswer(RoutePlan plan, String sql) {
        return plan instanceof RoutePlan.AnyShard a && !postgres() ? core.topology().localAnswers().answer(sql, a.columns(), this)
                : java.util.Optional.empty();
    }

    // ---- routing

    /**
     * Routes with the current snapshot and runs the plan. A statement about sharded tables holds its snapshot
     * in the core's {@link SnapshotGate} until it has run, so the proxy acknowledges a new epoch only after it
     * finished: a write must not land on a shard that stopped being authoritative, and a read routed before a
     * cutover must not read a source whose copies the cleanup is deleting. (A statement that runs longer than
     * the drain timeout therefore delays a cutover, which the migrator retries.) A write to slots in cutover, and any
     * statement on a hot key being split or merged, is held (not failed) until a newer snapshot arrives, then routed
     * again; holding longer than the hold timeout fails it with WRITE_HOLD_TIMEOUT. Inside a client transaction the
     * held statement keeps the transaction's connections (and row locks) while it waits.
     */
    private StatementResult run(AnalysedStatement statement, List<Object> parameters) {
        try {
            return runStatement(statement, parameters);
        } catch (RuntimeException e) {
            stateRules.failed();
            throw e;
        }
    }

    private StatementResult runStatement(AnalysedStatement statement, List<Object> parameters) {
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
            try {
                RoutingSnapshot snapshot = ticket.snapshot();
                ids.begin();
                RoutePlan plan = core.router().route(statement, parameters, snapshot, spread++, ids);
                core.metrics().statement(kind(plan));
                if (plan instanceof RoutePlan.Held h) {
                    ticket.close();
                    holdStart = holdStart == 0 ? System.nanoTime() : holdStart;
                    awaitRelease(h, holdStart);
                    continue;
                }
                if (statement.writesShardedRows(snapshot.cluster())) {
                    checkFence(plan);
                    if (!(plan instanceof RoutePlan.Rejected)) {
                        statement.forEachWrittenKey(snapshot.cluster(), parameters, core.countWrite());
                    }
                } else if (!statement.touchesShardedRows(snapshot.cluster()) && !statement.modifiesRows()) {
                    // reads of other tables never delay an acknowledgement; writes to them do, so that a table that
                    // 'table shard' turns into a sharded one has no write as a single table left once its rows move
                    ticket.close();
                }
                long previousInsertId = lastInsertId;
                List<Object> bound = ids.generated() && !(plan instanceof RoutePlan.Rejected) ? ids.withIds(parameters) : parameters;
                if (!state.none()) {
                    return withSequenceIds(stateRules.execute(statement, state, plan,
                            () -> execute(statement, plan, bound, snapshot, ticket)), previousInsertId);
                }
                return withSequenceIds(stateRules.seen(execute(statement, plan, bound, snapshot, ticket)), previousInsertId);
            } finally {
                ticket.close();
            }
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
                    ? new StatementResult.Update(u.affectedRows(), lastInsertId, u.warnings(), u.info()) : result;
        }
        if (ids.touched()) {
            lastInsertId = previousInsertId;
        }
        ids.begin();
        return result;
    }

    /** The session's sql_mode as a backend carrying its settings has it (see {@link SessionIds}). */
    private String sqlMode() {
        Lease lease = backends.borrow(defaultShard());
        long start = System.nanoTime();
        try {
            StatementResult r = ShardExecutor.run(lease.connection(), "SELECT @@SESSION.sql_mode", List.of(),
                    core.topology().logicalDatabase(), notices::add);
            return r instanceof StatementResult.Rows rows && !rows.rows().isEmpty() && rows.rows().getFirst()[0] != null
                    ? new String(rows.rows().getFirst()[0], java.nio.charset.StandardCharsets.UTF_8) : "";
        } catch (SQLException e) {
            throw failure(lease, e, start);
        } finally {
            backends.release(lease);
        }
    }

    private StatementResult execute(AnalysedStatement statement, RoutePlan plan, List<Object> parameters, RoutingSnapshot snapshot,
            SnapshotGate.Ticket ticket) {
        return switch (plan) {
            case RoutePlan.SingleShard s -> single(s.statement(), parameters);
            case RoutePlan.MultiShard m -> m.copies().isEmpty() ? multi(m, parameters) : multiWithCopies(m, parameters);
            case RoutePlan.Broadcast b -> {
                statement.createdStringKey(snapshot.cluster()).ifPresent(key -> KeyCollationCheck.require(key, postgres(), b.shards(),
                        backends, core.topology().logicalDatabase()));
                yield SequenceRegistration.afterDdl(core, backends, statement, snapshot, broadcast(b, parameters));
            }
            case RoutePlan.AnyShard a -> anyShard(a, statement.sql(), parameters);
            case RoutePlan.Session s -> sessionCommand(s);
            case RoutePlan.DualWrite d -> dualWrite(d.statement(), d.copies(), parameters);
            case RoutePlan.Rejected r -> {
                if (r.reason() == RejectReason.INSERT_WITHOUT_COLUMN_LIST) {
                    ticket.close();
                    yield runWithColumnList(statement, parameters, snapshot, r);
                }
                throw rejected(r);
            }
            case RoutePlan.Held h -> throw new IllegalStateException("held plans are waited for before execution: " + h);
        };
    }

    // ---- moving slots

    /** A fenced proxy refuses writes to moving slots; one whose session may have expired refuses every sharded write. */
    private void checkFence(RoutePlan plan) {
        boolean moving = plan instanceof RoutePlan.DualWrite || plan instanceof RoutePlan.MultiShard m && !m.copies().isEmpty();
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

    /**
     * A write on its authoritative shard with the copies of its keys to the shadow shards (see {@link RowImages}).
     * Outside a client transaction the proxy makes one: lookups, the write, the copies, then the shadows commit and
     * the authoritative shard last. Inside one, the shadows' connections join the transaction and commit with it;
     * a failed copy rolls the whole transaction back, since its write must never commit without its copy.
     */
    private StatementResult dualWrite(ShardStatement statement, List<ShadowCopy> copies, List<Object> parameters) {
        if (transactional()) {
            return dualWriteOnce(statement, copies, parameters);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                return dualWriteOnce(statement, copies, parameters);
            } catch (LockConflict conflict) {
                if (attempt >= conflict.attempts()) {
                    throw conflict.error();
                }
                core.metrics().dualWriteRetried(conflict.kind());
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.ThreadLocalRandom.current()
                        .nextLong(1, 10L * attempt + 1) * 1_000_000L); // apart, so that the two sides do not collide again
            }
        }
    }

    /**
     * A dual write of the proxy's own transaction that a shard ended with a deadlock or a lock wait timeout, before
     * anything committed: the proxy runs it again, as a client would retry it, since one server would not have failed
     * this autocommit statement. The cause is on the shadow: each copy deletes the key's rows and inserts the source's
     * image, so under REPEATABLE READ two copies of neighbouring keys take gap locks on the same gap and then each
     * waits to insert into the other's (InnoDB's classic insert-intention deadlock), where the single-row statements
     * themselves never conflict.
     */
    private static final class LockConflict extends RuntimeException {
        private final ProxyException error;
        private final String kind;
        private final int attempts;

        LockConflict(ProxyException error, String kind, int attempts) {
            super(error.getMessage(), error, false, false);
            this.error = error;
            this.kind = kind;
            this.attempts = attempts;
        }

        ProxyException error() {
            return error;
        }

        String kind() {
            return kind;
        }

        int attempts() {
            return attempts;
        }

        /** A deadlock is retried up to 5 times; a lock wait timeout once (each already waited the shard's lock timeout). */
        static LockConflict of(SQLException e, ProxyException error) {
            if (e.getErrorCode() == DEADLOCK || PG_DEADLOCK.equals(e.getSQLState())) {
                return new LockConflict(error, "deadlock", 5);
            }
            if (e.getErrorCode() == LOCK_WAIT_TIMEOUT || PG_LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                return new LockConflict(error, "lock-wait-timeout", 2);
            }
            return null;
        }
    }

    private StatementResult dualWriteOnce(ShardStatement statement, List<ShadowCopy> copies, List<Object> parameters) {
        boolean inClientTransaction = transactional();
        Lease source = backends.acquire(statement.shard(), inClientTransaction, transactionStart());
        List<Lease> shadows = new ArrayList<>();
        Lease current = source;
        long start = System.nanoTime();
        boolean wrote = false;
        boolean committing = false;
        boolean committed = false;
        String copyingTo = statement.shard();
        try {
            if (!inClientTransaction) {
                source.connection().setAutoCommit(false);
            }
            List<List<Object>> keys = new ArrayList<>(copies.size());
            for (ShadowCopy copy : copies) {
                keys.add(switch (copy.keys()) {
                    case ShadowCopy.KnownKeys k -> k.keys();
                    case ShadowCopy.LookupKeys l -> inUtf8(source.connection(),
                            () -> RowImages.lookUp(source.connection(), statement.shard(), l, parameters));
                });
            }
            StatementResult result = timed(statement.shard(), () -> onShard(source.connection(), statement, parameters));
            wrote = true;
            for (int i = 0; i < copies.size(); i++) {
                ShadowCopy copy = copies.get(i);
                if (keys.get(i).isEmpty()) {
                    continue;
                }
                copyingTo = copy.shadowShard();
                current = shadow(copy.shadowShard(), inClientTransaction, shadows);
                start = System.nanoTime();
                Lease shadowLease = current;
                List<Object> copied = keys.get(i);
                inUtf8(source.connection(), () -> inUtf8(shadowLease.connection(),
                        () -> RowImages.copy(source.connection(), shadowLease.connection(), copy.table(), copy.keyColumn(), copied)));
            }
            if (!inClientTransaction) {
                committing = true;
                for (Lease shadow : shadows) {
                    current = shadow;
                    shadow.connection().commit();
                }
                current = source;
                source.connection().commit();
                committed = true;
            }
            return remember(source, result);
        } catch (SQLException e) {
            ProxyException error = BackendErrors.translate(e, current.pool(), start);
            if (!inClientTransaction) {
                rollbackQuietly(source, shadows);
                LockConflict conflict = committing ? null : LockConflict.of(e, error);
                throw conflict != null ? conflict : error;
            }
            if (!wrote) {
                throw failure(current, e, start); // the statement failed on its own: the transaction goes on as usual
            }
            backends.rollback();
            explicitTransaction = false;
            transactionStart = List.of();
            String message = error.getMessage() + "; the write touched slots that are moving and its copy to shard "
                    + current.shard() + " failed, so the transaction was rolled back on every shard";
            // a backend error keeps its errno and SQLSTATE (a deadlock stays 1213, which clients retry)
            throw error.code() == null ? ProxyException.backend(error.error().mysqlErrno(), error.error().sqlState(), message, error)
                    : new ProxyException(error.code(), message, error);
        } catch (RuntimeException | Error e) {
            if (e instanceof ProxyException p) {
                if (!inClientTransaction || !wrote) {
                    throw p; // the proxy's own transaction is rolled back below, before autocommit is restored
                }
                // a shadow could not be reached after the write: the client's transaction must not commit it without its copy
                backends.rollback();
                explicitTransaction = false;
                transactionStart = List.of();
                String message = p.getMessage() + "; the write touched slots that are moving and its copy to shard " + copyingTo
                        + " could not be made, so the transaction was rolled back on every shard";
                throw p.code() == null ? ProxyException.backend(p.error().mysqlErrno(), p.error().sqlState(), message, p)
                        : new ProxyException(p.code(), message, p);
            }
            // the write may have run without its copy: no connection of this statement may commit or go back to the pool
            shadows.forEach(backends::markBroken);
            if (current != source) {
                backends.markBroken(current); // a pinned shadow of the client's transaction, halfway through its copy
            }
            throw unexpected(source, e);
        } finally {
            if (!inClientTransaction) {
                if (!committed) {
                    // turning autocommit back on commits what is pending: a write must never commit without its copies
                    rollbackQuietly(source, shadows);
                }
                restoreAutocommit(source);
                shadows.forEach(this::restoreAutocommit);
                shadows.forEach(backends::release);
            }
            backends.release(source);
        }
    }

    @FunctionalInterface
    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    /**
     * Runs the proxy's own statements of a dual write ({@link RowImages}: Connector/J Strings, which it sends as UTF-8
     * and decodes by each column's character set) on a connection that carries the session's character set settings:
     * switched to utf8mb4 around them and back, so a latin1 session's copy is not read as latin1. Costs nothing for
     * a session without character set settings; a connection that cannot be switched back is reset before its next use.
     */
    private <T> T inUtf8(java.sql.Connection c, SqlWork<T> work) throws SQLException {
        if (postgres() || !backends.settings().touchesCharset()) {
            return work.run();
        }
        List<String> saved = ShardExecutor.runBytes(c, ("SELECT @@character_set_client, @@character_set_connection,"
                + " @@character_set_results, @@collation_connection").getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                core.topology().logicalDatabase()) instanceof StatementResult.Rows r
                ? java.util.Arrays.stream(r.rows().getFirst()).map(v -> v == null ? "NULL" : "'" + new String(v,
                        java.nio.charset.StandardCharsets.US_ASCII) + "'").toList()
                : List.of();
        ShardExecutor.execute(c, "SET NAMES utf8mb4");
        boolean restored = false;
        try {
            T result = work.run();
            ShardExecutor.execute(c, "SET character_set_client = " + saved.get(0) + ", character_set_connection = " + saved.get(1)
                    + ", character_set_results = " + saved.get(2) + ", collation_connection = " + saved.get(3));
            restored = true;
            return result;
        } finally {
            if (!restored) {
                core.connectionStates().forget(c);
            }
        }
    }

    /** The connection that receives copies for {@code shard}: joins the client's transaction, or a fresh one of the proxy's. */
    private Lease shadow(String shard, boolean inClientTransaction, List<Lease> shadows) throws SQLException {
        if (inClientTransaction) {
            Lease lease = backends.acquire(shard, true, transactionStart());
            backends.receivesCopies(shard);
            return lease;
        }
        for (Lease l : shadows) {
            if (l.shard().equals(shard)) {
                return l;
            }
        }
        Lease lease = backends.borrow(shard);
        shadows.add(lease);
        long start = System.nanoTime();
        try {
            lease.connection().setAutoCommit(false);
        } catch (SQLException e) {
            throw BackendErrors.translate(e, lease.pool(), start); // named after the shadow, not the write's shard
        }
        return lease;
    }

    private static void rollbackQuietly(Lease source, List<Lease> shadows) {
        for (Lease l : shadows) {
            try {
                l.connection().rollback();
            } catch (SQLException ignored) {
                // a broken connection: the server rolls back on disconnect
            }
        }
        try {
            source.connection().rollback();
        } catch (SQLException ignored) {
            // as above
        }
    }

    private void restoreAutocommit(Lease lease) {
        try {
            lease.connection().setAutoCommit(true);
        } catch (SQLException e) {
            try {
                lease.connection().close(); // the pool discards a connection it cannot reset
            } catch (SQLException ignored) {
                // nothing more to do
            }
        }
    }

    /**
     * A multi-shard write whose keys include moving slots: each shard's statement runs as a dual write with the
     * copies for which it is authoritative, one shard after another (an autocommit write is not atomic across
     * shards, as for any multi-shard write).
     */
    private StatementResult multiWithCopies(RoutePlan.MultiShard plan, List<Object> parameters) {
        List<Outcome> outcomes = new ArrayList<>();
        for (ShardStatement st : plan.statements()) {
            List<ShadowCopy> mine = plan.copies().stream().filter(c -> c.authoritativeShard().equals(st.shard())).toList();
            try {
                outcomes.add(new Outcome(st.shard(), mine.isEmpty() ? single(st, parameters) : dualWrite(st, mine, parameters), null));
            } catch (ProxyException e) {
                outcomes.add(new Outcome(st.shard(), null, e));
                if (transactional()) {
                    break;
                }
            }
        }
        throwOnFailure(outcomes, transactional() ? null : "write");
        return switch (plan.merge()) {
            case MergePlan.AffectedRows a -> affectedRows(outcomes);
            case MergePlan.Rows r -> rows(outcomes, (cols, shards) -> ResultMerger.rows(cols, shards, r));
            case MergePlan.CounterRow c -> rows(outcomes, (cols, shards) -> ResultMerger.counterRow(cols, shards, c));
            case MergePlan.AffectedRowsOf a -> outcomes.stream().filter(o -> o.shard().equals(a.shard())).findFirst()
                    .orElseThrow().result();
        };
    }

    /** {@code INSERT INTO t VALUES …}: name t's columns (read from a shard now) and route again. */
    private StatementResult runWithColumnList(AnalysedStatement statement, List<Object> parameters, RoutingSnapshot snapshot,
            RoutePlan.Rejected why) {
        var dialect = snapshot.cluster().dialect();
        var named = InsertColumns.named(statement.sql(), dialect, table -> columnNames(table, dialect));
        if (named.isEmpty()) {
            throw rejected(why);
        }
        AnalysedStatement completed = core.analyse(named.get(), dialect);
        if (core.router().route(completed, parameters, snapshot) instanceof RoutePlan.Rejected again
                && again.reason() == RejectReason.INSERT_WITHOUT_COLUMN_LIST) {
            throw rejected(again);
        }
        return run(completed, parameters);
    }

    private List<String> columnNames(String table, io.shardgate.cluster.Dialect dialect) {
        StatementResult result = query("SELECT * FROM " + InsertColumns.quote(table, dialect) + " LIMIT 0");
        return result instanceof StatementResult.Rows rows
                ? rows.columns().stream().map(c -> c.orgName().isEmpty() ? c.name() : c.orgName()).toList()
                : List.of();
    }

    private StatementResult single(ShardStatement statement, List<Object> parameters) {
        Lease lease = backends.acquire(statement.shard(), transactional(), transactionStart());
        long start = System.nanoTime();
        try {
            ProxyCore.BackendFault fault = core.backendFault();
            if (fault != null) {
                fault.beforeStatement(statement.shard(), lease.connection());
            }
            return remember(lease, timed(statement.shard(), () -> onShard(lease.connection(), statement, parameters)));
        } catch (SQLException e) {
            throw failure(lease, e, start);
        } catch (RuntimeException | Error e) {
            throw unexpected(lease, e);
        } finally {
            backends.release(lease);
        }
    }

    private StatementResult anyShard(RoutePlan.AnyShard plan, String sql, List<Object> parameters) {
        // PostgreSQL shards answer table-less SELECTs themselves: the local answers are MySQL's types and functions
        var local = parameters.isEmpty() && !postgres() ? core.topology().localAnswers().answer(sql, plan.columns(), this)
                : java.util.Optional.<StatementResult.Rows>empty();
        return local.isPresent() ? local.get() : single(plan.statement(), parameters);
    }

    private StatementResult multi(RoutePlan.MultiShard plan, List<Object> parameters) {
        if (plan.merge() instanceof MergePlan.AffectedRowsOf home) {
            return homeFirst(plan, home.shard(), parameters);
        }
        List<Outcome> outcomes = runAll(plan.statements(), parameters);
        boolean isWrite = plan.merge() instanceof MergePlan.AffectedRows;
        throwOnFailure(outcomes, isWrite && !transactional() ? "write" : null);
        return switch (plan.merge()) {
            case MergePlan.AffectedRows a -> affectedRows(outcomes);
            case MergePlan.Rows r -> rows(outcomes, (cols, shards) -> ResultMerger.rows(cols, shards, r));
            case MergePlan.CounterRow c -> rows(outcomes, (cols, shards) -> ResultMerger.counterRow(cols, shards, c));
            case MergePlan.AffectedRowsOf a -> throw new IllegalStateException("home-first writes run in homeFirst: " + a);
        };
    }

    /**
     * A write to the sub-rows of one split counter key: home's statement first, on its own, so that a failure there
     * (a duplicate key, a constraint) leaves the other sub-rows untouched; then the others in parallel. The client
     * sees home's result: one logical row.
     */
    private StatementResult homeFirst(RoutePlan.MultiShard plan, String home, List<Object> parameters) {
        ShardStatement first = plan.statements().stream().filter(s -> s.shard().equals(home)).findFirst()
                .orElseThrow(() -> new IllegalStateException("plan without its home shard " + home + ": " + plan));
        StatementResult result = single(first, parameters);
        List<Outcome> outcomes = new ArrayList<>(plan.statements().size());
        outcomes.add(new Outcome(home, result, null));
        outcomes.addAll(runAll(plan.statements().stream().filter(s -> !s.shard().equals(home)).toList(), parameters));
        throwOnFailure(outcomes, transactional() ? null : "write");
        lastShard = home;
        return result;
    }

    private StatementResult broadcast(RoutePlan.Broadcast plan, List<Object> parameters) {
        List<ShardStatement> statements = plan.shards().stream().map(s -> new ShardStatement(s, plan.sql(), plan.parameters())).toList();
        List<Outcome> outcomes = runAll(statements, parameters);
        throwOnFailure(outcomes, transactional() ? null : "broadcast");
        return outcomes.getFirst().result();
    }

    /** The outcome of one shard's statement: a result or an error. */
    private record Outcome(String shard, StatementResult result, ProxyException error) {}

    /** Runs the statements in parallel, one per shard; connections are taken first, on this thread (pinning is not thread-safe). */
    private List<Outcome> runAll(List<ShardStatement> statements, List<Object> parameters) {
        List<Lease> leases = new ArrayList<>(statements.size());
        try {
            for (ShardStatement s : statements) {
                leases.add(backends.acquire(s.shard(), transactional(), transactionStart()));
            }
            List<Future<Outcome>> futures = new ArrayList<>(statements.size());
            String db = core.topology().logicalDatabase();
            for (int i = 0; i < statements.size(); i++) {
                ShardStatement s = statements.get(i);
                Lease lease = leases.get(i);
                futures.add(core.parallel().submit(() -> runOne(lease, s, parameters, db)));
            }
            List<Outcome> outcomes = new ArrayList<>(futures.size());
            for (Future<Outcome> f : futures) {
                outcomes.add(join(f));
            }
            return outcomes;
        } finally {
            leases.forEach(backends::release);
        }
    }

    private Outcome runOne(Lease lease, ShardStatement s, List<Object> parameters, String db) {
        long start = System.nanoTime();
        try {
            return new Outcome(s.shard(), timed(s.shard(), () -> onShard(lease.connection(), s, parameters)), null);
        } catch (SQLException e) {
            return new Outcome(s.shard(), null, BackendErrors.translate(e, lease.pool(), start));
        } catch (RuntimeException | Error e) {
            LOG.error("{}: unexpected failure of a statement; discarding its connection", lease.pool().describe(), e);
            backends.markBroken(lease); // a pinned one ends the transaction in throwOnFailure
            return new Outcome(s.shard(), null, BackendErrors.unexpected(e, lease.pool()));
        }
    }

    /**
     * Runs one shard statement. MySQL: as bytes in the client's character set, the client's own for a text statement
     * (see {@link SourceLiterals}), with bound values written in for a prepared one. PostgreSQL: through pgJDBC.
     */
    private StatementResult onShard(java.sql.Connection c, ShardStatement s, List<Object> parameters) throws SQLException {
        String db = core.topology().logicalDatabase();
        if (postgres()) {
            return ShardExecutor.run(c, s.sql(), s.bind(parameters), db, notices::add);
        }
        if (parameters instanceof SourceLiterals text) {
            return ShardExecutor.runBytes(c, text.bytesFor(s), db);
        }
        return ShardExecutor.runMySql(c, s.sql(), s.bind(parameters), charset, db);
    }

    private static Outcome join(Future<Outcome> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProxyException(ErrorCode.INTERNAL, "interrupted while waiting for shards", e);
        } catch (ExecutionException e) {
            throw new ProxyException(ErrorCode.INTERNAL, "a shard's statement failed unexpectedly: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Throws if any shard failed. A read, or a write inside a transaction (the client can roll back), reports
     * the first error unchanged; an autocommit write or DDL that some shards applied says which did and did not.
     */
    private void throwOnFailure(List<Outcome> outcomes, String partialKind) {
        List<String> applied = outcomes.stream().filter(o -> o.error() == null).map(Outcome::shard).toList();
        Outcome failed = outcomes.stream().filter(o -> o.error() != null).findFirst().orElse(null);
        if (failed == null) {
            outcomes.forEach(o -> lastShard = o.shard());
            return;
        }
        ProxyException first = failed.error();
        if (first.code() == ErrorCode.SHARD_UNAVAILABLE && backends.pinnedLease(failed.shard()) != null) {
            throw endTransaction(first, failed.shard());
        }
        for (Outcome o : outcomes) {
            Lease pinned = o.error() == null ? null : backends.pinnedLease(o.shard());
            if (pinned != null && backends.isBroken(pinned)) {
                throw endTransaction(o.error(), o.shard());
            }
        }
        if (partialKind == null || applied.isEmpty()) {
            throw first;
        }
        List<String> failedShards = outcomes.stream().filter(o -> o.error() != null).map(Outcome::shard).toList();
        String remedy = partialKind.equals("broadcast")
                ? "; a DDL statement cannot be rolled back, so repair the failed shards (e.g. re-run with IF [NOT] EXISTS)"
                : "; the statement ran in autocommit mode, so the applied part stays (use a transaction to be able to roll back)";
        String message = "applied on shards " + applied + " but failed on " + failedShards + ": " + first.getMessage() + remedy;
        throw first.code() == null ? ProxyException.backend(first.error().mysqlErrno(), first.error().sqlState(), message, first)
                : new ProxyException(first.code(), message, first);
    }

    private StatementResult affectedRows(List<Outcome> outcomes) {
        long affected = 0;
        long insertId = 0;
        for (Outcome o : outcomes) {
            if (o.result() instanceof StatementResult.Update u) {
                affected += u.affectedRows();
                insertId = insertId == 0 ? u.lastInsertId() : insertId;
            }
        }
        if (insertId != 0) {
            lastInsertId = insertId;
        }
        return new StatementResult.Update(affected, insertId, 0, "");
    }

    private interface Merge {
        ResultMerger.Merged apply(List<ColumnInfo> columns, List<ShardRows> shards);
    }

    private static StatementResult rows(List<Outcome> outcomes, Merge merge) {
        List<ColumnInfo> columns = null;
        List<ShardRows> shards = new ArrayList<>(outcomes.size());
        for (Outcome o : outcomes) {
            if (!(o.result() instanceof StatementResult.Rows r)) {
                throw new ProxyException(ErrorCode.INTERNAL, "shard " + o.shard() + " returned no rows for a merged read");
            }
            columns = columns == null ? r.columns() : columns;
            shards.add(new ShardRows(o.shard(), r.rows()));
        }
        ResultMerger.Merged merged = merge.apply(columns, shards);
        return new StatementResult.Rows(merged.columns(), merged.rows(), 0);
    }

    private StatementResult remember(Lease lease, StatementResult result) {
        lastShard = lease.shard();
        if (result instanceof StatementResult.Update u && u.lastInsertId() != 0) {
            lastInsertId = u.lastInsertId();
        }
        return result;
    }

    /** A backend failure: a broken pinned connection or a deadlock ends the transaction on every shard. */
    private ProxyException failure(Lease lease, SQLException e, long start) {
        ProxyException error = BackendErrors.translate(e, lease.pool(), start);
        if (lease.pinned() && error.code() == ErrorCode.SHARD_UNAVAILABLE) {
            return endTransaction(error, lease.shard());
        }
        if (lease.pinned() && (e.getErrorCode() == DEADLOCK || PG_DEADLOCK.equals(e.getSQLState()))) {
            // the shard rolled its part back; the rest of the transaction must not commit without it
            backends.rollback();
            explicitTransaction = false;
        }
        return error;
    }

    /**
     * Something other than the server's error (a driver or proxy bug) broke off work on {@code lease}: its connection is
     * discarded, never returned to the pool (see {@link SessionBackends#markBroken}), and a pinned one ends the
     * transaction as a broken connection does. The proxy's own errors pass unchanged.
     */
    private ProxyException unexpected(Lease lease, Throwable e) {
        if (e instanceof ProxyException p) {
            return p;
        }
        LOG.error("{}: unexpected failure of a statement; discarding its connection", lease.pool().describe(), e);
        backends.markBroken(lease);
        ProxyException error = BackendErrors.unexpected(e, lease.pool());
        return lease.pinned() ? endTransaction(error, lease.shard()) : error;
    }

    private ProxyException endTransaction(ProxyException error, String brokenShard) {
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
    private List<String> transactionStart() {
        return transactionStart;
    }

    void begin(String characteristics) {
        if (inTransaction()) {
            if (postgres()) {
                return; // PostgreSQL warns and goes on with the open transaction
            }
            commit(); // MySQL commits an open transaction on BEGIN
        }
        explicitTransaction = true;
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

    /** SHOW WARNINGS / ERRORS: on the previous statement's connection while it is pinned, else an empty answer. */
    StatementResult diagnostics(String sql) {
        Lease lease = lastShard == null ? null : backends.pinnedLease(lastShard);
        if (lease != null) {
            long start = System.nanoTime();
            try {
                return ShardExecutor.run(lease.connection(), sql, List.of(), core.topology().logicalDatabase(), notices::add);
            } catch (SQLException e) {
                throw failure(lease, e, start);
            } catch (RuntimeException | Error e) {
                throw unexpected(lease, e);
            }
        }
        if (sql.toUpperCase(java.util.Locale.ROOT).contains("COUNT")) {
            boolean errors = sql.toUpperCase(java.util.Locale.ROOT).contains("ERRORS");
            return new StatementResult.Rows(List.of(new ColumnInfo("", "", "", "@@session." + (errors ? "error_count" : "warning_count"),
                    "", ColumnType.BIGINT, 21, 0, true, true, true, 63)), List.<byte[][]>of(new byte[][] {"0".getBytes()}), 0);
        }
        return new StatementResult.Rows(List.of(ColumnInfo.computed("Level", ColumnType.VARCHAR, 28),
                new ColumnInfo("", "", "", "Code", "", ColumnType.INT, 4, 0, true, true, true, 63),
                ColumnInfo.computed("Message", ColumnType.VARCHAR, 2048)), List.of(), 0);
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

    /** Result columns from a server-side prepare on {@code shard} (the transaction's connection if pinned there). */
    private List<ColumnInfo> describe(String sql, String shard) {
        Lease pinned = backends.pinnedLease(shard);
        Lease lease = pinned != null ? pinned : backends.borrow(shard);
        long start = System.nanoTime();
        try {
            return ShardExecutor.describe(lease.connection(), sql, core.topology().logicalDatabase());
        } catch (SQLException e) {
            if (e.getErrorCode() == NOT_PREPARABLE) {
                return List.of();
            }
            throw failure(lease, e, start);
        } catch (RuntimeException | Error e) {
            throw unexpected(lease, e);
        } finally {
            backends.release(lease);
        }
    }

    // ---- errors

    static ProxyException rejected(RoutePlan.Rejected r) {
        ErrorCode code = switch (r.reason()) {
            case PARSE_ERROR -> ErrorCode.PARSE_ERROR;
            case STATEMENT_TOO_COMPLEX -> ErrorCode.STATEMENT_TOO_COMPLEX;
            case UNSUPPORTED_STATEMENT, HOT_KEY_WRITE_UNSUPPORTED, HOT_KEY_READ_UNSUPPORTED -> ErrorCode.UNSUPPORTED;
            case UNKNOWN_TABLE, CROSS_SHARD_JOIN, UNSUPPORTED_SUBQUERY, UNSUPPORTED_SCATTER, MISSING_SHARD_KEY_ON_INSERT,
                    INSERT_WITHOUT_COLUMN_LIST,
                    UNSUPPORTED_INSERT_SELECT, SHARD_KEY_UPDATE, BAD_SHARD_KEY_VALUE, MISSING_PARAMETER -> ErrorCode.UNROUTABLE_STATEMENT;
        };
        String prefix = code == ErrorCode.PARSE_ERROR || code == ErrorCode.STATEMENT_TOO_COMPLEX
                ? "Shardgate cannot parse this statement (" : "Shardgate cannot route this statement (";
        return new ProxyException(code, prefix + r.reason() + "): " + r.message());
    }

    @FunctionalInterface
    private interface ShardWork {
        StatementResult run() throws SQLException;
    }

    /** Runs one statement on {@code shard}, counted with its latency in the proxy's metrics. */
    private StatementResult timed(String shard, ShardWork work) throws SQLException {
        long start = System.nanoTime();
        boolean ok = false;
        try {
            StatementResult result = work.run();
            ok = true;
            return result;
        } finally {
            core.metrics().shardCall(shard, System.nanoTime() - start, ok);
        }
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

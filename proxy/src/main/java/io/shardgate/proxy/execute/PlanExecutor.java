package io.shardgate.proxy.execute;

import io.shardgate.proxy.admin.ProxyMetrics;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.merge.ResultMerger;
import io.shardgate.proxy.exec.merge.ShardRows;
import io.shardgate.proxy.exec.merge.StreamingMerger;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Runs the plans that reach shards (one shard, several with a merge, broadcast, dual writes) for one session, through
 * its {@link SessionCursor} and their {@link BackendConnection}s. Plans the session answers itself (session commands,
 * local answers, holds, rejections) never get here.
 *
 * <p>Failures: a read, or a write inside a transaction (the client can roll back), reports the first shard's error
 * unchanged; an autocommit write or DDL that some shards applied says which did and which did not. A pinned connection
 * that is lost or broken ends the transaction on every shard; a deadlock on one rolls back the others. Called by the
 * session's thread; a multi-shard plan takes its connections on that thread and runs its shards in parallel on
 * {@code parallel}.
 */
public final class PlanExecutor {
    private static final int NOT_PREPARABLE = 1295;

    private final SessionCursor cursor;
    private final ExecutorService parallel;
    private final ShardCalls calls;
    private final DualWriter dualWriter;
    private final ProxyMetrics metrics;

    public PlanExecutor(SessionCursor cursor, ProxyMetrics metrics, ExecutorService parallel) {
        this.cursor = Objects.requireNonNull(cursor, "cursor");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.parallel = Objects.requireNonNull(parallel, "parallel");
        this.calls = new ShardCalls(cursor, metrics);
        this.dualWriter = new DualWriter(calls, cursor, metrics);
    }

    // ---- plans

    /** One statement on one shard. */
    public StatementResult single(ShardStatement statement, List<Object> parameters) {
        BackendConnection c = cursor.acquire(statement.shard());
        try {
            return calls.remember(c, calls.timed(statement.shard(), () -> c.run(statement, parameters)));
        } catch (BackendError e) {
            throw calls.failure(c, e);
        } catch (RuntimeException | Error e) {
            throw calls.unexpected(c, e);
        } finally {
            cursor.release(c);
        }
    }

    /** Several shards' statements, merged as the plan says; writes to moving slots run as dual writes. */
    public StatementResult multi(RoutePlan.MultiShard plan, List<Object> parameters) {
        if (!plan.copies().isEmpty()) {
            return multiWithCopies(plan, parameters);
        }
        if (plan.merge() instanceof MergePlan.AffectedRowsOf home) {
            return homeFirst(plan, home.shard(), parameters);
        }
        boolean read = plan.merge() instanceof MergePlan.Rows || plan.merge() instanceof MergePlan.CounterRow;
        List<Outcome> outcomes = runAll(plan.statements(), parameters, read);
        boolean isWrite = plan.merge() instanceof MergePlan.AffectedRows || plan.merge() instanceof MergePlan.InsertedRows;
        throwOnFailure(outcomes, isWrite && !cursor.transactional() ? "write" : null);
        return switch (plan.merge()) {
            case MergePlan.AffectedRows a -> affectedRows(outcomes, a.splitInsert() ? plan.statements().getFirst().sql() : null);
            case MergePlan.InsertedRows i -> insertedRows(outcomes, i);
            case MergePlan.Rows r -> rows(outcomes, (cols, shards) -> ResultMerger.rows(cols, shards, r));
            case MergePlan.CounterRow c -> rows(outcomes, (cols, shards) -> ResultMerger.counterRow(cols, shards, c));
            case MergePlan.AffectedRowsOf a -> throw new IllegalStateException("home-first writes run in homeFirst: " + a);
        };
    }

    // ---- reads whose rows are streamed to the client

    /**
     * One read on one shard, its rows left to come as the client takes them (a {@link StatementResult.Stream}); a statement
     * that returned no rows is answered as by {@link #single}.
     */
    public StatementResult singleStream(ShardStatement statement, List<Object> parameters) {
        Reads opened = open(List.of(statement), parameters, false);
        OpenRead read = opened.reads().getFirst();
        if (read == null) {
            return opened.done();
        }
        return new StatementResult.Stream(read.source().columns(), new ShardRowStream(List.of(read),
                new SingleInput(read)));
    }

    /**
     * A scatter read merged row by row ({@link StreamingMerger}; see {@link #streams}); the shards' reads start together,
     * and the first failure to start ends them all.
     */
    public StatementResult multiStream(RoutePlan.MultiShard plan, List<Object> parameters) {
        MergePlan.Rows merge = (MergePlan.Rows) plan.merge();
        List<OpenRead> reads = open(plan.statements(), parameters, true).reads();
        if (reads.contains(null)) {
            reads.stream().filter(Objects::nonNull).forEach(OpenRead::close);
            throw new ProxyException(ErrorCode.INTERNAL, "a shard returned no rows for a merged read");
        }
        List<ColumnInfo> columns = null;
        for (OpenRead r : reads) {
            // every shard describes the same columns; only the catalog shard's keep their PostgreSQL table OIDs
            List<ColumnInfo> c = r.source().columns();
            columns = columns == null || (!hasPgTable(columns) && hasPgTable(c)) ? c : columns;
        }
        StreamingMerger.Merged merged = StreamingMerger.rows(columns, List.copyOf(reads), merge);
        return new StatementResult.Stream(merged.columns(), new ShardRowStream(reads, new StreamingMerger.Input() {
            @Override
            public byte[][] next() {
                return merged.next();
            }

            @Override
            public void close() {
                merged.close();
            }
        }));
    }

    /** Whether {@link #multiStream} can run {@code plan}: a scatter read without grouping, and no copies of moving keys. */
    public static boolean streams(RoutePlan.MultiShard plan) {
        return plan.copies().isEmpty() && plan.merge() instanceof MergePlan.Rows r && StreamingMerger.streams(r);
    }

    /** The reads opened, in statement order: null for a statement that returned no rows, whose answer is {@code done}. */
    private record Reads(List<OpenRead> reads, StatementResult done) {}

    /**
     * Opens each statement's read, in parallel when there are several (connections are taken first, on this thread;
     * for a {@code merged} read through {@link SessionCursor#acquireRead}). A failure closes the reads that opened and
     * throws as {@link #multi} would.
     */
    private Reads open(List<ShardStatement> statements, List<Object> parameters, boolean merged) {
        StatementResult done = null;
        List<BackendConnection> connections = new ArrayList<>(statements.size());
        List<OpenRead> reads = new ArrayList<>(statements.size());
        boolean ok = false;
        try {
            for (ShardStatement s : statements) {
                connections.add(merged ? cursor.acquireRead(s, parameters) : cursor.acquire(s.shard()));
            }
            List<Opening> openings = new ArrayList<>(statements.size());
            if (statements.size() == 1) {
                openings.add(openOne(connections.getFirst(), statements.getFirst(), parameters));
            } else {
                List<Future<Opening>> futures = new ArrayList<>(statements.size());
                for (int i = 0; i < statements.size(); i++) {
                    BackendConnection c = connections.get(i);
                    ShardStatement s = statements.get(i);
                    futures.add(parallel.submit(() -> openOne(c, s, parameters)));
                }
                for (Future<Opening> f : futures) {
                    openings.add(joinOpening(f));
                }
            }
            List<Outcome> failures = new ArrayList<>();
            for (int i = 0; i < openings.size(); i++) {
                Opening o = openings.get(i);
                if (o.error() != null) {
                    failures.add(new Outcome(statements.get(i).shard(), null, o.error()));
                } else if (o.opened() instanceof RowSource.Opened.Streaming st) {
                    reads.add(new OpenRead(connections.get(i), st.rows(), cursor, calls, metrics, o.start()));
                    connections.set(i, null); // released by its read
                } else if (o.opened() instanceof RowSource.Opened.Done d) {
                    reads.add(null);
                    done = calls.remember(connections.get(i), d.result());
                }
            }
            if (!failures.isEmpty()) {
                reads.stream().filter(Objects::nonNull).forEach(OpenRead::close);
                reads.clear();
                List<Outcome> all = new ArrayList<>(failures);
                throwOnFailure(all, null);
            }
            ok = true;
            return new Reads(reads, done);
        } finally {
            for (BackendConnection c : connections) {
                if (c != null) {
                    cursor.release(c);
                }
            }
            if (!ok) {
                reads.stream().filter(Objects::nonNull).forEach(OpenRead::close);
            }
        }
    }

    /** How opening one read went: what it gave, or the error the client sees. */
    private record Opening(RowSource.Opened opened, ProxyException error, long start) {}

    private Opening openOne(BackendConnection c, ShardStatement s, List<Object> parameters) {
        long start = System.nanoTime();
        try {
            return new Opening(c.open(s, parameters), null, start);
        } catch (BackendError e) {
            metrics.shardCall(s.shard(), System.nanoTime() - start, false);
            return new Opening(null, calls.failure(c, e), start);
        } catch (RuntimeException | Error e) {
            metrics.shardCall(s.shard(), System.nanoTime() - start, false);
            return new Opening(null, calls.discarded(c, e), start);
        }
    }

    private static Opening joinOpening(Future<Opening> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProxyException(ErrorCode.INTERNAL, "interrupted while waiting for shards", e);
        } catch (ExecutionException e) {
            throw new ProxyException(ErrorCode.INTERNAL, "a shard's statement failed unexpectedly: " + e.getCause(), e.getCause());
        }
    }

    /** A single read as an input of {@link ShardRowStream}. */
    private record SingleInput(OpenRead read) implements StreamingMerger.Input {
        @Override
        public byte[][] next() {
            return read.next();
        }

        @Override
        public void close() {
            read.close();
        }
    }

    /** The client's view of a streamed read: rows from {@code rows}, warnings summed over the shards' reads. */
    private record ShardRowStream(List<OpenRead> reads, StreamingMerger.Input rows) implements io.shardgate.proxy.session.RowStream {
        @Override
        public byte[][] next() {
            return rows.next();
        }

        @Override
        public int warnings() {
            long sum = 0;
            for (OpenRead r : reads) {
                sum += r.source().warnings();
            }
            return (int) Math.min(sum, 0xFFFF);
        }

        @Override
        public void close() {
            rows.close();
        }
    }

    /** The same statement on every listed shard; the client sees the first shard's result. */
    public StatementResult broadcast(RoutePlan.Broadcast plan, List<Object> parameters) {
        List<ShardStatement> statements = plan.shards().stream().map(s -> new ShardStatement(s, plan.sql(), plan.parameters())).toList();
        List<Outcome> outcomes = runAll(statements, parameters);
        throwOnFailure(outcomes, cursor.transactional() ? null : "broadcast");
        return outcomes.getFirst().result();
    }

    /** A write to moving slots with the copies of its keys (see {@link DualWriter}). */
    public StatementResult dualWrite(RoutePlan.DualWrite plan, List<Object> parameters) {
        return dualWriter.write(plan.statement(), plan.copies(), parameters);
    }

    // ---- the session's own statements on a shard

    /** Result columns from a server-side prepare on {@code shard} (the transaction's connection if pinned there). */
    public List<ColumnInfo> describe(String sql, String shard) {
        BackendConnection pinned = cursor.pinned(shard);
        BackendConnection c = pinned != null ? pinned : cursor.borrow(shard);
        try {
            return c.describe(sql);
        } catch (BackendError e) {
            if (e.errno() == NOT_PREPARABLE) {
                return List.of();
            }
            throw calls.failure(c, e);
        } catch (RuntimeException | Error e) {
            throw calls.unexpected(c, e);
        } finally {
            cursor.release(c);
        }
    }

    /** Runs {@code sql} on the transaction's connection to {@code shard}; empty when none is pinned there. */
    public Optional<StatementResult> onPinned(String shard, String sql) {
        BackendConnection c = cursor.pinned(shard);
        if (c == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(c.run(sql));
        } catch (BackendError e) {
            throw calls.failure(c, e);
        } catch (RuntimeException | Error e) {
            throw calls.unexpected(c, e);
        }
    }

    /** Runs {@code sql} on a connection to {@code shard} outside the transaction (reading a session variable). */
    public StatementResult outsideTransaction(String shard, String sql) {
        BackendConnection c = cursor.borrow(shard);
        try {
            return c.run(sql);
        } catch (BackendError e) {
            throw calls.failure(c, e);
        } finally {
            cursor.release(c);
        }
    }

    // ---- multi-shard plans

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
                outcomes.add(new Outcome(st.shard(), mine.isEmpty() ? single(st, parameters) : dualWriter.write(st, mine, parameters),
                        null));
            } catch (ProxyException e) {
                outcomes.add(new Outcome(st.shard(), null, e));
                if (cursor.transactional()) {
                    break;
                }
            }
        }
        throwOnFailure(outcomes, cursor.transactional() ? null : "write");
        return switch (plan.merge()) {
            case MergePlan.AffectedRows a -> affectedRows(outcomes, a.splitInsert() ? plan.statements().getFirst().sql() : null);
            case MergePlan.InsertedRows i -> insertedRows(outcomes, i);
            case MergePlan.Rows r -> rows(outcomes, (cols, shards) -> ResultMerger.rows(cols, shards, r));
            case MergePlan.CounterRow c -> rows(outcomes, (cols, shards) -> ResultMerger.counterRow(cols, shards, c));
            case MergePlan.AffectedRowsOf a -> outcomes.stream().filter(o -> o.shard().equals(a.shard())).findFirst()
                    .orElseThrow().result();
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
        throwOnFailure(outcomes, cursor.transactional() ? null : "write");
        cursor.answeredBy(home);
        return result;
    }

    /** The outcome of one shard's statement: a result or an error. */
    private record Outcome(String shard, StatementResult result, ProxyException error) {}

    private List<Outcome> runAll(List<ShardStatement> statements, List<Object> parameters) {
        return runAll(statements, parameters, false);
    }

    /**
     * Runs the statements in parallel, one per shard; connections are taken first, on this thread (pinning is not
     * thread-safe), for a {@code read} through {@link SessionCursor#acquireRead}.
     */
    private List<Outcome> runAll(List<ShardStatement> statements, List<Object> parameters, boolean read) {
        List<BackendConnection> connections = new ArrayList<>(statements.size());
        try {
            for (ShardStatement s : statements) {
                connections.add(read ? cursor.acquireRead(s, parameters) : cursor.acquire(s.shard()));
            }
            List<Future<Outcome>> futures = new ArrayList<>(statements.size());
            for (int i = 0; i < statements.size(); i++) {
                ShardStatement s = statements.get(i);
                BackendConnection c = connections.get(i);
                futures.add(parallel.submit(() -> runOne(c, s, parameters)));
            }
            List<Outcome> outcomes = new ArrayList<>(futures.size());
            for (Future<Outcome> f : futures) {
                outcomes.add(join(f));
            }
            return outcomes;
        } finally {
            connections.forEach(cursor::release);
        }
    }

    private Outcome runOne(BackendConnection c, ShardStatement s, List<Object> parameters) {
        try {
            return new Outcome(s.shard(), calls.timed(s.shard(), () -> c.run(s, parameters)), null);
        } catch (BackendError e) {
            return new Outcome(s.shard(), null, e.error());
        } catch (RuntimeException | Error e) {
            return new Outcome(s.shard(), null, calls.discarded(c, e)); // a pinned one ends the transaction in throwOnFailure
        }
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
            outcomes.forEach(o -> cursor.answeredBy(o.shard()));
            return;
        }
        ProxyException first = failed.error();
        if (first.code() == ErrorCode.SHARD_UNAVAILABLE && cursor.pinned(failed.shard()) != null) {
            throw cursor.endTransaction(first, failed.shard());
        }
        for (Outcome o : outcomes) {
            BackendConnection pinned = o.error() == null ? null : cursor.pinned(o.shard());
            if (pinned != null && pinned.discarded()) {
                throw cursor.endTransaction(o.error(), o.shard());
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

    /** {@code splitInsertSql}: one shard's statement of a multi-row INSERT or REPLACE split per shard, else null. */
    private StatementResult affectedRows(List<Outcome> outcomes, String splitInsertSql) {
        long affected = 0;
        long insertId = 0;
        int queryStatus = 0;
        List<StatementResult.Update> parts = new java.util.ArrayList<>();
        for (Outcome o : outcomes) {
            if (o.result() instanceof StatementResult.Update u) {
                affected += u.affectedRows();
                queryStatus |= u.queryStatus(); // a shard that scanned without an index: so would one server
                insertId = insertId == 0 ? u.lastInsertId() : insertId;
                parts.add(u);
            }
        }
        if (insertId != 0) {
            cursor.insertId(insertId);
        }
        // the warning count is the session's (every shard call's, see ProxySession); the info text sums the shards'
        List<String> infos = parts.stream().map(StatementResult.Update::info).toList();
        String info = splitInsertSql != null && parts.size() == outcomes.size() ? OkInfo.insertSum(parts, splitInsertSql)
                : infos.size() == 1 ? infos.getFirst() : OkInfo.sum(infos);
        return new StatementResult.Update(affected, insertId, 0, info, queryStatus);
    }

    /**
     * A split INSERT … RETURNING's rows in VALUES order: row i is the next row of the statement that inserted VALUES row
     * i (each shard returns its rows in the order of its VALUES list).
     */
    private static StatementResult insertedRows(List<Outcome> outcomes, MergePlan.InsertedRows plan) {
        int[] expected = new int[outcomes.size()];
        plan.statementOfRow().forEach(s -> expected[s]++);
        List<ColumnInfo> columns = null;
        List<List<byte[][]>> returned = new ArrayList<>(outcomes.size());
        for (int s = 0; s < outcomes.size(); s++) {
            Outcome o = outcomes.get(s);
            if (!(o.result() instanceof StatementResult.Rows r)) {
                throw new ProxyException(ErrorCode.INTERNAL, "shard " + o.shard() + " returned no rows for an INSERT … RETURNING");
            }
            if (r.rows().size() != expected[s]) {
                // a trigger that skipped a row: which VALUES rows the returned ones are is unknown
                throw new ProxyException(ErrorCode.INTERNAL, "shard " + o.shard() + " returned " + r.rows().size() + " rows for"
                        + " the " + expected[s] + " rows it inserted, so the rows cannot be returned in VALUES order; the INSERT"
                        + " ran on every shard");
            }
            columns = columns == null || (!hasPgTable(columns) && hasPgTable(r.columns())) ? r.columns() : columns;
            returned.add(r.rows());
        }
        int[] next = new int[outcomes.size()];
        List<byte[][]> rows = new ArrayList<>(plan.statementOfRow().size());
        for (int s : plan.statementOfRow()) {
            rows.add(returned.get(s).get(next[s]++));
        }
        return new StatementResult.Rows(columns, rows, 0);
    }

    private static boolean hasPgTable(List<ColumnInfo> columns) {
        return columns.stream().anyMatch(c -> c.pgTableOid() != 0);
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
            // every shard describes the same columns; only the catalog shard's keep their PostgreSQL table OIDs
            columns = columns == null || (!hasPgTable(columns) && hasPgTable(r.columns())) ? r.columns() : columns;
            shards.add(new ShardRows(o.shard(), r.rows()));
        }
        ResultMerger.Merged merged = merge.apply(columns, shards);
        return new StatementResult.Rows(merged.columns(), merged.rows(), 0);
    }
}

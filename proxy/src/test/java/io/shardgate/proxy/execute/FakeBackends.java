package io.shardgate.proxy.execute;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A hand-written logging fake of the executor's two seams ({@link SessionCursor} and {@link BackendConnection}), in the
 * manner of Vitess's fake VCursor: every call is appended to {@link #log} as one line ({@code "s0 begin"},
 * {@code "s1 run UPDATE …"}, {@code "end transaction (broken s0)"}), and a test asserts the exact lines. Answers are
 * scripted per shard and operation; failures are queued and given once each.
 *
 * <p>A statement answers with rows (one row per shard: the shard's name) when it starts with SELECT, else with one
 * affected row. The session's transaction is modelled as the real one is: transactional means connections are pinned
 * on first use and stay; ending the transaction unpins them.
 */
final class FakeBackends implements SessionCursor {
    /** Everything the executor did, in order (synchronized: the parallel part may run on other threads). */
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, FakeConnection> pinned = new LinkedHashMap<>();
    /** Queued failures by "shard operation" (operation: run, begin, commit, rollback, lookUp, readImage, replaceRows, describe). */
    private final Map<String, Deque<Throwable>> failures = new HashMap<>();
    /** Scripted answers by "shard sql". */
    private final Map<String, StatementResult> answers = new HashMap<>();
    private final Map<String, List<Object>> lookups = new HashMap<>();
    private final Map<String, ProxyException> unreachable = new HashMap<>();
    boolean transactional;
    String answeredBy;
    long insertId;

    /** Runs submitted work on the caller's thread, so the log of a parallel plan has one order. */
    static ExecutorService sameThread() {
        return new AbstractExecutorService() {
            private boolean shutdown;

            @Override
            public void execute(Runnable command) {
                command.run();
            }

            @Override
            public void shutdown() {
                shutdown = true;
            }

            @Override
            public List<Runnable> shutdownNow() {
                shutdown = true;
                return List.of();
            }

            @Override
            public boolean isShutdown() {
                return shutdown;
            }

            @Override
            public boolean isTerminated() {
                return shutdown;
            }

            @Override
            public boolean awaitTermination(long timeout, TimeUnit unit) {
                return true;
            }
        };
    }

    // ---- scripting

    /** The next {@code operation} on {@code shard} fails with {@code failure} (queued: several calls queue several). */
    FakeBackends failNext(String shard, String operation, Throwable failure) {
        failures.computeIfAbsent(shard + " " + operation, k -> new ArrayDeque<>()).add(failure);
        return this;
    }

    FakeBackends answer(String shard, String sql, StatementResult result) {
        answers.put(shard + " " + sql, result);
        return this;
    }

    /** What a dual write's key lookup finds on {@code shard}. */
    FakeBackends lookUpFinds(String shard, List<Object> keys) {
        lookups.put(shard, keys);
        return this;
    }

    /** Taking a connection to {@code shard} fails as a pool that cannot reach it does. */
    FakeBackends unreachable(String shard) {
        unreachable.put(shard, new ProxyException(ErrorCode.SHARD_UNAVAILABLE, "shard " + shard + " (fake) unavailable after 3 ms"));
        return this;
    }

    static BackendError serverError(int errno, String sqlState, String message) {
        return new BackendError(ProxyException.backend(errno, sqlState, message, null), errno, sqlState);
    }

    static BackendError deadlock() {
        return serverError(1213, "40001", "Deadlock found when trying to get lock; try restarting transaction");
    }

    static BackendError lockWaitTimeout() {
        return serverError(1205, "HY000", "Lock wait timeout exceeded; try restarting transaction");
    }

    static BackendError lost(String shard) {
        return new BackendError(new ProxyException(ErrorCode.SHARD_UNAVAILABLE, "shard " + shard + " (fake) unavailable after 5 ms:"
                + " Communications link failure"), 0, "08S01");
    }

    static ShardStatement statement(String shard, String sql) {
        return new ShardStatement(shard, sql, List.of());
    }

    // ---- SessionCursor

    @Override
    public boolean transactional() {
        return transactional;
    }

    @Override
    public BackendConnection acquire(String shard) {
        if (!transactional) {
            return borrow(shard);
        }
        FakeConnection c = pinned.get(shard);
        if (c == null) {
            refuseIfUnreachable(shard);
            c = new FakeConnection(shard, true);
            pinned.put(shard, c);
            log.add(shard + " pin");
        }
        return c;
    }

    @Override
    public BackendConnection borrow(String shard) {
        refuseIfUnreachable(shard);
        log.add(shard + " borrow");
        return new FakeConnection(shard, false);
    }

    private void refuseIfUnreachable(String shard) {
        ProxyException e = unreachable.get(shard);
        if (e != null) {
            log.add(shard + " unreachable");
            throw e;
        }
    }

    @Override
    public BackendConnection pinned(String shard) {
        return pinned.get(shard);
    }

    @Override
    public BackendConnection shadowInTransaction(String shard) {
        BackendConnection c = acquire(shard);
        log.add(shard + " receives copies");
        return c;
    }

    @Override
    public void release(BackendConnection connection) {
        FakeConnection c = (FakeConnection) connection;
        if (!c.pinned) {
            log.add(c.shard + (c.discarded ? " close (discarded)" : " release"));
        }
    }

    @Override
    public ProxyException endTransaction(ProxyException cause, String brokenShard) {
        log.add("end transaction (broken " + brokenShard + ")");
        pinned.clear();
        transactional = false;
        return new ProxyException(cause.code() == null ? ErrorCode.INTERNAL : cause.code(), cause.getMessage() + "; the transaction is over",
                cause);
    }

    @Override
    public void rolledBackByShard() {
        log.add("roll back transaction (deadlock)");
        pinned.clear();
    }

    @Override
    public void rollBackForFailedCopy() {
        log.add("roll back transaction (failed copy)");
        pinned.clear();
    }

    @Override
    public void answeredBy(String shard) {
        answeredBy = shard;
    }

    @Override
    public void insertId(long id) {
        insertId = id;
    }

    // ---- BackendConnection

    final class FakeConnection implements BackendConnection {
        private final String shard;
        private final boolean pinned;
        private boolean discarded;

        FakeConnection(String shard, boolean pinned) {
            this.shard = shard;
            this.pinned = pinned;
        }

        private void call(String operation, String detail) throws BackendError {
            log.add(shard + " " + operation + (detail.isEmpty() ? "" : " " + detail));
            Deque<Throwable> queued = failures.get(shard + " " + operation);
            Throwable failure = queued == null ? null : queued.poll();
            if (failure instanceof BackendError e) {
                throw e;
            }
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure != null) {
                throw (Error) failure;
            }
        }

        @Override
        public String shard() {
            return shard;
        }

        @Override
        public String describe() {
            return "shard " + shard + " (fake)";
        }

        @Override
        public boolean pinned() {
            return pinned;
        }

        @Override
        public StatementResult run(ShardStatement statement, List<Object> parameters) throws BackendError {
            call("run", statement.sql() + (parameters.isEmpty() ? "" : " " + statement.bind(parameters)));
            return result(statement.sql());
        }

        /**
         * A read whose rows come one at a time: logged as "open", then "end after n rows" when the rows end, or
         * "cancel after n rows" when closed before; a failure queued for "next" is thrown by the next row's read.
         */
        @Override
        public RowSource.Opened open(ShardStatement statement, List<Object> parameters) throws BackendError {
            call("open", statement.sql() + (parameters.isEmpty() ? "" : " " + statement.bind(parameters)));
            if (!(result(statement.sql()) instanceof StatementResult.Rows rows)) {
                return new RowSource.Opened.Done(result(statement.sql()));
            }
            return new RowSource.Opened.Streaming(new RowSource() {
                private int at;
                private boolean ended;

                @Override
                public List<ColumnInfo> columns() {
                    return rows.columns();
                }

                @Override
                public byte[][] next() throws BackendError {
                    if (ended) {
                        return null;
                    }
                    Deque<Throwable> queued = failures.get(shard + " next");
                    if (queued != null && !queued.isEmpty() && queued.poll() instanceof BackendError e) {
                        ended = true;
                        log.add(shard + " failed after " + at + " rows");
                        throw e;
                    }
                    if (at < rows.rows().size()) {
                        return rows.rows().get(at++);
                    }
                    ended = true;
                    log.add(shard + " end after " + at + " rows");
                    return null;
                }

                @Override
                public int warnings() {
                    return rows.warnings();
                }

                @Override
                public void close() {
                    if (!ended) {
                        ended = true;
                        log.add(shard + " cancel after " + at + " rows");
                    }
                }
            });
        }

        @Override
        public StatementResult run(String sql) throws BackendError {
            call("run", sql);
            return result(sql);
        }

        private StatementResult result(String sql) {
            StatementResult scripted = answers.get(shard + " " + sql);
            if (scripted != null) {
                return scripted;
            }
            return sql.startsWith("SELECT") ? rows(shard) : new StatementResult.Update(1, 0, 0, "");
        }

        @Override
        public List<ColumnInfo> describe(String sql) throws BackendError {
            call("describe", sql);
            return List.of(ColumnInfo.computed("c", ColumnType.VARCHAR, 10));
        }

        @Override
        public void begin() throws BackendError {
            call("begin", "");
        }

        @Override
        public void commit() throws BackendError {
            call("commit", "");
        }

        @Override
        public void rollback() throws BackendError {
            call("rollback", "");
        }

        @Override
        public void restoreAutocommit() {
            log.add(shard + " autocommit");
        }

        @Override
        public List<Object> lookUpKeys(ShadowCopy.LookupKeys lookup, List<Object> parameters) throws BackendError {
            call("lookUp", lookup.sql());
            return lookups.getOrDefault(shard, List.of());
        }

        @Override
        public RowImage readImage(String table, String keyColumn, List<Object> keys) throws BackendError {
            call("readImage", table + " " + keyColumn + " " + keys);
            List<Object[]> rows = new ArrayList<>();
            for (Object key : keys) {
                rows.add(new Object[] {key, "image of " + key});
            }
            return new RowImage(List.of(keyColumn, "v"), rows);
        }

        @Override
        public void replaceRows(String table, String keyColumn, List<Object> keys, RowImage image) throws BackendError {
            call("replaceRows", table + " " + keyColumn + " " + keys + " with " + image.rows().size() + " rows");
        }

        @Override
        public void discard() {
            log.add(shard + " discard");
            discarded = true;
        }

        @Override
        public boolean discarded() {
            return discarded;
        }
    }

    /** One row holding {@code value}, in one VARCHAR column {@code c}. */
    static StatementResult.Rows rows(String... values) {
        List<byte[][]> rows = new ArrayList<>();
        for (String v : values) {
            rows.add(new byte[][] {v.getBytes(StandardCharsets.UTF_8)});
        }
        return new StatementResult.Rows(List.of(ColumnInfo.computed("c", ColumnType.VARCHAR, 10)), rows, 0);
    }
}

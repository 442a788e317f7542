package io.shardgate.proxy.core;

import io.shardgate.proxy.core.SessionBackends.Lease;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendErrors;
import io.shardgate.proxy.exec.ShardExecutor;
import io.shardgate.proxy.execute.BackendConnection;
import io.shardgate.proxy.execute.BackendError;
import io.shardgate.proxy.execute.RowImage;
import io.shardgate.proxy.execute.RowSource;
import io.shardgate.proxy.exec.JdbcRows;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * A {@link BackendConnection} over a JDBC connection lent by the session's {@link SessionBackends}: MySQL statements
 * go out as bytes in the client's character set through Connector/J, PostgreSQL ones through pgJDBC. A JDBC
 * {@link SQLException} becomes a {@link BackendError} (see {@link BackendErrors#translate}); the time in its message is
 * that of the call that failed.
 */
final class JdbcBackendConnection implements BackendConnection {
    private final Lease lease;
    private final SessionBackends backends;
    private final ProxySession session;
    private final ProxyCore core;

    JdbcBackendConnection(Lease lease, SessionBackends backends, ProxySession session, ProxyCore core) {
        this.lease = lease;
        this.backends = backends;
        this.session = session;
        this.core = core;
    }

    Lease lease() {
        return lease;
    }

    @Override
    public String shard() {
        return lease.shard();
    }

    @Override
    public String describe() {
        return lease.pool().describe();
    }

    @Override
    public boolean pinned() {
        return lease.pinned();
    }

    @FunctionalInterface
    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    private <T> T call(SqlWork<T> work) throws BackendError {
        long start = System.nanoTime();
        try {
            return work.run();
        } catch (SQLException e) {
            throw new BackendError(BackendErrors.translate(e, lease.pool(), start), e.getErrorCode(), e.getSQLState());
        }
    }

    /**
     * Runs one shard statement. MySQL: as bytes in the client's character set, the client's own for a text statement
     * (see {@link SourceLiterals}), with bound values written in for a prepared one. PostgreSQL: through pgJDBC.
     */
    @Override
    public StatementResult run(ShardStatement s, List<Object> parameters) throws BackendError {
        return call(() -> {
            Connection c = lease.connection();
            ProxyCore.BackendFault fault = core.backendFault();
            if (fault != null) {
                fault.beforeStatement(s.shard(), c);
            }
            String db = core.topology().logicalDatabase();
            if (session.postgres()) {
                return catalogTables(ShardExecutor.run(c, s.sql(), s.bind(parameters), db, session::notice), lease.shard(), core);
            }
            StatementResult result = parameters instanceof SourceLiterals text ? ShardExecutor.runBytes(c, text.bytesFor(s), db)
                    : ShardExecutor.runMySql(c, s.sql(), s.bind(parameters), session.charset(), db);
            return listWarnings(c, s.shard(), result);
        });
    }

    /**
     * Starts a read whose rows are left on the connection (see {@link JdbcRows}). A PostgreSQL connection lent in
     * autocommit mode reads inside a transaction of the proxy's own (pgJDBC fetches portal rows only in one), committed at
     * the end and rolled back on an error or an early end, so the pool gets it back in autocommit mode; a pinned one
     * reads inside the client's transaction, which it leaves as it was.
     */
    @Override
    public RowSource.Opened open(ShardStatement s, List<Object> parameters) throws BackendError {
        return call(() -> {
            Connection c = lease.connection();
            ProxyCore.BackendFault fault = core.backendFault();
            if (fault != null) {
                fault.beforeStatement(s.shard(), c);
            }
            String db = core.topology().logicalDatabase();
            if (session.postgres()) {
                boolean own = c.getAutoCommit();
                if (own) {
                    c.setAutoCommit(false);
                }
                JdbcRows.Started started;
                try {
                    started = JdbcRows.openPostgres(c, s.sql(), s.bind(parameters), db, session::notice);
                } catch (SQLException | RuntimeException e) {
                    endOwnTransaction(own, false);
                    throw e;
                }
                return switch (started) {
                    case JdbcRows.Started.Done d -> {
                        endOwnTransaction(own, true);
                        yield new RowSource.Opened.Done(d.result());
                    }
                    case JdbcRows.Started.Rows r -> new RowSource.Opened.Streaming(new Source(r.rows(), own,
                            catalogTables(r.rows().columns(), lease.shard(), core)));
                };
            }
            byte[] sql = parameters instanceof SourceLiterals text ? text.bytesFor(s)
                    : ShardExecutor.mySqlBytes(c, s.sql(), s.bind(parameters), session.charset());
            return switch (JdbcRows.openMySql(c, sql, db)) {
                case JdbcRows.Started.Done d -> new RowSource.Opened.Done(listWarnings(c, s.shard(), d.result()));
                case JdbcRows.Started.Rows r -> new RowSource.Opened.Streaming(new Source(r.rows(), false, r.rows().columns()));
            };
        });
    }

    /** A result streamed from this connection; see {@link #open}. */
    private final class Source implements RowSource {
        private final JdbcRows rows;
        private final boolean ownTransaction;
        private final List<ColumnInfo> columns;
        private boolean ended;

        Source(JdbcRows rows, boolean ownTransaction, List<ColumnInfo> columns) {
            this.rows = rows;
            this.ownTransaction = ownTransaction;
            this.columns = List.copyOf(columns);
        }

        @Override
        public List<ColumnInfo> columns() {
            return columns;
        }

        @Override
        public byte[][] next() throws BackendError {
            if (ended) {
                return null;
            }
            boolean ok = false;
            try {
                byte[][] row = call(rows::next);
                ok = true;
                if (row == null) {
                    ended = true;
                    end();
                }
                return row;
            } finally {
                if (!ok) {
                    ended = true;
                    endOwnTransaction(ownTransaction, false);
                }
            }
        }

        private void end() throws BackendError {
            if (session.postgres()) {
                endOwnTransaction(ownTransaction, true);
                return;
            }
            if (rows.warnings() > 0) {
                Connection c = lease.connection();
                call(() -> listWarnings(c, lease.shard(), new StatementResult.Update(0, 0, rows.warnings(), "")));
            }
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
            if (ended) {
                return;
            }
            ended = true;
            try {
                if (rows.cancel()) {
                    endOwnTransaction(ownTransaction, false);
                } else if (backends.keeps(lease)) {
                    // the client's transaction, or its session state, keeps this connection: the rest of the rows are read
                    // and dropped (a LIMIT pushed to the shard bounds them)
                    rows.drain();
                } else {
                    long thread = rows.serverThreadId();
                    discard(); // cut now: reading the rest could take as long as the whole result
                    killQuery(thread);
                }
            } catch (SQLException | RuntimeException e) {
                discard();
            }
        }
    }

    /**
     * KILL QUERY for a MySQL statement whose connection was cut while the shard still ran it (a server notices a closed
     * client only when it next writes). Best effort, on another connection of the pool: a query already ended by the cut
     * answers "Unknown thread id".
     */
    private void killQuery(long thread) {
        try (Connection side = lease.pool().borrow(); java.sql.Statement st = side.createStatement()) {
            st.execute("KILL QUERY " + thread);
        } catch (SQLException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(JdbcBackendConnection.class).debug("{}: KILL QUERY {} after an early end: {}",
                    describe(), thread, e.toString());
        }
    }

    /** Ends the PostgreSQL transaction the proxy opened for a streamed read (none when {@code own} is false). */
    private void endOwnTransaction(boolean own, boolean commit) {
        if (!own) {
            return;
        }
        try {
            if (commit) {
                lease.connection().commit();
            } else {
                lease.connection().rollback();
            }
        } catch (SQLException e) {
            discard(); // a connection that cannot end the transaction is not given back
            return;
        }
        restoreAutocommit();
    }

    /** MySQL: a statement that reported warnings has them listed now, while the connection still holds them. */
    private StatementResult listWarnings(Connection c, String shard, StatementResult result) throws SQLException {
        int warnings = switch (result) {
            case StatementResult.Update u -> u.warnings();
            case StatementResult.Rows r -> r.warnings();
            case StatementResult.Stream st -> 0;
        };
        if (warnings > 0 && ShardExecutor.runBytes(c, SHOW_WARNINGS, core.topology().logicalDatabase())
                instanceof StatementResult.Rows shown) {
            // listed now: once the connection is back in the pool, another statement replaces them
            session.warnings(shard, warnings, shown);
        }
        return result;
    }

    private static final byte[] SHOW_WARNINGS = "SHOW WARNINGS".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    @Override
    public StatementResult run(String sql) throws BackendError {
        return call(() -> catalogTables(ShardExecutor.run(lease.connection(), sql, List.of(), core.topology().logicalDatabase(),
                session::notice), lease.shard(), core));
    }

    @Override
    public List<ColumnInfo> describe(String sql) throws BackendError {
        return call(() -> catalogTables(ShardExecutor.describe(lease.connection(), sql, core.topology().logicalDatabase()),
                lease.shard(), core));
    }

    /**
     * {@code result} as the client may see it: a PostgreSQL column keeps its table OID and attribute number only when
     * {@code shard} is the catalog shard, the one pg_catalog queries run on (the default shard, where undeclared tables
     * live). pgJDBC looks a result's columns up by those numbers (nullability, serial and identity columns) in a query
     * the proxy sends to the catalog shard; another shard's OID would name another table there, or none.
     */
    static StatementResult catalogTables(StatementResult result, String shard, ProxyCore core) {
        if (result instanceof StatementResult.Rows r && !isCatalogShard(shard, core)) {
            return new StatementResult.Rows(ColumnInfo.withoutPgTables(r.columns()), r.rows(), r.warnings(), r.queryStatus());
        }
        return result;
    }

    /** As {@link #catalogTables(StatementResult, String, ProxyCore)}, for described columns. */
    static List<ColumnInfo> catalogTables(List<ColumnInfo> columns, String shard, ProxyCore core) {
        return isCatalogShard(shard, core) ? columns : ColumnInfo.withoutPgTables(columns);
    }

    static boolean isCatalogShard(String shard, ProxyCore core) {
        io.shardgate.cluster.ClusterDefinition cluster = core.snapshot().cluster();
        return cluster.unknownTables() == io.shardgate.cluster.UnknownTablePolicy.SINGLE && cluster.defaultShard().equals(shard);
    }

    @Override
    public void begin() throws BackendError {
        call(() -> {
            lease.connection().setAutoCommit(false);
            return null;
        });
    }

    @Override
    public void commit() throws BackendError {
        call(() -> {
            lease.connection().commit();
            return null;
        });
    }

    @Override
    public void rollback() throws BackendError {
        call(() -> {
            lease.connection().rollback();
            return null;
        });
    }

    @Override
    public void restoreAutocommit() {
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

    @Override
    public List<Object> lookUpKeys(ShadowCopy.LookupKeys lookup, List<Object> parameters) throws BackendError {
        Connection c = lease.connection();
        return call(() -> inUtf8(c, () -> RowImages.lookUp(c, lease.shard(), lookup, parameters)));
    }

    @Override
    public RowImage readImage(String table, String keyColumn, List<Object> keys) throws BackendError {
        Connection c = lease.connection();
        return call(() -> inUtf8(c, () -> RowImages.read(c, table, keyColumn, keys)));
    }

    @Override
    public void replaceRows(String table, String keyColumn, List<Object> keys, RowImage image) throws BackendError {
        Connection c = lease.connection();
        call(() -> inUtf8(c, () -> {
            RowImages.replace(c, table, keyColumn, keys, image);
            return null;
        }));
    }

    @Override
    public void discard() {
        backends.markBroken(lease);
    }

    @Override
    public boolean discarded() {
        return backends.isBroken(lease);
    }

    /**
     * Runs the proxy's own statements of a dual write ({@link RowImages}: Connector/J Strings, which it sends as UTF-8
     * and decodes by each column's character set) on a connection that carries the session's character set settings:
     * switched to utf8mb4 around them and back, so a latin1 session's copy is not read as latin1. Costs nothing for
     * a session without character set settings; a connection that cannot be switched back is reset before its next use.
     */
    private <T> T inUtf8(Connection c, SqlWork<T> work) throws SQLException {
        if (session.postgres() || !backends.settings().touchesCharset()) {
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

    @Override
    public String toString() {
        return describe() + (pinned() ? " (pinned)" : "");
    }

    /** The connection behind {@code c}, which this session's cursor made. */
    static JdbcBackendConnection of(BackendConnection c) {
        if (c instanceof JdbcBackendConnection j) {
            return j;
        }
        throw new ProxyException(io.shardgate.proxy.error.ErrorCode.INTERNAL, "not a JDBC backend connection: " + c);
    }
}

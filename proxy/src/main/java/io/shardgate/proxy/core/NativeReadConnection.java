package io.shardgate.proxy.core;

import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.backend.mysql.NativeBackends;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.execute.BackendConnection;
import io.shardgate.proxy.execute.BackendError;
import io.shardgate.proxy.execute.RowImage;
import io.shardgate.proxy.execute.RowSource;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import java.util.List;

/**
 * A shard of a scatter read whose rows come over a native MySQL connection ({@code backend.native}, see
 * {@link NativeBackends#openRead}): the text statement goes out as the client's bytes, the result's column definitions
 * are the shard's own (Connector/J rewrites numeric lengths), and the rows are split into values only to be merged. Lent
 * by {@link JdbcSessionCursor#acquireRead} when the session qualifies as for the relay (see there); it holds nothing
 * until {@link #open}, whose source owns the native connection from then on. It runs reads only: streamed, or read
 * whole by {@link #run(ShardStatement, List)} for the merges that take whole results (grouped, counter rows).
 */
final class NativeReadConnection implements BackendConnection {
    private final String shard;
    private final ProxyCore core;
    private final ProxySession session;
    private final SessionBackends backends;
    private volatile boolean discarded;

    NativeReadConnection(String shard, ProxyCore core, ProxySession session, SessionBackends backends) {
        this.shard = shard;
        this.core = core;
        this.session = session;
        this.backends = backends;
    }

    /**
     * Whether {@code session}'s read with {@code parameters} can run here: native connections are on, the session is in
     * autocommit with no transaction, no pinned or reserved connection and no user variables, its client character set
     * is utf8mb4, and the statement is a text SELECT (its bytes are the client's).
     */
    static boolean qualifies(ProxyCore core, ProxySession session, SessionBackends backends, ShardStatement statement,
            List<Object> parameters) {
        return core.nativeBackends() != null && !session.postgres() && !session.transactional() && session.charset().utf8mb4()
                && parameters instanceof SourceLiterals && !backends.hasPinned() && backends.reservedUses().isEmpty()
                && backends.variables().isEmpty() && core.backendFault() == null && SqlPrepared.isSelect(statement.sql());
    }

    @Override
    public String shard() {
        return shard;
    }

    @Override
    public String describe() {
        return "shard " + shard + " (native)";
    }

    @Override
    public boolean pinned() {
        return false;
    }

    @Override
    public RowSource.Opened open(ShardStatement statement, List<Object> parameters) throws BackendError {
        ShardDefinition definition = core.snapshot().cluster().shard(statement.shard()).orElseThrow(() -> new ProxyException(
                ErrorCode.INTERNAL, "shard " + statement.shard() + " is not in the cluster definition"));
        byte[] sql = ((SourceLiterals) parameters).bytesFor(statement);
        return core.nativeBackends().openRead(definition, sql, backends.settings(), session.foundRowsFlag(), session.tracker(),
                core.topology().logicalDatabase(), (count, rows) -> session.listedWarnings(shard, count, rows));
    }

    /** A read of a merge that takes whole results (grouped, or a counter row): its rows are all read here. */
    @Override
    public StatementResult run(ShardStatement statement, List<Object> parameters) throws BackendError {
        return switch (open(statement, parameters)) {
            case RowSource.Opened.Done d -> d.result();
            case RowSource.Opened.Streaming st -> {
                RowSource rows = st.rows();
                try {
                    List<byte[][]> all = new java.util.ArrayList<>();
                    for (byte[][] row = rows.next(); row != null; row = rows.next()) {
                        all.add(row);
                    }
                    yield new StatementResult.Rows(rows.columns(), all, rows.warnings(), rows.queryStatus());
                } finally {
                    rows.close();
                }
            }
        };
    }

    @Override
    public StatementResult run(String sql) {
        throw streamedReadsOnly("run");
    }

    @Override
    public List<ColumnInfo> describe(String sql) {
        throw streamedReadsOnly("describe");
    }

    @Override
    public void begin() {
        throw streamedReadsOnly("begin");
    }

    @Override
    public void commit() {
        throw streamedReadsOnly("commit");
    }

    @Override
    public void rollback() {
        throw streamedReadsOnly("rollback");
    }

    @Override
    public void restoreAutocommit() {
        throw streamedReadsOnly("restoreAutocommit");
    }

    @Override
    public List<Object> lookUpKeys(ShadowCopy.LookupKeys lookup, List<Object> parameters) {
        throw streamedReadsOnly("lookUpKeys");
    }

    @Override
    public RowImage readImage(String table, String keyColumn, List<Object> keys) {
        throw streamedReadsOnly("readImage");
    }

    @Override
    public void replaceRows(String table, String keyColumn, List<Object> keys, RowImage image) {
        throw streamedReadsOnly("replaceRows");
    }

    /** Its source closes the native connection itself; this only records that the read's state is unknown. */
    @Override
    public void discard() {
        discarded = true;
    }

    @Override
    public boolean discarded() {
        return discarded;
    }

    private IllegalStateException streamedReadsOnly(String what) {
        return new IllegalStateException(describe() + " runs streamed reads only, not " + what);
    }

    @Override
    public String toString() {
        return describe();
    }
}

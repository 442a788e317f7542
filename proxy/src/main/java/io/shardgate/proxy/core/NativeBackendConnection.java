package io.shardgate.proxy.core;

import io.shardgate.proxy.backend.mysql.LentConnection;
import io.shardgate.proxy.backend.mysql.MySqlBackendConnection;
import io.shardgate.proxy.backend.mysql.NativeStatements;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.ShardExecutor;
import io.shardgate.proxy.execute.BackendConnection;
import io.shardgate.proxy.execute.BackendError;
import io.shardgate.proxy.execute.RowImage;
import io.shardgate.proxy.execute.RowSource;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import io.shardgate.slot.ShardKeys;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A {@link BackendConnection} over a native MySQL connection ({@link LentConnection}, issue 15): the statement goes out
 * as the client's bytes (or SQL in the client's character set with the bound values written in, as the JDBC kind sends
 * it), its reply is read by the proxy's own protocol code, and the results are those of {@link JdbcBackendConnection}
 * (the contract test runs both), except that column definitions are the server's own, where Connector/J rewrites some
 * lengths. Used for MySQL only; the connection carries the session's settings when it is lent.
 *
 * <p>A dual write's row image is read as the server's text: a value of a binary column as bytes, any other as a
 * String (the connection is in utf8mb4 meanwhile, see {@link #inUtf8}), which both kinds write back as literals the
 * server converts to the column's type, as it does for a client's statement.
 */
final class NativeBackendConnection implements BackendConnection {
    /** What the session decides about the connection and learns from it. */
    interface Owner {
        /** Whether the connection stays with the session after its statement (a read closed early drains, not cuts). */
        boolean keeps(NativeBackendConnection c);

        /** The connection was closed (its state is unknown, or it broke): never given back. */
        void discarded(NativeBackendConnection c);

        /** The shard listed {@code count} warnings of the statement as {@code rows} (null: unreadable). */
        void warnings(String shard, int count, List<byte[][]> rows);

        /** The session's client character set (bound values are written in it). */
        ClientCharset charset();

        /** Whether the session's settings change the connection's character set (a dual write's copy switches to utf8mb4). */
        boolean touchesCharset();

        String logicalDatabase();
    }

    private final LentConnection lent;
    private final boolean pinned;
    private final Owner owner;
    private volatile boolean discarded;

    NativeBackendConnection(LentConnection lent, boolean pinned, Owner owner) {
        this.lent = java.util.Objects.requireNonNull(lent, "lent");
        this.pinned = pinned;
        this.owner = java.util.Objects.requireNonNull(owner, "owner");
    }

    LentConnection lent() {
        return lent;
    }

    /** The same connection seen as pinned to the transaction or not (a reserved one outlives its transaction). */
    NativeBackendConnection withPinned(boolean pinnedNow) {
        return pinnedNow == pinned ? this : new NativeBackendConnection(lent, pinnedNow, owner);
    }

    private MySqlBackendConnection c() {
        return lent.connection();
    }

    @Override
    public String shard() {
        return lent.shard();
    }

    @Override
    public String describe() {
        return lent.describe();
    }

    @Override
    public boolean pinned() {
        return pinned;
    }

    /** The statement's bytes: the client's own for a text statement, else its SQL with the bound values written in. */
    private byte[] bytes(ShardStatement s, List<Object> parameters) {
        if (parameters instanceof SourceLiterals text) {
            return text.bytesFor(s);
        }
        List<Object> values = s.bind(parameters);
        return ShardExecutor.mySqlBytes(s.sql(), values, owner.charset(), !values.isEmpty() && c().noBackslashEscapes());
    }

    @Override
    public StatementResult run(ShardStatement s, List<Object> parameters) throws BackendError {
        StatementResult result = guarded(() -> NativeStatements.query(c(), bytes(s, parameters), owner.logicalDatabase()));
        int warnings = switch (result) {
            case StatementResult.Update u -> u.warnings();
            case StatementResult.Rows r -> r.warnings();
            case StatementResult.Stream st -> 0;
        };
        if (warnings > 0) {
            // listed now: once the connection is back in the pool, another statement replaces them
            owner.warnings(s.shard(), warnings, NativeStatements.showWarnings(c()));
        }
        return result;
    }

    @Override
    public RowSource.Opened open(ShardStatement s, List<Object> parameters) throws BackendError {
        byte[] sql = bytes(s, parameters);
        String shard = s.shard();
        return guarded(() -> NativeStatements.open(c(), sql, owner.logicalDatabase(), new NativeStatements.ReadEnd() {
            @Override
            public void warnings(int count, List<byte[][]> rows) {
                owner.warnings(shard, count, rows);
            }

            @Override
            public void ended(boolean idle, boolean killQuery) {
                if (killQuery) {
                    lent.killQuery(c().connectionId());
                }
                if (!idle) {
                    discard();
                }
            }
        }, owner.keeps(this)));
    }

    @Override
    public StatementResult run(String sql) throws BackendError {
        return guarded(() -> NativeStatements.query(c(), sql.getBytes(StandardCharsets.UTF_8), owner.logicalDatabase()));
    }

    @Override
    public List<ColumnInfo> describe(String sql) throws BackendError {
        return guarded(() -> NativeStatements.describe(c(), sql.getBytes(StandardCharsets.UTF_8), owner.logicalDatabase()));
    }

    @Override
    public void begin() throws BackendError {
        execute("SET autocommit = 0");
    }

    @Override
    public void commit() throws BackendError {
        execute("COMMIT");
    }

    @Override
    public void rollback() throws BackendError {
        execute("ROLLBACK");
    }

    @Override
    public void restoreAutocommit() {
        try {
            execute("SET autocommit = 1");
        } catch (BackendError | RuntimeException e) {
            discard(); // never reused in the wrong mode
        }
    }

    /** Runs a statement of the proxy's own with {@code values} written in, in the session's character set; the whole result. */
    StatementResult run(String sql, List<Object> values) throws BackendError {
        return guarded(() -> NativeStatements.query(c(), ShardExecutor.mySqlBytes(sql, values, owner.charset(),
                !values.isEmpty() && c().noBackslashEscapes()), owner.logicalDatabase()));
    }

    /** Runs a statement of the proxy's own whose result does not matter (SET, SAVEPOINT, COMMIT …). */
    void execute(String sql) throws BackendError {
        run(sql);
    }

    @Override
    public List<Object> lookUpKeys(ShadowCopy.LookupKeys lookup, List<Object> parameters) throws BackendError {
        List<Object> bound = new ShardStatement(shard(), lookup.sql(), lookup.parameters()).bind(parameters);
        return inUtf8(() -> {
            StatementResult result = query(lookup.sql(), bound);
            Set<Object> keys = new LinkedHashSet<>();
            for (byte[][] row : ((StatementResult.Rows) result).rows()) {
                if (row[0] == null) {
                    continue;
                }
                String raw = new String(row[0], StandardCharsets.UTF_8);
                if (lookup.copies(raw)) {
                    String normalized = ShardKeys.normalize(lookup.keyType(), raw);
                    keys.add(lookup.keyType() == io.shardgate.cluster.KeyType.INT ? (Object) Long.valueOf(normalized) : normalized);
                }
            }
            return List.copyOf(keys);
        });
    }

    @Override
    public RowImage readImage(String table, String keyColumn, List<Object> keys) throws BackendError {
        return inUtf8(() -> {
            String from = " FROM " + quote(table) + where(keyColumn, keys) + " FOR UPDATE";
            StatementResult.Rows result = (StatementResult.Rows) query("SELECT *" + from, keys);
            List<String> columns = new ArrayList<>();
            for (ColumnInfo column : result.columns()) {
                columns.add(column.name());
            }
            String exact = RowImages.exactFloats(columns, result.columns().stream().map(c -> c.type() == ColumnType.FLOAT).toList(),
                    NativeBackendConnection::quote);
            if (exact != null) {
                result = (StatementResult.Rows) query(exact + from, keys);
            }
            List<Object[]> image = new ArrayList<>();
            for (byte[][] row : result.rows()) {
                Object[] values = new Object[row.length];
                for (int i = 0; i < row.length; i++) {
                    values[i] = imageValue(result.columns().get(i), row[i]);
                }
                image.add(values);
            }
            return new RowImage(columns, image);
        });
    }

    /**
     * A value of a row image: bytes for a binary column (its text is its bytes), else the text as a String (utf8mb4,
     * the connection's results character set during the copy); JSON, which MySQL sends with the binary character set,
     * as text (a binary string is not a JSON value).
     */
    private static Object imageValue(ColumnInfo column, byte[] value) {
        if (value == null) {
            return null;
        }
        if (column.collationId() == 63 && column.type() != ColumnType.JSON) {
            return value;
        }
        return new String(value, StandardCharsets.UTF_8);
    }

    @Override
    public void replaceRows(String table, String keyColumn, List<Object> keys, RowImage image) throws BackendError {
        inUtf8(() -> {
            query("DELETE FROM " + quote(table) + where(keyColumn, keys), keys);
            if (image.isEmpty()) {
                return null;
            }
            List<String> columns = image.columns();
            StringBuilder sql = new StringBuilder("INSERT INTO ").append(quote(table)).append(" (");
            for (int c = 0; c < columns.size(); c++) {
                sql.append(c == 0 ? "" : ", ").append(quote(columns.get(c)));
            }
            String row = "(" + marks(columns.size()) + ")";
            sql.append(") VALUES ").append(String.join(", ", java.util.Collections.nCopies(image.rows().size(), row)));
            List<Object> values = new ArrayList<>();
            for (Object[] r : image.rows()) {
                values.addAll(java.util.Arrays.asList(r));
            }
            query(sql.toString(), values);
            return null;
        });
    }

    /** The proxy's own statement with {@code values} written in, in utf8mb4 (see {@link #inUtf8}). */
    private StatementResult query(String sql, List<Object> values) throws BackendError {
        byte[] bytes = ShardExecutor.mySqlBytes(sql, values, ClientCharset.UTF8MB4, c().noBackslashEscapes());
        return NativeStatements.query(c(), bytes, owner.logicalDatabase());
    }

    private static String where(String keyColumn, List<Object> keys) {
        return " WHERE " + quote(keyColumn) + " IN (" + marks(keys.size()) + ")";
    }

    private static String marks(int n) {
        return String.join(", ", java.util.Collections.nCopies(n, "?"));
    }

    private static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws BackendError;
    }

    /**
     * Runs {@code work}; something other than the server's error or a lost connection (a bug halfway through a reply)
     * leaves the connection's protocol state unknown: it is discarded, and the client told so.
     */
    private <T> T guarded(Work<T> work) throws BackendError {
        try {
            return work.run();
        } catch (BackendError e) {
            if (!c().isUsable() && !discarded) {
                discard(); // lost: never given back
            }
            throw e;
        } catch (RuntimeException e) {
            discard();
            throw new BackendError(io.shardgate.proxy.exec.BackendErrors.unexpected(e, describe()), 0, null);
        }
    }

    /**
     * Runs the proxy's own statements of a dual write on a connection that carries the session's character set settings:
     * switched to utf8mb4 around them and back, so a latin1 session's copy is not read as latin1. Costs nothing for a
     * session without character set settings; a connection that cannot be switched back is discarded.
     */
    private <T> T inUtf8(Work<T> work) throws BackendError {
        return guarded(() -> {
            if (!owner.touchesCharset()) {
                return work.run();
            }
            StatementResult.Rows saved = (StatementResult.Rows) run("SELECT @@character_set_client, @@character_set_connection,"
                    + " @@character_set_results, @@collation_connection");
            List<String> literals = new ArrayList<>();
            for (byte[] v : saved.rows().getFirst()) {
                literals.add(v == null ? "NULL" : "'" + new String(v, StandardCharsets.US_ASCII) + "'");
            }
            execute("SET NAMES utf8mb4");
            boolean restored = false;
            try {
                T result = work.run();
                execute("SET character_set_client = " + literals.get(0) + ", character_set_connection = " + literals.get(1)
                        + ", character_set_results = " + literals.get(2) + ", collation_connection = " + literals.get(3));
                restored = true;
                return result;
            } finally {
                if (!restored && !discarded) {
                    c().sessionTag("/* unknown */"); // reset before its next lending
                }
            }
        });
    }

    @Override
    public void discard() {
        if (discarded) {
            return;
        }
        discarded = true;
        lent.discard(); // closes it: every other view of it sees that
        owner.discarded(this);
    }

    @Override
    public boolean discarded() {
        return discarded || c().closedBy() != null; // closed through another view of it, or by a cancel's abort
    }

    @Override
    public String toString() {
        return describe() + " (native" + (pinned ? ", pinned)" : ")");
    }

    /** The native connection behind {@code c}, which this session's cursor made. */
    static NativeBackendConnection of(BackendConnection c) {
        if (c instanceof NativeBackendConnection n) {
            return n;
        }
        throw new ProxyException(ErrorCode.INTERNAL, "not a native backend connection: " + c);
    }
}

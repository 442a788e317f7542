package io.shardgate.proxy.exec;

import com.mysql.cj.jdbc.JdbcConnection;
import io.shardgate.proxy.session.BackendNotice;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.Consumer;
import org.postgresql.PGStatement;

/**
 * One statement's result read row by row from its JDBC connection, with the same bytes {@link ShardExecutor} reads whole.
 *
 * <ul>
 *   <li>MySQL: Connector/J's row-by-row streaming ({@code setFetchSize(Integer.MIN_VALUE)}), not {@code useCursorFetch}:
 *       a cursor fetch needs a server-side prepared statement, whose rows come in the binary protocol (the proxy passes
 *       the text protocol's bytes through), and makes the server materialise the result in a temporary table first.
 *       While the rows stream the connection can run nothing else; closing the result set reads every remaining row,
 *       so ending early goes through {@link #cancel} (KILL QUERY on a side connection) and the connection is discarded.</li>
 *   <li>PostgreSQL: pgJDBC's portal fetches (a positive fetch size), which it uses only inside a transaction: a lent
 *       connection in autocommit mode runs the read in one of the proxy's own (see JdbcBackendConnection), a pinned one
 *       in the client's. Ending early closes the portal: the server computes portal rows only when asked for them.</li>
 * </ul>
 */
public final class JdbcRows {
    /** Rows per pgJDBC fetch: a round trip per this many rows, and at most this many held. */
    static final int PG_FETCH_ROWS = 512;

    private final Statement statement;
    private final ResultSet rs;
    private final List<ColumnInfo> columns;
    private final boolean[] bytea;
    private final Consumer<BackendNotice> notices;
    /** PostgreSQL: the statement and whether it had parameters, for an error's position in the text the shard parsed. */
    private final String sql;
    private final boolean prepared;
    private int warnings;
    private int queryStatus;
    private boolean done;

    private JdbcRows(Statement statement, ResultSet rs, List<ColumnInfo> columns, boolean[] bytea, Consumer<BackendNotice> notices,
            String sql, boolean prepared) {
        this.sql = sql;
        this.prepared = prepared;
        this.statement = statement;
        this.rs = rs;
        this.columns = columns;
        this.bytea = bytea;
        this.notices = notices;
    }

    /** What starting a statement gave: its rows to read, or its whole answer (a statement without rows). */
    public sealed interface Started {
        record Rows(JdbcRows rows) implements Started {}

        record Done(StatementResult result) implements Started {}
    }

    /** Sends MySQL {@code sql} (bytes as {@link ShardExecutor#runBytes} sends them) and reads up to its first row. */
    public static Started openMySql(Connection c, byte[] sql, String logicalDatabase) throws SQLException {
        RawQuery st = new RawQuery(c.unwrap(JdbcConnection.class), sql, "SELECT");
        boolean open = false;
        try {
            st.streamRows();
            if (!st.execute()) {
                return new Started.Done(ShardExecutor.read(st, false, logicalDatabase));
            }
            ResultSet rs = st.getResultSet();
            List<ColumnInfo> columns = ColumnMapping.columns(
                    rs.getMetaData().unwrap(com.mysql.cj.jdbc.result.ResultSetMetaData.class).getFields(), logicalDatabase);
            open = true;
            return new Started.Rows(new JdbcRows(st, rs, columns, new boolean[columns.size()], n -> { }, "", false));
        } finally {
            if (!open) {
                st.close();
            }
        }
    }

    /**
     * Runs PostgreSQL {@code sql} with {@code parameters} with portal fetches; {@code c} must be in a transaction
     * (autocommit off), or pgJDBC reads the whole result.
     */
    public static Started openPostgres(Connection c, String sql, List<Object> parameters, String logicalDatabase,
            Consumer<BackendNotice> notices) throws SQLException {
        boolean prepared = !parameters.isEmpty();
        Statement st = prepared ? c.prepareStatement(sql) : c.createStatement();
        boolean open = false;
        try {
            st.setFetchSize(PG_FETCH_ROWS);
            boolean hasRows;
            if (prepared) {
                PreparedStatement ps = (PreparedStatement) st;
                for (int i = 0; i < parameters.size(); i++) {
                    ShardExecutor.bind(ps, i + 1, parameters.get(i));
                }
                hasRows = ps.execute();
            } else {
                st.setEscapeProcessing(false);
                hasRows = st.execute(sql);
            }
            if (!hasRows) {
                ShardExecutor.passNotices(st, notices);
                return new Started.Done(new StatementResult.Update(Math.max(0, st.getLargeUpdateCount()), 0, 0, ""));
            }
            ResultSet rs = st.getResultSet();
            org.postgresql.core.Field[] fields = PgColumns.fields(rs.getMetaData());
            List<ColumnInfo> columns = PgColumns.columns(fields, logicalDatabase);
            boolean[] bytea = new boolean[fields.length];
            for (int i = 0; i < fields.length; i++) {
                bytea[i] = fields[i].getOID() == PgColumns.BYTEA;
            }
            open = true;
            return new Started.Rows(new JdbcRows(st, rs, columns, bytea, notices, sql, prepared));
        } catch (SQLException e) {
            ShardExecutor.passNotices(st, notices);
            throw PgShardError.of(e, sql, prepared);
        } finally {
            if (!open) {
                st.close();
            }
        }
    }

    public List<ColumnInfo> columns() {
        return columns;
    }

    /** The next row, or null at the end (the statement is then closed and its warnings known). */
    public byte[][] next() throws SQLException {
        if (done) {
            return null;
        }
        try {
            if (!rs.next()) {
                finish();
                return null;
            }
            int n = columns.size();
            byte[][] row = new byte[n][];
            for (int i = 0; i < n; i++) {
                if (bytea[i]) {
                    // pgJDBC decodes bytea in getBytes; its text (\x…) is what the server sent
                    String text = rs.getString(i + 1);
                    row[i] = text == null ? null : text.getBytes(StandardCharsets.UTF_8);
                } else {
                    row[i] = rs.getBytes(i + 1);
                }
            }
            return row;
        } catch (SQLException e) {
            done = true;
            if (statement.isWrapperFor(PGStatement.class)) {
                ShardExecutor.passNotices(statement, notices);
                closeQuietly();
                throw PgShardError.of(e, sql, prepared);
            }
            closeQuietly();
            throw e;
        }
    }

    private void finish() throws SQLException {
        done = true;
        if (statement.isWrapperFor(PGStatement.class)) {
            ShardExecutor.passNotices(statement, notices);
        } else {
            warnings = ShardExecutor.warningCount(statement);
            queryStatus = ShardExecutor.serverStatus(statement) & StatementResult.Update.QUERY_STATUS;
        }
        rs.close();
        statement.close();
    }

    /** The warnings of the OK/EOF packet that ended the result (MySQL; 0 on PostgreSQL, whose notices go to the session). */
    public int warnings() {
        return warnings;
    }

    /** The {@link StatementResult.Update#QUERY_STATUS} flags of the packet that ended the result (MySQL; 0 on PostgreSQL). */
    public int queryStatus() {
        return queryStatus;
    }

    public boolean done() {
        return done;
    }

    /**
     * Stops a result that is still coming, as far as this end can. PostgreSQL: the portal is closed (the server computes
     * portal rows only when asked, so nothing runs on) and the connection is clean. MySQL: nothing here, since closing a
     * streaming result reads every remaining row and Connector/J's own cancel does nothing once {@code execute} returned;
     * the caller cuts the connection and kills the query by {@link #serverThreadId}. Returns whether the connection is clean.
     */
    public boolean cancel() throws SQLException {
        if (done) {
            return true;
        }
        done = true;
        if (statement.isWrapperFor(PGStatement.class)) {
            closeQuietly();
            return true;
        }
        return false;
    }

    /** The MySQL server's thread id of the connection (what KILL QUERY names). */
    public long serverThreadId() throws SQLException {
        return statement.getConnection().unwrap(JdbcConnection.class).getSession().getThreadId();
    }

    /**
     * Reads and drops the rest of the result (a connection that must stay, pinned to the client's transaction), then
     * closes the statement.
     */
    public void drain() throws SQLException {
        done = true;
        rs.close();
        statement.close();
    }

    private void closeQuietly() {
        try {
            rs.close();
        } catch (SQLException ignored) {
            // the statement's error is what the caller reports
        }
        try {
            statement.close();
        } catch (SQLException ignored) {
            // as above
        }
    }
}

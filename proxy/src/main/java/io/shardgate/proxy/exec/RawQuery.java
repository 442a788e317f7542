package io.shardgate.proxy.exec;

import com.mysql.cj.protocol.ColumnDefinition;
import com.mysql.cj.protocol.Message;
import com.mysql.cj.protocol.a.NativeMessageBuilder;
import com.mysql.cj.jdbc.ClientPreparedStatement;
import com.mysql.cj.jdbc.JdbcConnection;
import com.mysql.cj.jdbc.result.ResultSetInternalMethods;
import java.sql.SQLException;

/**
 * A COM_QUERY whose SQL is given as bytes, sent through Connector/J unchanged. Connector/J's public API only takes
 * Strings, which it encodes itself (lone surrogates become '?', and every statement would be in its own character
 * set); this statement lets the driver do everything else as for any statement (locking, timeouts, the OK packet's
 * affected rows, last insert id and info, result sets) and swaps only the packet it sends: the driver builds one
 * from a placeholder text, and {@link #executeInternal} sends COM_QUERY + these bytes instead, as
 * {@code NativeMessageBuilder.buildComQuery(byte[])} writes it (with the empty query-attribute prefix where the
 * server negotiated query attributes).
 *
 * <p>This leans on Connector/J internals (checked against 9.5.0): {@code ClientPreparedStatement.executeInternal}
 * is protected and takes the packet to send. Native backend connections will replace it with a plain write.
 */
final class RawQuery extends ClientPreparedStatement {
    private static final NativeMessageBuilder WITH_ATTRIBUTES = new NativeMessageBuilder(true);
    private static final NativeMessageBuilder PLAIN = new NativeMessageBuilder(false);

    private final byte[] sql;

    /** {@code keyword}: a short placeholder the driver parses instead of the statement (its first word suffices). */
    RawQuery(JdbcConnection connection, byte[] sql, String keyword) throws SQLException {
        super(connection, keyword, connection.getDatabase());
        this.sql = sql;
        setEscapeProcessing(false);
    }

    /**
     * Rows are read one at a time as the caller asks (Connector/J's streaming result set): the driver streams only a
     * forward-only, read-only statement with fetch size {@code Integer.MIN_VALUE}, and the concurrency, which
     * {@code Connection.prepareStatement} sets, is 0 in a statement made by this constructor.
     */
    void streamRows() throws SQLException {
        this.resultSetConcurrency = java.sql.ResultSet.CONCUR_READ_ONLY;
        setFetchSize(Integer.MIN_VALUE);
    }

    @Override
    protected <M extends Message> ResultSetInternalMethods executeInternal(int maxRowsToRetrieve, M placeholder,
            boolean createStreamingResultSet, boolean queryIsSelectOnly, ColumnDefinition metadata, boolean isBatch)
            throws SQLException {
        NativeMessageBuilder builder = this.session.getServerSession().supportsQueryAttributes() ? WITH_ATTRIBUTES : PLAIN;
        @SuppressWarnings("unchecked")
        M packet = (M) builder.buildComQuery(null, this.session, sql);
        return super.executeInternal(maxRowsToRetrieve, packet, createStreamingResultSet, queryIsSelectOnly, metadata, isBatch);
    }
}

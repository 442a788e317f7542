package io.shardgate.proxy.mysql.message;

import io.shardgate.proxy.session.ColumnInfo;
import java.util.List;
import java.util.Objects;

/** Everything the proxy sends to a MySQL client. The encoder frames each into one or more packets. */
public sealed interface ServerMessage {

    /** Protocol::HandshakeV10; {@code nonce} is the 20-byte scramble. */
    record Handshake(int connectionId, String serverVersion, byte[] nonce, String authPlugin, int capabilities,
            int collation, int status) implements ServerMessage {}

    record AuthSwitchRequest(String plugin, byte[] data) implements ServerMessage {}

    /** caching_sha2_password's extra round: 0x03 = fast auth succeeded. */
    record AuthMoreData(byte[] data) implements ServerMessage {}

    record Ok(long affectedRows, long lastInsertId, int status, int warnings, String info) implements ServerMessage {}

    record Err(int errno, String sqlState, String message) implements ServerMessage {
        public Err {
            Objects.requireNonNull(sqlState, "sqlState");
            Objects.requireNonNull(message, "message");
        }
    }

    /** An EOF packet; sent as an OK packet with the 0xFE header when CLIENT_DEPRECATE_EOF is in force. */
    record Eof(int status, int warnings) implements ServerMessage {}

    /** A whole result set: column count, definitions, rows (text or binary protocol) and the closing packet. */
    record ResultSet(List<ColumnInfo> columns, List<byte[][]> rows, boolean binary, int status, int warnings)
            implements ServerMessage {}

    /**
     * The start of a streamed result set: column count, definitions and (without CLIENT_DEPRECATE_EOF) the EOF after them,
     * whose warning count is the one known then (0: a server too counts the warnings its rows raise only at the end).
     */
    record ResultSetHead(List<ColumnInfo> columns, int status) implements ServerMessage {}

    /** Rows of a streamed result set (text or binary protocol). */
    record ResultRows(List<ColumnInfo> columns, List<byte[][]> rows, boolean binary) implements ServerMessage {}

    /** The closing packet of a streamed result set (EOF, or 0xFE-OK with CLIENT_DEPRECATE_EOF). */
    record ResultSetEnd(int status, int warnings) implements ServerMessage {}

    /** The answer to COM_FIELD_LIST: column definitions and an EOF. */
    record FieldList(List<ColumnInfo> columns, int status) implements ServerMessage {}

    /** COM_STMT_PREPARE_OK with its parameter and column definitions. */
    record PrepareOk(int statementId, List<ColumnInfo> parameters, List<ColumnInfo> columns, int status, int warnings)
            implements ServerMessage {}
}

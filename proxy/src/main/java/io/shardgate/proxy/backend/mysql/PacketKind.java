package io.shardgate.proxy.backend.mysql;

/**
 * What one reply packet is, as far as the end of the reply and the EOF/OK conversion need to know. The pieces of a
 * packet split at 16 MB after the first carry the first piece's kind (see {@link ReplySink#packet}).
 */
public enum PacketKind {
    /** An OK packet (0x00) that is a whole result: a statement without rows, a ping, a reset. */
    OK,
    /** An ERR packet (0xFF); it always ends the reply. */
    ERROR,
    /** The column count that starts a result set. */
    COLUMN_COUNT,
    /** A column definition, of a result set or of a prepared statement's result columns. */
    COLUMN_DEFINITION,
    /** The EOF packet after the column definitions; only without {@code DEPRECATE_EOF}. */
    METADATA_EOF,
    /** A row, text (COM_QUERY) or binary (COM_STMT_EXECUTE). */
    ROW,
    /** The packet after the last row: an EOF packet, or with {@code DEPRECATE_EOF} an OK packet with the 0xFE header. */
    ROWS_END,
    /** The first packet of a COM_STMT_PREPARE reply: statement id, column and parameter counts. */
    PREPARE_OK,
    /** A prepared statement's parameter definition. */
    PARAMETER_DEFINITION,
    /** The EOF after a prepared statement's parameter or column definitions; only without {@code DEPRECATE_EOF}. */
    PREPARE_EOF
}

package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.exec.ColumnMapping;
import io.shardgate.proxy.mysql.codec.MySqlProtocolException;
import io.shardgate.proxy.mysql.codec.Wire;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ColumnInfo;
import java.util.Arrays;

/**
 * The two pieces of a text-protocol result set a merge needs decoded, read from a native connection's packets: a column
 * definition (Protocol::ColumnDefinition41) as a {@link ColumnInfo} that writes back to the same bytes (lengths, type,
 * flags, decimals, collation exactly as the server sent them; only the schema is the proxy's logical database), and a
 * row's length-encoded values as the {@code byte[][]} the merger compares (null for SQL NULL).
 */
public final class TextRows {
    private static final int FLAG_NOT_NULL = 1;
    private static final int FLAG_UNSIGNED = 1 << 5;
    private static final int FLAG_BINARY = 1 << 7;
    private static final int BINARY_COLLATION = 63;
    private static final int NULL_VALUE = 0xFB;

    private TextRows() {}

    /**
     * A column definition payload (after the packet header; not consumed) as the client should see it: names in their
     * wire form (see {@link ColumnInfo}), the schema the logical database where the server named one.
     */
    public static ColumnInfo column(ByteBuf payload, String logicalDatabase) {
        ByteBuf p = payload.duplicate();
        Wire.readLenEncBytes(p, "catalog");
        byte[] schema = Wire.readLenEncBytes(p, "schema");
        String table = name(Wire.readLenEncBytes(p, "table"));
        String orgTable = name(Wire.readLenEncBytes(p, "original table"));
        String name = name(Wire.readLenEncBytes(p, "column name"));
        String orgName = name(Wire.readLenEncBytes(p, "original column name"));
        long fixed = Wire.readLenEnc(p, "length of the fixed fields");
        if (fixed < 10) {
            throw new MySqlProtocolException(ErrorCode.INTERNAL, "a column definition with " + fixed
                    + " bytes of fixed fields (at least 10 expected)");
        }
        Wire.need(p, 10, "column definition's fixed fields");
        int collation = p.readUnsignedShortLE();
        long length = p.readUnsignedIntLE();
        int type = p.readUnsignedByte();
        int flags = p.readUnsignedShortLE();
        int decimals = p.readUnsignedByte();
        boolean binaryCharset = collation == BINARY_COLLATION;
        return new ColumnInfo(schema.length == 0 ? "" : logicalDatabase, table, orgTable, name, orgName,
                ColumnMapping.type(type, flags, binaryCharset), length, decimals, (flags & FLAG_UNSIGNED) != 0,
                (flags & FLAG_NOT_NULL) != 0, (flags & FLAG_BINARY) != 0 || binaryCharset, collation, 0, -1, 0, 0,
                new ColumnInfo.MySqlWire(type, flags));
    }

    private static String name(byte[] bytes) {
        return ClientCharset.UTF8MB4.decode(bytes);
    }

    /**
     * A text row's payload (the whole logical packet, pieces joined) as {@code columns} values.
     *
     * @throws MySqlProtocolException if the values do not fill the payload exactly
     */
    public static byte[][] row(byte[] payload, int columns) {
        byte[][] row = new byte[columns][];
        int at = 0;
        for (int i = 0; i < columns; i++) {
            if (at >= payload.length) {
                throw malformed("the row ends before column " + (i + 1) + " of " + columns, payload.length);
            }
            int first = payload[at] & 0xFF;
            long length;
            switch (first) {
                case NULL_VALUE -> {
                    at++;
                    continue;
                }
                case 0xFC -> {
                    need(payload, at, 3);
                    length = (payload[at + 1] & 0xFF) | (payload[at + 2] & 0xFF) << 8;
                    at += 3;
                }
                case 0xFD -> {
                    need(payload, at, 4);
                    length = (payload[at + 1] & 0xFF) | (payload[at + 2] & 0xFF) << 8 | (payload[at + 3] & 0xFF) << 16;
                    at += 4;
                }
                case 0xFE -> {
                    need(payload, at, 9);
                    length = 0;
                    for (int b = 8; b >= 1; b--) {
                        length = length << 8 | (payload[at + b] & 0xFF);
                    }
                    at += 9;
                }
                case 0xFF -> throw malformed("a value starting with 0xFF in column " + (i + 1), payload.length);
                default -> {
                    length = first;
                    at++;
                }
            }
            if (length < 0 || length > payload.length - at) {
                throw malformed("column " + (i + 1) + "'s value of " + Long.toUnsignedString(length) + " bytes runs past the end",
                        payload.length);
            }
            row[i] = Arrays.copyOfRange(payload, at, at + (int) length);
            at += (int) length;
        }
        if (at != payload.length) {
            throw malformed((payload.length - at) + " bytes after the last of " + columns + " columns", payload.length);
        }
        return row;
    }

    private static void need(byte[] payload, int at, int n) {
        if (payload.length - at < n) {
            throw malformed("a value's length is cut off", payload.length);
        }
    }

    private static MySqlProtocolException malformed(String what, int size) {
        return new MySqlProtocolException(ErrorCode.INTERNAL, "malformed text row from the shard (" + size + " bytes): " + what);
    }
}

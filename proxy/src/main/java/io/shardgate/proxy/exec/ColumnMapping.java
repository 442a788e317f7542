package io.shardgate.proxy.exec;

import com.mysql.cj.result.Field;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import java.util.List;

/** Connector/J's column definitions (as the backend sent them) to protocol-neutral {@link ColumnInfo}s. */
public final class ColumnMapping {
    private static final int FLAG_NOT_NULL = 1;
    private static final int FLAG_UNSIGNED = 1 << 5;
    private static final int FLAG_BINARY = 1 << 7;
    private static final int FLAG_ENUM = 1 << 8;
    private static final int FLAG_SET = 1 << 11;
    private static final int BINARY_COLLATION = 63;

    private ColumnMapping() {}

    /** The columns as the client should see them; the schema is the logical database (never a shard's). */
    static List<ColumnInfo> columns(Field[] fields, String logicalDatabase) {
        ColumnInfo[] out = new ColumnInfo[fields.length];
        for (int i = 0; i < fields.length; i++) {
            out[i] = column(fields[i], logicalDatabase);
        }
        return List.of(out);
    }

    /**
     * A column as the server described it: the length, flags and decimals the server sent where the connection kept
     * them ({@link ServerColumnDefinitions}; Connector/J rewrites them for numeric types), else Connector/J's.
     */
    static ColumnInfo column(Field f, String logicalDatabase) {
        ServerColumnDefinitions.ServerField server = f instanceof ServerColumnDefinitions.ServerField sf ? sf : null;
        int flags = server != null ? server.serverFlags() : f.getFlags() & 0xFFFF;
        long length = server != null ? server.serverLength() : f.getLength();
        int decimals = server != null ? server.serverDecimals() : f.getDecimals();
        int collation = f.getCollationIndex();
        boolean binaryCharset = collation == BINARY_COLLATION;
        String db = f.getDatabaseName();
        return new ColumnInfo(db == null || db.isEmpty() ? "" : logicalDatabase, nonNull(f.getTableName()),
                nonNull(f.getOriginalTableName()), nonNull(f.getColumnLabel()), nonNull(f.getOriginalName()),
                type(f.getMysqlTypeId(), flags, binaryCharset), length, decimals, (flags & FLAG_UNSIGNED) != 0,
                (flags & FLAG_NOT_NULL) != 0, (flags & FLAG_BINARY) != 0 || binaryCharset, collation, 0, -1, 0, 0,
                new ColumnInfo.MySqlWire(f.getMysqlTypeId(), flags));
    }

    /** MySQL wire type id + flags + charset → column type (TEXT vs BLOB by the binary charset, ENUM/SET by flags). */
    public static ColumnType type(int typeId, int flags, boolean binaryCharset) {
        if ((flags & FLAG_ENUM) != 0) {
            return ColumnType.ENUM;
        }
        if ((flags & FLAG_SET) != 0) {
            return ColumnType.SET;
        }
        return switch (typeId) {
            case 0, 246 -> ColumnType.DECIMAL;
            case 1 -> ColumnType.TINYINT;
            case 2 -> ColumnType.SMALLINT;
            case 3 -> ColumnType.INT;
            case 4 -> ColumnType.FLOAT;
            case 5 -> ColumnType.DOUBLE;
            case 6 -> ColumnType.NULL;
            case 7, 17 -> ColumnType.TIMESTAMP;
            case 8 -> ColumnType.BIGINT;
            case 9 -> ColumnType.MEDIUMINT;
            case 10, 14 -> ColumnType.DATE;
            case 11, 19 -> ColumnType.TIME;
            case 12, 18 -> ColumnType.DATETIME;
            case 13 -> ColumnType.YEAR;
            case 16 -> ColumnType.BIT;
            case 245 -> ColumnType.JSON;
            case 247 -> ColumnType.ENUM;
            case 248 -> ColumnType.SET;
            case 249, 250, 251, 252 -> binaryCharset ? ColumnType.BLOB : ColumnType.TEXT;
            case 15, 253 -> binaryCharset ? ColumnType.VARBINARY : ColumnType.VARCHAR;
            case 254 -> binaryCharset ? ColumnType.BINARY : ColumnType.CHAR;
            case 255 -> ColumnType.GEOMETRY;
            default -> binaryCharset ? ColumnType.VARBINARY : ColumnType.VARCHAR;
        };
    }

    /** A name in the wire form of {@link ColumnInfo} (see {@link BackendUrl#serverText}). */
    private static String nonNull(String s) {
        return s == null ? "" : BackendUrl.serverText(s);
    }
}

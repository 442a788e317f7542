package io.shardgate.proxy.exec;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.List;
import org.postgresql.core.Field;
import org.postgresql.jdbc.PgResultSetMetaData;

/**
 * pgJDBC's column descriptions (the backend's RowDescription) to protocol-neutral {@link ColumnInfo}s,
 * keeping the type OID and modifier so the PostgreSQL front end describes columns exactly as the shard did.
 *
 * <p>pgJDBC keeps the RowDescription's fields in a protected array and offers no public accessor for the
 * type modifier; its public metadata methods would look the types up in {@code pg_catalog} (a round trip
 * per statement for {@code isAutoIncrement}), so the array is read directly, once per result.
 */
final class PgColumns {
    static final int BYTEA = 17;
    private static final VarHandle FIELDS;

    static {
        try {
            FIELDS = MethodHandles.privateLookupIn(PgResultSetMetaData.class, MethodHandles.lookup())
                    .findVarHandle(PgResultSetMetaData.class, "fields", Field[].class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private PgColumns() {}

    static Field[] fields(ResultSetMetaData md) throws SQLException {
        return (Field[]) FIELDS.get(md.unwrap(PgResultSetMetaData.class));
    }

    static List<ColumnInfo> columns(Field[] fields, String logicalDatabase) {
        ColumnInfo[] out = new ColumnInfo[fields.length];
        for (int i = 0; i < fields.length; i++) {
            Field f = fields[i];
            ColumnType type = type(f.getOID());
            int mod = f.getMod();
            int decimals = type == ColumnType.DECIMAL ? (mod >= 4 ? (mod - 4) & 0xFFFF : 31) : 0;
            out[i] = new ColumnInfo(logicalDatabase, "", "", f.getColumnLabel(), "", type, f.getLength(), decimals, false, false,
                    true, 63, f.getOID(), mod, f.getTableOid(), f.getPositionInTable());
        }
        return List.of(out);
    }

    /**
     * The nearest protocol-neutral type, which the result merge uses to compare and add values. Strings are
     * marked binary: they compare byte by byte, as PostgreSQL does under the C collation shards should use.
     */
    static ColumnType type(int oid) {
        return switch (oid) {
            case 16 -> ColumnType.BOOLEAN;
            case 17 -> ColumnType.BLOB;
            case 18, 1042 -> ColumnType.CHAR;
            case 20 -> ColumnType.BIGINT;
            case 21 -> ColumnType.SMALLINT;
            case 23, 26 -> ColumnType.INT;
            case 700 -> ColumnType.FLOAT;
            case 701 -> ColumnType.DOUBLE;
            case 1700 -> ColumnType.DECIMAL;
            case 1082 -> ColumnType.DATE;
            case 1083, 1266 -> ColumnType.TIME;
            case 1114 -> ColumnType.DATETIME;
            case 1184 -> ColumnType.TIMESTAMP;
            case 114, 3802 -> ColumnType.JSON;
            case 2950 -> ColumnType.UUID;
            case 25 -> ColumnType.TEXT;
            default -> ColumnType.VARCHAR;
        };
    }
}

package io.shardgate.proxy.mysql.codec;

import io.shardgate.proxy.session.ColumnType;

/** MySQL wire type codes and flags, and their mapping to {@link ColumnType}. */
public final class MySqlTypes {
    public static final int DECIMAL = 0x00;
    public static final int TINY = 0x01;
    public static final int SHORT = 0x02;
    public static final int LONG = 0x03;
    public static final int FLOAT = 0x04;
    public static final int DOUBLE = 0x05;
    public static final int NULL = 0x06;
    public static final int TIMESTAMP = 0x07;
    public static final int LONGLONG = 0x08;
    public static final int INT24 = 0x09;
    public static final int DATE = 0x0A;
    public static final int TIME = 0x0B;
    public static final int DATETIME = 0x0C;
    public static final int YEAR = 0x0D;
    public static final int VARCHAR = 0x0F;
    public static final int BIT = 0x10;
    public static final int JSON = 0xF5;
    public static final int NEWDECIMAL = 0xF6;
    public static final int ENUM = 0xF7;
    public static final int SET = 0xF8;
    public static final int TINY_BLOB = 0xF9;
    public static final int MEDIUM_BLOB = 0xFA;
    public static final int LONG_BLOB = 0xFB;
    public static final int BLOB = 0xFC;
    public static final int VAR_STRING = 0xFD;
    public static final int STRING = 0xFE;
    public static final int GEOMETRY = 0xFF;

    public static final int FLAG_NOT_NULL = 1;
    public static final int FLAG_PRI_KEY = 2;
    public static final int FLAG_BLOB = 1 << 4;
    public static final int FLAG_UNSIGNED = 1 << 5;
    public static final int FLAG_BINARY = 1 << 7;
    public static final int FLAG_ENUM = 1 << 8;
    public static final int FLAG_SET = 1 << 11;

    public static final int COLLATION_BINARY = 63;

    private MySqlTypes() {}

    /** Wire type of a column type. */
    public static int code(ColumnType type) {
        return switch (type) {
            case TINYINT, BOOLEAN -> TINY;
            case SMALLINT -> SHORT;
            case MEDIUMINT -> INT24;
            case INT -> LONG;
            case BIGINT -> LONGLONG;
            case DECIMAL -> NEWDECIMAL;
            case FLOAT -> FLOAT;
            case DOUBLE -> DOUBLE;
            case BIT -> BIT;
            case YEAR -> YEAR;
            case DATE -> DATE;
            case TIME -> TIME;
            case DATETIME -> DATETIME;
            case TIMESTAMP -> TIMESTAMP;
            case CHAR, BINARY, ENUM, SET -> STRING;
            case VARCHAR, VARBINARY, UUID -> VAR_STRING;
            case TEXT, BLOB -> BLOB;
            case JSON -> JSON;
            case GEOMETRY -> GEOMETRY;
            case NULL -> NULL;
        };
    }

    /** Column flags implied by a type beyond those the column carries itself. */
    /** The type byte a column definition carries for {@code c}: a backend's own, else its type's code. */
    public static int wireType(io.shardgate.proxy.session.ColumnInfo c) {
        return c.mysqlWire() != null ? c.mysqlWire().type() : code(c.type());
    }

    /** The flags a column definition carries for {@code c}: a backend's own, else what its type and booleans say. */
    public static int wireFlags(io.shardgate.proxy.session.ColumnInfo c) {
        return c.mysqlWire() != null ? c.mysqlWire().flags() : typeFlags(c.type())
                | (c.notNull() ? FLAG_NOT_NULL : 0)
                | (c.unsigned() ? FLAG_UNSIGNED : 0)
                | (c.binary() ? FLAG_BINARY : 0);
    }

    public static int typeFlags(ColumnType type) {
        return switch (type) {
            case TEXT, BLOB -> FLAG_BLOB;
            case ENUM -> FLAG_ENUM;
            case SET -> FLAG_SET;
            default -> 0;
        };
    }

    /** A wire type back to a column type (used for statement parameters and backend fields). */
    public static ColumnType columnType(int code) {
        return switch (code) {
            case TINY -> ColumnType.TINYINT;
            case SHORT -> ColumnType.SMALLINT;
            case INT24 -> ColumnType.MEDIUMINT;
            case LONG -> ColumnType.INT;
            case LONGLONG -> ColumnType.BIGINT;
            case DECIMAL, NEWDECIMAL -> ColumnType.DECIMAL;
            case FLOAT -> ColumnType.FLOAT;
            case DOUBLE -> ColumnType.DOUBLE;
            case NULL -> ColumnType.NULL;
            case TIMESTAMP -> ColumnType.TIMESTAMP;
            case DATE -> ColumnType.DATE;
            case TIME -> ColumnType.TIME;
            case DATETIME -> ColumnType.DATETIME;
            case YEAR -> ColumnType.YEAR;
            case BIT -> ColumnType.BIT;
            case JSON -> ColumnType.JSON;
            case ENUM -> ColumnType.ENUM;
            case SET -> ColumnType.SET;
            case TINY_BLOB, MEDIUM_BLOB, LONG_BLOB, BLOB -> ColumnType.BLOB;
            case VARCHAR, VAR_STRING -> ColumnType.VARCHAR;
            case STRING -> ColumnType.CHAR;
            case GEOMETRY -> ColumnType.GEOMETRY;
            default -> ColumnType.VARBINARY;
        };
    }
}

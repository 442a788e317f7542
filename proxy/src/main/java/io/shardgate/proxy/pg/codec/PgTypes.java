package io.shardgate.proxy.pg.codec;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ColumnInfo;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.UUID;

/**
 * PostgreSQL type OIDs and the binary format of the common types. Values travel through the proxy as the backend's
 * text output; a column a client asks for in binary is converted here, and a binary parameter is decoded into the Java
 * value the session binds. Text forms are the ones PostgreSQL prints with its defaults (DateStyle ISO, bytea hex).
 */
public final class PgTypes {
    public static final int BOOL = 16;
    public static final int BYTEA = 17;
    public static final int CHAR = 18;
    public static final int NAME = 19;
    public static final int INT8 = 20;
    public static final int INT2 = 21;
    public static final int INT4 = 23;
    public static final int TEXT = 25;
    public static final int OID = 26;
    public static final int JSON = 114;
    public static final int FLOAT4 = 700;
    public static final int FLOAT8 = 701;
    public static final int UNKNOWN = 705;
    public static final int BPCHAR = 1042;
    public static final int VARCHAR = 1043;
    public static final int DATE = 1082;
    public static final int TIME = 1083;
    public static final int TIMESTAMP = 1114;
    public static final int TIMESTAMPTZ = 1184;
    public static final int NUMERIC = 1700;
    public static final int UUID_OID = 2950;
    public static final int JSONB = 3802;

    private static final LocalDate EPOCH = LocalDate.of(2000, 1, 1);
    private static final LocalDateTime EPOCH_TIME = EPOCH.atStartOfDay();
    private static final DateTimeFormatter TIMESTAMP_TEXT = new DateTimeFormatterBuilder().appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd().toFormatter();
    private static final DateTimeFormatter TIMESTAMPTZ_TEXT = new DateTimeFormatterBuilder().append(TIMESTAMP_TEXT)
            .appendPattern("[XXXXX][XXX][X]").toFormatter();

    private PgTypes() {}

    /** The column's type OID: the backend's own, or the nearest one for a column the proxy computed. */
    public static int oid(ColumnInfo c) {
        if (c.pgTypeOid() != 0) {
            return c.pgTypeOid();
        }
        return switch (c.type()) {
            case TINYINT, SMALLINT, YEAR -> INT2;
            case MEDIUMINT, INT -> INT4;
            case BIGINT -> INT8;
            case DECIMAL -> NUMERIC;
            case FLOAT -> FLOAT4;
            case DOUBLE -> FLOAT8;
            case DATE -> DATE;
            case TIME -> TIME;
            case DATETIME -> TIMESTAMP;
            case TIMESTAMP -> TIMESTAMPTZ;
            case BINARY, VARBINARY, BLOB, BIT, GEOMETRY -> BYTEA;
            case JSON -> JSON;
            case BOOLEAN -> BOOL;
            case UUID -> UUID_OID;
            case CHAR -> BPCHAR;
            case NULL -> UNKNOWN;
            case VARCHAR, TEXT, ENUM, SET -> TEXT;
        };
    }

    /** pg_type.typlen: the fixed size of a type, -1 for variable length. */
    public static short typeLength(int oid) {
        return switch (oid) {
            case BOOL, CHAR -> 1;
            case INT2 -> 2;
            case INT4, OID, FLOAT4, DATE -> 4;
            case INT8, FLOAT8, TIME, TIMESTAMP, TIMESTAMPTZ -> 8;
            case UUID_OID -> 16;
            case NAME -> 64;
            default -> -1;
        };
    }

    /** Whether {@link #toBinary} can convert values of this type. */
    public static boolean binarySupported(int oid) {
        return switch (oid) {
            case BOOL, BYTEA, CHAR, NAME, INT8, INT2, INT4, TEXT, OID, JSON, FLOAT4, FLOAT8, UNKNOWN, BPCHAR, VARCHAR, DATE, TIME,
                    TIMESTAMP, TIMESTAMPTZ, NUMERIC, UUID_OID -> true;
            default -> false;
        };
    }

    /** The binary form of one value given as PostgreSQL's text output. */
    public static byte[] toBinary(int oid, byte[] text) {
        String s = new String(text, StandardCharsets.UTF_8);
        return switch (oid) {
            case BOOL -> new byte[] {(byte) (s.equals("t") || s.equals("true") ? 1 : 0)};
            case INT2 -> ByteBuffer.allocate(2).putShort(Short.parseShort(s)).array();
            case INT4 -> ByteBuffer.allocate(4).putInt(Integer.parseInt(s)).array();
            case OID -> ByteBuffer.allocate(4).putInt((int) Long.parseLong(s)).array();
            case INT8 -> ByteBuffer.allocate(8).putLong(Long.parseLong(s)).array();
            case FLOAT4 -> ByteBuffer.allocate(4).putFloat(Float.parseFloat(special(s))).array();
            case FLOAT8 -> ByteBuffer.allocate(8).putDouble(Double.parseDouble(special(s))).array();
            case BYTEA -> byteaFromText(s);
            case UUID_OID -> uuid(UUID.fromString(s));
            case DATE -> ByteBuffer.allocate(4).putInt(s.equals("infinity") ? Integer.MAX_VALUE : s.equals("-infinity")
                    ? Integer.MIN_VALUE : (int) ChronoUnit.DAYS.between(EPOCH, LocalDate.parse(s))).array();
            case TIME -> ByteBuffer.allocate(8).putLong(LocalTime.parse(s).toNanoOfDay() / 1000).array();
            case TIMESTAMP -> ByteBuffer.allocate(8).putLong(infinity(s).orElseGet(() -> ChronoUnit.MICROS.between(EPOCH_TIME,
                    LocalDateTime.parse(s, TIMESTAMP_TEXT)))).array();
            case TIMESTAMPTZ -> ByteBuffer.allocate(8).putLong(infinity(s).orElseGet(() -> ChronoUnit.MICROS.between(
                    EPOCH_TIME.atOffset(ZoneOffset.UTC), OffsetDateTime.parse(s, TIMESTAMPTZ_TEXT)))).array();
            case NUMERIC -> numeric(s);
            default -> text; // text-like types: the binary form is the text
        };
    }

    /** PostgreSQL's infinite timestamps, which its binary format writes as the extreme int64 values. */
    private static java.util.Optional<Long> infinity(String s) {
        return switch (s) {
            case "infinity" -> java.util.Optional.of(Long.MAX_VALUE);
            case "-infinity" -> java.util.Optional.of(Long.MIN_VALUE);
            default -> java.util.Optional.empty();
        };
    }

    /** A type OID as SQL names it in a declaration ({@code PREPARE p (bytea) …}); empty for types the proxy does not name. */
    public static java.util.Optional<String> sqlName(int oid) {
        return java.util.Optional.ofNullable(switch (oid) {
            case 0, UNKNOWN -> "unknown";
            case BOOL -> "boolean";
            case BYTEA -> "bytea";
            case CHAR -> "\"char\"";
            case NAME -> "name";
            case INT8 -> "bigint";
            case INT2 -> "smallint";
            case INT4 -> "integer";
            case TEXT -> "text";
            case OID -> "oid";
            case JSON -> "json";
            case FLOAT4 -> "real";
            case FLOAT8 -> "double precision";
            case BPCHAR -> "bpchar";
            case VARCHAR -> "varchar";
            case DATE -> "date";
            case TIME -> "time";
            case TIMESTAMP -> "timestamp";
            case TIMESTAMPTZ -> "timestamptz";
            case NUMERIC -> "numeric";
            case UUID_OID -> "uuid";
            case JSONB -> "jsonb";
            default -> null;
        });
    }

    /** The OID of a pg_catalog type by its name ({@code pg_type.typname}); 0 for one the proxy has no constant for. */
    public static int oidOf(String typname) {
        return switch (typname) {
            case "bool" -> BOOL;
            case "bytea" -> BYTEA;
            case "char" -> CHAR;
            case "name" -> NAME;
            case "int8" -> INT8;
            case "int2" -> INT2;
            case "int4" -> INT4;
            case "text" -> TEXT;
            case "oid" -> OID;
            case "json" -> JSON;
            case "float4" -> FLOAT4;
            case "float8" -> FLOAT8;
            case "unknown" -> UNKNOWN;
            case "bpchar" -> BPCHAR;
            case "varchar" -> VARCHAR;
            case "date" -> DATE;
            case "time" -> TIME;
            case "timestamp" -> TIMESTAMP;
            case "timestamptz" -> TIMESTAMPTZ;
            case "numeric" -> NUMERIC;
            case "uuid" -> UUID_OID;
            case "jsonb" -> JSONB;
            default -> 0;
        };
    }

    /** A parameter sent in binary, as the Java value the session binds. */
    public static Object fromBinary(int oid, byte[] value) {
        ByteBuffer b = ByteBuffer.wrap(value);
        return switch (oid) {
            case INT2 -> requireLength(oid, value, 2) ? (long) b.getShort() : null;
            case INT4 -> requireLength(oid, value, 4) ? (long) b.getInt() : null;
            case OID -> requireLength(oid, value, 4) ? b.getInt() & 0xFFFFFFFFL : null;
            case INT8 -> requireLength(oid, value, 8) ? b.getLong() : null;
            case FLOAT4 -> requireLength(oid, value, 4) ? Float.valueOf(b.getFloat()) : null;
            case FLOAT8 -> requireLength(oid, value, 8) ? b.getDouble() : null;
            case BOOL -> requireLength(oid, value, 1) ? (value[0] != 0 ? "true" : "false") : null;
            case BYTEA -> value;
            case UUID_OID -> requireLength(oid, value, 16) ? new UUID(b.getLong(), b.getLong()).toString() : null;
            case DATE -> requireLength(oid, value, 4) ? EPOCH.plusDays(b.getInt()) : null;
            case TIMESTAMP -> requireLength(oid, value, 8) ? EPOCH_TIME.plus(b.getLong(), ChronoUnit.MICROS) : null;
            case NUMERIC -> numericFromBinary(b);
            case TEXT, VARCHAR, BPCHAR, NAME, CHAR, JSON, UNKNOWN -> new String(value, StandardCharsets.UTF_8);
            default -> throw new ProxyException(ErrorCode.UNSUPPORTED, "binary format of parameters of type OID " + oid
                    + " is not supported by Shardgate; send the parameter in text format");
        };
    }

    private static byte[] numericSpecial(int sign) {
        return ByteBuffer.allocate(8).putShort((short) 0).putShort((short) 0).putShort((short) sign).putShort((short) 0).array();
    }

    /** numeric's binary form to a BigDecimal (NaN as the text 'NaN', which the server reads back). */
    static Object numericFromBinary(ByteBuffer b) {
        if (b.remaining() < 8) {
            throw new ProxyException(ErrorCode.MALFORMED_PACKET, "binary numeric parameter of " + b.remaining() + " bytes");
        }
        int ndigits = b.getShort() & 0xFFFF;
        int weight = b.getShort();
        int sign = b.getShort() & 0xFFFF;
        int dscale = b.getShort() & 0xFFFF;
        if (sign == 0xC000) {
            return "NaN";
        }
        if (b.remaining() != 2 * ndigits) {
            throw new ProxyException(ErrorCode.MALFORMED_PACKET, "binary numeric parameter with " + ndigits + " digits but "
                    + b.remaining() + " bytes of them");
        }
        BigInteger unscaled = BigInteger.ZERO;
        BigInteger base = BigInteger.valueOf(10_000);
        for (int i = 0; i < ndigits; i++) {
            unscaled = unscaled.multiply(base).add(BigInteger.valueOf(b.getShort()));
        }
        // the last digit group has weight (weight - ndigits + 1), in units of 10000
        BigDecimal value = new BigDecimal(unscaled).scaleByPowerOfTen(4 * (weight - ndigits + 1));
        value = value.setScale(dscale, java.math.RoundingMode.UNNECESSARY);
        return sign == 0x4000 ? value.negate() : value;
    }

    private static boolean requireLength(int oid, byte[] value, int length) {
        if (value.length != length) {
            throw new ProxyException(ErrorCode.MALFORMED_PACKET, "binary parameter of type OID " + oid + " has " + value.length
                    + " bytes, expected " + length);
        }
        return true;
    }

    private static String special(String s) {
        return switch (s) {
            case "Infinity" -> "Infinity";
            case "-Infinity" -> "-Infinity";
            case "NaN" -> "NaN";
            default -> s;
        };
    }

    /** bytea's hex output ({@code \x0a1b}); the escape format is not produced by PostgreSQL 9.0+ with defaults. */
    static byte[] byteaFromText(String s) {
        if (!s.startsWith("\\x")) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "bytea value not in hex output format (bytea_output = hex is required)");
        }
        return HexFormat.of().parseHex(s, 2, s.length());
    }

    private static byte[] uuid(UUID u) {
        return ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
    }

    /** numeric's binary form: ndigits, weight, sign, dscale, then base-10000 digits. */
    static byte[] numeric(String s) {
        switch (s) {
            case "NaN" -> {
                return numericSpecial(0xC000);
            }
            case "Infinity" -> {
                return numericSpecial(0xD000);
            }
            case "-Infinity" -> {
                return numericSpecial(0xF000);
            }
            default -> { }
        }
        BigDecimal d = new BigDecimal(s);
        int dscale = Math.max(0, d.scale());
        boolean negative = d.signum() < 0;
        BigInteger unscaled = d.abs().unscaledValue();
        int scale = d.scale();
        // align to a multiple of 4 decimal digits after the point
        int fractionGroups = scale > 0 ? (scale + 3) / 4 : 0;
        BigInteger aligned = scale > 0 ? unscaled.multiply(BigInteger.TEN.pow(fractionGroups * 4 - scale))
                : unscaled.multiply(BigInteger.TEN.pow(-scale));
        java.util.ArrayDeque<Short> digits = new java.util.ArrayDeque<>();
        BigInteger base = BigInteger.valueOf(10_000);
        while (aligned.signum() > 0) {
            BigInteger[] qr = aligned.divideAndRemainder(base);
            digits.addFirst(qr[1].shortValue());
            aligned = qr[0];
        }
        int weight = digits.size() - fractionGroups - 1;
        while (!digits.isEmpty() && digits.peekLast() == 0) {
            digits.pollLast();
        }
        while (!digits.isEmpty() && digits.peekFirst() == 0) {
            digits.pollFirst();
            weight--;
        }
        if (digits.isEmpty()) {
            weight = 0;
        }
        ByteBuffer out = ByteBuffer.allocate(8 + 2 * digits.size());
        out.putShort((short) digits.size()).putShort((short) weight).putShort((short) (negative ? 0x4000 : 0)).putShort((short) dscale);
        digits.forEach(out::putShort);
        return out.array();
    }
}

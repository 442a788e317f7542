package io.shardgate.proxy.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.mysql.message.ClientMessage;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;

/** Decodes COM_STMT_EXECUTE: the null bitmap, the bound types and the binary parameter values. */
final class BinaryParameters {
    private static final List<Integer> DATE_LENGTHS = List.of(0, 4, 7, 11);
    /** A TIME reads sign, days, hours, minutes, seconds (8 bytes) and optional micros (12). */
    private static final List<Integer> TIME_LENGTHS = List.of(0, 8, 12);

    private BinaryParameters() {}

    static ClientMessage decodeExecute(ByteBuf buf, ConnectionState connection) {
        Wire.need(buf, 9, "COM_STMT_EXECUTE header");
        int start = buf.readerIndex();
        int id = buf.readIntLE();
        int flags = buf.readUnsignedByte();
        buf.skipBytes(4); // iteration count, always 1
        ConnectionState.PreparedParams prepared = connection.prepared(id);
        if (prepared == null) {
            // the session reports the unknown id with the server's own error; nothing to decode
            return new ClientMessage.StmtExecute(id, flags, List.of());
        }
        int n = prepared.count;
        List<Object> values = new ArrayList<>(n);
        if (n == 0) {
            return new ClientMessage.StmtExecute(id, flags, values, flags == 0 ? relayPacket(buf, start, null, null, 0, 0) : null);
        }
        byte[] nullBitmap = Wire.readBytes(buf, (n + 7) / 8, "parameter null bitmap");
        Wire.need(buf, 1, "new-params-bound flag");
        if (buf.readUnsignedByte() == 1) {
            prepared.types = Wire.readBytes(buf, 2 * n, "parameter types");
        }
        if (prepared.types == null) {
            throw Wire.malformed("statement " + id + " executed without parameter types ever being bound");
        }
        boolean relayable = flags == 0 && prepared.longData.isEmpty();
        int valuesStart = buf.readerIndex();
        for (int i = 0; i < n; i++) {
            var longData = prepared.longData.get(i);
            if (longData != null) {
                values.add(longDataValue(prepared.types[2 * i] & 0xFF, longData.toByteArray()));
            } else if ((nullBitmap[i / 8] & (1 << (i % 8))) != 0) {
                values.add(null);
            } else {
                values.add(value(buf, prepared.types[2 * i] & 0xFF, (prepared.types[2 * i + 1] & 0x80) != 0));
            }
        }
        prepared.longData.clear();
        byte[] relay = relayable ? relayPacket(buf, start, nullBitmap, prepared.types, valuesStart, buf.readerIndex()) : null;
        return new ClientMessage.StmtExecute(id, flags, values, relay);
    }

    /** The execute as one self-contained packet: the header, the null bitmap, the types bound, the values as sent. */
    private static byte[] relayPacket(ByteBuf buf, int start, byte[] nullBitmap, byte[] types, int valuesStart, int valuesEnd) {
        int bitmap = nullBitmap == null ? 0 : nullBitmap.length;
        int typed = types == null ? 0 : 1 + types.length;
        byte[] packet = new byte[1 + 9 + bitmap + typed + (valuesEnd - valuesStart)];
        packet[0] = 0x17; // COM_STMT_EXECUTE
        buf.getBytes(start, packet, 1, 9);
        int at = 10;
        if (nullBitmap != null) {
            System.arraycopy(nullBitmap, 0, packet, at, bitmap);
            at += bitmap;
            packet[at++] = 1;
            System.arraycopy(types, 0, packet, at, types.length);
            at += types.length;
        }
        buf.getBytes(valuesStart, packet, at, valuesEnd - valuesStart);
        return packet;
    }

    private static Object longDataValue(int type, byte[] data) {
        return isText(type) ? textOrBytes(data) : data;
    }

    /**
     * A string-typed parameter as the client's bytes: the session decodes them in its character set. (Drivers send
     * binary values with string types too, e.g. Connector/J's setBytes as MYSQL_TYPE_STRING; the bytes reach the shard
     * unchanged either way, as a string literal, which is how the server reads a string-typed parameter.)
     */
    private static Object textOrBytes(byte[] data) {
        return new io.shardgate.proxy.session.ClientText(data);
    }

    private static boolean isText(int type) {
        return type == MySqlTypes.VARCHAR || type == MySqlTypes.VAR_STRING || type == MySqlTypes.STRING
                || type == MySqlTypes.JSON || type == MySqlTypes.ENUM || type == MySqlTypes.SET
                || type == MySqlTypes.DECIMAL || type == MySqlTypes.NEWDECIMAL;
    }

    private static Object value(ByteBuf buf, int type, boolean unsigned) {
        return switch (type) {
            case MySqlTypes.NULL -> null;
            case MySqlTypes.TINY -> {
                Wire.need(buf, 1, "TINY parameter");
                yield unsigned ? (long) buf.readUnsignedByte() : (long) buf.readByte();
            }
            case MySqlTypes.SHORT, MySqlTypes.YEAR -> {
                Wire.need(buf, 2, "SHORT parameter");
                yield unsigned ? (long) buf.readUnsignedShortLE() : (long) buf.readShortLE();
            }
            case MySqlTypes.LONG, MySqlTypes.INT24 -> {
                Wire.need(buf, 4, "LONG parameter");
                yield unsigned ? buf.readUnsignedIntLE() : (long) buf.readIntLE();
            }
            case MySqlTypes.LONGLONG -> {
                Wire.need(buf, 8, "LONGLONG parameter");
                long v = buf.readLongLE();
                yield unsigned && v < 0 ? new BigInteger(Long.toUnsignedString(v)) : (Object) v;
            }
            case MySqlTypes.FLOAT -> {
                Wire.need(buf, 4, "FLOAT parameter");
                yield buf.readFloatLE();
            }
            case MySqlTypes.DOUBLE -> {
                Wire.need(buf, 8, "DOUBLE parameter");
                yield buf.readDoubleLE();
            }
            case MySqlTypes.DECIMAL, MySqlTypes.NEWDECIMAL -> decimal(Wire.readLenEncString(buf, "DECIMAL parameter"));
            case MySqlTypes.DATE -> date(buf);
            case MySqlTypes.DATETIME, MySqlTypes.TIMESTAMP -> dateTime(buf);
            case MySqlTypes.TIME -> time(buf);
            case MySqlTypes.VARCHAR, MySqlTypes.VAR_STRING, MySqlTypes.STRING, MySqlTypes.JSON, MySqlTypes.ENUM,
                 MySqlTypes.SET -> textOrBytes(Wire.readLenEncBytes(buf, "string parameter"));
            case MySqlTypes.TINY_BLOB, MySqlTypes.MEDIUM_BLOB, MySqlTypes.LONG_BLOB, MySqlTypes.BLOB, MySqlTypes.BIT,
                 MySqlTypes.GEOMETRY -> Wire.readLenEncBytes(buf, "binary parameter");
            default -> throw new MySqlProtocolException(ErrorCode.MALFORMED_PACKET,
                    "malformed packet: parameter type 0x" + Integer.toHexString(type) + " is not a MySQL type");
        };
    }

    private static BigDecimal decimal(String text) {
        try {
            return new BigDecimal(text);
        } catch (NumberFormatException e) {
            throw Wire.malformed("DECIMAL parameter '" + text + "' is not a number");
        }
    }

    private static Object date(ByteBuf buf) {
        int len = lengthOf(buf, "DATE", DATE_LENGTHS);
        if (len == 0) {
            return LocalDate.of(0, 1, 1);
        }
        Wire.need(buf, len, "DATE parameter");
        int year = buf.readUnsignedShortLE();
        int month = buf.readUnsignedByte();
        int day = buf.readUnsignedByte();
        buf.skipBytes(len - 4);
        return civil(year, month, day, 0, 0, 0, 0).toLocalDate();
    }

    private static Object dateTime(ByteBuf buf) {
        int len = lengthOf(buf, "DATETIME", DATE_LENGTHS);
        Wire.need(buf, len, "DATETIME parameter");
        int year = len >= 4 ? buf.readUnsignedShortLE() : 0;
        int month = len >= 4 ? buf.readUnsignedByte() : 1;
        int day = len >= 4 ? buf.readUnsignedByte() : 1;
        int hour = len >= 7 ? buf.readUnsignedByte() : 0;
        int minute = len >= 7 ? buf.readUnsignedByte() : 0;
        int second = len >= 7 ? buf.readUnsignedByte() : 0;
        long micros = len >= 11 ? buf.readUnsignedIntLE() : 0;
        return civil(year, month, day, hour, minute, second, micros);
    }

    private static LocalDateTime civil(int year, int month, int day, int hour, int minute, int second, long micros) {
        try {
            return LocalDateTime.of(year, Math.max(month, 1), Math.max(day, 1), hour, minute, second, (int) micros * 1000);
        } catch (java.time.DateTimeException e) {
            throw Wire.malformed("date/time parameter is out of range: " + e.getMessage());
        }
    }

    private static Object time(ByteBuf buf) {
        int len = lengthOf(buf, "TIME", TIME_LENGTHS);
        if (len == 0) {
            return Duration.ZERO;
        }
        Wire.need(buf, len, "TIME parameter");
        boolean negative = buf.readUnsignedByte() == 1;
        long days = buf.readUnsignedIntLE();
        int hours = buf.readUnsignedByte();
        int minutes = buf.readUnsignedByte();
        int seconds = buf.readUnsignedByte();
        long micros = len >= 12 ? buf.readUnsignedIntLE() : 0;
        Duration d = Duration.ofDays(days).plusHours(hours).plusMinutes(minutes).plusSeconds(seconds).plusNanos(micros * 1000);
        return negative ? d.negated() : d;
    }

    /** Reads a temporal value's length byte; only the lengths the protocol defines for that type pass. */
    private static int lengthOf(ByteBuf buf, String what, List<Integer> allowed) {
        Wire.need(buf, 1, what + " parameter length");
        int len = buf.readUnsignedByte();
        if (!allowed.contains(len)) {
            throw Wire.malformed(what + " parameter has length " + len + ", expected one of " + allowed);
        }
        return len;
    }
}

package io.shardgate.proxy.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.session.ColumnInfo;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes a row whose values are MySQL text (what a backend sent in the text protocol) as a
 * binary-protocol row (ProtocolBinary::ResultsetRow) for COM_STMT_EXECUTE answers.
 */
final class BinaryRows {
    private BinaryRows() {}

    static void write(ByteBuf p, List<ColumnInfo> columns, byte[][] row) {
        p.writeByte(0x00);
        int bitmapAt = p.writerIndex();
        int bitmapLength = (columns.size() + 7 + 2) / 8;
        p.writeZero(bitmapLength);
        for (int i = 0; i < row.length; i++) {
            byte[] v = row[i];
            if (v == null) {
                int bit = i + 2;
                p.setByte(bitmapAt + bit / 8, p.getByte(bitmapAt + bit / 8) | (1 << (bit % 8)));
            } else {
                value(p, columns.get(i), v);
            }
        }
    }

    private static void value(ByteBuf p, ColumnInfo column, byte[] text) {
        switch (column.type()) {
            case TINYINT, BOOLEAN -> p.writeByte((int) integer(text));
            case SMALLINT, YEAR -> p.writeShortLE((int) integer(text));
            case MEDIUMINT, INT -> p.writeIntLE((int) integer(text));
            case BIGINT -> p.writeLongLE(integer(text));
            case FLOAT -> p.writeFloatLE(Float.parseFloat(ascii(text)));
            case DOUBLE -> p.writeDoubleLE(Double.parseDouble(ascii(text)));
            case DATE -> dateTime(p, ascii(text), false);
            case DATETIME, TIMESTAMP -> dateTime(p, ascii(text), true);
            case TIME -> time(p, ascii(text));
            default -> Wire.writeLenEncBytes(p, text);
        }
    }

    /** Parses a decimal integer; an unsigned BIGINT above Long.MAX_VALUE keeps its 64 bits. */
    private static long integer(byte[] text) {
        String s = ascii(text);
        if (s.length() < 19) {
            return Long.parseLong(s);
        }
        return new BigInteger(s).longValue();
    }

    private static String ascii(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }

    /** {@code YYYY-MM-DD[ HH:MM:SS[.ffffff]]} → length byte + fields, zero parts left out. */
    private static void dateTime(ByteBuf p, String s, boolean withTime) {
        int year = Integer.parseInt(s, 0, 4, 10);
        int month = Integer.parseInt(s, 5, 7, 10);
        int day = Integer.parseInt(s, 8, 10, 10);
        int hour = 0;
        int minute = 0;
        int second = 0;
        int micros = 0;
        if (withTime && s.length() >= 19) {
            hour = Integer.parseInt(s, 11, 13, 10);
            minute = Integer.parseInt(s, 14, 16, 10);
            second = Integer.parseInt(s, 17, 19, 10);
            micros = fraction(s, 19);
        }
        if (micros != 0) {
            p.writeByte(11);
        } else if (hour != 0 || minute != 0 || second != 0) {
            p.writeByte(7);
        } else if (year != 0 || month != 0 || day != 0) {
            p.writeByte(4);
        } else {
            p.writeByte(0);
            return;
        }
        p.writeShortLE(year).writeByte(month).writeByte(day);
        if (hour != 0 || minute != 0 || second != 0 || micros != 0) {
            p.writeByte(hour).writeByte(minute).writeByte(second);
        }
        if (micros != 0) {
            p.writeIntLE(micros);
        }
    }

    /** {@code [-]H+:MM:SS[.ffffff]} → length byte, sign, days, hours, minutes, seconds[, micros]. */
    private static void time(ByteBuf p, String s) {
        boolean negative = s.startsWith("-");
        int start = negative ? 1 : 0;
        int c1 = s.indexOf(':', start);
        int c2 = s.indexOf(':', c1 + 1);
        int hours = Integer.parseInt(s, start, c1, 10);
        int minutes = Integer.parseInt(s, c1 + 1, c2, 10);
        int seconds = Integer.parseInt(s, c2 + 1, c2 + 3, 10);
        int micros = fraction(s, c2 + 3);
        if (hours == 0 && minutes == 0 && seconds == 0 && micros == 0) {
            p.writeByte(0);
            return;
        }
        p.writeByte(micros != 0 ? 12 : 8);
        p.writeByte(negative ? 1 : 0).writeIntLE(hours / 24).writeByte(hours % 24).writeByte(minutes).writeByte(seconds);
        if (micros != 0) {
            p.writeIntLE(micros);
        }
    }

    private static int fraction(String s, int dot) {
        if (s.length() <= dot + 1 || s.charAt(dot) != '.') {
            return 0;
        }
        String digits = (s.substring(dot + 1) + "000000").substring(0, 6);
        return Integer.parseInt(digits);
    }
}

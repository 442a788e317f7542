package io.shardgate.proxy.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ErrorCode;
import java.nio.charset.StandardCharsets;

/** Reading and writing MySQL's basic data types (length-encoded integers and strings); shared by the front end and the native backend connections. */
public final class Wire {
    private Wire() {}

    /** A length-encoded integer; {@code what} names the field in the error a truncated packet raises. */
    public static long readLenEnc(ByteBuf buf, String what) {
        need(buf, 1, what);
        int first = buf.readUnsignedByte();
        return switch (first) {
            case 0xFC -> {
                need(buf, 2, what);
                yield buf.readUnsignedShortLE();
            }
            case 0xFD -> {
                need(buf, 3, what);
                yield buf.readUnsignedMediumLE();
            }
            case 0xFE -> {
                need(buf, 8, what);
                yield buf.readLongLE();
            }
            case 0xFB, 0xFF -> throw malformed("unexpected byte 0x" + Integer.toHexString(first) + " where the length of "
                    + what + " was expected");
            default -> first;
        };
    }

    public static byte[] readLenEncBytes(ByteBuf buf, String what) {
        long len = readLenEnc(buf, what);
        if (len < 0 || len > buf.readableBytes()) {
            throw malformed(what + " of length " + Long.toUnsignedString(len) + " runs past the end of the packet ("
                    + buf.readableBytes() + " bytes left)");
        }
        byte[] b = new byte[(int) len];
        buf.readBytes(b);
        return b;
    }

    public static String readLenEncString(ByteBuf buf, String what) {
        return new String(readLenEncBytes(buf, what), StandardCharsets.UTF_8);
    }

    public static String readNulString(ByteBuf buf, String what) {
        int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
        if (end < 0) {
            throw malformed(what + " (a NUL-terminated string) has no terminator");
        }
        String s = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return s;
    }

    public static String readRestString(ByteBuf buf) {
        String s = buf.toString(StandardCharsets.UTF_8);
        buf.readerIndex(buf.writerIndex());
        return s;
    }

    public static byte[] readBytes(ByteBuf buf, int n, String what) {
        need(buf, n, what);
        byte[] b = new byte[n];
        buf.readBytes(b);
        return b;
    }

    public static void need(ByteBuf buf, int n, String what) {
        if (buf.readableBytes() < n) {
            throw malformed(what + " needs " + n + " bytes, the packet has " + buf.readableBytes() + " left");
        }
    }

    public static MySqlProtocolException malformed(String message) {
        return new MySqlProtocolException(ErrorCode.MALFORMED_PACKET, "malformed packet: " + message);
    }

    public static void writeLenEnc(ByteBuf buf, long v) {
        if (v >= 0 && v < 251) {
            buf.writeByte((int) v);
        } else if (v >= 0 && v < (1 << 16)) {
            buf.writeByte(0xFC).writeShortLE((int) v);
        } else if (v >= 0 && v < (1 << 24)) {
            buf.writeByte(0xFD).writeMediumLE((int) v);
        } else {
            buf.writeByte(0xFE).writeLongLE(v);
        }
    }

    public static void writeLenEncBytes(ByteBuf buf, byte[] b) {
        writeLenEnc(buf, b.length);
        buf.writeBytes(b);
    }

    /**
     * Names and error texts in their wire form (see {@link io.shardgate.proxy.session.ColumnInfo}): UTF-8, with each
     * escaped byte written as itself. A lone surrogate that is no escape (text the proxy made) is written as '?'.
     */
    static byte[] text(String s) {
        try {
            return io.shardgate.proxy.session.ClientCharset.UTF8MB4.encode(s);
        } catch (IllegalArgumentException e) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
    }

    public static void writeLenEncString(ByteBuf buf, String s) {
        writeLenEncBytes(buf, s.getBytes(StandardCharsets.UTF_8));
    }

    public static void writeNulString(ByteBuf buf, String s) {
        buf.writeBytes(s.getBytes(StandardCharsets.UTF_8)).writeByte(0);
    }
}

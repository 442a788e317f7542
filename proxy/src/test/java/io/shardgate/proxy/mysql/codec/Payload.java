package io.shardgate.proxy.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;

/** Builds MySQL payloads and packets byte by byte for codec tests (little-endian, as on the wire). */
final class Payload {
    private final ByteBuf buf = Unpooled.buffer();

    static Payload of() {
        return new Payload();
    }

    Payload int1(int v) {
        buf.writeByte(v);
        return this;
    }

    Payload int2(int v) {
        buf.writeShortLE(v);
        return this;
    }

    Payload int3(int v) {
        buf.writeMediumLE(v);
        return this;
    }

    Payload int4(long v) {
        buf.writeIntLE((int) v);
        return this;
    }

    Payload int8(long v) {
        buf.writeLongLE(v);
        return this;
    }

    Payload bytes(byte[] b) {
        buf.writeBytes(b);
        return this;
    }

    Payload bytes(int... b) {
        for (int x : b) {
            buf.writeByte(x);
        }
        return this;
    }

    Payload zeros(int n) {
        buf.writeZero(n);
        return this;
    }

    Payload str(String s) {
        buf.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    Payload nul(String s) {
        return str(s).int1(0);
    }

    Payload lenenc(long v) {
        Wire.writeLenEnc(buf, v);
        return this;
    }

    Payload lenencStr(String s) {
        Wire.writeLenEncString(buf, s);
        return this;
    }

    Payload lenencBytes(byte[] b) {
        Wire.writeLenEncBytes(buf, b);
        return this;
    }

    Payload floatLE(float f) {
        buf.writeFloatLE(f);
        return this;
    }

    Payload doubleLE(double d) {
        buf.writeDoubleLE(d);
        return this;
    }

    byte[] build() {
        return ByteBufUtil.getBytes(buf);
    }

    /** This payload framed as one physical packet. */
    byte[] packet(int sequenceId) {
        return packet(sequenceId, build());
    }

    static byte[] packet(int sequenceId, byte[] payload) {
        ByteBuf p = Unpooled.buffer(payload.length + 4);
        p.writeMediumLE(payload.length).writeByte(sequenceId).writeBytes(payload);
        return ByteBufUtil.getBytes(p);
    }

    static byte[] concat(byte[]... parts) {
        ByteBuf p = Unpooled.buffer();
        for (byte[] b : parts) {
            p.writeBytes(b);
        }
        return ByteBufUtil.getBytes(p);
    }

    static String hex(byte[] b) {
        return ByteBufUtil.hexDump(b);
    }
}

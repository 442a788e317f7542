package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/** A server's ERR packet: errno, SQLSTATE and message kept apart. */
public record ServerError(int errno, String sqlState, String message) {
    /** Parses an ERR payload (header 0xFF, errno, '#' and SQLSTATE, message); the buffer is not consumed. */
    static ServerError parse(ByteBuf payload) {
        ByteBuf p = payload.duplicate();
        if (p.readableBytes() < 3 || p.readUnsignedByte() != 0xFF) {
            throw new IllegalArgumentException("not an ERR packet");
        }
        int errno = p.readUnsignedShortLE();
        String state = "HY000";
        if (p.readableBytes() >= 6 && p.getByte(p.readerIndex()) == '#') {
            p.skipBytes(1);
            state = p.readCharSequence(5, StandardCharsets.US_ASCII).toString();
        }
        return new ServerError(errno, state, p.toString(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "ERROR " + errno + " (" + sqlState + "): " + message;
    }
}

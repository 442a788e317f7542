package io.shardgate.proxy.backend.pg;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCounted;

/**
 * One backend message as the server sent it: type byte, length and body, unmodified, so a relay writes it on as it is.
 * The receiver owns {@code bytes} and releases it (or hands it on).
 *
 * @param type  the message type ('T' RowDescription, 'D' DataRow, 'C' CommandComplete, 'E' ErrorResponse, 'Z'
 *              ReadyForQuery, …)
 * @param bytes the whole message: type, int32 length, body
 */
public record PgFrame(char type, ByteBuf bytes) implements ReferenceCounted {
    /** Type byte and length. */
    public static final int HEADER = 5;

    /** The body (after type and length), a view that shares {@code bytes}' reference count; not consumed. */
    public ByteBuf body() {
        return bytes.slice(bytes.readerIndex() + HEADER, bytes.readableBytes() - HEADER);
    }

    public int bodyLength() {
        return bytes.readableBytes() - HEADER;
    }

    @Override
    public int refCnt() {
        return bytes.refCnt();
    }

    @Override
    public PgFrame retain() {
        bytes.retain();
        return this;
    }

    @Override
    public PgFrame retain(int increment) {
        bytes.retain(increment);
        return this;
    }

    @Override
    public PgFrame touch() {
        bytes.touch();
        return this;
    }

    @Override
    public PgFrame touch(Object hint) {
        bytes.touch(hint);
        return this;
    }

    @Override
    public boolean release() {
        return bytes.release();
    }

    @Override
    public boolean release(int decrement) {
        return bytes.release(decrement);
    }
}

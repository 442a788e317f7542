package io.shardgate.proxy.backend.pg;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.pg.codec.PgProtocolException;
import java.util.List;

/**
 * Cuts the byte stream a PostgreSQL server sends into {@link PgFrame}s: a type byte, an int32 length that counts itself,
 * the body. A small state machine: {@link State#HEADER} waits for the five header bytes and checks the length against
 * its bounds before anything is accumulated, {@link State#BODY} waits for the whole message and emits it as a retained
 * slice of the input (no copy). After a bad header the rest of the stream is discarded: the connection closes.
 *
 * <p>Whole messages are emitted (a DataRow is one message, at most {@link #maxMessageBytes}; a server's own limit for
 * a row is 1 GB); the relay streams message by message.
 */
public final class PgFrameDecoder extends ByteToMessageDecoder {
    /** The most a server sends in one message: a 1 GB field plus the row around it. */
    public static final int DEFAULT_MAX_MESSAGE = (1 << 30) + (1 << 20);

    private enum State { HEADER, BODY, DISCARD }

    private final int maxMessageBytes;
    private State state = State.HEADER;
    private char type;
    private int length;

    public PgFrameDecoder() {
        this(DEFAULT_MAX_MESSAGE);
    }

    public PgFrameDecoder(int maxMessageBytes) {
        if (maxMessageBytes < PgFrame.HEADER) {
            throw new IllegalArgumentException("maxMessageBytes must be at least " + PgFrame.HEADER + ", was " + maxMessageBytes);
        }
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case HEADER -> {
                    if (!header(in)) {
                        return;
                    }
                }
                case BODY -> {
                    if (!body(in, out)) {
                        return;
                    }
                }
                case DISCARD -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    private boolean header(ByteBuf in) {
        if (in.readableBytes() < PgFrame.HEADER) {
            return false;
        }
        int at = in.readerIndex();
        char t = (char) in.getUnsignedByte(at);
        long len = in.getUnsignedInt(at + 1);
        if (len < 4 || len + 1 > maxMessageBytes) {
            state = State.DISCARD;
            in.skipBytes(in.readableBytes());
            throw new PgProtocolException(ErrorCode.SHARD_UNAVAILABLE, "backend message '" + printable(t) + "' with length " + len
                    + ", outside 4.." + (maxMessageBytes - 1));
        }
        type = t;
        length = (int) len + 1;
        state = State.BODY;
        return true;
    }

    private boolean body(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < length) {
            return false;
        }
        out.add(new PgFrame(type, in.readRetainedSlice(length)));
        state = State.HEADER;
        return true;
    }

    static String printable(char t) {
        return t >= 0x20 && t < 0x7F ? String.valueOf(t) : "0x" + Integer.toHexString(t);
    }
}

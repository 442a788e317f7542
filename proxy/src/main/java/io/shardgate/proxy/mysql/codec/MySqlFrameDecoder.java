package io.shardgate.proxy.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.shardgate.proxy.error.ErrorCode;
import java.util.List;

/**
 * Cuts the byte stream into logical MySQL packets: a 3-byte little-endian payload length and a
 * sequence id per physical packet; a payload of exactly 0xFFFFFF bytes continues in the next
 * packet, and the pieces are joined. The joined size is checked against the connection's maximum
 * <em>before</em> a piece is accumulated. Emits {@link Frame}s.
 *
 * <p>After a protocol error the decoder discards everything else the client sends: the front end
 * answers with an error and closes the connection, and the bytes that follow a rejected header
 * (its payload) must not be read as further packets.
 */
public final class MySqlFrameDecoder extends ByteToMessageDecoder {
    static final int MAX_PIECE = 0xFFFFFF;
    private static final int HEADER = 4;

    private enum State { HEADER, PAYLOAD, DISCARD }

    /** One logical packet; the payload buffer is released by the next stage. */
    public record Frame(int sequenceId, ByteBuf payload) {}

    private final ConnectionState connection;
    private State state = State.HEADER;
    private int pieceLength;
    private int sequenceId;
    private CompositeByteBuf joined;

    public MySqlFrameDecoder(ConnectionState connection) {
        this.connection = connection;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case HEADER -> {
                    if (!readHeader(in)) {
                        return;
                    }
                }
                case PAYLOAD -> {
                    if (!readPayload(ctx, in, out)) {
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

    private boolean readHeader(ByteBuf in) {
        if (in.readableBytes() < HEADER) {
            return false;
        }
        pieceLength = in.readUnsignedMediumLE();
        sequenceId = in.readUnsignedByte();
        // noted at the header, so that an error about this very packet continues its sequence
        connection.received(sequenceId);
        long total = (joined == null ? 0 : joined.readableBytes()) + (long) pieceLength;
        if (total > connection.maxPacketBytes()) {
            reset();
            state = State.DISCARD;
            throw new MySqlProtocolException(ErrorCode.PACKET_TOO_LARGE, "packet of at least " + total
                    + " bytes is larger than the proxy's maximum of " + connection.maxPacketBytes()
                    + " bytes (limits.max-packet-bytes)");
        }
        state = State.PAYLOAD;
        return true;
    }

    private boolean readPayload(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (in.readableBytes() < pieceLength) {
            return false;
        }
        ByteBuf piece = in.readRetainedSlice(pieceLength);
        state = State.HEADER;
        if (pieceLength == MAX_PIECE) {
            if (joined == null) {
                joined = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
            }
            joined.addComponent(true, piece);
            return true;
        }
        ByteBuf payload = piece;
        if (joined != null) {
            joined.addComponent(true, piece);
            payload = joined;
            joined = null;
        }
        out.add(new Frame(sequenceId, payload));
        return true;
    }

    private void reset() {
        state = State.HEADER;
        if (joined != null) {
            joined.release();
            joined = null;
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        reset();
    }
}

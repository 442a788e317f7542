package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Cuts a server's byte stream into physical MySQL packets ({@link Piece}s), header included, without joining the
 * pieces of a logical packet larger than 16 MB: a relay passes each piece on as it arrives. A piece is at most
 * 4 + 0xFFFFFF bytes, so this buffers at most one piece.
 */
final class PieceDecoder extends ByteToMessageDecoder {
    static final int MAX_PIECE = 0xFFFFFF;
    static final int HEADER = 4;

    /**
     * One physical packet.
     *
     * @param bytes        header and payload; released by whoever takes it
     * @param continuation it continues a logical packet (the piece before it was 0xFFFFFF bytes long)
     */
    record Piece(ByteBuf bytes, int sequenceId, int payloadLength, boolean continuation) {
        /** Whether the logical packet goes on in the next piece. */
        boolean continues() {
            return payloadLength == MAX_PIECE;
        }

        /** The payload, without the header (a view, not retained). */
        ByteBuf payload() {
            return bytes.slice(bytes.readerIndex() + HEADER, payloadLength);
        }
    }

    private boolean continuation;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.readableBytes() >= HEADER) {
            int start = in.readerIndex();
            int length = in.getUnsignedMediumLE(start);
            if (in.readableBytes() < HEADER + length) {
                return;
            }
            int sequenceId = in.getUnsignedByte(start + 3);
            out.add(new Piece(in.readRetainedSlice(HEADER + length), sequenceId, length, continuation));
            continuation = length == MAX_PIECE;
        }
    }
}

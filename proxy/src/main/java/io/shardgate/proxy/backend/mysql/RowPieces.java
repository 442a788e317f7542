package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Joins a row sent in 16 MB pieces (a packet of exactly {@link PieceDecoder#MAX_PIECE} bytes goes on in the next) into
 * its whole payload. Used on the connection's event loop by one reader of a reply.
 */
final class RowPieces {
    private ByteBuf pieces;

    /** The row's whole payload once {@code payload} ends it; null while it goes on in the next piece. */
    byte[] add(ByteBuf payload, boolean continuation) {
        int length = payload.readableBytes();
        if (!continuation && length < PieceDecoder.MAX_PIECE) {
            byte[] bytes = new byte[length];
            payload.getBytes(payload.readerIndex(), bytes);
            return bytes;
        }
        if (pieces == null) {
            pieces = Unpooled.buffer(2 * PieceDecoder.MAX_PIECE);
        }
        pieces.writeBytes(payload);
        if (length == PieceDecoder.MAX_PIECE) {
            return null;
        }
        byte[] whole = new byte[pieces.readableBytes()];
        pieces.readBytes(whole);
        release();
        return whole;
    }

    /** Drops a row cut off by a failure. */
    void release() {
        if (pieces != null) {
            pieces.release();
            pieces = null;
        }
    }
}

package io.shardgate.proxy.backend.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.mysql.codec.MySqlProtocolException;
import org.junit.jupiter.api.Test;

/** The reply grammar and the piece framing, byte by byte, without a server. */
class ReplyReaderTest {
    private static ByteBuf bytes(int... b) {
        ByteBuf buf = Unpooled.buffer(b.length);
        for (int x : b) {
            buf.writeByte(x);
        }
        return buf;
    }

    /** OK: header, affected rows 0, insert id 0, status, warnings. */
    private static ByteBuf ok(int header, int status) {
        return bytes(header, 0, 0, status & 0xFF, status >> 8, 0, 0);
    }

    @Test
    void anOkWithMoreResultsIsFollowedByTheNextResult() {
        ReplyReader r = new ReplyReader(ReplyReader.Grammar.RESULTS, true);
        assertThat(r.read(ok(0x00, ReplyReader.SERVER_MORE_RESULTS_EXISTS | 2), false, false)).isEqualTo(PacketKind.OK);
        assertThat(r.done()).isFalse();
        assertThat(r.read(ok(0x00, 2), false, false)).isEqualTo(PacketKind.OK);
        assertThat(r.done()).isTrue();
        assertThat(r.status()).isEqualTo(2);
    }

    @Test
    void aRowStartingWith0xFeIsNotTheEndOfRowsWithDeprecateEof() {
        ReplyReader r = new ReplyReader(ReplyReader.Grammar.RESULTS, true);
        assertThat(r.read(bytes(1), false, false)).isEqualTo(PacketKind.COLUMN_COUNT);
        assertThat(r.read(bytes(3, 'd', 'e', 'f'), false, false)).isEqualTo(PacketKind.COLUMN_DEFINITION);
        // the first piece of a row holding a value of 2^24 bytes or more: 0xFE and an 8-byte length
        ByteBuf bigRowStart = Unpooled.buffer().writeByte(0xFE).writeLongLE(1 << 25).writeZero(16);
        assertThat(r.read(bigRowStart, false, true)).isEqualTo(PacketKind.ROW);
        assertThat(r.read(bytes(0xFE, 0, 0), true, false)).isEqualTo(PacketKind.ROW);
        assertThat(r.done()).isFalse();
        assertThat(r.read(ok(0xFE, 2), false, false)).isEqualTo(PacketKind.ROWS_END);
        assertThat(r.done()).isTrue();
    }

    @Test
    void withoutDeprecateEofColumnsAreFollowedByAnEof() {
        ReplyReader r = new ReplyReader(ReplyReader.Grammar.RESULTS, false);
        r.read(bytes(1), false, false);
        r.read(bytes(3, 'd', 'e', 'f'), false, false);
        assertThat(r.read(bytes(0xFE, 0, 0, 2, 0), false, false)).isEqualTo(PacketKind.METADATA_EOF);
        assertThat(r.read(bytes(1, '7'), false, false)).isEqualTo(PacketKind.ROW);
        assertThat(r.read(bytes(0xFE, 0, 0, 0x0A, 0), false, false)).isEqualTo(PacketKind.ROWS_END);
        assertThat(r.done()).as("MORE_RESULTS_EXISTS in the EOF").isFalse();
        assertThat(r.read(bytes(0xFF, 0x7A, 0x04, '#', '4', '2', 'S', '0', '2', 'x'), false, false)).isEqualTo(PacketKind.ERROR);
        assertThat(r.done()).isTrue();
    }

    @Test
    void aLocalInfileRequestIsRefused() {
        ReplyReader r = new ReplyReader(ReplyReader.Grammar.RESULTS, true);
        assertThatThrownBy(() -> r.read(bytes(0xFB, '/', 'e', 't', 'c'), false, false)).isInstanceOf(MySqlProtocolException.class)
                .hasMessageContaining("LOCAL INFILE")
                .extracting(e -> ((MySqlProtocolException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED);
    }

    @Test
    void aPacketAfterTheEndIsAnError() {
        ReplyReader r = new ReplyReader(ReplyReader.Grammar.STATUS, true);
        r.read(ok(0x00, 2), false, false);
        assertThatThrownBy(() -> r.read(ok(0x00, 2), false, false)).hasMessageContaining("after the end of the reply");
    }

    @Test
    void piecesAreCutAcrossReadsAndContinuationsMarked() {
        EmbeddedChannel ch = new EmbeddedChannel(new PieceDecoder());
        ByteBuf full = Unpooled.buffer();
        full.writeMediumLE(PieceDecoder.MAX_PIECE).writeByte(1).writeZero(PieceDecoder.MAX_PIECE);
        full.writeMediumLE(2).writeByte(2).writeByte('a').writeByte('b');
        full.writeMediumLE(1).writeByte(3).writeByte(0);
        // in three reads that cut a header and a payload
        ch.writeInbound(full.retainedSlice(0, 2));
        ch.writeInbound(full.retainedSlice(2, PieceDecoder.MAX_PIECE + 4));
        ch.writeInbound(full.retainedSlice(PieceDecoder.MAX_PIECE + 6, full.readableBytes() - PieceDecoder.MAX_PIECE - 6));
        full.release();
        PieceDecoder.Piece first = ch.readInbound();
        PieceDecoder.Piece second = ch.readInbound();
        PieceDecoder.Piece third = ch.readInbound();
        assertThat(first.continuation()).isFalse();
        assertThat(first.continues()).isTrue();
        assertThat(first.bytes().readableBytes()).isEqualTo(PieceDecoder.MAX_PIECE + 4);
        assertThat(second.continuation()).isTrue();
        assertThat(second.sequenceId()).isEqualTo(2);
        assertThat(second.payload().toString(java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ab");
        assertThat(third.continuation()).isFalse();
        assertThat(third.sequenceId()).isEqualTo(3);
        first.bytes().release();
        second.bytes().release();
        third.bytes().release();
        assertThat(ch.finish()).isFalse();
    }
}

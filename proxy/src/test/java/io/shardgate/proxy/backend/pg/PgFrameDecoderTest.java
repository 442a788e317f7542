package io.shardgate.proxy.backend.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.shardgate.proxy.pg.codec.PgProtocolException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The backend message framing, byte by byte, without sockets. */
class PgFrameDecoderTest {
    /** A message: type, length counting itself, body. */
    static byte[] message(char type, byte[] body) {
        ByteBuf b = Unpooled.buffer().writeByte(type).writeInt(4 + body.length).writeBytes(body);
        return ByteBufUtil.getBytes(b);
    }

    static byte[] commandComplete(String tag) {
        return message('C', (tag + "\0").getBytes(StandardCharsets.UTF_8));
    }

    static final byte[] READY_IDLE = message('Z', new byte[] {'I'});

    private static PgFrame read(EmbeddedChannel ch) {
        return ch.readInbound();
    }

    @Test
    void severalMessagesInOneReadComeOutOneByOneUnmodified() {
        EmbeddedChannel ch = new EmbeddedChannel(new PgFrameDecoder());
        byte[] c = commandComplete("SELECT 1");
        ch.writeInbound(Unpooled.wrappedBuffer(c, READY_IDLE));
        PgFrame first = read(ch);
        PgFrame second = read(ch);
        try {
            assertThat(first.type()).isEqualTo('C');
            assertThat(ByteBufUtil.getBytes(first.bytes())).isEqualTo(c);
            assertThat(first.bodyLength()).isEqualTo(9);
            assertThat(second.type()).isEqualTo('Z');
            assertThat(ByteBufUtil.getBytes(second.bytes())).isEqualTo(READY_IDLE);
            assertThat((Object) ch.readInbound()).isNull();
        } finally {
            first.release();
            second.release();
        }
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void aMessageSplitAcrossReadsComesOutOnceWhole() {
        EmbeddedChannel ch = new EmbeddedChannel(new PgFrameDecoder());
        byte[] c = commandComplete("SELECT 42");
        // the header cut in the middle of the length, then the body cut in two
        ch.writeInbound(Unpooled.wrappedBuffer(c, 0, 3));
        assertThat((Object) ch.readInbound()).isNull();
        ch.writeInbound(Unpooled.wrappedBuffer(c, 3, 5));
        assertThat((Object) ch.readInbound()).isNull();
        ch.writeInbound(Unpooled.wrappedBuffer(c, 8, c.length - 8));
        PgFrame frame = read(ch);
        try {
            assertThat(ByteBufUtil.getBytes(frame.bytes())).isEqualTo(c);
        } finally {
            frame.release();
        }
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void anEmptyBodyIsAMessage() {
        EmbeddedChannel ch = new EmbeddedChannel(new PgFrameDecoder());
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {'I', 0, 0, 0, 4}));
        PgFrame frame = read(ch);
        assertThat(frame.type()).isEqualTo('I');
        assertThat(frame.bodyLength()).isZero();
        frame.release();
    }

    @Test
    void aLengthBeyondTheBoundIsRefusedBeforeAnythingIsAccumulated() {
        EmbeddedChannel ch = new EmbeddedChannel(new PgFrameDecoder(1024));
        ByteBuf header = Unpooled.buffer().writeByte('D').writeInt(1 << 20);
        assertThatThrownBy(() -> ch.writeInbound(header)).isInstanceOf(DecoderException.class)
                .cause().isInstanceOf(PgProtocolException.class)
                .hasMessageContaining("backend message 'D' with length 1048576, outside 4..1023");
        // the rest of the stream is dropped
        ch.writeInbound(Unpooled.wrappedBuffer(READY_IDLE));
        assertThat((Object) ch.readInbound()).isNull();
    }

    @Test
    void aLengthBelowFourIsRefused() {
        EmbeddedChannel ch = new EmbeddedChannel(new PgFrameDecoder());
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {'Z', 0, 0, 0, 3})))
                .cause().hasMessageContaining("backend message 'Z' with length 3");
    }

    @Test
    void rowDescriptionsLoseTheirTableOidsAndAttributeNumbersOnly() {
        // two fields: "id" (table 16384, attnum 1, int8) and "name" (table 16384, attnum 2, text)
        ByteBuf body = Unpooled.buffer().writeShort(2);
        body.writeBytes("id\0".getBytes(StandardCharsets.US_ASCII)).writeInt(16384).writeShort(1).writeInt(20).writeShort(8)
                .writeInt(-1).writeShort(0);
        body.writeBytes("name\0".getBytes(StandardCharsets.US_ASCII)).writeInt(16384).writeShort(2).writeInt(25).writeShort(-1)
                .writeInt(-1).writeShort(0);
        ByteBuf msg = Unpooled.wrappedBuffer(message('T', ByteBufUtil.getBytes(body)));
        PgRelaySink.clearTableOids(msg);
        ByteBuf expected = Unpooled.buffer().writeShort(2);
        expected.writeBytes("id\0".getBytes(StandardCharsets.US_ASCII)).writeInt(0).writeShort(0).writeInt(20).writeShort(8)
                .writeInt(-1).writeShort(0);
        expected.writeBytes("name\0".getBytes(StandardCharsets.US_ASCII)).writeInt(0).writeShort(0).writeInt(25).writeShort(-1)
                .writeInt(-1).writeShort(0);
        assertThat(ByteBufUtil.getBytes(msg)).isEqualTo(message('T', ByteBufUtil.getBytes(expected)));
    }

    @Test
    void aCutRowDescriptionIsRefused() {
        ByteBuf msg = Unpooled.wrappedBuffer(message('T', new byte[] {0, 1, 'x', 0, 0, 0}));
        assertThatThrownBy(() -> PgRelaySink.clearTableOids(msg)).hasMessageContaining("field 0 of 1 is cut short");
    }
}

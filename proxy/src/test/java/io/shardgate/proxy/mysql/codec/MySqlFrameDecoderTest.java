package io.shardgate.proxy.mysql.codec;

import static io.shardgate.proxy.mysql.codec.Payload.concat;
import static io.shardgate.proxy.mysql.codec.Payload.packet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.mysql.message.ServerMessage;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MySqlFrameDecoderTest {
    private static final int MAX = MySqlFrameDecoder.MAX_PIECE;

    private ConnectionState state = new ConnectionState(64 << 20);
    private EmbeddedChannel channel = new EmbeddedChannel(new MySqlFrameDecoder(state));

    @AfterEach
    void noFramesLeft() {
        channel.finishAndReleaseAll();
    }

    @Test
    void onePacket() {
        channel.writeInbound(Unpooled.wrappedBuffer(packet(0, new byte[] {3, 's', 'e', 'l'})));
        assertFrame(channel.readInbound(), 0, new byte[] {3, 's', 'e', 'l'});
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void emptyPacket() {
        channel.writeInbound(Unpooled.wrappedBuffer(packet(7, new byte[0])));
        assertFrame(channel.readInbound(), 7, new byte[0]);
    }

    @Test
    void twoPacketsInOneRead() {
        channel.writeInbound(Unpooled.wrappedBuffer(concat(packet(0, new byte[] {1, 2}), packet(1, new byte[] {3}))));
        assertFrame(channel.readInbound(), 0, new byte[] {1, 2});
        assertFrame(channel.readInbound(), 1, new byte[] {3});
    }

    @Test
    void headerSplitAcrossTwoReads() {
        byte[] p = packet(4, new byte[] {9, 8, 7});
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(p, 0, 2)));
        assertThat((Object) channel.readInbound()).isNull();
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(p, 2, p.length)));
        assertFrame(channel.readInbound(), 4, new byte[] {9, 8, 7});
    }

    @Test
    void payloadSplitAcrossTwoReads() {
        byte[] p = packet(0, new byte[] {1, 2, 3, 4, 5});
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(p, 0, 6)));
        assertThat((Object) channel.readInbound()).isNull();
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(p, 6, p.length)));
        assertFrame(channel.readInbound(), 0, new byte[] {1, 2, 3, 4, 5});
    }

    @Test
    void everyByteInItsOwnRead() {
        byte[] p = concat(packet(0, new byte[] {1, 2, 3}), packet(1, new byte[] {4}));
        for (byte b : p) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertFrame(channel.readInbound(), 0, new byte[] {1, 2, 3});
        assertFrame(channel.readInbound(), 1, new byte[] {4});
    }

    @Test
    void packetOf16MiBOrMoreIsJoined() {
        byte[] logical = pattern(MAX + 10);
        byte[] wire = concat(packet(0, Arrays.copyOfRange(logical, 0, MAX)), packet(1, Arrays.copyOfRange(logical, MAX, logical.length)));
        // the first piece's header arrives with part of the payload, the rest in two more reads
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(wire, 0, 1000)));
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(wire, 1000, MAX + 6)));
        assertThat((Object) channel.readInbound()).isNull();
        channel.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(wire, MAX + 6, wire.length)));
        assertFrame(channel.readInbound(), 1, logical);
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void payloadOfExactly0xFFFFFFEndsWithAnEmptyPacket() {
        byte[] logical = pattern(MAX);
        channel.writeInbound(Unpooled.wrappedBuffer(concat(packet(0, logical), packet(1, new byte[0]), packet(0, new byte[] {1}))));
        assertFrame(channel.readInbound(), 1, logical);
        assertFrame(channel.readInbound(), 0, new byte[] {1});
    }

    @Test
    void oversizedPacketIsRejectedAtItsHeaderBeforeThePayloadArrives() {
        state = new ConnectionState(1024);
        channel = new EmbeddedChannel(new MySqlFrameDecoder(state));
        ByteBuf header = Unpooled.buffer().writeMediumLE(1025).writeByte(0);
        assertThatThrownBy(() -> channel.writeInbound(header))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOfSatisfying(MySqlProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.PACKET_TOO_LARGE);
                    assertThat(e.getMessage()).contains("1025").contains("1024").contains("limits.max-packet-bytes");
                });
        assertThat(header.refCnt()).isZero();
    }

    @Test
    void oversizedSecondPieceReleasesTheFirst() {
        state = new ConnectionState(MAX + 100);
        channel = new EmbeddedChannel(new MySqlFrameDecoder(state));
        ByteBuf first = Unpooled.wrappedBuffer(packet(0, pattern(MAX)));
        channel.writeInbound(first);
        ByteBuf second = Unpooled.buffer().writeMediumLE(101).writeByte(1);
        assertThatThrownBy(() -> channel.writeInbound(second))
                .cause().isInstanceOfSatisfying(MySqlProtocolException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.PACKET_TOO_LARGE));
        assertThat(first.refCnt()).as("the accumulated first piece is released").isZero();
        assertThat(second.refCnt()).isZero();
    }

    @Test
    void afterAProtocolErrorTheRestOfTheStreamIsDiscarded() {
        state = new ConnectionState(1024);
        channel = new EmbeddedChannel(new MySqlFrameDecoder(state));
        ByteBuf bad = Unpooled.buffer().writeMediumLE(5000).writeByte(0).writeBytes(new byte[100]);
        assertThatThrownBy(() -> channel.writeInbound(bad)).isInstanceOf(DecoderException.class);
        // the payload of the rejected packet is not mistaken for further headers
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[2000]));
        channel.writeInbound(Unpooled.wrappedBuffer(packet(0, new byte[] {1})));
        assertThat((Object) channel.readInbound()).isNull();
        assertThat(bad.refCnt()).isZero();
    }

    @Test
    void garbageAfterAValidPacketStillDeliversThePacket() {
        state = new ConnectionState(1024);
        channel = new EmbeddedChannel(new MySqlFrameDecoder(state));
        ByteBuf in = Unpooled.wrappedBuffer(concat(packet(0, new byte[] {0x0E}), new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0, 1, 2}));
        assertThatThrownBy(() -> channel.writeInbound(in))
                .cause().isInstanceOfSatisfying(MySqlProtocolException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.PACKET_TOO_LARGE));
        assertFrame(channel.readInbound(), 0, new byte[] {0x0E});
    }

    @Test
    void theFirstReplyContinuesTheClientsSequence() {
        channel = new EmbeddedChannel(new MySqlFrameDecoder(state), new ServerMessageEncoder(state));
        channel.writeInbound(Unpooled.wrappedBuffer(packet(5, new byte[] {0x0E})));
        ((MySqlFrameDecoder.Frame) channel.readInbound()).payload().release();
        channel.writeOutbound(new ServerMessage.Ok(0, 0, 2, 0, ""), new ServerMessage.Ok(0, 0, 2, 0, ""));
        ByteBuf first = channel.readOutbound();
        ByteBuf second = channel.readOutbound();
        assertThat(first.getUnsignedByte(3)).isEqualTo((short) 6);
        assertThat(second.getUnsignedByte(3)).isEqualTo((short) 7);
        first.release();
        second.release();
        // a new command restarts the count; 255 wraps to 0
        channel.writeInbound(Unpooled.wrappedBuffer(packet(255, new byte[] {0x0E})));
        ((MySqlFrameDecoder.Frame) channel.readInbound()).payload().release();
        channel.writeOutbound(new ServerMessage.Ok(0, 0, 2, 0, ""));
        ByteBuf third = channel.readOutbound();
        assertThat(third.getUnsignedByte(3)).isEqualTo((short) 0);
        third.release();
    }

    @Test
    void anErrorAboutAnOversizedPacketContinuesItsSequence() {
        state = new ConnectionState(1024);
        channel = new EmbeddedChannel(new MySqlFrameDecoder(state), new ServerMessageEncoder(state));
        channel.writeOutbound(new ServerMessage.Ok(0, 0, 2, 0, ""), new ServerMessage.Ok(0, 0, 2, 0, ""));
        channel.releaseOutbound();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeMediumLE(5000).writeByte(0)))
                .isInstanceOf(DecoderException.class);
        channel.writeOutbound(new ServerMessage.Err(1153, "08S01", "too large"));
        ByteBuf err = channel.readOutbound();
        assertThat(err.getUnsignedByte(3)).isEqualTo((short) 1);
        err.release();
    }

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + (i >>> 16));
        }
        return b;
    }

    private static void assertFrame(Object msg, int sequenceId, byte[] payload) {
        assertThat(msg).isInstanceOf(MySqlFrameDecoder.Frame.class);
        MySqlFrameDecoder.Frame frame = (MySqlFrameDecoder.Frame) msg;
        try {
            assertThat(frame.sequenceId()).isEqualTo(sequenceId);
            assertThat(frame.payload().readableBytes()).isEqualTo(payload.length);
            assertThat(Arrays.equals(ByteBufUtil.getBytes(frame.payload()), payload)).as("payload bytes").isTrue();
        } finally {
            frame.payload().release();
        }
    }
}

package io.shardgate.proxy.backend.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.shardgate.proxy.error.SqlError;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A relayed reply's error packet, as the shard sent it or replaced after the proxy's own deadline cancel. */
class RelaySinkTest {

    private static ByteBuf errorPacket(int sequence, int errno, String state, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        ByteBuf p = Unpooled.buffer();
        p.writeMediumLE(1 + 2 + 1 + 5 + text.length).writeByte(sequence).writeByte(0xFF).writeShortLE(errno).writeByte('#')
                .writeBytes(state.getBytes(StandardCharsets.US_ASCII)).writeBytes(text);
        return p;
    }

    private static byte[] written(EmbeddedChannel client) {
        ByteBuf out = client.readOutbound();
        try {
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    @Test
    void theShardsErrorGoesOutAsItCameRenumbered() throws Exception {
        EmbeddedChannel client = new EmbeddedChannel();
        RelaySink sink = new RelaySink(client, null, 1, true, () -> null);
        sink.packet(errorPacket(1, 1317, "70100", "Query execution was interrupted"), PacketKind.ERROR, false, true);
        assertThat(written(client)).isEqualTo(ByteBufUtil.getBytes(errorPacket(1, 1317, "70100", "Query execution was interrupted")));
        assertThat(sink.done.get().error().errno()).isEqualTo(1317);
    }

    @Test
    void afterTheDeadlineTheShardsInterruptErrorIsReplacedByTheTimeoutError() throws Exception {
        EmbeddedChannel client = new EmbeddedChannel();
        String text = "Query execution was interrupted (max_statement_time exceeded): the statement ran past limits";
        RelaySink sink = new RelaySink(client, null, 1, true, () -> new SqlError(1969, "70100", text, null));
        sink.packet(errorPacket(1, 1317, "70100", "Query execution was interrupted"), PacketKind.ERROR, false, true);
        assertThat(written(client)).isEqualTo(ByteBufUtil.getBytes(errorPacket(1, 1969, "70100", text)));
        assertThat(sink.done.get().error().errno()).isEqualTo(1969);
    }

    private static ByteBuf packet(int sequence, int payloadLength, int fill) {
        ByteBuf p = Unpooled.buffer();
        p.writeMediumLE(payloadLength).writeByte(sequence);
        for (int i = 0; i < payloadLength; i++) {
            p.writeByte(fill + i);
        }
        return p;
    }

    @Test
    void smallAndLargePacketsReachTheClientInOrderRenumberedWhateverWayTheyAreBatched() throws Exception {
        EmbeddedChannel client = new EmbeddedChannel();
        RelaySink sink = new RelaySink(client, null, 3, true, () -> null);
        int[] sizes = {5, 20_000, 7, 8 * 1024 - 4, 9_000, 1, 70_000, 3};
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < sizes.length; i++) {
            ByteBuf p = packet(0x40 + i, sizes[i], i);
            byte[] bytes = ByteBufUtil.getBytes(p);
            bytes[3] = (byte) (3 + i);
            expected.write(bytes);
            sink.packet(p, PacketKind.ROW, false, i == sizes.length - 1);
        }
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        ByteBuf out;
        while ((out = client.readOutbound()) != null) {
            got.write(ByteBufUtil.getBytes(out));
            out.release();
        }
        assertThat(got.toByteArray()).isEqualTo(expected.toByteArray());
        assertThat(sink.done.get().rows()).isEqualTo(sizes.length);
    }

    /** Everything the client has been sent (flushed) so far. */
    private static byte[] flushed(EmbeddedChannel client) throws Exception {
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        ByteBuf out;
        while ((out = client.readOutbound()) != null) {
            got.write(ByteBufUtil.getBytes(out));
            out.release();
        }
        return got.toByteArray();
    }

    @Test
    void whatOneReadBroughtReachesTheClientWhenTheReadEnds() throws Exception {
        EmbeddedChannel client = new EmbeddedChannel();
        RelaySink sink = new RelaySink(client, null, 1, true, () -> null);
        ByteBuf first = packet(7, 200, 1);
        ByteBuf second = packet(8, 200, 2);
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        expected.write(ByteBufUtil.getBytes(first.copy().setByte(3, 1)));
        expected.write(ByteBufUtil.getBytes(second.copy().setByte(3, 2)));
        sink.packet(first, PacketKind.ROW, false, false);
        sink.packet(second, PacketKind.ROW, false, false);
        assertThat(flushed(client)).as("within a read, small rows are gathered").isEmpty();
        sink.readComplete();
        assertThat(flushed(client)).as("the read ended: the rows so far go out, the reply's end still to come")
                .isEqualTo(expected.toByteArray());
        sink.readComplete();
        assertThat(flushed(client)).isEmpty();
        sink.packet(packet(9, 7, 3), PacketKind.ROWS_END, false, true);
        assertThat(flushed(client)).hasSize(4 + 7);
        assertThat(sink.done.get().rows()).isEqualTo(2);
    }
}

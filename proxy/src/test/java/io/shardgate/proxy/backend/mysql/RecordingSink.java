package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.shardgate.proxy.error.ProxyException;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** Test support: a sink that keeps a copy of every packet it gets, with its kind, and completes when the reply ends. */
final class RecordingSink implements ReplySink {
    /** One packet as received: the whole physical packet (header included). */
    record Packet(byte[] bytes, PacketKind kind, boolean continuation, boolean last) {
        int sequenceId() {
            return bytes[3] & 0xFF;
        }

        int payloadLength() {
            return (bytes[0] & 0xFF) | (bytes[1] & 0xFF) << 8 | (bytes[2] & 0xFF) << 16;
        }

        int first() {
            return bytes.length > 4 ? bytes[4] & 0xFF : -1;
        }
    }

    final List<Packet> packets = java.util.Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<List<Packet>> done = new CompletableFuture<>();
    private final Consumer<Packet> onPacket;

    RecordingSink() {
        this(p -> { });
    }

    RecordingSink(Consumer<Packet> onPacket) {
        this.onPacket = onPacket;
    }

    @Override
    public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
        Packet p;
        try {
            p = new Packet(ByteBufUtil.getBytes(packet), kind, continuation, last);
        } finally {
            packet.release();
        }
        if (done.isDone()) {
            done.obtrudeException(new AssertionError("packet after the end of the reply: " + p.kind()));
            return;
        }
        packets.add(p);
        onPacket.accept(p);
        if (last) {
            done.complete(List.copyOf(packets));
        }
    }

    @Override
    public void failed(ProxyException error) {
        if (!done.completeExceptionally(error)) {
            done.obtrudeException(new AssertionError("failed after the end of the reply", error));
        }
    }

    List<PacketKind> kinds() {
        List<PacketKind> out = new ArrayList<>();
        synchronized (packets) {
            packets.forEach(p -> out.add(p.kind()));
        }
        return out;
    }

    /** The payloads of the logical packets (continuation pieces joined to their first piece). */
    List<byte[]> logicalPayloads() {
        List<byte[]> out = new ArrayList<>();
        ByteArrayOutputStream current = null;
        for (Packet p : List.copyOf(packets)) {
            if (!p.continuation()) {
                if (current != null) {
                    out.add(current.toByteArray());
                }
                current = new ByteArrayOutputStream();
            }
            current.write(p.bytes(), 4, p.bytes().length - 4);
        }
        if (current != null) {
            out.add(current.toByteArray());
        }
        return out;
    }
}

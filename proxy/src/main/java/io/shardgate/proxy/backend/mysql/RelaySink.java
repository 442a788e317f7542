package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.shardgate.proxy.error.ProxyException;
import java.util.concurrent.CompletableFuture;

/**
 * Forwards a shard's reply packets to the client as they come, renumbering only their sequence ids (the reply continues
 * the client's command's numbering). Small packets are gathered into one write; what one read of the shard's socket
 * brought is flushed when that read is done (or every {@code FLUSH_BYTES} within a long one), so the client's first rows
 * never wait for more to arrive. A client that reads slower than the shard answers pauses the shard's reads until what
 * was written is flushed: memory stays bounded whatever the result size.
 */
public final class RelaySink implements ReplySink {
    private static final int FLUSH_BYTES = 64 * 1024;
    /**
     * Packets up to this size are copied into one pending buffer (a point select's reply: column definitions, a row and
     * its end, in one contiguous write); larger ones are written as they came, without a copy.
     */
    private static final int COPY_MAX = 8 * 1024;

    /**
     * The reply reached the client whole: how many rows, the warning count of its last OK or EOF packet (what the
     * client was told), the shard's error it ended with, or null, and when it had warnings, the rows of the shard's
     * SHOW WARNINGS right after (Level, Code, Message as the server's bytes; null if they could not be read).
     */
    public record Outcome(long rows, int warnings, ServerError error, java.util.List<byte[][]> warningRows) {
        Outcome withWarningRows(java.util.List<byte[][]> listed) {
            return new Outcome(rows, warnings, error, listed);
        }
    }

    /** The relay broke off; {@code started}: some packets had reached the client already. */
    static final class Broken extends RuntimeException {
        final ProxyException error;
        final boolean started;

        Broken(ProxyException error, boolean started) {
            super(error.getMessage(), error);
            this.error = error;
            this.started = started;
        }
    }

    final CompletableFuture<Outcome> done = new CompletableFuture<>();
    private final Channel client;
    private final MySqlBackendConnection backend;
    private int sequence;
    private long rows;
    private long packets;
    /** Copies of small packets not yet written. */
    private ByteBuf pending;
    /** Bytes written to the client since its last flush. */
    private int unflushed;
    private volatile boolean paused;
    private boolean clientGone;
    private ServerError error;
    private int warnings;
    private final boolean deprecateEof;

    /** The error to send instead of the shard's (the proxy cancelled the statement at its deadline), or null. */
    private final java.util.function.Supplier<io.shardgate.proxy.error.SqlError> overridingError;

    /** {@code deprecateEof}: the reply's last packet after rows is an OK packet (0xFE header), not an EOF packet. */
    RelaySink(Channel client, MySqlBackendConnection backend, int firstSequence, boolean deprecateEof) {
        this(client, backend, firstSequence, deprecateEof, () -> null);
    }

    /** {@code overridingError}: asked when the shard's reply ends with an error; non-null replaces that error packet. */
    RelaySink(Channel client, MySqlBackendConnection backend, int firstSequence, boolean deprecateEof,
            java.util.function.Supplier<io.shardgate.proxy.error.SqlError> overridingError) {
        this.overridingError = overridingError;
        this.deprecateEof = deprecateEof;
        this.client = client;
        this.backend = backend;
        this.sequence = firstSequence;
    }

    @Override
    public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
        if (!client.isActive()) {
            clientGone(packet, last);
            return;
        }
        if (!continuation) {
            if (kind == PacketKind.ROW) {
                rows++;
            } else if (kind == PacketKind.ERROR) {
                io.shardgate.proxy.error.SqlError replacement = overridingError.get();
                if (replacement != null) {
                    packet.release();
                    packet = errorPacket(replacement);
                }
                error = ServerError.parse(packet.slice(packet.readerIndex() + PieceDecoder.HEADER,
                        packet.readableBytes() - PieceDecoder.HEADER));
            } else if (kind == PacketKind.OK || kind == PacketKind.ROWS_END) {
                warnings = warnings(kind == PacketKind.ROWS_END && !deprecateEof, packet.slice(packet.readerIndex() + PieceDecoder.HEADER, packet.readableBytes() - PieceDecoder.HEADER));
            }
        }
        packet.setByte(packet.readerIndex() + 3, sequence);
        sequence = (sequence + 1) & 0xFF;
        packets++;
        // packets are gathered and written in batches: one write and one flush per small reply
        int size = packet.readableBytes();
        if (size <= COPY_MAX) {
            if (pending == null) {
                pending = client.alloc().ioBuffer(Math.max(1024, size), FLUSH_BYTES + COPY_MAX);
            }
            pending.writeBytes(packet);
            packet.release();
        } else {
            writePending();
            unflushed += size;
            client.write(packet, client.voidPromise());
        }
        if (last) {
            writePending();
            client.flush();
            done.complete(new Outcome(rows, warnings, error, null));
            return;
        }
        if (unflushed + (pending == null ? 0 : pending.readableBytes()) >= FLUSH_BYTES) {
            flushWritten();
        }
    }

    @Override
    public void readComplete() {
        // the read is over: its packets go to the client now, not when 64 KB have gathered (a result's first rows
        // would wait for the shard's next writes, the first row of a slow or busy shard by tens of milliseconds)
        if (!clientGone && !done.isDone() && (unflushed > 0 || pending != null)) {
            flushWritten();
        }
    }

    /** Flushes what was written; when the client cannot take more for now, the shard's reads pause until it has. */
    private void flushWritten() {
        writePending();
        client.flush();
        unflushed = 0;
        if (!client.isWritable() && !paused) {
            paused = true;
            backend.pauseReading();
            // completes once everything written so far has reached the socket
            client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
                paused = false;
                if (!done.isDone()) {
                    // once the reply ended the connection may serve another command: its next send reads again
                    backend.resumeReading();
                }
            });
        }
    }

    /**
     * The client went away before the reply ended: the rest of it is not read (draining a large result would keep the
     * shard busy for nothing) but the backend connection is closed mid-reply, so it is never lent again half-read.
     * When this was the reply's last packet the connection is idle and sound, and the relay ends as it would have.
     */
    private void clientGone(ByteBuf packet, boolean last) {
        packet.release();
        if (pending != null) {
            take().release();
        }
        if (last) {
            done.complete(new Outcome(rows, warnings, error, null));
            return;
        }
        clientGone = true;
        backend.close(); // fails this sink (see #failed): the relay ends with the connection discarded
    }

    /** An ERR packet (header included, sequence id set later) of {@code e}, its text in utf8mb4 (the relay's only charset). */
    private ByteBuf errorPacket(io.shardgate.proxy.error.SqlError e) {
        byte[] text = e.message().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int length = 1 + 2 + 1 + 5 + text.length;
        ByteBuf out = client.alloc().buffer(PieceDecoder.HEADER + length);
        out.writeMediumLE(length).writeByte(0).writeByte(0xFF).writeShortLE(e.mysqlErrno()).writeByte('#')
                .writeBytes(e.sqlState().getBytes(java.nio.charset.StandardCharsets.US_ASCII)).writeBytes(text);
        return out;
    }

    /** The warning count of an EOF packet (0xFE, warnings, status) or an OK packet (0x00 or 0xFE header). */
    private static int warnings(boolean eof, ByteBuf payload) {
        if (eof) {
            return payload.readableBytes() >= 3 ? payload.getUnsignedShortLE(payload.readerIndex() + 1) : 0;
        }
        ByteBuf p = payload.duplicate();
        p.skipBytes(1);
        io.shardgate.proxy.mysql.codec.Wire.readLenEnc(p, "affected rows");
        io.shardgate.proxy.mysql.codec.Wire.readLenEnc(p, "last insert id");
        io.shardgate.proxy.mysql.codec.Wire.need(p, 4, "status flags and warnings");
        return p.getUnsignedShortLE(p.readerIndex() + 2);
    }

    private ByteBuf take() {
        ByteBuf out = pending;
        pending = null;
        return out;
    }

    /** Writes the pending copies (not flushed). */
    private void writePending() {
        if (pending != null) {
            unflushed += pending.readableBytes();
            client.write(take(), client.voidPromise());
        }
    }

    @Override
    public void failed(ProxyException e) {
        writePending();
        client.flush();
        ProxyException error = clientGone ? new ProxyException(io.shardgate.proxy.error.ErrorCode.SHARD_UNAVAILABLE,
                backend + ": the client closed its connection after " + rows + " relayed rows; the rest of the reply was not"
                + " read and the backend connection is closed", e) : e;
        done.completeExceptionally(new Broken(error, packets > 0 || clientGone));
    }
}

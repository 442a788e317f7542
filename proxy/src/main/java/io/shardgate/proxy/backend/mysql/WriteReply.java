package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.mysql.codec.Wire;
import java.util.function.UnaryOperator;

/**
 * The reply to a relayed write (issue 15: {@code INSERT}, {@code UPDATE}, {@code DELETE}, {@code REPLACE} on one shard):
 * wraps the relay's sink ({@link NativeBackends#relay(io.shardgate.cluster.ShardDefinition, byte[],
 * io.shardgate.proxy.exec.SessionSettings, RelayTarget, io.shardgate.proxy.exec.ShardWork.Tracker, UnaryOperator)}) and
 * reads the one OK packet that answers a write: its affected rows and last insert id are what the session remembers
 * ({@code ROW_COUNT()}, {@code LAST_INSERT_ID()}). Everything else passes as the shard sent it.
 *
 * <p>Only the OK packet is decoded, never a row. When the proxy filled the statement's ids from a cluster sequence the
 * shard saw explicit ids, and its OK names the last row's; the client gets the first generated id instead, as MySQL
 * reports its own AUTO_INCREMENT (and as the JDBC path does), in an OK packet rebuilt with the shard's affected rows,
 * status flags, warning count and info text.
 */
public final class WriteReply implements UnaryOperator<ReplySink> {
    /** The shard's OK packet: affected rows and last insert id as the shard sent them, and its status flags and warnings. */
    public record Ok(long affectedRows, long lastInsertId, int status, int warnings) {}

    private static final long AS_SENT = -1;
    private final long insertId;
    private volatile Ok ok;

    private WriteReply(long insertId) {
        this.insertId = insertId;
    }

    /** The shard's OK goes to the client unchanged. */
    public static WriteReply asSent() {
        return new WriteReply(AS_SENT);
    }

    /** The shard's OK goes to the client with {@code lastInsertId} (unsigned) as its last insert id. */
    public static WriteReply withInsertId(long lastInsertId) {
        if (lastInsertId == AS_SENT) {
            throw new IllegalArgumentException("last insert id " + Long.toUnsignedString(lastInsertId) + " cannot be reported");
        }
        return new WriteReply(lastInsertId);
    }

    /** The OK the shard answered with, or null when it answered otherwise (an error, a result set) or not yet. */
    public Ok ok() {
        return ok;
    }

    @Override
    public ReplySink apply(ReplySink relay) {
        return new ReplySink() {
            private boolean first = true;

            @Override
            public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
                boolean whole = first && kind == PacketKind.OK && !continuation && last;
                first = false;
                relay.packet(whole ? readOk(packet) : packet, kind, continuation, last);
            }

            @Override
            public void failed(ProxyException error) {
                relay.failed(error);
            }

            @Override
            public void readComplete() {
                relay.readComplete();
            }
        };
    }

    /** Reads the OK packet {@code packet} (header and payload) and returns what the client gets: it, or its rebuilt copy. */
    private ByteBuf readOk(ByteBuf packet) {
        ByteBuf p = packet.duplicate();
        p.skipBytes(PieceDecoder.HEADER + 1);
        long affected = Wire.readLenEnc(p, "affected rows");
        int idStart = p.readerIndex();
        long shardId = Wire.readLenEnc(p, "last insert id");
        int idEnd = p.readerIndex();
        Wire.need(p, 4, "status flags and warnings");
        ok = new Ok(affected, shardId, p.getUnsignedShortLE(p.readerIndex()), p.getUnsignedShortLE(p.readerIndex() + 2));
        if (insertId == AS_SENT || insertId == shardId) {
            return packet;
        }
        ByteBuf out = packet.alloc().buffer(packet.readableBytes() + 9);
        out.writeMediumLE(0).writeByte(packet.getUnsignedByte(packet.readerIndex() + 3));
        out.writeBytes(packet, packet.readerIndex() + PieceDecoder.HEADER, idStart - packet.readerIndex() - PieceDecoder.HEADER);
        Wire.writeLenEnc(out, insertId);
        out.writeBytes(packet, idEnd, packet.writerIndex() - idEnd);
        out.setMediumLE(0, out.readableBytes() - PieceDecoder.HEADER);
        packet.release();
        return out;
    }
}

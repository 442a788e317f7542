package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.mysql.codec.Wire;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Reads the reply to {@code SHOW WARNINGS} (three text columns: Level, Code, Message) into rows of the server's bytes,
 * so a relayed statement's warnings can be listed later as the server listed them. Small by nature (at most
 * {@code max_error_count} rows).
 */
final class WarningsSink implements ReplySink {
    final CompletableFuture<List<byte[][]>> done = new CompletableFuture<>();
    private final List<byte[][]> rows = new ArrayList<>();

    @Override
    public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
        try {
            if (kind == PacketKind.ROW && !continuation) {
                ByteBuf p = packet.duplicate().skipBytes(PieceDecoder.HEADER);
                byte[][] row = new byte[3][];
                for (int i = 0; i < row.length; i++) {
                    row[i] = Wire.readLenEncBytes(p, "SHOW WARNINGS column " + i);
                }
                rows.add(row);
            } else if (kind == PacketKind.ERROR) {
                done.completeExceptionally(new IllegalStateException("SHOW WARNINGS failed on the shard"));
            }
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        } finally {
            packet.release();
        }
        if (last) {
            done.complete(List.copyOf(rows));
        }
    }

    @Override
    public void failed(ProxyException error) {
        done.completeExceptionally(error);
    }
}

package io.shardgate.proxy.backend.mysql;

import io.netty.buffer.ByteBuf;
import io.shardgate.proxy.error.ProxyException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A reply read to its end and summed up, for the proxy's own commands (ping, reset, SET) and for tests: the packets
 * are released as they come.
 *
 * @param error        the ERR packet, or null
 * @param resultSets   how many result sets came
 * @param rows         how many rows came, over all result sets
 * @param status       the server status flags of the last OK or EOF, or -1
 * @param kinds        the kind of every packet, in order (continuation pieces included)
 */
public record BackendReply(ServerError error, int resultSets, long rows, int status, List<PacketKind> kinds) {
    public boolean ok() {
        return error == null;
    }

    /** A sink that completes {@code result} with the summary (or exceptionally with the failure). */
    static ReplySink collector(CompletableFuture<BackendReply> result, java.util.function.IntSupplier finalStatus) {
        return new ReplySink() {
            private final List<PacketKind> kinds = new ArrayList<>();
            private ServerError error;
            private int resultSets;
            private long rows;

            @Override
            public void packet(ByteBuf packet, PacketKind kind, boolean continuation, boolean last) {
                try {
                    kinds.add(kind);
                    if (!continuation) {
                        ByteBuf payload = packet.slice(packet.readerIndex() + PieceDecoder.HEADER,
                                packet.readableBytes() - PieceDecoder.HEADER);
                        switch (kind) {
                            case ERROR -> error = ServerError.parse(payload);
                            case COLUMN_COUNT -> resultSets++;
                            case ROW -> rows++;
                            case OK, ROWS_END, COLUMN_DEFINITION, METADATA_EOF, PREPARE_OK, PARAMETER_DEFINITION, PREPARE_EOF -> { }
                        }
                    }
                } finally {
                    packet.release();
                }
                if (last) {
                    result.complete(new BackendReply(error, resultSets, rows, finalStatus.getAsInt(), List.copyOf(kinds)));
                }
            }

            @Override
            public void failed(ProxyException e) {
                result.completeExceptionally(e);
            }
        };
    }
}

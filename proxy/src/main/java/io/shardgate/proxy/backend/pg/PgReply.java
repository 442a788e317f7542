package io.shardgate.proxy.backend.pg;

import io.shardgate.proxy.error.ProxyException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A reply read to its end and summed up, for the proxy's own requests (SET, RESET ALL, validation) and for tests: the
 * messages are released as they come.
 *
 * @param error  the first ErrorResponse, or null
 * @param tags   the CommandComplete tags, in order
 * @param rows   how many DataRows came
 * @param status the ReadyForQuery's transaction status: 'I' idle, 'T' in a transaction, 'E' in a failed one
 * @param types  the type of every message, in order (the ReadyForQuery included)
 */
public record PgReply(PgServerError error, List<String> tags, long rows, char status, String types) {
    public PgReply {
        tags = List.copyOf(tags);
    }

    public boolean ok() {
        return error == null;
    }

    /** A sink that completes {@code result} with the summary (or exceptionally with the failure). */
    static PgReplySink collector(CompletableFuture<PgReply> result) {
        return new PgReplySink() {
            private final List<String> tags = new ArrayList<>();
            private final StringBuilder types = new StringBuilder();
            private PgServerError error;
            private long rows;

            @Override
            public void message(PgFrame frame, boolean last) {
                char status = 0;
                try {
                    types.append(frame.type());
                    switch (frame.type()) {
                        case 'E' -> {
                            if (error == null) {
                                error = PgServerError.parse(frame.body());
                            }
                        }
                        case 'D' -> rows++;
                        case 'C' -> {
                            io.netty.buffer.ByteBuf b = frame.body();
                            tags.add(b.toString(b.readerIndex(), Math.max(0, b.readableBytes() - 1), java.nio.charset.StandardCharsets.UTF_8));
                        }
                        case 'Z' -> status = (char) frame.body().getUnsignedByte(0);
                        default -> { }
                    }
                } finally {
                    frame.release();
                }
                if (last) {
                    result.complete(new PgReply(error, tags, rows, status, types.toString()));
                }
            }

            @Override
            public void failed(ProxyException e) {
                result.completeExceptionally(e);
            }
        };
    }
}

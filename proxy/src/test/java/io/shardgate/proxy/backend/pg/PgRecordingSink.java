package io.shardgate.proxy.backend.pg;

import io.netty.buffer.ByteBufUtil;
import io.shardgate.proxy.error.ProxyException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Keeps every reply message (as bytes) and completes with them at the end of the reply. */
final class PgRecordingSink implements PgReplySink {
    record Message(char type, byte[] bytes) {}

    final CompletableFuture<List<Message>> done = new CompletableFuture<>();
    private final List<Message> messages = new ArrayList<>();

    @Override
    public void message(PgFrame frame, boolean last) {
        try {
            messages.add(new Message(frame.type(), ByteBufUtil.getBytes(frame.bytes())));
        } finally {
            frame.release();
        }
        if (last) {
            done.complete(List.copyOf(messages));
        }
    }

    @Override
    public void failed(ProxyException error) {
        done.completeExceptionally(error);
    }

    static String types(List<Message> messages) {
        StringBuilder b = new StringBuilder();
        messages.forEach(m -> b.append(m.type()));
        return b.toString();
    }
}

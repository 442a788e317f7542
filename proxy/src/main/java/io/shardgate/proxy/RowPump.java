package io.shardgate.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.shardgate.proxy.session.RowStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Writes a streamed result's rows to a client as they come, with backpressure: the first row at once, then rows in
 * small batches, and while the client's channel is not writable (its socket and Netty's outbound buffer hold more than
 * the high water mark) the session thread waits instead of pulling more rows, so a slow client slows the shards' reads
 * and nothing holds a whole result. At most {@link #IN_FLIGHT} batches are queued past the writability check (messages waiting to be encoded on
 * the event loop are not counted by Netty as bytes yet). One per client connection; used by its session thread, told of
 * writability changes by the event loop.
 */
public final class RowPump {
    /** Rows per batch, and the bytes of values after which a batch goes out early. */
    static final int BATCH_ROWS = 256;
    static final int BATCH_BYTES = 32 * 1024;
    static final int IN_FLIGHT = 8;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    /** The event loop saw the channel's writability change. */
    public void writabilityChanged() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** How a pump ended: the rows written, and whether the rows ended (false: the client went away or the limit was reached). */
    public record Pumped(long rows, boolean ended) {}

    /**
     * Pulls up to {@code max} rows (0: all) from {@code rows} and writes them in batches made by {@code batch}. Does not
     * close the stream: the caller does, in every case. An error of the stream propagates after the rows before it were
     * written (flushed), as a server sends an error after the rows it sent.
     */
    public Pumped pump(Channel channel, RowStream rows, long max, Function<List<byte[][]>, Object> batch) {
        ArrayDeque<ChannelFuture> inFlight = new ArrayDeque<>();
        List<byte[][]> pending = new ArrayList<>();
        long bytes = 0;
        long written = 0;
        try {
            while (max == 0 || written + pending.size() < max) {
                byte[][] row = rows.next();
                if (row == null) {
                    return new Pumped(written + pending.size(), true);
                }
                pending.add(row);
                bytes += size(row);
                // the first row goes out alone, at once: the client's first row does not wait for a batch to fill
                // (behind it a merge may be waiting for its slowest shard, or the shard for its next rows)
                if (written == 0 || pending.size() >= BATCH_ROWS || bytes >= BATCH_BYTES) {
                    written += pending.size();
                    if (!send(channel, batch.apply(pending), inFlight)) {
                        pending = new ArrayList<>();
                        return new Pumped(written, false);
                    }
                    pending = new ArrayList<>();
                    bytes = 0;
                }
            }
            return new Pumped(written + pending.size(), false);
        } finally {
            if (!pending.isEmpty() && channel.isActive()) {
                channel.writeAndFlush(batch.apply(pending));
            }
        }
    }

    private static long size(byte[][] row) {
        long n = row.length;
        for (byte[] v : row) {
            n += v == null ? 0 : v.length;
        }
        return n;
    }

    /** Writes one batch and waits until the client can take more; false when it went away. */
    private boolean send(Channel channel, Object message, ArrayDeque<ChannelFuture> inFlight) {
        inFlight.add(channel.writeAndFlush(message));
        while (inFlight.size() > IN_FLIGHT) {
            inFlight.poll().awaitUninterruptibly();
        }
        return awaitWritable(channel);
    }

    private boolean awaitWritable(Channel channel) {
        while (channel.isActive() && !channel.isWritable()) {
            lock.lock();
            try {
                if (channel.isActive() && !channel.isWritable()) {
                    // a missed signal costs at most this long: writability is read again after it
                    changed.await(50, TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } finally {
                lock.unlock();
            }
        }
        return channel.isActive();
    }
}

package io.shardgate.proxy.hotkeys;

import io.shardgate.state.StoreException;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background job that publishes a proxy's hottest keys every {@code interval} on a virtual
 * thread, so that {@code shardgate hotkey top} can add up all proxies. A failed publish is logged
 * (once per run of failures) and retried at the next tick; closing stops the thread and withdraws
 * the report.
 */
public final class HotKeyPublisher implements AutoCloseable {
    /** How many keys each report carries. */
    public static final int PUBLISHED_KEYS = 32;
    private static final Logger LOG = LoggerFactory.getLogger(HotKeyPublisher.class);

    private final HotKeySketch sketch;
    private final Sink sink;
    private final Duration interval;
    private final Thread thread;
    private volatile boolean closed;
    private boolean failing;

    /** Where reports go: the proxy's cluster store in production, a fake in tests. */
    public interface Sink {
        void publish(HotKeySketch.Top top);

        void withdraw();
    }

    private HotKeyPublisher(HotKeySketch sketch, Sink sink, Duration interval, String name) {
        this.sketch = sketch;
        this.sink = sink;
        this.interval = interval;
        this.thread = Thread.ofVirtual().name(name).unstarted(this::run);
    }

    /** Starts publishing {@code sketch}'s top keys to {@code sink} every {@code interval}, the first time after one interval. */
    public static HotKeyPublisher start(HotKeySketch sketch, Sink sink, Duration interval, String proxyId) {
        Objects.requireNonNull(sketch, "sketch");
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(interval, "interval");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, was " + interval);
        }
        HotKeyPublisher publisher = new HotKeyPublisher(sketch, sink, interval, "shardgate-hotkeys-" + proxyId);
        publisher.thread.start();
        return publisher;
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                return;
            }
            if (!closed) {
                publishOnce();
            }
        }
    }

    private void publishOnce() {
        try {
            sink.publish(sketch.top(PUBLISHED_KEYS));
            if (failing) {
                LOG.info("hot-key reports are published again");
                failing = false;
            }
        } catch (StoreException e) {
            if (!failing) {
                LOG.warn("cannot publish hot-key report ({}); retrying every {} ms", e.getMessage(), interval.toMillis());
                failing = true;
            }
        }
    }

    /** Stops publishing and withdraws the report; a store that cannot be reached drops it with the session. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        thread.interrupt();
        try {
            thread.join(interval.toMillis() + 5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            sink.withdraw();
        } catch (StoreException e) {
            LOG.info("could not withdraw the hot-key report ({}); it goes with the ZooKeeper session", e.getMessage());
        }
    }
}

package io.shardgate.state.support;

import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one subscriber's callbacks on a thread of its own, in submission order, so a listener that
 * blocks (for example one that reads the store again) never stalls ZooKeeper's event thread or
 * another subscriber. A listener that throws is logged and stays subscribed.
 */
public final class ListenerThread implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ListenerThread.class);

    private final String name;
    private final ExecutorService executor;
    private final AtomicBoolean signalQueued = new AtomicBoolean();

    /** @param name thread name, also used in logs (e.g. {@code shardgate-watch-demo-1}) */
    public ListenerThread(String name) {
        this.name = Objects.requireNonNull(name, "name");
        this.executor = Executors.newSingleThreadExecutor(Thread.ofVirtual().name(name).factory());
    }

    /**
     * Schedules {@code task} unless a signalled task is already waiting to start: notifications
     * coalesce because the listener re-reads the state anyway. Pass the same task every time.
     */
    public void signal(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (signalQueued.compareAndSet(false, true)) {
            submit(() -> {
                signalQueued.set(false);
                task.run();
            });
        }
    }

    /** Runs {@code task} after everything submitted before it; dropped once closed. */
    public void submit(Runnable task) {
        Objects.requireNonNull(task, "task");
        try {
            executor.execute(() -> runLogged(task));
        } catch (RejectedExecutionException closed) {
            LOG.debug("{} is closed; dropped a callback", name, closed);
        }
    }

    private void runLogged(Runnable task) {
        try {
            task.run();
        } catch (RuntimeException e) {
            LOG.warn("listener on {} failed; it stays subscribed", name, e);
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}

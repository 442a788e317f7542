package io.shardgate.proxy.core;

import io.shardgate.router.RoutingSnapshot;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The snapshot statements route with, and the count of statements still running with each one.
 *
 * <p>A statement {@linkplain #enter() enters} before it routes and leaves when it no longer touches
 * rows (a read leaves right after routing, a write when it has run, copies included). Before the proxy
 * acknowledges a new epoch, {@link #advance} swaps the new snapshot in and waits until every statement
 * routed with an older one has left. That is what makes an acknowledgement mean "no write of mine still
 * runs under the old slot map": without it a dual write routed just before DUAL_WRITE could miss its
 * copy after the backfill passed its row, or a write routed before the cutover pause could land on the
 * source after the target took over.
 *
 * <p>Entering is lock-free: increment the current entry's count, then check it is still current (else
 * leave and retry). {@link #advance} publishes the new entry and then reads the old counts, so one of
 * the two always sees the other (both are volatile accesses, which are sequentially consistent).
 */
final class SnapshotGate {
    /** One snapshot and the statements routed with it that have not left yet. */
    private static final class Entry {
        final RoutingSnapshot snapshot;
        final AtomicInteger active = new AtomicInteger();

        Entry(RoutingSnapshot snapshot) {
            this.snapshot = snapshot;
        }
    }

    /** A statement's hold on one snapshot; {@link #close()} is idempotent. */
    final class Ticket implements AutoCloseable {
        private final Entry entry;
        private boolean open = true;

        private Ticket(Entry entry) {
            this.entry = entry;
        }

        RoutingSnapshot snapshot() {
            return entry.snapshot;
        }

        @Override
        public void close() {
            if (open) {
                open = false;
                if (entry.active.decrementAndGet() == 0 && entry != current) {
                    signal();
                }
            }
        }
    }

    private volatile Entry current;
    private final ConcurrentLinkedQueue<Entry> draining = new ConcurrentLinkedQueue<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    /** Holds the current snapshot for one statement; empty before the first snapshot. */
    Optional<Ticket> enter() {
        while (true) {
            Entry e = current;
            if (e == null) {
                return Optional.empty();
            }
            e.active.incrementAndGet();
            if (e == current) {
                return Optional.of(new Ticket(e));
            }
            if (e.active.decrementAndGet() == 0) {
                signal();
            }
        }
    }

    /** The current snapshot, without holding it. */
    Optional<RoutingSnapshot> current() {
        Entry e = current;
        return e == null ? Optional.empty() : Optional.of(e.snapshot);
    }

    /**
     * Makes {@code snapshot} current and waits until no statement holds an older one. Throws
     * {@link TimeoutException} naming how many still do when {@code timeout} passes; the caller must then
     * not acknowledge the epoch.
     */
    void advance(RoutingSnapshot snapshot, Duration timeout) throws TimeoutException, InterruptedException {
        Objects.requireNonNull(snapshot, "snapshot");
        synchronized (this) {
            Entry previous = current;
            if (previous != null && (previous.snapshot.equals(snapshot) || snapshot.epoch() < previous.snapshot.epoch())) {
                return; // already current, or older than the current one (a late start-up call racing the watcher)
            }
            current = new Entry(snapshot);
            if (previous != null) {
                draining.add(previous);
            }
        }
        signal(); // wakes statements waiting for a newer snapshot
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                draining.removeIf(e -> e.active.get() == 0);
                if (draining.isEmpty()) {
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    int statements = draining.stream().mapToInt(e -> e.active.get()).sum();
                    throw new TimeoutException(statements + " statement(s) routed with epoch "
                            + draining.peek().snapshot.epoch() + " still running after " + timeout.toMillis()
                            + " ms; epoch " + snapshot.epoch() + " is not acknowledged");
                }
                changed.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the current snapshot's epoch is greater than {@code epoch}; false when {@code timeout}
     * passes first.
     */
    boolean awaitNewerThan(long epoch, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                Entry e = current;
                if (e != null && e.snapshot.epoch() > epoch) {
                    return true;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    private void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}

package io.shardgate.proxy.core;

import io.shardgate.router.RoutingSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The snapshot statements route with, the count of statements still running with each one, and the count of client
 * transactions still holding dual-write copies made with each one.
 *
 * <p>A statement {@linkplain #enter() enters} before it routes and leaves when it no longer touches
 * rows (a read leaves right after routing, a write when it has run, copies included). Before the proxy
 * acknowledges a new epoch, {@link #advance} swaps the new snapshot in and waits until every statement
 * routed with an older one has left. That is what makes an acknowledgement mean "no write of mine still
 * runs under the old slot map": without it a dual write routed just before DUAL_WRITE could miss its
 * copy after the backfill passed its row, or a write routed before the cutover pause could land on the
 * source after the target took over.
 *
 * <p>A statement leaves when it ends, but the copies a dual write makes inside a client transaction stay uncommitted
 * until the transaction ends. The migrator's chunked delete of a cleanup (CLEANUP deletes the moved rows from the
 * source, ABORT_CLEANUP the copies from the target) cannot see a row such a transaction inserted, so the row would
 * survive it once committed and be counted twice. A session's {@link CopyHold} therefore keeps, until its transaction
 * ends, the snapshots its dual writes routed with, and an epoch that starts a cleanup (see {@link CleanupStart}) is
 * acknowledged only when no older snapshot is held that way either. Only those epochs wait: a transaction that copied
 * and then has a write held by a cutover pause waits for the release epoch, so the pause or the release waiting for
 * it would deadlock; in a cleanup phase nothing is held. A cleanup epoch that could not drain in time stays owed: later
 * epochs wait for the copies too until one drains, since acknowledging a later epoch acknowledges it as well.
 *
 * <p>Entering is lock-free: increment the current entry's count, then check it is still current (else
 * leave and retry). {@link #advance} publishes the new entry and then reads the old counts, so one of
 * the two always sees the other (both are volatile accesses, which are sequentially consistent). A copy is held
 * while its statement's ticket is open and counted before the ticket leaves, so reading an entry's statements before
 * its transactions never misses one.
 */
final class SnapshotGate {
    /** One snapshot, the statements routed with it that have not left yet, and the open transactions holding its copies. */
    private static final class Entry {
        final RoutingSnapshot snapshot;
        final AtomicInteger active = new AtomicInteger();
        final AtomicInteger transactions = new AtomicInteger();

        Entry(RoutingSnapshot snapshot) {
            this.snapshot = snapshot;
        }

        /** Statements first: a transaction holds a copy before its statement leaves (see the class comment). */
        boolean drained() {
            return active.get() == 0 && transactions.get() == 0;
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

    /**
     * One session's hold, for its open client transaction, on the snapshots its dual writes routed with: each is held
     * once, from {@link #add} (while the dual write's ticket is open) until {@link #release()} at the transaction's end
     * (commit, rollback, a broken connection, the session's end). Thread-safe: a timed-out {@link #advance} reads it.
     */
    final class CopyHold {
        private final String owner;
        private final List<Entry> held = new ArrayList<>(2);

        private CopyHold(String owner) {
            this.owner = owner;
        }

        /** Holds {@code ticket}'s snapshot until {@link #release()}; the ticket must still be open. */
        synchronized void add(Ticket ticket) {
            if (!ticket.open) {
                throw new IllegalStateException("a dual write's copies must be held while its statement holds the snapshot");
            }
            if (held.contains(ticket.entry)) {
                return;
            }
            ticket.entry.transactions.incrementAndGet();
            held.add(ticket.entry);
            holding.add(this);
        }

        /** The transaction ended: its copies are committed or gone. Idempotent. */
        synchronized void release() {
            if (held.isEmpty()) {
                return;
            }
            holding.remove(this);
            boolean signal = false;
            for (Entry e : held) {
                signal |= e.transactions.decrementAndGet() == 0 && e != current;
            }
            held.clear();
            if (signal) {
                signal();
            }
        }

        /** Whether this transaction holds copies made with a snapshot older than the current one. */
        synchronized boolean holdsOlderThan(Entry now) {
            return held.stream().anyMatch(e -> e != now);
        }

        @Override
        public String toString() {
            return owner;
        }
    }

    private volatile Entry current;
    /** Older entries that still have statements, or transactions holding their copies. */
    private final ConcurrentLinkedQueue<Entry> draining = new ConcurrentLinkedQueue<>();
    /** The holds that hold something, for naming the sessions in a timeout. */
    private final Set<CopyHold> holding = ConcurrentHashMap.newKeySet();
    /** The epoch of a snapshot that started a cleanup and has not drained yet (with the copies); -1 when none. Guarded by this. */
    private long cleanupOwed = -1;
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

    /** A new, empty hold for one session's transactions; {@code owner} names the session in timeout messages. */
    CopyHold copyHold(String owner) {
        return new CopyHold(Objects.requireNonNull(owner, "owner"));
    }

    /** The current snapshot, without holding it. */
    Optional<RoutingSnapshot> current() {
        Entry e = current;
        return e == null ? Optional.empty() : Optional.of(e.snapshot);
    }

    /**
     * Makes {@code snapshot} current and waits until no statement holds an older one, nor, when it starts a cleanup (or
     * an earlier one has not drained), any client transaction holds copies made with an older one. Throws
     * {@link TimeoutException} naming how many still do when {@code timeout} passes; the caller must then not
     * acknowledge the epoch. Called again with the current snapshot (a retried acknowledgement), it waits the same way.
     */
    void advance(RoutingSnapshot snapshot, Duration timeout) throws TimeoutException, InterruptedException {
        Objects.requireNonNull(snapshot, "snapshot");
        boolean copies;
        synchronized (this) {
            Entry previous = current;
            if (previous != null && snapshot.epoch() < previous.snapshot.epoch()) {
                return; // older than the current one (a late start-up call racing the watcher)
            }
            if (previous == null || !previous.snapshot.equals(snapshot)) {
                current = new Entry(snapshot);
                if (previous != null) {
                    draining.add(previous);
                    if (CleanupStart.between(previous.snapshot.slotMap(), snapshot.slotMap())) {
                        cleanupOwed = snapshot.epoch();
                    }
                }
            }
            copies = cleanupOwed >= 0;
        }
        signal(); // wakes statements waiting for a newer snapshot
        awaitDrained(snapshot, copies, timeout);
        if (copies) {
            synchronized (this) {
                if (cleanupOwed <= snapshot.epoch()) {
                    cleanupOwed = -1;
                }
            }
        }
    }

    private void awaitDrained(RoutingSnapshot snapshot, boolean copies, Duration timeout)
            throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                draining.removeIf(Entry::drained);
                if (copies ? draining.isEmpty() : draining.stream().allMatch(e -> e.active.get() == 0)) {
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw timeout(snapshot, copies, timeout);
                }
                changed.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    private TimeoutException timeout(RoutingSnapshot snapshot, boolean copies, Duration timeout) {
        List<Entry> old = List.copyOf(draining);
        int statements = old.stream().mapToInt(e -> e.active.get()).sum();
        long oldest = old.stream().mapToLong(e -> e.snapshot.epoch()).min().orElse(snapshot.epoch());
        StringBuilder message = new StringBuilder().append(statements).append(" statement(s) routed with epoch ").append(oldest)
                .append(" or later still running");
        if (copies) {
            Entry now = current;
            List<String> sessions = holding.stream().filter(h -> h.holdsOlderThan(now)).map(CopyHold::toString).sorted().toList();
            message.append(" and ").append(sessions.size()).append(" client transaction(s) holding uncommitted dual-write copies")
                    .append(" made before a cleanup began (").append(sessions.isEmpty() ? "none" : "sessions "
                            + String.join(", ", sessions.subList(0, Math.min(5, sessions.size())))
                            + (sessions.size() > 5 ? ", …" : "")).append(")");
        }
        return new TimeoutException(message.append(" after ").append(timeout.toMillis()).append(" ms; epoch ")
                .append(snapshot.epoch()).append(" is not acknowledged").toString());
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

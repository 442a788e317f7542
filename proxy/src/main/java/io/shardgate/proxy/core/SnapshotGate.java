package io.shardgate.proxy.core;

import io.shardgate.router.RoutingSnapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * The snapshot statements route with, the count of statements still running with each one, and the client
 * transactions still holding dual-write copies made, or rows written, with each one.
 *
 * <p>A statement {@linkplain #enter() enters} before it routes and leaves when it no longer touches
 * rows (a read leaves right after routing, a write when it has run, copies included). Before the proxy
 * acknowledges a new epoch, {@link #advance} swaps the new snapshot in and waits until every statement
 * routed with an older one has left. That is what makes an acknowledgement mean "no write of mine still
 * runs under the old slot map": without it a dual write routed just before DUAL_WRITE could miss its
 * copy after the backfill passed its row, or a write routed before the cutover pause could land on the
 * source after the target took over.
 *
 * <p>A statement leaves when it ends, but what it wrote inside a client transaction stays uncommitted until the
 * transaction ends, and the migrator's chunked reads and deletes cannot see a row such a transaction inserted. A
 * session's {@link TransactionHold} therefore keeps, until its transaction ends, what two kinds of epoch wait for:
 * <ul>
 *   <li>the snapshots its dual writes routed with: an epoch that starts a cleanup (see {@link CleanupStart}; CLEANUP
 *       deletes the moved rows from the source, ABORT_CLEANUP the copies from the target) is acknowledged only when no
 *       older snapshot is held that way, else a copy inserting a key new to the cleaned shard would survive the delete
 *       once committed and be counted twice;</li>
 *   <li>the shards it wrote rows on and the epoch of its first write on each: an epoch that starts moving slots (see
 *       {@link MoveStart}) is acknowledged only when no transaction that wrote on a source of the new moves with an
 *       older snapshot is open, else the backfill and the verify would pass a row such a transaction inserted without a
 *       copy (nothing was moving when it ran), and the row, committed later, would never reach the target.</li>
 * </ul>
 * Only those epochs wait: a transaction that copied and then has a write held by a cutover pause waits for the release
 * epoch, so the pause or the release waiting for it would deadlock; in a cleanup phase nothing is held, and neither in
 * the dual-write phases a move starts with. An epoch that could not drain in time stays owed: later epochs wait the same
 * way until one drains, since acknowledging a later epoch acknowledges it as well.
 *
 * <p>Entering is lock-free: increment the current entry's count, then check it is still current (else
 * leave and retry). {@link #advance} publishes the new entry and then reads the old counts, so one of
 * the two always sees the other (both are volatile accesses, which are sequentially consistent). A copy or a write is
 * held while its statement's ticket is open and recorded before the ticket leaves, so reading an entry's statements
 * before its transactions never misses one. A statement that writes nothing, or writes outside a client transaction
 * (its ticket covers its commit), records nothing.
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
     * One session's hold, for its open client transaction, on the snapshots its dual writes routed with and on the shards
     * it wrote rows on: each is recorded once, from {@link #copied} or {@link #wrote} (while the statement's ticket is
     * open) until {@link #release()} at the transaction's end (commit, rollback, a broken connection, the session's end).
     * Thread-safe: a waiting or timed-out {@link #advance} reads it.
     */
    final class TransactionHold {
        private final String owner;
        private final List<Entry> copies = new ArrayList<>(2);
        /** Shard → the epoch of the transaction's first write on it (a session's snapshots only grow newer). */
        private final Map<String, Long> firstWrites = new HashMap<>(4);

        private TransactionHold(String owner) {
            this.owner = owner;
        }

        /** Holds {@code ticket}'s snapshot, which a dual write routed with, until {@link #release()}; the ticket must be open. */
        synchronized void copied(Ticket ticket) {
            requireOpen(ticket);
            if (copies.contains(ticket.entry)) {
                return;
            }
            ticket.entry.transactions.incrementAndGet();
            copies.add(ticket.entry);
            holding.add(this);
        }

        /**
         * Records that a write routed with {@code ticket}'s snapshot ran (or may have run) on {@code shards}, until
         * {@link #release()}; the ticket must be open.
         */
        synchronized void wrote(Ticket ticket, List<String> shards) {
            requireOpen(ticket);
            if (shards.isEmpty()) {
                return;
            }
            if (firstWrites.isEmpty()) {
                holding.add(this);
            }
            for (String shard : shards) {
                firstWrites.putIfAbsent(shard, ticket.entry.snapshot.epoch());
            }
        }

        private static void requireOpen(Ticket ticket) {
            if (!ticket.open) {
                throw new IllegalStateException("a transaction's writes must be recorded while their statement holds the snapshot");
            }
        }

        /**
         * The transaction ended: its writes and copies are committed or gone. Idempotent. Signals outside this hold's
         * monitor: a waiting {@link #advance} holds the gate's lock while it reads the holds.
         */
        void release() {
            boolean signal = false;
            synchronized (this) {
                if (copies.isEmpty() && firstWrites.isEmpty()) {
                    return;
                }
                holding.remove(this);
                signal = !firstWrites.isEmpty() && writersAwaited;
                for (Entry e : copies) {
                    signal |= e.transactions.decrementAndGet() == 0 && e != current;
                }
                copies.clear();
                firstWrites.clear();
            }
            if (signal) {
                signal();
            }
        }

        /** Whether this transaction holds copies made with a snapshot older than the current one. */
        synchronized boolean holdsCopiesOlderThan(Entry now) {
            return copies.stream().anyMatch(e -> e != now);
        }

        /** Whether this transaction wrote on a source of {@code moves} with a snapshot older than the one that started them. */
        synchronized boolean wroteBefore(MovesOwed moves) {
            for (var w : firstWrites.entrySet()) {
                if (w.getValue() < moves.epoch() && moves.sources().contains(w.getKey())) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public String toString() {
            return owner;
        }
    }

    /** Moves started by {@code epoch} (or earlier) from {@code sources} whose epoch has not drained yet. */
    private record MovesOwed(long epoch, Set<String> sources) {
        MovesOwed and(long later, Set<String> more) {
            Set<String> all = new java.util.TreeSet<>(sources);
            all.addAll(more);
            return new MovesOwed(Math.max(epoch, later), Set.copyOf(all));
        }
    }

    private volatile Entry current;
    /** Older entries that still have statements, or transactions holding their copies. */
    private final ConcurrentLinkedQueue<Entry> draining = new ConcurrentLinkedQueue<>();
    /** The holds that hold something: the transactions a move start waits for, and the sessions a timeout names. */
    private final Set<TransactionHold> holding = ConcurrentHashMap.newKeySet();
    /** The epoch of a snapshot that started a cleanup and has not drained yet (with the copies); -1 when none. Guarded by this. */
    private long cleanupOwed = -1;
    /** The moves started by snapshots that have not drained yet (with the writes before them); null when none. Guarded by this. */
    private MovesOwed movesOwed;
    /** Whether an {@link #advance} waits for transactions that wrote before a move: only then does their end signal. */
    private volatile boolean writersAwaited;
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
    TransactionHold transactionHold(String owner) {
        return new TransactionHold(Objects.requireNonNull(owner, "owner"));
    }

    /** The current snapshot, without holding it. */
    Optional<RoutingSnapshot> current() {
        Entry e = current;
        return e == null ? Optional.empty() : Optional.of(e.snapshot);
    }

    /**
     * Makes {@code snapshot} current and waits until no statement holds an older one, nor, when it starts a cleanup (or
     * an earlier one has not drained), any client transaction holds copies made with an older one, nor, when it starts
     * moving slots (or an earlier start has not drained), any client transaction that wrote on a source of the moves
     * with an older snapshot is open. Throws {@link TimeoutException} naming how many still do (and which sessions) when
     * {@code timeout} passes; the caller must then not acknowledge the epoch. Called again with the current snapshot (a
     * retried acknowledgement), it waits the same way.
     */
    void advance(RoutingSnapshot snapshot, Duration timeout) throws TimeoutException, InterruptedException {
        Objects.requireNonNull(snapshot, "snapshot");
        boolean copies;
        MovesOwed moves;
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
                    Set<String> sources = MoveStart.sources(previous.snapshot.slotMap(), snapshot.slotMap());
                    if (!sources.isEmpty()) {
                        movesOwed = movesOwed == null ? new MovesOwed(snapshot.epoch(), Set.copyOf(sources))
                                : movesOwed.and(snapshot.epoch(), sources);
                    }
                }
            }
            copies = cleanupOwed >= 0;
            moves = movesOwed;
        }
        signal(); // wakes statements waiting for a newer snapshot
        awaitDrained(snapshot, copies, moves, timeout);
        synchronized (this) {
            if (copies && cleanupOwed <= snapshot.epoch()) {
                cleanupOwed = -1;
            }
            if (moves != null && movesOwed != null && movesOwed.epoch() <= snapshot.epoch()) {
                movesOwed = null;
            }
        }
    }

    private void awaitDrained(RoutingSnapshot snapshot, boolean copies, MovesOwed moves, Duration timeout)
            throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            if (moves != null) {
                writersAwaited = true;
            }
            while (true) {
                draining.removeIf(Entry::drained);
                // statements first: a transaction records its copies and writes before its statement leaves
                boolean statements = draining.stream().allMatch(e -> e.active.get() == 0);
                if (statements && (!copies || draining.isEmpty()) && (moves == null || writersBefore(moves).isEmpty())) {
                    return;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw timeout(snapshot, copies, moves, timeout);
                }
                changed.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
            }
        } finally {
            writersAwaited = false;
            lock.unlock();
        }
    }

    /** The open transactions that wrote on a source of {@code moves} before they started. */
    private List<TransactionHold> writersBefore(MovesOwed moves) {
        return holding.stream().filter(h -> h.wroteBefore(moves)).toList();
    }

    private TimeoutException timeout(RoutingSnapshot snapshot, boolean copies, MovesOwed moves, Duration timeout) {
        List<Entry> old = List.copyOf(draining);
        int statements = old.stream().mapToInt(e -> e.active.get()).sum();
        long oldest = old.stream().mapToLong(e -> e.snapshot.epoch()).min().orElse(snapshot.epoch());
        StringBuilder message = new StringBuilder().append(statements).append(" statement(s) routed with epoch ").append(oldest)
                .append(" or later still running");
        if (copies) {
            Entry now = current;
            List<TransactionHold> holders = holding.stream().filter(h -> h.holdsCopiesOlderThan(now)).toList();
            message.append(" and ").append(holders.size()).append(" client transaction(s) holding uncommitted dual-write copies")
                    .append(" made before a cleanup began (").append(sessions(holders)).append(")");
        }
        List<TransactionHold> writers = moves == null ? List.of() : writersBefore(moves);
        if (!writers.isEmpty()) {
            message.append(" and ").append(writers.size()).append(" client transaction(s) open that wrote rows on ")
                    .append(String.join(", ", new java.util.TreeSet<>(moves.sources()))).append(" with a slot map older than epoch ")
                    .append(moves.epoch()).append(", where slots start moving (no dual-write copies; ").append(sessions(writers))
                    .append(")");
        }
        return new TimeoutException(message.append(" after ").append(timeout.toMillis()).append(" ms; epoch ")
                .append(snapshot.epoch()).append(" is not acknowledged").toString());
    }

    private static String sessions(List<TransactionHold> holds) {
        List<String> names = holds.stream().map(TransactionHold::toString).sorted().toList();
        return names.isEmpty() ? "none" : "sessions " + String.join(", ", names.subList(0, Math.min(5, names.size())))
                + (names.size() > 5 ? ", …" : "");
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

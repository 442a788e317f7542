package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.error.SqlError;
import io.shardgate.proxy.exec.ShardWork;
import io.shardgate.proxy.exec.StatementDeadline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The statement one session runs now, so that it ends (DESIGN.md "Every statement ends", issue 15 item 5): a deadline
 * ({@code limits.statement-timeout-ms}), and a cancel from another thread ({@code KILL QUERY}, a PostgreSQL
 * CancelRequest, the client going away). Every backend connection lent to the session is tracked here
 * ({@link ShardWork.Tracker}); a cancel interrupts each on a thread of its own ({@code KILL QUERY} on a side connection,
 * CancelRequest), and for a deadline or a departed client, cuts those whose shard has not taken the interrupt within
 * {@link #GRACE} (a stopped or hung shard), so the session's thread gets its answer promptly either way.
 *
 * <p>The answer: a statement that completed anyway (the interrupt came too late) keeps its result, as on a server; one
 * that failed after a deadline cancel gets the server's own timeout error (MariaDB's 1969 of max_statement_time,
 * PostgreSQL's 57014 of statement_timeout) naming the shards and the time; after a {@code KILL QUERY} the shard's own
 * error passes (1317, 57014 "due to user request"), as a server sends it.
 *
 * <p>An interrupt still in flight when its connection is given back would hit whatever runs there next, another
 * session's statement: an interrupt and the close of its connection's tracking exclude each other (see {@link Entry}).
 * Giving a connection back waits for its interrupt to finish ({@link ShardWork.Tracked#close}), a connection whose
 * interrupt does not finish is discarded, not reused, and no interrupt is sent to a connection given back.
 */
final class RunningStatement implements ShardWork.Tracker {
    private static final Logger LOG = LoggerFactory.getLogger(RunningStatement.class);
    /** How long a shard has to take an interrupt before its connection is cut (deadline and departed clients only). */
    static final Duration GRACE = Duration.ofMillis(1000);
    /** Longest wait, when a connection is given back or a statement ends, for its interrupt to finish. */
    static final Duration SETTLE = Duration.ofMillis(3000);

    /** Why a statement was cancelled. */
    enum Reason {
        /** It ran past the statement deadline. */
        DEADLINE,
        /** A client asked: {@code KILL QUERY}, a PostgreSQL CancelRequest. */
        REQUEST,
        /** The client's connection closed. */
        CLIENT_GONE;

        boolean cuts() {
            return this != REQUEST;
        }
    }

    /**
     * One connection's work while tracked. Its interrupt and its close exclude each other through one state, changed by
     * compare-and-set only: open ({@code null}), interrupted (the interrupt's future, claimed under the statement's lock
     * when a cancel begins), cut ({@link #ABORTED}) or closed ({@link #CLOSED}). An interrupt claims only an open entry,
     * so none is sent once the connection was given back; a close that finds an interrupt claimed waits for it to finish
     * (a {@code KILL QUERY} answered, a CancelRequest's connection closed by the server: the server has taken it, and a
     * server that runs nothing on the connection ignores it) before the connection may be reused.
     */
    private static final class Entry implements ShardWork.Tracked {
        private static final Object CLOSED = new Object();
        private static final Object ABORTED = new Object();
        private static final java.lang.invoke.VarHandle STATE;

        static {
            try {
                STATE = java.lang.invoke.MethodHandles.lookup().findVarHandle(Entry.class, "state", Object.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final ShardWork work;
        final Set<Entry> owner;
        private volatile Object state;

        Entry(ShardWork work, Set<Entry> owner) {
            this.work = work;
            this.owner = owner;
        }

        @Override
        public boolean close() {
            owner.remove(this);
            while (true) {
                Object s = state;
                if (s == null) {
                    if (STATE.compareAndSet(this, null, CLOSED)) {
                        return true; // never interrupted, and no interrupt can be claimed any more
                    }
                } else if (s instanceof CompletableFuture<?> f) {
                    boolean settled = settle(f);
                    if (STATE.compareAndSet(this, f, CLOSED)) {
                        return settled;
                    }
                    // cut meanwhile (then false below), or settled for the next statement (then closed as never interrupted)
                } else {
                    return s == CLOSED;
                }
            }
        }

        @Override
        public boolean interrupted() {
            Object s = state;
            return s instanceof CompletableFuture<?> || s == ABORTED;
        }

        @Override
        public boolean closeIfUntouched() {
            if (STATE.compareAndSet(this, null, CLOSED)) {
                owner.remove(this);
                return true;
            }
            return false;
        }

        /** Claims the entry for an interrupt: false when it was interrupted already, cut or closed. */
        boolean claim(CompletableFuture<Boolean> interrupt) {
            return STATE.compareAndSet(this, null, interrupt);
        }

        /** The claimed interrupt's future, or null. */
        CompletableFuture<?> interrupt() {
            return state instanceof CompletableFuture<?> f ? f : null;
        }

        /** Marks a claimed entry cut: false when it was closed meanwhile (its connection may be lent again: not to cut). */
        boolean markAborted(CompletableFuture<?> interrupt) {
            return STATE.compareAndSet(this, interrupt, ABORTED);
        }

        /**
         * Whether no interrupt is in flight any more (waiting up to {@link #SETTLE}); false after an abort. A settled entry
         * is open again, for the connection's next statement (a transaction's connection, kept by the session).
         */
        boolean settleForNext() {
            Object s = state;
            if (!(s instanceof CompletableFuture<?> f)) {
                return s != ABORTED;
            }
            if (!settle(f)) {
                return false;
            }
            STATE.compareAndSet(this, f, null);
            return true;
        }

        private static boolean settle(CompletableFuture<?> f) {
            try {
                f.get(SETTLE.toMillis(), TimeUnit.MILLISECONDS);
                return true;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                return false;
            }
        }
    }

    private record Cancel(Reason reason, long atNanos) {}

    private final ScheduledExecutorService timer;
    private final Duration timeout;
    private final boolean postgres;
    private final Set<Entry> work = ConcurrentHashMap.newKeySet();
    /** The shards whose connections were interrupted for the running statement. */
    private final Set<String> interrupted = ConcurrentHashMap.newKeySet();
    private volatile boolean running;
    private volatile Cancel cancel;
    private volatile long startNanos;
    private int depth;
    private ScheduledFuture<?> deadline;
    private ScheduledFuture<?> cut;
    /** The session's thread while it runs the statement, interrupted as a last resort (see {@link #cutUnanswered}). */
    private volatile Thread owner;
    /** Set by {@link #carryToFallback}: the next statement begun is the same client statement, begun then. */
    private boolean carried;
    private long carriedStart;
    private volatile boolean ownerInterrupted;

    RunningStatement(ScheduledExecutorService timer, Duration timeout, boolean postgres) {
        this.timer = timer;
        this.timeout = timeout;
        this.postgres = postgres;
    }

    /**
     * Runs one client statement under the deadline, on the session's thread; a statement run within another (a session
     * method calling another) is part of it.
     */
    <T> T run(Supplier<T> statement) {
        if (depth > 0) {
            return statement.get();
        }
        begin();
        depth++;
        T result;
        boolean streaming = false;
        try {
            // the waits before the statement has a connection to cancel (a pool's, a login's) end at its deadline too
            result = ScopedValue.where(StatementDeadline.LEFT, this::leftNanos).call(statement::get);
            if (result instanceof io.shardgate.proxy.session.StatementResult.Stream stream) {
                // its rows are still to come from the shards: the statement runs (under its deadline, cancellable) until
                // the front end has closed the stream
                streaming = true;
                @SuppressWarnings("unchecked")
                T streamed = (T) new io.shardgate.proxy.session.StatementResult.Stream(stream.columns(), new Streamed(stream.rows()));
                return streamed;
            }
        } catch (ProxyException e) {
            throw answer(e);
        } catch (RuntimeException e) {
            throw mapped(e);
        } finally {
            depth--;
            if (!streaming) {
                end();
            }
        }
        return result;
    }

    /**
     * Nanoseconds the running statement has left before its deadline ({@link StatementDeadline}): none once a deadline
     * or a departed client cancelled it (a client's cancel request lets it wait on, to be interrupted on its shard as
     * before); {@link Long#MAX_VALUE} without a deadline.
     */
    private long leftNanos() {
        Cancel c = cancel;
        if (c != null && c.reason().cuts()) {
            return 0;
        }
        if (timeout.isZero() || !running) {
            return Long.MAX_VALUE;
        }
        return startNanos + timeout.toNanos() - System.nanoTime();
    }

    private RuntimeException mapped(RuntimeException e) {
        Cancel c = cancel;
        if (c != null && c.reason() == Reason.DEADLINE) {
            return timeoutError(c, e.toString());
        }
        return e;
    }

    /**
     * The rows of a streamed result: an error while they are read is answered as one of the statement (a deadline's
     * interruption becomes the timeout error), and the statement ends when the stream is closed.
     */
    private final class Streamed implements io.shardgate.proxy.session.RowStream {
        private final io.shardgate.proxy.session.RowStream rows;
        private boolean ended;

        Streamed(io.shardgate.proxy.session.RowStream rows) {
            this.rows = rows;
        }

        @Override
        public byte[][] next() {
            try {
                return rows.next();
            } catch (ProxyException e) {
                throw answer(e);
            } catch (RuntimeException e) {
                throw mapped(e);
            }
        }

        @Override
        public int warnings() {
            return rows.warnings();
        }

        @Override
        public int queryStatus() {
            return rows.queryStatus();
        }

        @Override
        public void close() {
            try {
                rows.close();
            } finally {
                if (!ended) {
                    ended = true;
                    end();
                }
            }
        }
    }

    /** What the client gets for a detached statement that failed with {@code e} (as {@link #run} maps it). */
    RuntimeException answerDetached(RuntimeException e) {
        return e instanceof ProxyException p ? answer(p) : mapped(e);
    }

    private void begin() {
        begin(Thread.currentThread());
    }

    private synchronized void begin(Thread thread) {
        cancel = null;
        interrupted.clear();
        startNanos = carried ? carriedStart : System.nanoTime();
        carried = false;
        owner = thread;
        ownerInterrupted = false;
        running = true;
        if (!timeout.isZero() && deadline == null) {
            armDeadline(timeout.toNanos());
        }
    }

    /**
     * The deadline check is armed lazily and stays armed across statements: scheduling and cancelling a timer task per
     * statement woke the timer thread each time (a context switch per statement on the relayed hot path). When the
     * check fires it cancels the statement running then if that one has reached its deadline, and otherwise re-arms for
     * the running statement's deadline, or disarms while none runs (the next {@link #begin} arms it again).
     */
    private void armDeadline(long delayNanos) {
        if (timer.isShutdown()) {
            deadline = null;
            return;
        }
        try {
            deadline = timer.schedule(this::checkDeadline, delayNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            deadline = null; // the core is closing: sessions end without deadlines
        }
    }

    /**
     * The statement just run was a native relay that gave up with nothing sent to the client (returned false), and the
     * session's usual path runs the same client statement next: that one keeps this one's start, so that its deadline
     * counts the time the relay spent (a relay to a hung shard may give up only at the deadline).
     */
    synchronized void carryToFallback() {
        carried = true;
        carriedStart = startNanos;
    }

    /** The session is gone: its deadline check, armed across statements, is dropped (no statement runs any more). */
    synchronized void close() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private void checkDeadline() {
        boolean due;
        synchronized (this) {
            deadline = null;
            if (!running) {
                return;
            }
            long left = startNanos + timeout.toNanos() - System.nanoTime();
            due = left <= 0;
            if (!due) {
                armDeadline(left);
                return;
            }
        }
        cancel(Reason.DEADLINE);
    }

    /**
     * Begins a statement that runs without a session thread waiting for it (a query relayed from the client's event
     * loop, see {@link PgNativeRelay#tryRelayOnLoop}): as {@link #run} begins one, except that no thread is interrupted
     * as a last resort (it would be an event loop). False, and nothing begun, when a statement runs already.
     */
    synchronized boolean beginDetached() {
        if (depth > 0 || running) {
            return false;
        }
        begin();
        owner = null;
        return true;
    }

    /**
     * Ends a statement {@link #beginDetached} began, without waiting: true when it is over; false when it was cancelled,
     * and {@link #settleCancelled} must then run, on a thread that may wait, before its connections are given back.
     */
    boolean endDetached() {
        stop();
        return cancel == null;
    }

    private void end() {
        stop();
        if (cancel != null) {
            settleCancelled();
        }
    }

    private void stop() {
        synchronized (this) {
            running = false;
            owner = null;
            if (ownerInterrupted) {
                Thread.interrupted(); // the last resort's interrupt must not reach the session's next statement
            }
            if (cut != null) {
                cut.cancel(false);
                cut = null;
            }
        }
    }

    /** After a cancel: waits for the interrupts still in flight, cutting the connections that do not settle. */
    void settleCancelled() {
        // connections kept by the session (a transaction's) must not meet a late interrupt in the next statement
        for (Entry e : work) {
            CompletableFuture<?> f = e.interrupt();
            if (!e.settleForNext() && f != null) {
                abort(e, f);
            }
        }
    }

    /** What the client gets for a statement that failed with {@code e}. */
    ProxyException answer(ProxyException e) {
        if (cancel == null && !timeout.isZero() && running && System.nanoTime() - startNanos >= timeout.toNanos()) {
            cancel(Reason.DEADLINE); // it failed past its deadline (a wait that ended there) before the deadline check ran
        }
        Cancel c = cancel;
        if (c == null || c.reason() != Reason.DEADLINE) {
            return e;
        }
        SqlError error = e.error();
        boolean plainInterrupt = error.mysqlErrno() == 1317 || "57014".equals(error.sqlState());
        return timeoutError(c, plainInterrupt ? null : e.getMessage());
    }

    private ProxyException timeoutError(Cancel c, String cause) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        String server = postgres ? "canceling statement due to statement timeout"
                : "Query execution was interrupted (max_statement_time exceeded)";
        List<String> shards = new ArrayList<>(new java.util.TreeSet<>(interrupted));
        String message = server + ": the statement ran past limits.statement-timeout-ms (" + timeout.toMillis() + " ms) and was"
                + " cancelled after " + TimeUnit.NANOSECONDS.toMillis(c.atNanos() - startNanos) + " ms"
                + (shards.isEmpty() ? "" : " on " + String.join(", ", shards)) + "; it ended after " + ms + " ms"
                + (cause == null ? "" : "; " + cause);
        return new ProxyException(ErrorCode.STATEMENT_TIMEOUT, message);
    }

    /**
     * Cancels the running statement on its shards; nothing when none runs. From any thread; returns at once (the
     * interrupts run on threads of their own).
     */
    void cancel(Reason reason) {
        List<Claimed> targets = new ArrayList<>();
        synchronized (this) {
            if (!running || cancel != null) {
                return;
            }
            cancel = new Cancel(reason, System.nanoTime());
            // claimed here, not when sent: once the statement's end (settleCancelled, after stop() took this lock) or an
            // entry's close looks, each interrupt of this cancel is either known to them, or not to be sent at all
            for (Entry e : work) {
                Claimed c = claim(e);
                if (c != null) {
                    targets.add(c);
                }
            }
            if (reason.cuts() && !timer.isShutdown()) {
                try {
                    cut = timer.schedule(this::cutUnanswered, GRACE.toNanos(), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    cut = null;
                }
            }
        }
        LOG.debug("cancelling a statement ({}) on {} connections", reason, targets.size());
        targets.forEach(RunningStatement::send);
    }

    @Override
    public ShardWork.Tracked track(ShardWork shardWork) {
        Entry e = new Entry(shardWork, work);
        work.add(e);
        Cancel c = cancel;
        if (c != null && running) {
            Claimed claimed = claim(e); // work begun after the cancel is part of the cancelled statement
            if (claimed != null) {
                send(claimed);
            }
        }
        return e;
    }

    /** The error a relayed reply ends with instead of the shard's, once a deadline cancelled it; else null. */
    @Override
    public SqlError overridingError() {
        Cancel c = cancel;
        return c == null || c.reason() != Reason.DEADLINE ? null : timeoutError(c, null).error();
    }

    /** An interrupt claimed for an entry, to be sent. */
    private record Claimed(Entry entry, CompletableFuture<Boolean> done) {}

    private Claimed claim(Entry e) {
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        if (!e.claim(f)) {
            return null; // interrupted already, or given back: its connection may run another session's statement now
        }
        interrupted.add(e.work.shard());
        return new Claimed(e, f);
    }

    private static void send(Claimed c) {
        Entry e = c.entry();
        Thread.ofVirtual().name("shardgate-cancel").start(() -> {
            try {
                e.work.interrupt();
                c.done().complete(true);
            } catch (Exception | Error x) {
                LOG.warn("cancelling a statement on {} failed: {}", e.work.shard(), x.toString());
                c.done().completeExceptionally(x);
            }
        });
    }

    /**
     * After the grace: cuts each connection whose shard did not take its interrupt. A statement that still runs with no
     * such connection is waiting for one (a pool's wait, a new connection's login, a ping of an idle one, to a shard that
     * does not answer): its thread is interrupted, which ends those waits, now, or after another grace if connections
     * were cut and that does not end it.
     */
    private void cutUnanswered() {
        boolean cutAny = false;
        for (Entry e : work) {
            CompletableFuture<?> f = e.interrupt();
            if (f != null && !(f.isDone() && !f.isCompletedExceptionally()) && running && abort(e, f)) {
                LOG.info("{} did not take the cancel of a statement within {} ms; cut its connection", e.work.shard(),
                        GRACE.toMillis());
                cutAny = true;
            }
        }
        if (!cutAny) {
            interruptOwner();
            return;
        }
        synchronized (this) {
            if (running && !timer.isShutdown()) {
                try {
                    cut = timer.schedule(this::interruptOwner, GRACE.toNanos(), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.RejectedExecutionException ignored) {
                    // the core is closing
                }
            }
        }
    }

    private synchronized void interruptOwner() {
        Thread t = owner;
        if (running && t != null && cancel != null && cancel.reason().cuts()) {
            LOG.info("a cancelled statement still runs {} ms after its cancel; interrupting its session's thread",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancel.atNanos()));
            ownerInterrupted = true;
            t.interrupt();
        }
    }

    /** Cuts the connection of {@code e}, interrupted by {@code interrupt}, unless it was given back meanwhile. */
    private static boolean abort(Entry e, CompletableFuture<?> interrupt) {
        if (!e.markAborted(interrupt)) {
            return false;
        }
        try {
            e.work.abort();
        } catch (RuntimeException x) {
            LOG.warn("cutting a connection to {} failed", e.work.shard(), x);
        }
        return true;
    }
}

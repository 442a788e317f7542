package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.ShardWork;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The statement deadline and cancels against a hand-written fake of a backend connection's work. */
class RunningStatementTest {
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);

    {
        timer.setRemoveOnCancelPolicy(true); // as the core's deadline timer
    }

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    /**
     * A connection running one statement until it is interrupted (then it fails as MariaDB's 1317) or cut; a shard that
     * {@code answers} nothing never takes the interrupt.
     */
    private static final class FakeWork implements ShardWork {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final CountDownLatch ended = new CountDownLatch(1);
        final boolean answers;
        volatile String endedBy;

        FakeWork(boolean answers) {
            this.answers = answers;
        }

        @Override
        public String shard() {
            return "shard s0 (127.0.0.1:1)";
        }

        @Override
        public void interrupt() throws InterruptedException {
            calls.add("interrupt");
            if (!answers) {
                Thread.sleep(60_000); // a stopped shard: the side connection hangs
            }
            endedBy = "interrupt";
            ended.countDown();
        }

        @Override
        public void abort() {
            calls.add("abort");
            endedBy = "abort";
            ended.countDown();
        }

        /** What the statement's thread sees: the shard's error, or a broken connection. */
        Object run() {
            try {
                assertThat(ended.await(30, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, "interrupted while waiting for a connection");
            }
            throw endedBy.equals("interrupt") ? ProxyException.backend(1317, "70100", "Query execution was interrupted", null)
                    : new ProxyException(ErrorCode.SHARD_UNAVAILABLE, "shard s0 (127.0.0.1:1) unavailable: connection closed");
        }
    }

    @Test
    void aStatementPastItsDeadlineIsInterruptedAndGetsMariaDbsTimeoutError() {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(200), false);
        FakeWork work = new FakeWork(true);
        long start = System.nanoTime();
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            ShardWork.Tracked t = running.track(work);
            try {
                return work.run();
            } finally {
                assertThat(t.close()).isTrue();
            }
        }));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(190L, 1000L);
        assertThat(work.calls).containsExactly("interrupt");
        assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_TIMEOUT);
        assertThat(e.error().mysqlErrno()).isEqualTo(1969);
        assertThat(e.error().sqlState()).isEqualTo("70100");
        assertThat(e.getMessage()).startsWith("Query execution was interrupted (max_statement_time exceeded): ")
                .contains("limits.statement-timeout-ms (200 ms)").contains("on shard s0 (127.0.0.1:1)")
                .doesNotContain("1317");
    }

    @Test
    void aStreamedResultStaysUnderTheDeadlineUntilClosedAndItsInterruptionIsTheTimeoutError() {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(200), false);
        FakeWork work = new FakeWork(true);
        ShardWork.Tracked[] tracked = new ShardWork.Tracked[1];
        // the statement returns its stream at once; its rows come from the shard while the front end pulls them
        io.shardgate.proxy.session.StatementResult result = running.run(() -> {
            tracked[0] = running.track(work);
            return new io.shardgate.proxy.session.StatementResult.Stream(List.of(), new io.shardgate.proxy.session.RowStream() {
                @Override
                public byte[][] next() {
                    return (byte[][]) work.run();
                }

                @Override
                public int warnings() {
                    return 0;
                }

                @Override
                public void close() {
                    tracked[0].close();
                }
            });
        });
        var rows = ((io.shardgate.proxy.session.StatementResult.Stream) result).rows();
        ProxyException e = catchThrowableOfType(ProxyException.class, rows::next);
        assertThat(work.calls).as("the deadline still ran while the rows were read").containsExactly("interrupt");
        assertThat(e.error().mysqlErrno()).isEqualTo(1969);
        rows.close();
        running.cancel(RunningStatement.Reason.DEADLINE);
        assertThat(work.calls).as("closed: the statement is over, nothing more to cancel").containsExactly("interrupt");
    }

    @Test
    void onPostgresqlTheTimeoutIsWordedAsStatementTimeout() {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(100), true);
        FakeWork work = new FakeWork(true);
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            running.track(work);
            return work.run();
        }));
        assertThat(e.getMessage()).startsWith("canceling statement due to statement timeout: ");
        assertThat(e.code().pgSqlState()).isEqualTo("57014");
    }

    @Test
    void aShardThatDoesNotTakeTheInterruptHasItsConnectionCutAfterTheGrace() {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(100), false);
        FakeWork stopped = new FakeWork(false);
        long start = System.nanoTime();
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            ShardWork.Tracked t = running.track(stopped);
            try {
                return stopped.run();
            } finally {
                assertThat(t.close()).as("a cut connection is never reused").isFalse();
            }
        }));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(ms).isBetween(100 + RunningStatement.GRACE.toMillis() - 10, 100 + RunningStatement.GRACE.toMillis() + 1000);
        assertThat(stopped.calls).containsExactly("interrupt", "abort");
        assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_TIMEOUT);
        assertThat(e.getMessage()).contains("connection closed");
    }

    @Test
    void aStatementWaitingForAConnectionHasItsThreadInterruptedAfterTheGraceAndTheFlagIsCleared() {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(100), false);
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            try {
                Thread.sleep(30_000); // a pool's wait, a login to a stopped shard
                return null;
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
                throw new ProxyException(ErrorCode.SHARD_UNAVAILABLE, "interrupted while waiting for a connection");
            }
        }));
        assertThat(e.code()).isEqualTo(ErrorCode.STATEMENT_TIMEOUT);
        assertThat(Thread.currentThread().isInterrupted()).as("the session's next statement runs uninterrupted").isFalse();
    }

    @Test
    void aKillQueryPassesTheShardsOwnErrorAndDoesNotCut() throws Exception {
        RunningStatement running = new RunningStatement(timer, Duration.ZERO, false);
        FakeWork work = new FakeWork(true);
        CountDownLatch tracked = new CountDownLatch(1);
        Thread killer = Thread.ofVirtual().start(() -> {
            try {
                tracked.await();
            } catch (InterruptedException ignored) {
                return;
            }
            running.cancel(RunningStatement.Reason.REQUEST);
        });
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            running.track(work);
            tracked.countDown();
            return work.run();
        }));
        killer.join();
        assertThat(e.code()).isNull();
        assertThat(e.error().mysqlErrno()).isEqualTo(1317);
        assertThat(e.getMessage()).isEqualTo("Query execution was interrupted");
        assertThat(work.calls).containsExactly("interrupt");
    }

    @Test
    void aStatementThatCompletesKeepsItsResultAndNothingIsInterruptedWhenIdle() {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(50), false);
        FakeWork work = new FakeWork(true);
        ShardWork.Tracked pinned = running.track(work); // a transaction's connection, kept between statements
        assertThat(running.run(() -> "done")).isEqualTo("done");
        running.cancel(RunningStatement.Reason.REQUEST); // no statement runs: nothing to cancel
        assertThat(work.calls).isEmpty();
        assertThat(pinned.close()).isTrue();
    }

    @Test
    void workTrackedAfterTheCancelIsInterruptedToo() {
        RunningStatement running = new RunningStatement(timer, Duration.ZERO, false);
        FakeWork later = new FakeWork(true);
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            running.cancel(RunningStatement.Reason.REQUEST);
            running.track(later);
            return later.run();
        }));
        assertThat(e.error().mysqlErrno()).isEqualTo(1317);
        assertThat(later.calls).containsExactly("interrupt");
    }

    @Test
    void theRelayedReplyGetsTheTimeoutErrorOnlyAfterADeadline() throws Exception {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(100), false);
        FakeWork work = new FakeWork(true);
        assertThat(running.overridingError()).isNull();
        catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            running.track(work);
            try {
                return work.run();
            } finally {
                assertThat(running.overridingError().mysqlErrno()).isEqualTo(1969);
            }
        }));
        ProxyException killed = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            running.cancel(RunningStatement.Reason.REQUEST);
            assertThat(running.overridingError()).as("after KILL QUERY the shard's own 1317 goes out").isNull();
            throw ProxyException.backend(1317, "70100", "Query execution was interrupted", null);
        }));
        assertThat(killed.error().mysqlErrno()).isEqualTo(1317);
    }

    @Test
    void theDeadlineCheckStaysArmedAcrossShortStatementsAndCountsFromTheRunningOnesStart() throws Exception {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(300), false);
        for (int i = 0; i < 1000; i++) {
            assertThat(running.run(() -> "ok")).isEqualTo("ok");
        }
        assertThat(timer.getQueue()).as("one armed check for all those statements, not one per statement").hasSize(1);
        Thread.sleep(200); // the check armed by the first statement fires 100 ms into the next one
        FakeWork work = new FakeWork(true);
        long start = System.nanoTime();
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            ShardWork.Tracked t = running.track(work);
            try {
                return work.run();
            } finally {
                t.close();
            }
        }));
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("cancelled at its own deadline")
                .isBetween(290L, 1000L);
        assertThat(e.error().mysqlErrno()).isEqualTo(1969);
        running.close();
        assertThat(timer.getQueue()).as("a closed session leaves no check behind").isEmpty();
    }

    /**
     * A timer whose {@code schedule} first runs {@link #hook}: a cancel for a departed client schedules its cut while it
     * holds the statement's lock, after it has taken the connections to interrupt and before it sends the interrupts.
     */
    private static final class HookedTimer extends ScheduledThreadPoolExecutor {
        volatile Runnable hook = () -> {};

        HookedTimer() {
            super(1);
        }

        @Override
        public java.util.concurrent.ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            hook.run();
            return super.schedule(command, delay, unit);
        }
    }

    /**
     * Runs {@code giveBack} on a thread of its own, as the statement's thread gives its connection back just as the
     * cancel begins, and returns once that thread has ended or waits (for the interrupt, which goes out after the hook).
     */
    private static Thread givenBackMeanwhile(FakeWork work, java.util.function.BooleanSupplier giveBack) {
        Thread t = Thread.ofPlatform().name("statement-end").start(() -> work.calls.add(giveBack.getAsBoolean()
                ? "given back" : "discarded"));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.TERMINATED && t.getState() != Thread.State.TIMED_WAITING
                && t.getState() != Thread.State.WAITING && System.nanoTime() < until) {
            Thread.onSpinWait();
        }
        return t;
    }

    @Test
    void aConnectionGivenBackAsTheCancelBeginsIsNeverInterruptedAfterwards() throws Exception {
        HookedTimer hooked = new HookedTimer();
        try {
            RunningStatement running = new RunningStatement(hooked, Duration.ZERO, false);
            FakeWork work = new FakeWork(true);
            Thread[] end = new Thread[1];
            running.run(() -> {
                ShardWork.Tracked t = running.track(work);
                // the client goes away just after the statement's last packet: its connection is being given back
                hooked.hook = () -> end[0] = givenBackMeanwhile(work, t::close);
                running.cancel(RunningStatement.Reason.CLIENT_GONE);
                try {
                    end[0].join(10_000);
                    work.ended.await(2, TimeUnit.SECONDS); // an interrupt sent late would arrive by now
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                return null;
            });
            assertThat(work.calls).as("a KILL QUERY after the connection went back to the pool hits another session's"
                    + " statement: the close waits for the interrupt, or the interrupt is not sent")
                    .isIn(List.of("interrupt", "given back"), List.of("given back"));
        } finally {
            hooked.shutdownNow();
        }
    }

    @Test
    void onTheEventLoopAConnectionGivenBackAsTheCancelBeginsIsNeverInterruptedAfterwards() throws Exception {
        HookedTimer hooked = new HookedTimer();
        try {
            RunningStatement running = new RunningStatement(hooked, Duration.ZERO, true);
            FakeWork work = new FakeWork(true);
            assertThat(running.beginDetached()).isTrue();
            ShardWork.Tracked t = running.track(work);
            // the loop's end of a relay: given back at once unless interrupted, else on a thread that may wait
            hooked.hook = () -> givenBackMeanwhile(work, () -> {
                if (t.closeIfUntouched()) {
                    return true;
                }
                work.calls.add("waits off the loop");
                return t.close();
            });
            running.cancel(RunningStatement.Reason.CLIENT_GONE);
            work.ended.await(2, TimeUnit.SECONDS);
            assertThat(running.endDetached()).isFalse();
            running.settleCancelled();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (work.calls.stream().noneMatch(c -> c.equals("given back") || c.equals("discarded"))
                    && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            assertThat(work.calls).isIn(List.of("waits off the loop", "interrupt", "given back"), List.of("given back"));
        } finally {
            hooked.shutdownNow();
        }
    }

    @Test
    void aNativeRelayThatGivesUpLeavesTheFallbackOnlyTheTimeLeftAndTheWaitsSeeIt() throws Exception {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(2000), false);
        assertThat(io.shardgate.proxy.exec.StatementDeadline.leftNanos()).as("no statement runs").isEqualTo(Long.MAX_VALUE);
        boolean relayed = running.run(() -> {
            sleep(300); // a relay to a hung shard spends time before it gives up with nothing sent
            return false;
        });
        assertThat(relayed).isFalse();
        running.carryToFallback();
        long left = running.run(io.shardgate.proxy.exec.StatementDeadline::leftNanos);
        assertThat(TimeUnit.NANOSECONDS.toMillis(left)).as("the fallback is the same statement: its deadline counts the relay's time")
                .isBetween(0L, 1700L);
        long next = running.run(io.shardgate.proxy.exec.StatementDeadline::leftNanos);
        assertThat(TimeUnit.NANOSECONDS.toMillis(next)).as("the next statement has its own deadline").isGreaterThan(1900L);
    }

    @Test
    void aWaitForAConnectionEndsWhenTheStatementIsCancelledByItsDeadline() {
        RunningStatement running = new RunningStatement(timer, Duration.ofMillis(200), false);
        io.shardgate.proxy.exec.ShardBudget spent = new io.shardgate.proxy.exec.ShardBudget("s0", 1, () -> 1);
        long start = System.nanoTime();
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> running.run(() -> {
            if (!spent.acquireNative(System.nanoTime() + TimeUnit.SECONDS.toNanos(10))) { // the pool wait: 10 s
                throw spent.busy("shard s0 (127.0.0.1:1)", 0, 10_000, 0);
            }
            return null;
        }));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(ms).as("the budget wait ends at the statement's deadline, not the pool wait").isBetween(150L, 900L); // not at the last resort, an interrupt after 1 s
        assertThat(e.error().mysqlErrno()).isEqualTo(1969);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

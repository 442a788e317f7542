package io.shardgate.proxy.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ShardBudgetTest {
    private final AtomicInteger jdbc = new AtomicInteger();
    private final ShardBudget budget = new ShardBudget("s0", 3, jdbc::get);

    private static long in(long millis) {
        return System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    }

    @Test
    void nativeAndJdbcConnectionsShareOneBudget() {
        jdbc.set(2);
        assertThat(budget.acquireNative(in(0))).isTrue();
        assertThat(budget.acquireNative(in(50))).as("2 JDBC + 1 native = pool-size 3").isFalse();
        jdbc.set(3); // the JDBC pool lends a third
        assertThat(budget.admitsJdbc()).as("3 JDBC + 1 native").isFalse();
        jdbc.set(2); // turned back: it gave its connection back
        budget.releaseNative();
        jdbc.set(3);
        assertThat(budget.admitsJdbc()).isTrue();
    }

    @Test
    void theChangedRowsPoolOfAShardCountsAgainstTheSameBudget() {
        AtomicInteger changedRows = new AtomicInteger();
        budget.countAlso(changedRows::get);
        jdbc.set(1);
        changedRows.set(2);
        assertThat(budget.admitsJdbc()).as("1 found-rows + 2 changed-rows = pool-size 3").isTrue();
        assertThat(budget.acquireNative(in(50))).as("a native borrower finds the budget spent").isFalse();
        changedRows.set(3);
        assertThat(budget.admitsJdbc()).as("1 + 3 over pool-size 3").isFalse();
        changedRows.set(1);
        assertThat(budget.acquireNative(in(0))).isTrue();
    }

    @Test
    void aNativeBorrowerWaitsForAJdbcConnectionToComeBack() throws Exception {
        jdbc.set(3);
        CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> budget.acquireNative(in(5000)));
        Thread.sleep(100);
        assertThat(waiter).isNotDone();
        assertThat(budget.waiting()).isEqualTo(1);
        jdbc.set(2); // no signal: the waiter polls
        assertThat(waiter.get(2, TimeUnit.SECONDS)).isTrue();
        assertThat(budget.nativeInUse()).isEqualTo(1);
        assertThat(budget.waiting()).isZero();
    }

    @Test
    void aJdbcBorrowerTurnedBackWaitsForANativeOneToComeBack() throws Exception {
        jdbc.set(1);
        budget.acquireNative(in(0));
        budget.acquireNative(in(0));
        CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> budget.awaitFree(in(5000)));
        Thread.sleep(100);
        assertThat(waiter).isNotDone();
        budget.releaseNative();
        assertThat(waiter.get(2, TimeUnit.SECONDS)).isTrue();
        assertThat(budget.awaitFree(in(50))).as("2 of 3 in use").isTrue();
    }

    @Test
    void theBusyErrorNamesTheBudgetAndTheWait() {
        assertThat(budget.busy("shard s0 (h:1)", 1001, 1000, 2).getMessage()).contains("shard s0 (h:1): no connection free after 1001 ms",
                "pool wait 1000 ms", "all 3 connections this proxy keeps to it (shards[].pool-size)", "2 more sessions waiting");
        assertThatThrownBy(budget::releaseNative).isInstanceOf(IllegalStateException.class);
    }
}

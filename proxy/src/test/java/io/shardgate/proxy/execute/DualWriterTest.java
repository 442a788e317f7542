package io.shardgate.proxy.execute;

import static io.shardgate.proxy.execute.FakeBackends.statement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.cluster.KeyType;
import io.shardgate.proxy.admin.ProxyMetrics;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.slot.MigrationPhase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Dual writes against a logging fake: the copies in order, inside the right transaction, the rollbacks before
 * autocommit comes back, and retries only where the proxy opened the transaction.
 */
class DualWriterTest {
    private static final String WRITE = "UPDATE t SET n = n + 1 WHERE k IN (1, 2)";

    private final FakeBackends backends = new FakeBackends();
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final PlanExecutor executor = new PlanExecutor(backends, metrics, FakeBackends.sameThread());

    private static ShadowCopy copy(String from, String to, List<Object> keys) {
        return new ShadowCopy(from, to, "m1", MigrationPhase.DUAL_WRITE, "t", "k", new ShadowCopy.KnownKeys(keys));
    }

    private static RoutePlan.DualWrite plan(ShadowCopy... copies) {
        return new RoutePlan.DualWrite(1, statement("s0", WRITE), List.of(copies));
    }

    private double retries(String cause) {
        var counter = metrics.registry().find("shardgate.dual_write.retries").tag("cause", cause).counter();
        return counter == null ? 0 : counter.count();
    }

    // ---- the proxy's own transaction

    @Test
    void anAutocommitDualWriteCopiesInOrderAndCommitsTheShadowsBeforeTheSource() {
        backends.answer("s0", WRITE, new StatementResult.Update(2, 0, 0, ""));
        StatementResult result = executor.dualWrite(plan(copy("s0", "s1", List.of(1L)), copy("s0", "s2", List.of(2L))), List.of());
        assertThat(result).isEqualTo(new StatementResult.Update(2, 0, 0, ""));
        assertThat(backends.log).containsExactly(
                "s0 borrow", "s0 begin", "s0 run " + WRITE,
                "s1 borrow", "s1 begin", "s0 readImage t k [1]", "s1 replaceRows t k [1] with 1 rows",
                "s2 borrow", "s2 begin", "s0 readImage t k [2]", "s2 replaceRows t k [2] with 1 rows",
                "s1 commit", "s2 commit", "s0 commit",
                "s0 autocommit", "s1 autocommit", "s2 autocommit", "s1 release", "s2 release", "s0 release");
        assertThat(backends.answeredBy).isEqualTo("s0");
    }

    @Test
    void copiesOfTwoTablesToOneShadowShareItsConnection() {
        ShadowCopy other = new ShadowCopy("s0", "s1", "m1", MigrationPhase.DUAL_WRITE, "u", "k", new ShadowCopy.KnownKeys(List.of(1L)));
        executor.dualWrite(plan(copy("s0", "s1", List.of(1L)), other), List.of());
        assertThat(backends.log.stream().filter(l -> l.startsWith("s1 ")).toList()).containsExactly("s1 borrow", "s1 begin",
                "s1 replaceRows t k [1] with 1 rows", "s1 replaceRows u k [1] with 1 rows", "s1 commit", "s1 autocommit", "s1 release");
    }

    @Test
    void keysAreLookedUpOnTheSourceBeforeTheWriteAndOnlyFoundKeysAreCopied() {
        backends.lookUpFinds("s0", List.of(7L, 9L));
        ShadowCopy.LookupKeys lookup = new ShadowCopy.LookupKeys("SELECT k FROM t WHERE v > 3 FOR UPDATE", List.of(), KeyType.INT, 16,
                List.of(1, 2));
        ShadowCopy looked = new ShadowCopy("s0", "s1", "m1", MigrationPhase.DUAL_WRITE, "t", "k", lookup);
        ShadowCopy none = copy("s0", "s2", List.of());
        executor.dualWrite(plan(looked, none), List.of());
        assertThat(backends.log).containsExactly(
                "s0 borrow", "s0 begin", "s0 lookUp SELECT k FROM t WHERE v > 3 FOR UPDATE", "s0 run " + WRITE,
                "s1 borrow", "s1 begin", "s0 readImage t k [7, 9]", "s1 replaceRows t k [7, 9] with 2 rows",
                "s1 commit", "s0 commit", "s0 autocommit", "s1 autocommit", "s1 release", "s0 release");
    }

    @Test
    void manyKeysAreCopiedInRounds() {
        List<Object> keys = new ArrayList<>();
        for (long k = 0; k < DualWriter.KEYS_PER_ROUND + 3; k++) {
            keys.add(k);
        }
        executor.dualWrite(plan(copy("s0", "s1", keys)), List.of());
        assertThat(backends.log.stream().filter(l -> l.contains("replaceRows")).map(l -> l.substring(l.indexOf(" with "))).toList())
                .containsExactly(" with " + DualWriter.KEYS_PER_ROUND + " rows", " with 3 rows");
    }

    @Test
    void aFailedCopyRollsBackEveryShardBeforeAutocommitComesBack() {
        backends.failNext("s1", "replaceRows", FakeBackends.serverError(1146, "42S02", "Table 'shardgate.t' doesn't exist"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.getMessage()).isEqualTo("Table 'shardgate.t' doesn't exist");
        assertThat(backends.log).containsExactly(
                "s0 borrow", "s0 begin", "s0 run " + WRITE,
                "s1 borrow", "s1 begin", "s0 readImage t k [1]", "s1 replaceRows t k [1] with 1 rows",
                "s1 rollback", "s0 rollback", // in the failure's handling
                "s1 rollback", "s0 rollback", // and again before autocommit, which would commit what is pending
                "s0 autocommit", "s1 autocommit", "s1 release", "s0 release");
        assertThat(retries("deadlock")).isZero();
    }

    @Test
    void anUnreachableShadowFailsTheWriteWithTheShadowsError() {
        backends.unreachable("s1");
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
        assertThat(e.getMessage()).startsWith("shard s1 (fake) unavailable");
        assertThat(backends.log).containsExactly("s0 borrow", "s0 begin", "s0 run " + WRITE, "s1 unreachable",
                "s0 rollback", "s0 autocommit", "s0 release");
    }

    @Test
    void aShadowThatCannotBeginFailsNamingTheShadow() {
        backends.failNext("s1", "begin", FakeBackends.lost("s1"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.getMessage()).startsWith("shard s1 (fake) unavailable");
        assertThat(backends.log).containsExactly("s0 borrow", "s0 begin", "s0 run " + WRITE, "s1 borrow", "s1 begin",
                "s1 rollback", "s0 rollback", "s0 autocommit", "s1 autocommit", "s1 release", "s0 release");
    }

    @Test
    void aDeadlockInTheProxysTransactionIsRetried() {
        backends.failNext("s1", "replaceRows", FakeBackends.deadlock());
        StatementResult result = executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of());
        assertThat(result).isInstanceOf(StatementResult.Update.class);
        assertThat(backends.log.stream().filter(l -> l.equals("s0 run " + WRITE)).count()).as("the write ran twice").isEqualTo(2);
        assertThat(backends.log).endsWith("s1 commit", "s0 commit", "s0 autocommit", "s1 autocommit", "s1 release", "s0 release");
        assertThat(retries("deadlock")).isEqualTo(1);
    }

    @Test
    void aDeadlockIsRetriedFiveTimesAtMost() {
        for (int i = 0; i < 5; i++) {
            backends.failNext("s0", "run", FakeBackends.deadlock());
        }
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.error().mysqlErrno()).isEqualTo(1213);
        assertThat(backends.log.stream().filter(l -> l.equals("s0 run " + WRITE)).count()).isEqualTo(5);
        assertThat(retries("deadlock")).isEqualTo(4);
    }

    @Test
    void aLockWaitTimeoutIsRetriedOnce() {
        backends.failNext("s0", "run", FakeBackends.lockWaitTimeout());
        backends.failNext("s0", "run", FakeBackends.lockWaitTimeout());
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.error().mysqlErrno()).isEqualTo(1205);
        assertThat(backends.log.stream().filter(l -> l.equals("s0 run " + WRITE)).count()).isEqualTo(2);
        assertThat(retries("lock-wait-timeout")).isEqualTo(1);
    }

    @Test
    void aDeadlockWhileCommittingIsNotRetried() {
        backends.failNext("s0", "commit", FakeBackends.deadlock());
        catchThrowableOfType(ProxyException.class, () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(backends.log.stream().filter(l -> l.equals("s0 run " + WRITE)).count()).as("a shadow may have committed").isEqualTo(1);
        assertThat(retries("deadlock")).isZero();
    }

    @Test
    void anUnexpectedFailureDuringACopyDiscardsEveryConnectionOfTheWrite() {
        backends.failNext("s1", "replaceRows", new IllegalStateException("injected"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
        assertThat(backends.log).containsExactly("s0 borrow", "s0 begin", "s0 run " + WRITE,
                "s1 borrow", "s1 begin", "s0 readImage t k [1]", "s1 replaceRows t k [1] with 1 rows",
                "s1 discard", "s1 discard", "s0 discard",
                "s1 rollback", "s0 rollback", "s0 autocommit", "s1 autocommit", "s1 close (discarded)", "s0 close (discarded)");
    }

    // ---- the client's transaction

    @Test
    void inAClientTransactionTheShadowJoinsItAndNothingCommits() {
        backends.transactional = true;
        executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of());
        assertThat(backends.log).containsExactly("s0 pin", "s0 run " + WRITE, "s1 pin", "s1 receives copies",
                "s0 readImage t k [1]", "s1 replaceRows t k [1] with 1 rows");
    }

    @Test
    void aDeadlockInTheClientsTransactionIsNotRetriedAndRollsItBack() {
        backends.transactional = true;
        backends.failNext("s1", "replaceRows", FakeBackends.deadlock());
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.error().mysqlErrno()).as("a deadlock stays 1213, which clients retry").isEqualTo(1213);
        assertThat(e.getMessage()).endsWith("; the write touched slots that are moving and its copy to shard s1 failed,"
                + " so the transaction was rolled back on every shard");
        assertThat(backends.log).containsExactly("s0 pin", "s0 run " + WRITE, "s1 pin", "s1 receives copies",
                "s0 readImage t k [1]", "s1 replaceRows t k [1] with 1 rows", "roll back transaction (failed copy)");
        assertThat(retries("deadlock")).isZero();
    }

    @Test
    void anUnreachableShadowEndsTheClientsTransaction() {
        backends.transactional = true;
        backends.unreachable("s1");
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
        assertThat(e.getMessage()).endsWith("its copy to shard s1 could not be made, so the transaction was rolled back on every shard");
        assertThat(backends.log).containsExactly("s0 pin", "s0 run " + WRITE, "s1 unreachable", "roll back transaction (failed copy)");
    }

    @Test
    void aWriteFailingOnItsOwnInTheClientsTransactionLeavesTheTransactionOpen() {
        backends.transactional = true;
        backends.failNext("s0", "run", FakeBackends.serverError(1062, "23000", "Duplicate entry"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(e.getMessage()).isEqualTo("Duplicate entry");
        assertThat(backends.log).containsExactly("s0 pin", "s0 run " + WRITE);
    }

    @Test
    void aWriteDeadlockedOnItsOwnInTheClientsTransactionRollsItBackAsAnyDeadlock() {
        backends.transactional = true;
        backends.failNext("s0", "run", FakeBackends.deadlock());
        catchThrowableOfType(ProxyException.class, () -> executor.dualWrite(plan(copy("s0", "s1", List.of(1L))), List.of()));
        assertThat(backends.log).containsExactly("s0 pin", "s0 run " + WRITE, "roll back transaction (deadlock)");
    }

    // ---- several shards with copies

    @Test
    void aMultiShardWriteWithCopiesRunsEachShardInTurnWithItsOwnCopies() {
        RoutePlan.MultiShard plan = new RoutePlan.MultiShard(1, List.of(statement("s0", "DELETE a"), statement("s2", "DELETE b")),
                new MergePlan.AffectedRows(), List.of(copy("s0", "s1", List.of(1L))));
        assertThat(executor.multi(plan, List.of())).isEqualTo(new StatementResult.Update(2, 0, 0, ""));
        assertThat(backends.log).containsExactly(
                "s0 borrow", "s0 begin", "s0 run DELETE a", "s1 borrow", "s1 begin", "s0 readImage t k [1]",
                "s1 replaceRows t k [1] with 1 rows", "s1 commit", "s0 commit", "s0 autocommit", "s1 autocommit", "s1 release",
                "s0 release",
                "s2 borrow", "s2 run DELETE b", "s2 release");
    }

    @Test
    void aMultiShardWriteWithCopiesReportsWhatWasApplied() {
        backends.failNext("s2", "run", FakeBackends.serverError(1451, "23000", "Cannot delete a parent row"));
        RoutePlan.MultiShard plan = new RoutePlan.MultiShard(1, List.of(statement("s0", "DELETE a"), statement("s2", "DELETE b")),
                new MergePlan.AffectedRows(), List.of(copy("s0", "s1", List.of(1L))));
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> executor.multi(plan, List.of()));
        assertThat(e.getMessage()).startsWith("applied on shards [s0] but failed on [s2]: Cannot delete a parent row");
    }

    @Test
    void inAClientTransactionAMultiShardWriteWithCopiesStopsAtTheFirstFailure() {
        backends.transactional = true;
        backends.failNext("s0", "run", FakeBackends.serverError(1451, "23000", "Cannot delete a parent row"));
        RoutePlan.MultiShard plan = new RoutePlan.MultiShard(1, List.of(statement("s0", "DELETE a"), statement("s2", "DELETE b")),
                new MergePlan.AffectedRows(), List.of(copy("s0", "s1", List.of(1L))));
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> executor.multi(plan, List.of()));
        assertThat(e.getMessage()).isEqualTo("Cannot delete a parent row");
        assertThat(backends.log).containsExactly("s0 pin", "s0 run DELETE a");
    }
}

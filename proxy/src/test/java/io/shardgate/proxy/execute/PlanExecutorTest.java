package io.shardgate.proxy.execute;

import static io.shardgate.proxy.execute.FakeBackends.statement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.shardgate.proxy.admin.ProxyMetrics;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.RoutePlan;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The executor's plans against a logging fake of its backends: the exact calls, the answers, the errors. */
class PlanExecutorTest {
    private final FakeBackends backends = new FakeBackends();
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final PlanExecutor executor = new PlanExecutor(backends, metrics, FakeBackends.sameThread());

    private static List<String> texts(StatementResult result) {
        return ((StatementResult.Rows) result).rows().stream().map(r -> new String(r[0], StandardCharsets.UTF_8)).toList();
    }

    private static RoutePlan.MultiShard multi(MergePlan merge, String sql, String... shards) {
        return new RoutePlan.MultiShard(1, java.util.Arrays.stream(shards).map(s -> statement(s, sql)).toList(), merge, List.of());
    }

    // ---- single shard

    @Test
    void aSingleShardStatementBorrowsRunsAndGivesBack() {
        backends.answer("s1", "INSERT INTO t VALUES (1)", new StatementResult.Update(1, 42, 0, ""));
        StatementResult result = executor.single(statement("s1", "INSERT INTO t VALUES (1)"), List.of());
        assertThat(result).isEqualTo(new StatementResult.Update(1, 42, 0, ""));
        assertThat(backends.log).containsExactly("s1 borrow", "s1 run INSERT INTO t VALUES (1)", "s1 release");
        assertThat(backends.answeredBy).isEqualTo("s1");
        assertThat(backends.insertId).isEqualTo(42);
        assertThat(metrics.shardTotals().get("s1").calls()).isEqualTo(1);
        assertThat(metrics.shardTotals().get("s1").failures()).isZero();
    }

    @Test
    void parametersAreBoundAsTheShardStatementSays() {
        executor.single(new io.shardgate.router.plan.ShardStatement("s0", "SELECT * FROM t WHERE k = ?", List.of(1)),
                List.of("a", 7L));
        assertThat(backends.log).containsExactly("s0 borrow", "s0 run SELECT * FROM t WHERE k = ? [7]", "s0 release");
    }

    @Test
    void inATransactionTheConnectionIsPinnedAndStays() {
        backends.transactional = true;
        executor.single(statement("s0", "UPDATE t SET v = 1"), List.of());
        executor.single(statement("s0", "UPDATE t SET v = 2"), List.of());
        assertThat(backends.log).containsExactly("s0 pin", "s0 run UPDATE t SET v = 1", "s0 run UPDATE t SET v = 2");
    }

    @Test
    void aServerErrorPassesUnchangedAndTheTransactionGoesOn() {
        backends.transactional = true;
        backends.failNext("s0", "run", FakeBackends.serverError(1062, "23000", "Duplicate entry '1' for key 'PRIMARY'"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.single(statement("s0", "INSERT INTO t VALUES (1)"), List.of()));
        assertThat(e.error().mysqlErrno()).isEqualTo(1062);
        assertThat(e.getMessage()).isEqualTo("Duplicate entry '1' for key 'PRIMARY'");
        assertThat(backends.log).containsExactly("s0 pin", "s0 run INSERT INTO t VALUES (1)");
        assertThat(backends.pinned("s0")).isNotNull();
        assertThat(metrics.shardTotals().get("s0").failures()).isEqualTo(1);
    }

    @Test
    void aDeadlockOnAPinnedConnectionRollsBackTheWholeTransaction() {
        backends.transactional = true;
        executor.single(statement("s1", "UPDATE t SET v = 1"), List.of());
        backends.failNext("s0", "run", FakeBackends.deadlock());
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.single(statement("s0", "UPDATE t SET v = 2"), List.of()));
        assertThat(e.error().mysqlErrno()).as("clients retry on 1213").isEqualTo(1213);
        assertThat(backends.log).containsExactly("s1 pin", "s1 run UPDATE t SET v = 1", "s0 pin", "s0 run UPDATE t SET v = 2",
                "roll back transaction (deadlock)");
    }

    @Test
    void aDeadlockOutsideATransactionRollsNothingBack() {
        backends.failNext("s0", "run", FakeBackends.deadlock());
        catchThrowableOfType(ProxyException.class, () -> executor.single(statement("s0", "UPDATE t SET v = 2"), List.of()));
        assertThat(backends.log).containsExactly("s0 borrow", "s0 run UPDATE t SET v = 2", "s0 release");
    }

    @Test
    void aLostPinnedConnectionEndsTheTransaction() {
        backends.transactional = true;
        backends.failNext("s0", "run", FakeBackends.lost("s0"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.single(statement("s0", "UPDATE t SET v = 2"), List.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
        assertThat(e.getMessage()).contains("shard s0", "unavailable after", "the transaction is over");
        assertThat(backends.log).containsExactly("s0 pin", "s0 run UPDATE t SET v = 2", "end transaction (broken s0)");
    }

    @Test
    void anUnexpectedFailureDiscardsTheConnection() {
        backends.failNext("s0", "run", new ArrayIndexOutOfBoundsException("injected"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.single(statement("s0", "SELECT 1"), List.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
        assertThat(e.getMessage()).contains("shard s0 (fake)", "ArrayIndexOutOfBoundsException",
                "its connection was closed, not returned to the pool");
        assertThat(backends.log).containsExactly("s0 borrow", "s0 run SELECT 1", "s0 discard", "s0 close (discarded)");
    }

    @Test
    void anUnexpectedFailureOfAPinnedConnectionEndsTheTransaction() {
        backends.transactional = true;
        backends.failNext("s0", "run", new IllegalStateException("injected"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.single(statement("s0", "UPDATE t SET v = 1"), List.of()));
        assertThat(e.getMessage()).contains("the transaction is over");
        assertThat(backends.log).containsExactly("s0 pin", "s0 run UPDATE t SET v = 1", "s0 discard", "end transaction (broken s0)");
    }

    @Test
    void anAnyShardStatementRunsOnTheShardThePlanNames() {
        RoutePlan.AnyShard plan = new RoutePlan.AnyShard(1, statement("s0", "SELECT @@version"), List.of());
        assertThat(texts(executor.single(plan.statement(), List.of()))).containsExactly("s0");
        assertThat(backends.log).containsExactly("s0 borrow", "s0 run SELECT @@version", "s0 release");
    }

    // ---- streamed reads

    private static List<String> drain(StatementResult result) {
        io.shardgate.proxy.session.RowStream rows = ((StatementResult.Stream) result).rows();
        List<String> out = new java.util.ArrayList<>();
        try {
            for (byte[][] r; (r = rows.next()) != null; ) {
                out.add(new String(r[0], StandardCharsets.UTF_8));
            }
        } finally {
            rows.close();
        }
        return out;
    }

    @Test
    void aStreamedReadKeepsItsConnectionUntilItsRowsEnd() {
        backends.answer("s1", "SELECT c FROM t", FakeBackends.rows("a", "b"));
        StatementResult result = executor.singleStream(statement("s1", "SELECT c FROM t"), List.of());
        assertThat(backends.log).containsExactly("s1 borrow", "s1 open SELECT c FROM t");
        assertThat(drain(result)).containsExactly("a", "b");
        assertThat(backends.log).containsExactly("s1 borrow", "s1 open SELECT c FROM t", "s1 end after 2 rows", "s1 release");
        assertThat(backends.answeredBy).isEqualTo("s1");
        assertThat(metrics.shardTotals().get("s1").calls()).isEqualTo(1);
    }

    @Test
    void aStreamedStatementWithoutRowsIsAnsweredWhole() {
        backends.answer("s1", "SELECT 1 INTO OUTFILE", new StatementResult.Update(1, 0, 0, ""));
        assertThat(executor.singleStream(statement("s1", "SELECT 1 INTO OUTFILE"), List.of())).isEqualTo(new StatementResult.Update(1, 0, 0, ""));
        assertThat(backends.log).containsExactly("s1 borrow", "s1 open SELECT 1 INTO OUTFILE", "s1 release");
    }

    @Test
    void aScatterLimitCancelsTheShardsItNoLongerNeeds() {
        backends.answer("s0", "SELECT c FROM t ORDER BY c", FakeBackends.rows("a", "c", "e", "g"));
        backends.answer("s1", "SELECT c FROM t ORDER BY c", FakeBackends.rows("b", "d", "f", "h"));
        MergePlan.Rows merge = new MergePlan.Rows(List.of(), List.of(), false,
                List.of(new MergePlan.SortKey(MergePlan.ColumnRef.visible(0), true, true)), java.util.OptionalLong.of(3), 0, 0);
        StatementResult result = executor.multiStream(multi(merge, "SELECT c FROM t ORDER BY c", "s0", "s1"), List.of());
        assertThat(drain(result)).containsExactly("a", "b", "c");
        assertThat(backends.log).containsExactly("s0 borrow", "s1 borrow", "s0 open SELECT c FROM t ORDER BY c",
                "s1 open SELECT c FROM t ORDER BY c", "s0 cancel after 3 rows", "s0 release", "s1 cancel after 2 rows", "s1 release");
    }

    @Test
    void aShardErrorAfterSomeRowsEndsTheStreamWithTheErrorUnchanged() {
        backends.answer("s0", "SELECT c FROM t", FakeBackends.rows("a"));
        backends.answer("s1", "SELECT c FROM t", FakeBackends.rows("b"));
        backends.failNext("s1", "next", FakeBackends.serverError(1317, "70100", "Query execution was interrupted"));
        StatementResult result = executor.multiStream(multi(MergePlan.CONCAT, "SELECT c FROM t", "s0", "s1"), List.of());
        io.shardgate.proxy.session.RowStream rows = ((StatementResult.Stream) result).rows();
        assertThat(new String(rows.next()[0], StandardCharsets.UTF_8)).isEqualTo("a");
        ProxyException e = catchThrowableOfType(ProxyException.class, rows::next);
        rows.close();
        assertThat(e.getMessage()).isEqualTo("Query execution was interrupted");
        assertThat(backends.log).endsWith("s0 end after 1 rows", "s0 release", "s1 failed after 0 rows", "s1 release");
        assertThat(metrics.shardTotals().get("s1").failures()).isEqualTo(1);
    }

    @Test
    void aScatterThatFailsToStartClosesTheReadsThatStarted() {
        backends.failNext("s1", "open", FakeBackends.serverError(1146, "42S02", "Table 'shardgate.t' doesn't exist"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.multiStream(multi(MergePlan.CONCAT, "SELECT c FROM t", "s0", "s1"), List.of()));
        assertThat(e.getMessage()).isEqualTo("Table 'shardgate.t' doesn't exist");
        assertThat(backends.log).containsExactly("s0 borrow", "s1 borrow", "s0 open SELECT c FROM t", "s1 open SELECT c FROM t",
                "s0 cancel after 0 rows", "s0 release", "s1 release");
    }

    // ---- several shards

    @Test
    void aScatterReadTakesEveryConnectionFirstThenMergesInShardOrder() {
        StatementResult result = executor.multi(multi(MergePlan.CONCAT, "SELECT c FROM t", "s0", "s1", "s2"), List.of());
        assertThat(texts(result)).containsExactly("s0", "s1", "s2");
        assertThat(backends.log).containsExactly("s0 borrow", "s1 borrow", "s2 borrow",
                "s0 run SELECT c FROM t", "s1 run SELECT c FROM t", "s2 run SELECT c FROM t",
                "s0 release", "s1 release", "s2 release");
        assertThat(backends.answeredBy).isEqualTo("s2");
    }

    @Test
    void aSplitInsertReturningGivesItsRowsBackInValuesOrder() {
        backends.answer("s0", "INSERT a RETURNING", FakeBackends.rows("row 2", "row 4"));
        backends.answer("s1", "INSERT b RETURNING", FakeBackends.rows("row 1", "row 3", "row 5"));
        RoutePlan.MultiShard plan = new RoutePlan.MultiShard(1, List.of(statement("s0", "INSERT a RETURNING"),
                statement("s1", "INSERT b RETURNING")), new MergePlan.InsertedRows(List.of(1, 0, 1, 0, 1)), List.of());
        assertThat(texts(executor.multi(plan, List.of()))).containsExactly("row 1", "row 2", "row 3", "row 4", "row 5");
    }

    @Test
    void aShardReturningFewerRowsThanItInsertedIsAnErrorNotAGuess() {
        backends.answer("s0", "INSERT a RETURNING", FakeBackends.rows("row 2"));
        backends.answer("s1", "INSERT b RETURNING", FakeBackends.rows("row 1", "row 3"));
        RoutePlan.MultiShard plan = new RoutePlan.MultiShard(1, List.of(statement("s0", "INSERT a RETURNING"),
                statement("s1", "INSERT b RETURNING")), new MergePlan.InsertedRows(List.of(1, 0, 1, 0)), List.of());
        ProxyException e = org.junit.jupiter.api.Assertions.assertThrows(ProxyException.class, () -> executor.multi(plan, List.of()));
        assertThat(e.getMessage()).contains("shard s0 returned 1 rows for the 2 rows it inserted");
    }

    @Test
    void aMultiShardWriteSumsAffectedRowsAndKeepsTheFirstGeneratedId() {
        backends.answer("s0", "INSERT a", new StatementResult.Update(2, 0, 0, ""));
        backends.answer("s1", "INSERT b", new StatementResult.Update(3, 17, 0, ""));
        RoutePlan.MultiShard plan = new RoutePlan.MultiShard(1, List.of(statement("s0", "INSERT a"), statement("s1", "INSERT b")),
                new MergePlan.AffectedRows(), List.of());
        assertThat(executor.multi(plan, List.of())).isEqualTo(new StatementResult.Update(5, 17, 0, ""));
        assertThat(backends.insertId).isEqualTo(17);
    }

    @Test
    void aFailedScatterReadReportsTheFirstErrorUnchanged() {
        backends.failNext("s1", "run", FakeBackends.serverError(1146, "42S02", "Table 'shardgate.t' doesn't exist"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.multi(multi(MergePlan.CONCAT, "SELECT c FROM t", "s0", "s1"), List.of()));
        assertThat(e.getMessage()).isEqualTo("Table 'shardgate.t' doesn't exist");
        assertThat(backends.log).endsWith("s0 release", "s1 release");
    }

    @Test
    void aPartlyAppliedAutocommitWriteNamesTheShardsOnEachSide() {
        backends.failNext("s1", "run", FakeBackends.serverError(1062, "23000", "Duplicate entry '5' for key 'PRIMARY'"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.multi(multi(new MergePlan.AffectedRows(), "UPDATE t SET v = 1", "s0", "s1", "s2"), List.of()));
        assertThat(e.error().mysqlErrno()).isEqualTo(1062);
        assertThat(e.error().sqlState()).isEqualTo("23000");
        assertThat(e.getMessage()).isEqualTo("applied on shards [s0, s2] but failed on [s1]: Duplicate entry '5' for key 'PRIMARY'"
                + "; the statement ran in autocommit mode, so the applied part stays (use a transaction to be able to roll back)");
    }

    @Test
    void aPartlyAppliedShardUnavailableKeepsItsCode() {
        backends.failNext("s0", "run", FakeBackends.lost("s0"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.multi(multi(new MergePlan.AffectedRows(), "DELETE FROM t", "s0", "s1"), List.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE);
        assertThat(e.getMessage()).startsWith("applied on shards [s1] but failed on [s0]: shard s0 (fake) unavailable");
    }

    @Test
    void aWriteFailingInATransactionReportsTheErrorUnchanged() {
        backends.transactional = true;
        backends.failNext("s1", "run", FakeBackends.serverError(1062, "23000", "Duplicate entry"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.multi(multi(new MergePlan.AffectedRows(), "UPDATE t SET v = 1", "s0", "s1"), List.of()));
        assertThat(e.getMessage()).as("the client can roll back").isEqualTo("Duplicate entry");
    }

    @Test
    void aLostPinnedConnectionInAMultiShardStatementEndsTheTransaction() {
        backends.transactional = true;
        backends.failNext("s1", "run", FakeBackends.lost("s1"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.multi(multi(MergePlan.CONCAT, "SELECT c FROM t", "s0", "s1"), List.of()));
        assertThat(e.getMessage()).contains("the transaction is over");
        assertThat(backends.log).endsWith("end transaction (broken s1)");
    }

    @Test
    void aBrokenPinnedConnectionInAMultiShardStatementIsDiscardedAndEndsTheTransaction() {
        backends.transactional = true;
        backends.failNext("s0", "run", new IllegalStateException("injected"));
        ProxyException e = catchThrowableOfType(ProxyException.class,
                () -> executor.multi(multi(MergePlan.CONCAT, "SELECT c FROM t", "s0", "s1"), List.of()));
        assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
        assertThat(backends.log).containsExactly("s0 pin", "s1 pin", "s0 run SELECT c FROM t", "s0 discard", "s1 run SELECT c FROM t",
                "end transaction (broken s0)");
    }

    // ---- broadcast

    @Test
    void aBroadcastRunsTheSameStatementEverywhereAndAnswersWithTheFirstShards() {
        backends.answer("s0", "CREATE TABLE b (id INT)", new StatementResult.Update(0, 0, 0, "first"));
        StatementResult result = executor.broadcast(new RoutePlan.Broadcast(1, List.of("s0", "s1"), "CREATE TABLE b (id INT)", List.of()),
                List.of());
        assertThat(result).isEqualTo(new StatementResult.Update(0, 0, 0, "first"));
        assertThat(backends.log).containsExactly("s0 borrow", "s1 borrow", "s0 run CREATE TABLE b (id INT)",
                "s1 run CREATE TABLE b (id INT)", "s0 release", "s1 release");
    }

    @Test
    void aPartlyAppliedBroadcastSaysHowToRepair() {
        backends.failNext("s1", "run", FakeBackends.serverError(1050, "42S01", "Table 'b' already exists"));
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> executor.broadcast(
                new RoutePlan.Broadcast(1, List.of("s0", "s1"), "CREATE TABLE b (id INT)", List.of()), List.of()));
        assertThat(e.getMessage()).isEqualTo("applied on shards [s0] but failed on [s1]: Table 'b' already exists"
                + "; a DDL statement cannot be rolled back, so repair the failed shards (e.g. re-run with IF [NOT] EXISTS)");
    }

    @Test
    void aBroadcastFailingEverywhereReportsTheFirstError() {
        backends.failNext("s0", "run", FakeBackends.serverError(1050, "42S01", "Table 'b' already exists"));
        backends.failNext("s1", "run", FakeBackends.serverError(1050, "42S01", "Table 'b' already exists on s1"));
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> executor.broadcast(
                new RoutePlan.Broadcast(1, List.of("s0", "s1"), "CREATE TABLE b (id INT)", List.of()), List.of()));
        assertThat(e.getMessage()).isEqualTo("Table 'b' already exists");
    }

    // ---- home-first writes to a split counter key

    private static RoutePlan.MultiShard homeFirst() {
        return new RoutePlan.MultiShard(1, List.of(statement("s0", "UPDATE m SET n = 0"), statement("s1", "UPDATE m SET n = 5"),
                statement("s2", "UPDATE m SET n = 0")), new MergePlan.AffectedRowsOf("s1"), List.of());
    }

    @Test
    void homeRunsFirstOnItsOwnThenTheOthers() {
        backends.answer("s1", "UPDATE m SET n = 5", new StatementResult.Update(1, 0, 0, "home"));
        StatementResult result = executor.multi(homeFirst(), List.of());
        assertThat(result).isEqualTo(new StatementResult.Update(1, 0, 0, "home"));
        assertThat(backends.log).containsExactly("s1 borrow", "s1 run UPDATE m SET n = 5", "s1 release",
                "s0 borrow", "s2 borrow", "s0 run UPDATE m SET n = 0", "s2 run UPDATE m SET n = 0", "s0 release", "s2 release");
        assertThat(backends.answeredBy).isEqualTo("s1");
    }

    @Test
    void aFailureAtHomeLeavesTheOtherSubRowsUntouched() {
        backends.failNext("s1", "run", FakeBackends.serverError(1062, "23000", "Duplicate entry"));
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> executor.multi(homeFirst(), List.of()));
        assertThat(e.getMessage()).isEqualTo("Duplicate entry");
        assertThat(backends.log).containsExactly("s1 borrow", "s1 run UPDATE m SET n = 5", "s1 release");
    }

    @Test
    void aFailureAfterHomeSaysWhatWasApplied() {
        backends.failNext("s2", "run", FakeBackends.lost("s2"));
        ProxyException e = catchThrowableOfType(ProxyException.class, () -> executor.multi(homeFirst(), List.of()));
        assertThat(e.getMessage()).startsWith("applied on shards [s1, s0] but failed on [s2]: shard s2 (fake) unavailable");
    }

    // ---- the session's own statements

    @Test
    void describeUsesThePinnedConnectionWhenThereIsOne() {
        backends.transactional = true;
        executor.single(statement("s0", "UPDATE t SET v = 1"), List.of());
        assertThat(executor.describe("SELECT * FROM t", "s0")).hasSize(1);
        assertThat(executor.describe("SELECT * FROM t", "s1")).hasSize(1);
        assertThat(backends.log).containsExactly("s0 pin", "s0 run UPDATE t SET v = 1", "s0 describe SELECT * FROM t",
                "s1 borrow", "s1 describe SELECT * FROM t", "s1 release");
    }

    @Test
    void aStatementThatCannotBePreparedDescribesNoColumns() {
        backends.failNext("s0", "describe", FakeBackends.serverError(1295, "HY000",
                "This command is not supported in the prepared statement protocol yet"));
        assertThat(executor.describe("SHOW STATUS", "s0")).isEmpty();
        assertThat(backends.log).containsExactly("s0 borrow", "s0 describe SHOW STATUS", "s0 release");
    }

    @Test
    void onPinnedRunsOnlyOnTheTransactionsConnection() {
        assertThat(executor.onPinned("s0", "SHOW WARNINGS")).isEmpty();
        backends.transactional = true;
        executor.single(statement("s0", "UPDATE t SET v = 1"), List.of());
        assertThat(executor.onPinned("s0", "SHOW WARNINGS")).isPresent();
        assertThat(backends.log).containsExactly("s0 pin", "s0 run UPDATE t SET v = 1", "s0 run SHOW WARNINGS");
    }

    @Test
    void outsideTransactionBorrowsEvenWhenPinned() {
        backends.transactional = true;
        executor.single(statement("s0", "UPDATE t SET v = 1"), List.of());
        executor.outsideTransaction("s0", "SELECT @@SESSION.sql_mode");
        assertThat(backends.log).containsExactly("s0 pin", "s0 run UPDATE t SET v = 1", "s0 borrow", "s0 run SELECT @@SESSION.sql_mode",
                "s0 release");
    }
}

package io.shardgate.proxy.exec.merge;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.MergePlan.Aggregate;
import io.shardgate.router.plan.MergePlan.AggregateFunction;
import io.shardgate.router.plan.MergePlan.ColumnRef;
import io.shardgate.router.plan.MergePlan.SortKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ResultMergerTest {
    private static final ColumnInfo INT = column("i", ColumnType.INT, 0, 45);
    private static final ColumnInfo BIGINT = column("n", ColumnType.BIGINT, 0, 63);
    private static final ColumnInfo DEC2 = column("d", ColumnType.DECIMAL, 2, 63);
    private static final ColumnInfo DEC0 = column("s", ColumnType.DECIMAL, 0, 63);
    private static final ColumnInfo AVG4 = column("a", ColumnType.DECIMAL, 4, 63);
    private static final ColumnInfo DOUBLE = column("f", ColumnType.DOUBLE, 31, 63);
    private static final ColumnInfo NAME = column("name", ColumnType.VARCHAR, 0, 45);
    private static final ColumnInfo BIN = column("b", ColumnType.VARBINARY, 0, 63);
    private static final ColumnInfo TIME = column("t", ColumnType.TIME, 0, 63);

    @Test
    void concatKeepsShardOrderAndAppliesLimitAndOffset() {
        var plan = rows(List.of(), List.of(), false, List.of(), OptionalLong.of(2), 1, 0);
        var merged = ResultMerger.rows(List.of(INT), List.of(shard("s0", row("1"), row("2")), shard("s1", row("3"))), plan);
        assertThat(texts(merged)).containsExactly("2", "3");
    }

    @Test
    void orderByMergesNumericallyNotByText() {
        var plan = rows(List.of(), List.of(), false, List.of(asc(0)), OptionalLong.empty(), 0, 0);
        var merged = ResultMerger.rows(List.of(INT), List.of(shard("s0", row("2"), row("10")), shard("s1", row("-5"), row("9"))), plan);
        assertThat(texts(merged)).containsExactly("-5", "2", "9", "10");
    }

    @Test
    void orderByDescWithLimitAndNullsLowestAsInMySql() {
        var plan = rows(List.of(), List.of(), false, List.of(new SortKey(ColumnRef.visible(0), false, false)), OptionalLong.of(3), 0, 0);
        var merged = ResultMerger.rows(List.of(INT), List.of(shard("s0", row("7"), row((String) null)), shard("s1", row("8"), row("1"))), plan);
        assertThat(texts(merged)).containsExactly("8", "7", "1");
        var ascPlan = rows(List.of(), List.of(), false, List.of(asc(0)), OptionalLong.empty(), 0, 0);
        var all = ResultMerger.rows(List.of(INT), List.of(shard("s0", row((String) null), row("7")), shard("s1", row("1"))), ascPlan);
        assertThat(texts(all)).containsExactly(null, "1", "7");
    }

    @Test
    void caseInsensitiveStringsAndBinaryStrings() {
        var plan = rows(List.of(), List.of(), false, List.of(asc(0)), OptionalLong.empty(), 0, 0);
        var ci = ResultMerger.rows(List.of(NAME), List.of(shard("s0", row("apple"), row("Cherry")), shard("s1", row("Banana"))), plan);
        assertThat(texts(ci)).containsExactly("apple", "Banana", "Cherry");
        var bin = ResultMerger.rows(List.of(BIN), List.of(shard("s0", row("apple"), row("cherry")), shard("s1", row("Banana"))), plan);
        assertThat(texts(bin)).containsExactly("Banana", "apple", "cherry");
    }

    @Test
    void accentsAndTrailingSpacesCompareEqualUnderGeneralCi() {
        assertThat(ValueOrder.CASE_INSENSITIVE.compare(utf8("Ärger"), utf8("arger "))).isZero();
        assertThat(ValueOrder.CASE_INSENSITIVE.compare(utf8("é"), utf8("f"))).isNegative();
        // a latin1 session's results are latin1 bytes: é is E9, not C3 A9
        byte[] eAcute = {(byte) 0xE9};
        assertThat(ValueOrder.CASE_INSENSITIVE_LATIN1.compare(eAcute, "f".getBytes(StandardCharsets.US_ASCII))).isNegative();
        assertThat(ValueOrder.CASE_INSENSITIVE_LATIN1.compare(eAcute, "E".getBytes(StandardCharsets.US_ASCII))).isZero();
        assertThat(ValueOrder.of(column("l", ColumnType.VARCHAR, 0, 8))).isEqualTo(ValueOrder.CASE_INSENSITIVE_LATIN1);
        assertThat(ValueOrder.of(column("u", ColumnType.VARCHAR, 0, 45))).isEqualTo(ValueOrder.CASE_INSENSITIVE);
    }

    @Test
    void timeOrdersBySignedDuration() {
        var plan = rows(List.of(), List.of(), false, List.of(asc(0)), OptionalLong.empty(), 0, 0);
        var merged = ResultMerger.rows(List.of(TIME), List.of(shard("s0", row("-01:00:00"), row("100:00:00")), shard("s1", row("99:59:59.5"))), plan);
        assertThat(texts(merged)).containsExactly("-01:00:00", "99:59:59.5", "100:00:00");
    }

    @Test
    void countAndSumAddUpExactly() {
        var plan = rows(List.of(), List.of(agg(AggregateFunction.COUNT, 0), agg(AggregateFunction.SUM, 1), agg(AggregateFunction.SUM, 2)),
                false, List.of(), OptionalLong.empty(), 0, 0);
        var merged = ResultMerger.rows(List.of(BIGINT, DEC0, DEC2),
                List.of(shard("s0", row("3", "9223372036854775807", "1.10")), shard("s1", row("4", "10", "2.25"))), plan);
        assertThat(merged.rows()).hasSize(1);
        assertThat(text(merged.rows().getFirst())).containsExactly("7", "9223372036854775817", "3.35");
    }

    @Test
    void sumOfOnlyNullsIsNullAndCountOfNothingIsZero() {
        var plan = rows(List.of(), List.of(agg(AggregateFunction.COUNT, 0), agg(AggregateFunction.SUM, 1)), false, List.of(),
                OptionalLong.empty(), 0, 0);
        var merged = ResultMerger.rows(List.of(BIGINT, DEC0), List.of(shard("s0", row("0", null)), shard("s1", row("0", null))), plan);
        assertThat(text(merged.rows().getFirst())).containsExactly("0", null);
        var none = ResultMerger.rows(List.of(BIGINT, DEC0), List.of(shard("s0"), shard("s1")), plan);
        assertThat(none.rows()).hasSize(1);
        assertThat(text(none.rows().getFirst())).containsExactly("0", null);
    }

    @Test
    void minMaxCompareByType() {
        var plan = rows(List.of(), List.of(agg(AggregateFunction.MIN, 0), agg(AggregateFunction.MAX, 1)), false, List.of(),
                OptionalLong.empty(), 0, 0);
        var merged = ResultMerger.rows(List.of(INT, NAME), List.of(shard("s0", row("10", "b")), shard("s1", row("9", "C")),
                shard("s2", row(null, null))), plan);
        assertThat(text(merged.rows().getFirst())).containsExactly("9", "C");
    }

    @Test
    void avgIsSumOverCountWithTheAvgColumnsScale() {
        // SELECT AVG(x) → per shard AVG(x), SUM(x) hidden, COUNT(x) hidden
        var plan = rows(List.of(), List.of(
                new Aggregate(AggregateFunction.SUM, ColumnRef.hidden(0), List.of(ColumnRef.hidden(0))),
                new Aggregate(AggregateFunction.COUNT, ColumnRef.hidden(1), List.of(ColumnRef.hidden(1))),
                new Aggregate(AggregateFunction.AVG, ColumnRef.visible(0), List.of(ColumnRef.hidden(0), ColumnRef.hidden(1)))),
                false, List.of(), OptionalLong.empty(), 0, 2);
        var merged = ResultMerger.rows(List.of(AVG4, DEC0, BIGINT),
                List.of(shard("s0", row("1.5000", "3", "2")), shard("s1", row("3.5000", "7", "2"))), plan);
        assertThat(merged.columns()).containsExactly(AVG4);
        assertThat(text(merged.rows().getFirst())).containsExactly("2.5000");
        var thirds = ResultMerger.rows(List.of(AVG4, DEC0, BIGINT),
                List.of(shard("s0", row("1.0000", "1", "1")), shard("s1", row("1.0000", "2", "2"))), plan);
        assertThat(text(thirds.rows().getFirst())).containsExactly("1.0000");
        var empty = ResultMerger.rows(List.of(AVG4, DEC0, BIGINT),
                List.of(shard("s0", row(null, null, "0")), shard("s1", row(null, null, "0"))), plan);
        assertThat(text(empty.rows().getFirst())).containsExactly((String) null);
    }

    @Test
    void avgOfDoublesStaysDouble() {
        var plan = rows(List.of(), List.of(
                new Aggregate(AggregateFunction.SUM, ColumnRef.hidden(0), List.of(ColumnRef.hidden(0))),
                new Aggregate(AggregateFunction.COUNT, ColumnRef.hidden(1), List.of(ColumnRef.hidden(1))),
                new Aggregate(AggregateFunction.AVG, ColumnRef.visible(0), List.of(ColumnRef.hidden(0), ColumnRef.hidden(1)))),
                false, List.of(), OptionalLong.empty(), 0, 2);
        var merged = ResultMerger.rows(List.of(DOUBLE, DOUBLE, BIGINT),
                List.of(shard("s0", row("0.5", "0.5", "1")), shard("s1", row("2", "4", "2"))), plan);
        assertThat(text(merged.rows().getFirst())).containsExactly("1.5");
    }

    @Test
    void groupByReaggregatesCaseInsensitivelyAndSortsByGroupKey() {
        var plan = rows(List.of(ColumnRef.visible(0)), List.of(agg(AggregateFunction.COUNT, 1), agg(AggregateFunction.SUM, 2)),
                false, List.of(), OptionalLong.empty(), 0, 0);
        var merged = ResultMerger.rows(List.of(NAME, BIGINT, DEC0),
                List.of(shard("s0", row("b", "1", "10"), row("a", "2", "5")), shard("s1", row("B", "3", "1"), row(null, "1", "1"))), plan);
        assertThat(merged.rows()).extracting(ResultMergerTest::text)
                .containsExactly(new String[] {null, "1", "1"}, new String[] {"a", "2", "5"}, new String[] {"b", "4", "11"});
    }

    @Test
    void groupByWithOrderByAggregateDescAndLimit() {
        var plan = rows(List.of(ColumnRef.visible(0)), List.of(agg(AggregateFunction.SUM, 1)), false,
                List.of(new SortKey(ColumnRef.visible(1), false, false)), OptionalLong.of(2), 0, 0);
        var merged = ResultMerger.rows(List.of(INT, DEC0),
                List.of(shard("s0", row("1", "5"), row("2", "1"), row("3", "2")), shard("s1", row("2", "10"), row("3", "2"))), plan);
        assertThat(merged.rows()).extracting(ResultMergerTest::text)
                .containsExactly(new String[] {"2", "11"}, new String[] {"1", "5"});
    }

    @Test
    void hiddenGroupKeyIsDropped() {
        // SELECT COUNT(*) FROM t GROUP BY g → per shard COUNT(*), g hidden
        var plan = rows(List.of(ColumnRef.hidden(0)), List.of(agg(AggregateFunction.COUNT, 0)), false, List.of(), OptionalLong.empty(), 0, 1);
        var merged = ResultMerger.rows(List.of(BIGINT, INT),
                List.of(shard("s0", row("2", "1"), row("1", "2")), shard("s1", row("5", "1"))), plan);
        assertThat(merged.columns()).containsExactly(BIGINT);
        assertThat(texts(merged)).containsExactly("7", "1");
    }

    @Test
    void distinctOverVisibleColumnsWithOrder() {
        var plan = rows(List.of(), List.of(), true, List.of(asc(0)), OptionalLong.empty(), 0, 0);
        var merged = ResultMerger.rows(List.of(NAME), List.of(shard("s0", row("a"), row("b")), shard("s1", row("A"), row("c"))), plan);
        assertThat(texts(merged)).containsExactly("a", "b", "c");
    }

    @Test
    void hiddenSortColumnIsUsedThenDropped() {
        var plan = rows(List.of(), List.of(), false, List.of(new SortKey(ColumnRef.hidden(0), true, true)), OptionalLong.of(2), 1, 1);
        var merged = ResultMerger.rows(List.of(NAME, INT),
                List.of(shard("s0", row("x", "1"), row("z", "4")), shard("s1", row("y", "2"), row("w", "3"))), plan);
        assertThat(merged.columns()).containsExactly(NAME);
        assertThat(texts(merged)).containsExactly("y", "w");
    }

    @Test
    void counterRowSumsCountersAndTakesTheRestFromHome() {
        var plan = new MergePlan.CounterRow(List.of(1), "s1");
        var merged = ResultMerger.counterRow(List.of(INT, BIGINT, NAME),
                List.of(shard("s0", row("42", "5", "stale")), shard("s1", row("42", "10", "home")), shard("s2")), plan);
        assertThat(text(merged.rows().getFirst())).containsExactly("42", "15", "home");
    }

    @Test
    void doublesAreWrittenAsMySqlDoes() {
        assertThat(MySqlText.formatDouble(2.5)).isEqualTo("2.5");
        assertThat(MySqlText.formatDouble(3.0)).isEqualTo("3");
        assertThat(MySqlText.formatDouble(1e20)).isEqualTo("1e20");
        assertThat(MySqlText.formatDouble(0.1 + 0.2)).isEqualTo("0.30000000000000004");
        assertThat(MySqlText.formatDouble(-1.25e-20)).isEqualTo("-1.25e-20");
    }

    // ---- helpers

    private static ColumnInfo column(String name, ColumnType type, int decimals, int collation) {
        return new ColumnInfo("db", "t", "t", name, name, type, 20, decimals, false, false, collation == 63, collation);
    }

    private static MergePlan.Rows rows(List<ColumnRef> groupBy, List<Aggregate> aggregates, boolean distinct, List<SortKey> orderBy,
            OptionalLong limit, long offset, int hidden) {
        return new MergePlan.Rows(groupBy, aggregates, distinct, orderBy, limit, offset, hidden);
    }

    private static Aggregate agg(AggregateFunction f, int column) {
        return new Aggregate(f, ColumnRef.visible(column), List.of(ColumnRef.visible(column)));
    }

    private static SortKey asc(int column) {
        return new SortKey(ColumnRef.visible(column), true, true);
    }

    private static ShardRows shard(String name, byte[][]... rows) {
        return new ShardRows(name, new ArrayList<>(Arrays.asList(rows)));
    }

    private static byte[][] row(String... values) {
        return Arrays.stream(values).map(v -> v == null ? null : utf8(v)).toArray(byte[][]::new);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String[] text(byte[][] row) {
        return Arrays.stream(row).map(v -> v == null ? null : new String(v, StandardCharsets.UTF_8)).toArray(String[]::new);
    }

    /** First column of each row. */
    private static List<String> texts(ResultMerger.Merged merged) {
        return merged.rows().stream().map(r -> r[0] == null ? null : new String(r[0], StandardCharsets.UTF_8)).toList();
    }
}

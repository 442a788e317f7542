package io.shardgate.proxy.exec.merge;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.router.plan.MergePlan.Aggregate;
import io.shardgate.router.plan.MergePlan.AggregateFunction;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.List;

/**
 * Re-aggregates one group: the shards' partial values of each aggregate column become one value,
 * written as MySQL would write the aggregate's result type.
 */
final class Aggregation {
    private final List<ColumnInfo> columns;
    private final List<Aggregate> aggregates;
    private final int hiddenColumns;

    Aggregation(List<ColumnInfo> columns, List<Aggregate> aggregates, int hiddenColumns) {
        this.columns = columns;
        this.aggregates = aggregates;
        this.hiddenColumns = hiddenColumns;
    }

    /** The group's output row: the first row's values, aggregate columns replaced. */
    byte[][] merge(List<byte[][]> group) {
        byte[][] out = group.getFirst().clone();
        // AVG reads the merged SUM and COUNT, so every other aggregate is merged first
        for (Aggregate a : aggregates) {
            if (a.function() != AggregateFunction.AVG) {
                int at = position(a.output());
                out[at] = mergeColumn(a.function(), position(a.inputs().getFirst()), group);
            }
        }
        for (Aggregate a : aggregates) {
            if (a.function() == AggregateFunction.AVG) {
                out[position(a.output())] = average(out[position(a.inputs().get(0))], out[position(a.inputs().get(1))],
                        columns.get(position(a.output())));
            }
        }
        return out;
    }

    /** The single row of an ungrouped aggregate over no rows at all: COUNT is 0, every other value NULL. */
    byte[][] emptyGroup() {
        byte[][] out = new byte[columns.size()][];
        for (Aggregate a : aggregates) {
            if (a.function() == AggregateFunction.COUNT) {
                out[position(a.output())] = MySqlText.bytes("0");
            }
        }
        return out;
    }

    private int position(io.shardgate.router.plan.MergePlan.ColumnRef ref) {
        return ref.position(columns.size(), hiddenColumns);
    }

    private byte[] mergeColumn(AggregateFunction function, int input, List<byte[][]> group) {
        return switch (function) {
            case COUNT -> count(input, group);
            case SUM -> sum(input, group);
            case MIN -> extreme(input, group, -1);
            case MAX -> extreme(input, group, 1);
            case AVG -> throw new IllegalStateException("AVG is merged from its SUM and COUNT");
        };
    }

    private static byte[] count(int input, List<byte[][]> group) {
        long total = 0;
        for (byte[][] row : group) {
            if (row[input] != null) {
                total += Long.parseLong(ValueOrder.text(row[input]));
            }
        }
        return MySqlText.bytes(Long.toString(total));
    }

    private byte[] sum(int input, List<byte[][]> group) {
        ColumnInfo column = columns.get(input);
        boolean floating = ValueOrder.of(column) == ValueOrder.FLOATING;
        BigDecimal exact = BigDecimal.ZERO;
        double approximate = 0;
        boolean any = false;
        for (byte[][] row : group) {
            byte[] v = row[input];
            if (v != null) {
                any = true;
                if (floating) {
                    approximate += MySqlText.doubleValue(v);
                } else {
                    exact = exact.add(MySqlText.decimal(v));
                }
            }
        }
        if (!any) {
            return null;
        }
        return floating ? MySqlText.bytes(MySqlText.formatFloating(approximate, column)) : MySqlText.number(exact, column);
    }

    private byte[] extreme(int input, List<byte[][]> group, int sign) {
        ValueOrder order = ValueOrder.of(columns.get(input));
        byte[] best = null;
        for (byte[][] row : group) {
            byte[] v = row[input];
            if (v != null && (best == null || sign * order.compare(v, best) > 0)) {
                best = v;
            }
        }
        return best;
    }

    /**
     * SUM / COUNT with the AVG column's own scale (MySQL: the input's scale + 4 for exact types; PostgreSQL's numeric:
     * the scale its division picks).
     */
    private static byte[] average(byte[] sum, byte[] count, ColumnInfo avgColumn) {
        if (sum == null || count == null) {
            return null;
        }
        long n = Long.parseLong(ValueOrder.text(count));
        if (n == 0) {
            return null;
        }
        if (ValueOrder.of(avgColumn) == ValueOrder.FLOATING) {
            return MySqlText.bytes(MySqlText.formatFloating(MySqlText.doubleValue(sum) / n, avgColumn));
        }
        if (avgColumn.pgTypeOid() == PgText.NUMERIC) {
            return MySqlText.bytes(PgText.numericAverage(MySqlText.decimal(sum), n));
        }
        BigDecimal avg = MySqlText.decimal(sum).divide(BigDecimal.valueOf(n), MathContext.DECIMAL128)
                .setScale(Math.min(avgColumn.decimals(), 30), RoundingMode.HALF_UP);
        return MySqlText.number(avg, avgColumn);
    }
}

package io.shardgate.router.plan;

import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/** How the executor combines the results of the statements of a {@link RoutePlan.MultiShard}. */
public sealed interface MergePlan {

    /** Plain concatenation of the shards' rows, in shard order. */
    Rows CONCAT = new Rows(List.of(), List.of(), false, List.of(), OptionalLong.empty(), 0, 0);

    /**
     * Row results, merged in this fixed order: (1) if {@code groupBy} or {@code aggregates} is non-empty,
     * group rows by the {@code groupBy} columns (one group when empty) and re-aggregate each
     * {@code aggregates} column; (2) if {@code distinct}, drop duplicate rows (over the visible columns);
     * (3) order by {@code orderBy} (when nothing was grouped, each shard's rows already arrive in this
     * order, so this is a k-way merge); (4) skip {@code offset} rows and keep at most {@code limit};
     * (5) drop the {@code hiddenColumns} columns the router appended to the per-shard select list.
     *
     * <p>Column references are 0-based: {@link ColumnRef#hidden() visible} ones count from the first
     * column, hidden ones from the first appended column (at {@code columnCount - hiddenColumns}), so
     * they work even when the select list has {@code *}.
     */
    record Rows(List<ColumnRef> groupBy, List<Aggregate> aggregates, boolean distinct, List<SortKey> orderBy,
            OptionalLong limit, long offset, int hiddenColumns) implements MergePlan {
        public Rows {
            groupBy = List.copyOf(groupBy);
            aggregates = List.copyOf(aggregates);
            orderBy = List.copyOf(orderBy);
            Objects.requireNonNull(limit, "limit");
            if (offset < 0 || hiddenColumns < 0) {
                throw new IllegalArgumentException("offset and hiddenColumns must be >= 0");
            }
        }

        public boolean grouped() {
            return !groupBy.isEmpty() || !aggregates.isEmpty();
        }

        public boolean isConcat() {
            return equals(CONCAT);
        }
    }

    /**
     * A multi-row INSERT … RETURNING split per shard: the client gets the returned rows in VALUES order, as one server
     * returns them. Row i of the VALUES list went to statement {@code statementOfRow.get(i)} of the plan, and each
     * statement returns one row per VALUES row it was given, in its own VALUES order; the executor interleaves them.
     */
    record InsertedRows(List<Integer> statementOfRow) implements MergePlan {
        public InsertedRows {
            statementOfRow = List.copyOf(statementOfRow);
        }
    }

    /**
     * Writes over several shards: the client sees the sum of the affected-row counts. {@code splitInsert}: the statements
     * are one multi-row INSERT or REPLACE split per shard by its rows, whose OK info text one server would have written
     * for all its rows ("Records: R  Duplicates: D  Warnings: W").
     */
    record AffectedRows(boolean splitInsert) implements MergePlan {
        /** Writes that are not a split INSERT (UPDATE, DELETE over several shards). */
        public AffectedRows() {
            this(false);
        }
    }

    /**
     * A write to the sub-rows of one split counter key, one logical row (DESIGN.md, "Hot keys"): run the
     * statement of {@code shard} (home) first and the others only once it succeeded; the client sees home's
     * affected-row count and insert id.
     */
    record AffectedRowsOf(String shard) implements MergePlan {
        public AffectedRowsOf {
            Objects.requireNonNull(shard, "shard");
        }
    }

    /**
     * A read of one split counter key: one sub-row per shard. Sum the {@code counterColumns} over all
     * rows and take every other column from the row of {@code homeShard} (DESIGN.md, "Hot keys").
     */
    record CounterRow(List<Integer> counterColumns, String homeShard) implements MergePlan {
        public CounterRow {
            counterColumns = List.copyOf(counterColumns);
            Objects.requireNonNull(homeShard, "homeShard");
        }
    }

    /** A column of the per-shard result. */
    record ColumnRef(int index, boolean hidden) {
        public ColumnRef {
            if (index < 0) {
                throw new IllegalArgumentException("column index must be >= 0, was " + index);
            }
        }

        public static ColumnRef visible(int index) {
            return new ColumnRef(index, false);
        }

        public static ColumnRef hidden(int index) {
            return new ColumnRef(index, true);
        }

        /** Position in a row of {@code columnCount} columns of which the last {@code hiddenColumns} are hidden. */
        public int position(int columnCount, int hiddenColumns) {
            return hidden ? columnCount - hiddenColumns + index : index;
        }

        @Override
        public String toString() {
            return (hidden ? "h" : "c") + index;
        }
    }

    /** Re-aggregation of one output column from the shards' partial values in {@code inputs}. */
    record Aggregate(AggregateFunction function, ColumnRef output, List<ColumnRef> inputs) {
        public Aggregate {
            Objects.requireNonNull(function, "function");
            Objects.requireNonNull(output, "output");
            inputs = List.copyOf(inputs);
        }
    }

    enum AggregateFunction {
        /** Partial counts are added. */
        COUNT,
        SUM,
        MIN,
        MAX,
        /** output = (sum of inputs[0]) / (sum of inputs[1]): the per-shard SUM and COUNT the router appended. */
        AVG
    }

    /** One ORDER BY key; {@code nullsFirst} is explicit (MySQL sorts NULL lowest, PostgreSQL highest). */
    record SortKey(ColumnRef column, boolean ascending, boolean nullsFirst) {
        public SortKey {
            Objects.requireNonNull(column, "column");
        }
    }
}

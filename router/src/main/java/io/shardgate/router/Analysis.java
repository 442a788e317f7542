package io.shardgate.router;

import io.shardgate.cluster.TableDefinition;
import io.shardgate.router.plan.MergePlan.Aggregate;
import io.shardgate.router.plan.MergePlan.ColumnRef;
import io.shardgate.router.plan.MergePlan.SortKey;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * What a statement means for routing under one cluster definition, independent of the slot map and of
 * bound parameters: computed once per (statement, cluster definition) and reused at every execution.
 */
sealed interface Analysis {

    /** The plan does not depend on the slot map or the parameters (session, DDL, single, broadcast, rejected). */
    record Fixed(LongFunction<RoutePlan> plan) implements Analysis {
        public Fixed {
            Objects.requireNonNull(plan, "plan");
        }
    }

    /**
     * A SELECT, UPDATE or DELETE over co-located sharded tables (plus broadcast ones).
     *
     * @param write        UPDATE or DELETE
     * @param tables       the sharded tables; the first is the one the statement is about
     * @param keys         the restriction on the shard key
     * @param splitBy      the restriction on the first table's split-by column (append hot-key mode)
     * @param pointSql     SQL when the statement runs on one shard (the client's text)
     * @param scatter      what to do when it runs on several
     * @param counterRead  how to read a split counter key
     * @param counterWrite how to write a split counter key
     * @param lookupSql    for writes, {@code SELECT key … FOR UPDATE} finding the affected keys
     */
    record Keyed(boolean write, List<TableDefinition> tables, KeyRestriction keys, KeyRestriction splitBy,
            SqlText.Jdbc pointSql, Scatter scatter, CounterRead counterRead, CounterWrite counterWrite,
            Optional<SqlText.Jdbc> lookupSql) implements Analysis {
        public Keyed {
            tables = List.copyOf(tables);
            Objects.requireNonNull(keys, "keys");
            Objects.requireNonNull(splitBy, "splitBy");
            Objects.requireNonNull(pointSql, "pointSql");
            Objects.requireNonNull(scatter, "scatter");
            Objects.requireNonNull(counterRead, "counterRead");
            Objects.requireNonNull(counterWrite, "counterWrite");
            Objects.requireNonNull(lookupSql, "lookupSql");
        }

        TableDefinition table() {
            return tables.getFirst();
        }
    }

    /**
     * An INSERT … VALUES into a sharded table; {@code counterWrite} says how a row of a split counter key is written,
     * {@code generated} how the table's sequence column is filled (empty when the table has no cluster sequence).
     */
    record Insert(TableDefinition table, List<InsertRow> rows, SqlText.Jdbc wholeSql, SqlText.Jdbc prefix,
            SqlText.Jdbc suffix, boolean returnsRows, boolean mayReturnFewerRows, CounterWrite counterWrite,
            Optional<Generated> generated) implements Analysis {
        public Insert {
            Objects.requireNonNull(table, "table");
            Objects.requireNonNull(counterWrite, "counterWrite");
            rows = List.copyOf(rows);
            Objects.requireNonNull(wholeSql, "wholeSql");
            Objects.requireNonNull(prefix, "prefix");
            Objects.requireNonNull(suffix, "suffix");
            Objects.requireNonNull(generated, "generated");
        }
    }

    /**
     * How an INSERT fills a table's sequence column: when at least one row's id is generated, the statement is built
     * from {@code prefix}, each row's text (its {@link InsertRow#generatedText()} where the id is generated) and
     * {@code suffix}. A generated id is bound, not inlined, so the shard's statement text stays the same from one
     * execution to the next (its prepared-statement cache keeps working): the generated row's placeholder has the
     * parameter index {@link #ID_PARAMETER}, which routing replaces by {@code parameters.size() + k} for the k-th
     * generated id of the statement; the caller binds the ids after the client's parameters.
     *
     * @param keyIsGenerated the sequence column is the shard key: a generated row goes to its id's slot
     * @param zeroGenerates  a 0 asks for a new id (MySQL; the session's NO_AUTO_VALUE_ON_ZERO turns it off)
     */
    record Generated(String column, boolean keyIsGenerated, boolean zeroGenerates, SqlText.Jdbc prefix, SqlText.Jdbc suffix) {
        /** The 0-based parameter index standing for "this row's generated id" in a generated row's text. */
        static final int ID_PARAMETER = 999_998;

        public Generated {
            Objects.requireNonNull(column, "column");
            Objects.requireNonNull(prefix, "prefix");
            Objects.requireNonNull(suffix, "suffix");
        }
    }

    /**
     * One VALUES row: its shard key (null when the key is the sequence column and the row does not give it), its
     * split-by value if given, its text, and for a table with a cluster sequence what the row gives for the column
     * and its text with the generated id's marker (null otherwise).
     */
    record InsertRow(KeyValue key, Optional<KeyValue> splitBy, SqlText.Jdbc text, IdValue id, SqlText.Jdbc generatedText) {
        public InsertRow {
            Objects.requireNonNull(splitBy, "splitBy");
            Objects.requireNonNull(text, "text");
            Objects.requireNonNull(id, "id");
        }

        InsertRow(KeyValue key, Optional<KeyValue> splitBy, SqlText.Jdbc text) {
            this(Objects.requireNonNull(key, "key"), splitBy, text, new NoSequence(), null);
        }
    }

    /** What one INSERT row gives for a table's sequence column. */
    sealed interface IdValue {}

    /** The table has no cluster sequence. */
    record NoSequence() implements IdValue {}

    /** Omitted, DEFAULT or (PostgreSQL) nextval(…): always a new id. */
    record NewId() implements IdValue {}

    /** NULL: a new id on MySQL; PostgreSQL stores it as given (and the column's NOT NULL refuses it). */
    record NullId() implements IdValue {}

    /** A literal or parameter: a new id where it is NULL or (MySQL) 0, else an explicit id the sequence moves past. */
    record GivenId(KeyValue value) implements IdValue {
        public GivenId {
            Objects.requireNonNull(value, "value");
        }
    }

    /** An expression: the shard evaluates it; neither a new id nor one the sequence knows. */
    record OtherId() implements IdValue {}

    /** How a keyed statement runs on several shards. */
    sealed interface Scatter {}

    /**
     * Per-shard SQL (with {@link ScatterRewriter#LIMIT_SENTINEL} where the pushed-down LIMIT goes) and the merge;
     * {@code shadowFiltered} is the same SQL for a shard that holds copies of slots it does not own.
     */
    record ScatterRead(SqlText.Jdbc sql, RowsTemplate merge, Optional<ShadowFilter> shadowFiltered) implements Scatter {
        ScatterRead(SqlText.Jdbc sql, RowsTemplate merge) {
            this(sql, merge, Optional.empty());
        }
    }

    /** The same write on every shard; affected rows are added. */
    record ScatterWrite(SqlText.Jdbc sql, Optional<ShadowFilter> shadowFiltered) implements Scatter {}

    /**
     * A statement's SQL with {@link #SENTINEL} as an extra WHERE conjunct, for a shard that also holds rows of
     * slots it does not own (the shadow of a moving slot: the target before cutover, the source after it):
     * the router replaces the sentinel with a condition that excludes those slots, computed on the shard
     * from {@code keyExpression} with the slot function ({@code CRC32C(key) % SLOTS}), so the copies are
     * never read, counted or written twice.
     */
    record ShadowFilter(SqlText.Jdbc sql, String keyExpression) {
        static final String SENTINEL = "__shardgate_shadow_filter__";
    }

    /** Running on several shards would give wrong results. */
    record ScatterRefused(RejectReason reason, String message) implements Scatter {}

    /** A merge whose LIMIT and OFFSET may be parameters. */
    record RowsTemplate(List<ColumnRef> groupBy, List<Aggregate> aggregates, boolean distinct, List<SortKey> orderBy,
            Optional<KeyValue> limit, Optional<KeyValue> offset, int hiddenColumns, boolean pushDownLimit) {
        public RowsTemplate {
            groupBy = List.copyOf(groupBy);
            aggregates = List.copyOf(aggregates);
            orderBy = List.copyOf(orderBy);
        }
    }

    /** How to read a split counter key. */
    sealed interface CounterRead {}

    /** The table is not a counter table. */
    record NotCounter() implements CounterRead {}

    /** Sum these output columns over the sub-rows. */
    record CounterColumns(List<Integer> columns) implements CounterRead {
        public CounterColumns {
            columns = List.copyOf(columns);
        }
    }

    /** The select list cannot be merged over sub-rows. */
    record CounterRefused(String message) implements CounterRead {}

    /**
     * How a write reaches the sub-rows of a split counter key (DESIGN.md, "Hot keys": one sub-row per distinct
     * shard among the sub-keys' owners; the logical row exists exactly when every sub-row does).
     */
    sealed interface CounterWrite {}

    /** Not a write to a counter table. */
    record NotCounterWrite() implements CounterWrite {}

    /** An UPDATE whose every assignment adds a literal or parameter to a counter column: any one sub-row takes it. */
    record Increment() implements CounterWrite {}

    /**
     * Home runs the client's statement; every other sub-row's shard runs {@code others} (the statement without
     * increments and with counter values zeroed, or the DELETE itself), or nothing when empty.
     */
    record HomeAndOthers(Optional<SqlText.Jdbc> others) implements CounterWrite {
        public HomeAndOthers {
            Objects.requireNonNull(others, "others");
        }
    }

    /** The write cannot keep a split key's sub-rows exact; {@code message} says why and what to write instead. */
    record CounterWriteRefused(String message) implements CounterWrite {
        public CounterWriteRefused {
            Objects.requireNonNull(message, "message");
        }
    }
}

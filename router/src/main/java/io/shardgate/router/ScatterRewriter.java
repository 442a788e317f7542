package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import io.shardgate.router.Analysis.RowsTemplate;
import io.shardgate.router.Analysis.ScatterRead;
import io.shardgate.router.Analysis.ScatterRefused;
import io.shardgate.router.plan.MergePlan.Aggregate;
import io.shardgate.router.plan.MergePlan.AggregateFunction;
import io.shardgate.router.plan.MergePlan.ColumnRef;
import io.shardgate.router.plan.MergePlan.SortKey;
import io.shardgate.router.plan.RejectReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * Plans a SELECT over several shards: the per-shard SQL (hidden columns appended for ORDER BY / GROUP BY
 * expressions not in the select list and for AVG's SUM and COUNT; LIMIT pushed down as offset + limit)
 * and the merge. Refuses, with the reason, whatever would give wrong rows when computed per shard.
 *
 * <p>Works on its own copy of the statement's tree, which it changes.
 */
final class ScatterRewriter {
    /** Stands for the pushed-down row count in per-shard SQL until the LIMIT parameters are bound. */
    static final String LIMIT_SENTINEL = "987654321987654321";

    private final PlainSelect select;
    private final Dialect dialect;
    private final TableScope scope;
    private final List<SelectItem<?>> hidden = new ArrayList<>();
    private final List<Aggregate> aggregates = new ArrayList<>();
    private final boolean star;
    private final int visibleCount;

    private ScatterRewriter(PlainSelect select, Dialect dialect, TableScope scope) {
        this.select = select;
        this.dialect = dialect;
        this.scope = scope;
        this.star = select.getSelectItems().stream().anyMatch(i -> i.getExpression() instanceof AllColumns);
        this.visibleCount = select.getSelectItems().size();
    }

    /** The scatter plan of {@code select} ({@code original} is the client's SQL, used when nothing changes). */
    static Analysis.Scatter plan(PlainSelect select, Dialect dialect, TableScope scope, SqlText.Jdbc original) {
        try {
            return new ScatterRewriter(select, dialect, scope).plan(original);
        } catch (Refusal r) {
            return new ScatterRefused(r.reason(), r.getMessage());
        }
    }

    private Analysis.Scatter plan(SqlText.Jdbc original) {
        refuseUnmergeable();
        boolean local = groupsAreShardLocal();
        List<ColumnRef> groupBy = local ? List.of() : groupBy();
        boolean grouped = !local && (!groupBy.isEmpty() || !aggregates.isEmpty());
        boolean distinct = select.getDistinct() != null;
        List<SortKey> orderBy = orderBy(grouped);
        if (distinct && !hidden.isEmpty()) {
            throw refuse("SELECT DISTINCT with ORDER BY or GROUP BY expressions that are not selected cannot be merged; select them");
        }
        Optional<KeyValue> limit = limitValue(select.getLimit() == null ? null : select.getLimit().getRowCount(), "LIMIT");
        Optional<KeyValue> offset = offsetValue();
        boolean pushDown = !grouped && limit.isPresent();
        // a literal LIMIT without OFFSET pushes down as itself: keep the client's text
        boolean limitUnchanged = offset.isEmpty() && limit.map(v -> v instanceof KeyValue.Literal).orElse(true);
        boolean changed = !hidden.isEmpty() || !limitUnchanged || (grouped && limit.isPresent());
        if (!changed) {
            return new ScatterRead(original, new RowsTemplate(groupBy, aggregates, distinct, orderBy, limit, offset, 0, false));
        }
        hidden.forEach(select::addSelectItems);
        select.setOffset(null);
        select.setLimit(pushDown ? new Limit().withRowCount(new LongValue(LIMIT_SENTINEL)) : null);
        SqlText.Jdbc sql = SqlText.toJdbc(select.toString(), dialect);
        return new ScatterRead(sql, new RowsTemplate(groupBy, aggregates, distinct, orderBy, limit, offset, hidden.size(), pushDown));
    }

    private void refuseUnmergeable() {
        Expressions.Contents all = Expressions.scan(expressionsOf(select));
        if (!all.windows().isEmpty()) {
            throw refuse("window function " + all.windows().getFirst() + " over rows from several shards cannot be merged");
        }
        if (select.getFetch() != null) {
            throw refuse("FETCH FIRST over several shards is not supported; use LIMIT");
        }
        if (select.getDistinct() != null && select.getDistinct().getOnSelectItems() != null) {
            throw refuse("DISTINCT ON over several shards cannot be merged");
        }
        if (select.getGroupBy() != null && select.getGroupBy().getGroupingSets() != null && !select.getGroupBy().getGroupingSets().isEmpty()) {
            throw refuse("GROUPING SETS over several shards cannot be merged");
        }
    }

    /**
     * Groups are complete on one shard when the GROUP BY includes a shard key: then HAVING, COUNT(DISTINCT)
     * and any aggregate expression are exact per shard and the merge only orders and limits.
     */
    private boolean groupsAreShardLocal() {
        if (select.getGroupBy() == null) {
            return false;
        }
        return groupByExpressions().stream()
                .anyMatch(e -> e instanceof Column c && scope.keyOwner(c).isPresent());
    }

    private List<Expression> groupByExpressions() {
        if (select.getGroupBy() == null) {
            return List.of();
        }
        List<?> expressions = select.getGroupBy().getGroupByExpressionList();
        return expressions.stream().map(Expression.class::cast).toList();
    }

    /** Group keys, after registering each output column's aggregate; refuses what cannot be re-aggregated. */
    private List<ColumnRef> groupBy() {
        List<Expression> groupExprs = groupByExpressions();
        boolean aggregating = !groupExprs.isEmpty()
                || Expressions.scan(select.getSelectItems().stream().map(i -> (Expression) i.getExpression()).toList()).hasAggregate();
        if (!aggregating) {
            return List.of();
        }
        if (star) {
            throw refuse("SELECT * with GROUP BY or aggregates over several shards cannot be merged; name the columns");
        }
        if (select.getHaving() != null) {
            throw refuse("HAVING over groups that span shards cannot be applied per shard; group by the shard key or filter without HAVING");
        }
        for (int i = 0; i < visibleCount; i++) {
            classifyOutput(i, groupExprs);
        }
        List<ColumnRef> keys = new ArrayList<>();
        for (Expression g : groupExprs) {
            keys.add(findOutput(g).orElseGet(() -> addHidden(g)));
        }
        return keys;
    }

    private void classifyOutput(int index, List<Expression> groupExprs) {
        Expression e = select.getSelectItems().get(index).getExpression();
        if (e instanceof Function f && Expressions.isAggregate(f)) {
            aggregates.addAll(mergeOf(f, ColumnRef.visible(index)));
            return;
        }
        if (Expressions.scan(e).hasAggregate()) {
            throw refuse("the aggregate inside " + e + " cannot be merged over shards; select the aggregate itself");
        }
        boolean grouped = groupExprs.stream().anyMatch(g -> sameExpression(g, e)
                || (g instanceof Column c && aliasOf(index).equals(SqlText.unquote(c.getColumnName()))));
        if (!grouped) {
            throw refuse("column " + e + " is neither in GROUP BY nor aggregated, so its value over several shards is undefined");
        }
    }

    /** How to re-aggregate one aggregate output; AVG appends SUM and COUNT as hidden columns. */
    private List<Aggregate> mergeOf(Function f, ColumnRef output) {
        String name = f.getName().toUpperCase(Locale.ROOT);
        if (f.isDistinct() || f.isUnique()) {
            throw refuse(name + "(DISTINCT …) over several shards cannot be merged: the same value may be counted on several shards");
        }
        return switch (name) {
            case "COUNT" -> List.of(new Aggregate(AggregateFunction.COUNT, output, List.of(output)));
            case "SUM" -> List.of(new Aggregate(AggregateFunction.SUM, output, List.of(output)));
            case "MIN" -> List.of(new Aggregate(AggregateFunction.MIN, output, List.of(output)));
            case "MAX" -> List.of(new Aggregate(AggregateFunction.MAX, output, List.of(output)));
            case "AVG" -> avg(f, output);
            default -> throw refuse(name + "() over several shards cannot be merged");
        };
    }

    private List<Aggregate> avg(Function f, ColumnRef output) {
        ExpressionList<?> args = f.getParameters();
        ColumnRef sum = addHidden(new Function().withName("SUM").withParameters(args));
        ColumnRef count = addHidden(new Function().withName("COUNT").withParameters(args));
        return List.of(new Aggregate(AggregateFunction.SUM, sum, List.of(sum)),
                new Aggregate(AggregateFunction.COUNT, count, List.of(count)),
                new Aggregate(AggregateFunction.AVG, output, List.of(sum, count)));
    }

    private List<SortKey> orderBy(boolean grouped) {
        List<OrderByElement> elements = select.getOrderByElements() == null ? List.of() : select.getOrderByElements();
        List<SortKey> keys = new ArrayList<>();
        for (OrderByElement o : elements) {
            Expression e = o.getExpression();
            ColumnRef col = findOutput(e).orElseGet(() -> hiddenSortColumn(e, grouped));
            keys.add(new SortKey(col, o.isAsc(), nullsFirst(o)));
        }
        return keys;
    }

    private ColumnRef hiddenSortColumn(Expression e, boolean grouped) {
        if (!grouped) {
            return addHidden(e);
        }
        if (e instanceof Function f && Expressions.isAggregate(f)) {
            ColumnRef col = ColumnRef.hidden(hidden.size());
            aggregates.addAll(mergeOf(f, col));
            hidden.add(hiddenItem(e, col.index()));
            return col;
        }
        throw refuse("ORDER BY " + e + " is neither a selected column nor an aggregate, so it cannot be ordered after merging groups");
    }

    /** MySQL sorts NULL as the lowest value, PostgreSQL as the highest; an explicit NULLS FIRST/LAST wins. */
    private boolean nullsFirst(OrderByElement o) {
        if (o.getNullOrdering() != null) {
            return o.getNullOrdering() == OrderByElement.NullOrdering.NULLS_FIRST;
        }
        return switch (dialect) {
            case MYSQL -> o.isAsc();
            case POSTGRES -> !o.isAsc();
        };
    }

    /** The visible output column an ORDER BY / GROUP BY expression names: by position, alias or same text. */
    private Optional<ColumnRef> findOutput(Expression e) {
        if (star) {
            return Optional.empty();
        }
        if (e instanceof LongValue position) {
            int p = (int) position.getValue();
            if (p < 1 || p > visibleCount) {
                throw refuse("position " + p + " is outside the select list");
            }
            return Optional.of(ColumnRef.visible(p - 1));
        }
        for (int i = 0; i < visibleCount; i++) {
            Expression item = select.getSelectItems().get(i).getExpression();
            boolean byAlias = e instanceof Column c && c.getTable() == null && aliasOf(i).equals(SqlText.unquote(c.getColumnName()));
            if (byAlias || sameExpression(e, item)) {
                return Optional.of(ColumnRef.visible(i));
            }
        }
        return Optional.empty();
    }

    private String aliasOf(int index) {
        Alias alias = select.getSelectItems().get(index).getAlias();
        return alias == null ? "" : SqlText.unquote(alias.getName());
    }

    private static boolean sameExpression(Expression a, Expression b) {
        if (a instanceof Column ca && b instanceof Column cb) {
            return SqlText.unquote(ca.getColumnName()).equals(SqlText.unquote(cb.getColumnName()))
                    && (ca.getTable() == null || cb.getTable() == null || ca.getTable().getName() == null
                    || cb.getTable().getName() == null
                    || SqlText.unquote(ca.getTable().getName()).equals(SqlText.unquote(cb.getTable().getName())));
        }
        return a.toString().equalsIgnoreCase(b.toString());
    }

    private ColumnRef addHidden(Expression e) {
        ColumnRef col = ColumnRef.hidden(hidden.size());
        hidden.add(hiddenItem(e, col.index()));
        return col;
    }

    /** Hidden columns get an alias so they cannot clash with a selected name. */
    private static SelectItem<?> hiddenItem(Expression e, int index) {
        return new SelectItem<>(e, new Alias("sg_hidden_" + index));
    }

    private Optional<KeyValue> offsetValue() {
        if (select.getLimit() != null && select.getLimit().getOffset() != null) {
            return limitValue(select.getLimit().getOffset(), "OFFSET");
        }
        return select.getOffset() == null ? Optional.empty() : limitValue(select.getOffset().getOffset(), "OFFSET");
    }

    private Optional<KeyValue> limitValue(Expression e, String clause) {
        return switch (e) {
            case null -> Optional.empty();
            case NullValue n -> Optional.empty();
            case LongValue v -> Optional.of(new KeyValue.Literal(Long.toString(v.getValue())));
            case JdbcParameter p -> Optional.of(new KeyValue.Param(p.getIndex() - 1));
            default -> throw refuse(clause + " " + e + " over several shards is not supported; use a number or a parameter");
        };
    }

    private static List<Expression> expressionsOf(PlainSelect s) {
        List<Expression> out = new ArrayList<>();
        s.getSelectItems().forEach(i -> out.add(i.getExpression()));
        if (s.getOrderByElements() != null) {
            s.getOrderByElements().forEach(o -> out.add(o.getExpression()));
        }
        if (s.getHaving() != null) {
            out.add(s.getHaving());
        }
        return out;
    }

    private static Refusal refuse(String message) {
        return new Refusal(RejectReason.UNSUPPORTED_SCATTER, message);
    }
}

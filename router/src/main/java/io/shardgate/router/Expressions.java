package io.shardgate.router;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.Select;

/** Finds subqueries, aggregates, window functions and columns inside an expression tree. */
final class Expressions {
    private Expressions() {}

    /** Aggregate functions of MySQL and PostgreSQL; a call to one makes a query aggregate. */
    static final Set<String> AGGREGATES = Set.of("COUNT", "SUM", "MIN", "MAX", "AVG", "GROUP_CONCAT", "STRING_AGG",
            "ARRAY_AGG", "JSON_ARRAYAGG", "JSON_OBJECTAGG", "JSON_AGG", "JSONB_AGG", "BIT_AND", "BIT_OR", "BIT_XOR",
            "BOOL_AND", "BOOL_OR", "EVERY", "STD", "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP",
            "VARIANCE", "ANY_VALUE", "PERCENTILE_CONT", "PERCENTILE_DISC", "MODE");

    /** What an expression tree contains. */
    record Contents(List<Select> subqueries, List<Function> aggregates, List<AnalyticExpression> windows, List<Column> columns) {
        boolean hasAggregate() {
            return !aggregates.isEmpty();
        }
    }

    static Contents scan(Expression... expressions) {
        return scan(List.of(expressions));
    }

    static Contents scan(List<? extends Expression> expressions) {
        Collector c = new Collector();
        for (Expression e : expressions) {
            if (e != null) {
                e.accept(c, null);
            }
        }
        return new Contents(List.copyOf(c.subqueries), List.copyOf(c.aggregates), List.copyOf(c.windows), List.copyOf(c.columns));
    }

    static boolean isAggregate(Function f) {
        return AGGREGATES.contains(f.getName().toUpperCase(Locale.ROOT));
    }

    private static final class Collector extends ExpressionVisitorAdapter<Void> {
        final List<Select> subqueries = new ArrayList<>();
        final List<Function> aggregates = new ArrayList<>();
        final List<AnalyticExpression> windows = new ArrayList<>();
        /** Columns outside subqueries. */
        final List<Column> columns = new ArrayList<>();

        @Override
        public <S> Void visit(Column column, S context) {
            columns.add(column);
            return null;
        }

        @Override
        public <S> Void visit(ParenthesedSelect select, S context) {
            subqueries.add(select);
            return null;
        }

        /** Every subquery dispatches here (Select.accept), whatever its form. */
        @Override
        public <S> Void visit(Select select, S context) {
            subqueries.add(select);
            return null;
        }

        @Override
        public <S> Void visit(Function function, S context) {
            if (isAggregate(function)) {
                aggregates.add(function);
            }
            return super.visit(function, context);
        }

        @Override
        public <S> Void visit(AnalyticExpression window, S context) {
            windows.add(window);
            return null;
        }
    }
}

package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.router.Analysis.CounterWrite;
import io.shardgate.router.TableScope.TableRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.operators.arithmetic.Addition;
import net.sf.jsqlparser.expression.operators.arithmetic.Subtraction;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;

/**
 * Writes to a counter table, analysed for the case that their key turns out to be split at routing time
 * (DESIGN.md, "Hot keys"). A split key keeps one sub-row per distinct shard of its sub-keys; the logical
 * counter is the sum of the sub-rows' counters, every other column is home's, and the logical row exists
 * exactly when every sub-row does. So:
 * <ul>
 *   <li>an UPDATE that only adds literals or parameters to counter columns may go to any one sub-row;</li>
 *   <li>any other UPDATE runs as written at home, and on the other sub-rows without its increments and with
 *       the counter columns it sets set to 0 (the other columns are kept equal on every sub-row);</li>
 *   <li>a DELETE runs on every sub-row;</li>
 *   <li>an INSERT runs as written at home and as {@code INSERT IGNORE} of the same row with zero counters
 *       on the others (an upsert's update clause handled as an UPDATE's assignments).</li>
 * </ul>
 * Conditions on counter columns, and assignments that read them other than as an increment, cannot be
 * evaluated on a sub-row, which holds only part of a count: such writes are refused, but only when
 * their key is split.
 */
final class CounterWrites {
    private final TableRef target;
    private final List<String> counters;
    private final ParsedStatement parsed;

    private enum Assignment {
        /** {@code c = c + amount}: one sub-row takes it. */
        INCREMENT,
        /** A counter column set to a value that reads no counter: home takes it, the others get 0. */
        SET_COUNTER,
        /** Any other column, reading no counter: every sub-row takes it. */
        OTHER
    }

    /** Why a write cannot be applied exactly to the sub-rows of a split key. */
    private static final class NotExact extends Exception {
        NotExact(String message) {
            super(message, null, false, false);
        }
    }

    private CounterWrites(TableRef target, ParsedStatement parsed) {
        this.target = target;
        this.parsed = parsed;
        HotKeyMode.Counter mode = (HotKeyMode.Counter) target.definition().hotKey();
        this.counters = mode.counterColumns().stream().map(c -> c.toLowerCase(Locale.ROOT)).toList();
    }

    /** Not a counter table, or not sharded: nothing to do. */
    static boolean applies(TableRef target) {
        return target.sharded() && target.definition().hotKey() instanceof HotKeyMode.Counter;
    }

    static CounterWrite update(TableRef target, Update update, ParsedStatement parsed) {
        CounterWrites w = new CounterWrites(target, parsed);
        try {
            return w.update(update);
        } catch (NotExact e) {
            return new Analysis.CounterWriteRefused(e.getMessage());
        }
    }

    static CounterWrite delete(TableRef target, Expression where, SqlText.Jdbc clientSql, ParsedStatement parsed) {
        CounterWrites w = new CounterWrites(target, parsed);
        try {
            w.requireNoCounterCondition(where, "DELETE");
            return new Analysis.HomeAndOthers(Optional.of(clientSql));
        } catch (NotExact e) {
            return new Analysis.CounterWriteRefused(e.getMessage());
        }
    }

    /** A single-row INSERT (several rows of which one is a split key are refused at routing time). */
    static CounterWrite insert(TableRef target, Insert insert, List<Column> columns, List<Expression> row, ParsedStatement parsed) {
        CounterWrites w = new CounterWrites(target, parsed);
        try {
            return new Analysis.HomeAndOthers(Optional.of(w.zeroedInsert(insert, columns, row)));
        } catch (NotExact e) {
            return new Analysis.CounterWriteRefused(e.getMessage());
        }
    }

    private CounterWrite update(Update update) throws NotExact {
        requireNoCounterCondition(update.getWhere(), "UPDATE");
        List<Assignment> kinds = classify(update.getUpdateSets(), false);
        if (kinds.stream().allMatch(k -> k == Assignment.INCREMENT)) {
            return new Analysis.Increment();
        }
        Update others = (Update) parsed.freshTree();
        List<UpdateSet> kept = othersAssignments(others.getUpdateSets(), kinds);
        if (kept.isEmpty()) {
            return new Analysis.HomeAndOthers(Optional.empty());
        }
        others.setUpdateSets(kept);
        return new Analysis.HomeAndOthers(Optional.of(SqlText.toJdbc(others.toString(), parsed.dialect())));
    }

    /**
     * {@code INSERT IGNORE INTO t (columns) VALUES (the row, counters 0)}; for an upsert, the same row with its
     * update clause as for the other sub-rows of an UPDATE (an {@code INSERT IGNORE} when nothing remains).
     */
    private SqlText.Jdbc zeroedInsert(Insert insert, List<Column> columns, List<Expression> row) throws NotExact {
        Insert copy = (Insert) parsed.freshTree();
        List<UpdateSet> upsert = copy.getDuplicateUpdateSets() == null ? List.of() : copy.getDuplicateUpdateSets();
        List<UpdateSet> kept = othersAssignments(upsert, classify(upsert, true));
        if (copy.getConflictAction() != null) {
            throw new NotExact("INSERT … ON CONFLICT cannot be applied to the sub-rows of a split key yet; insert the row and update it"
                    + " separately");
        }
        List<String> values = new ArrayList<>(row.size());
        for (int i = 0; i < row.size(); i++) {
            values.add(isCounter(columns.get(i)) ? "0" : row.get(i).toString());
        }
        boolean postgres = parsed.dialect() == Dialect.POSTGRES;
        StringBuilder sql = new StringBuilder("INSERT ").append(kept.isEmpty() && !postgres ? "IGNORE " : "").append("INTO ")
                .append(insert.getTable()).append(" (")
                .append(columns.stream().map(Column::getColumnName).collect(Collectors.joining(", "))).append(") VALUES (")
                .append(String.join(", ", values)).append(')');
        if (!kept.isEmpty()) {
            UpdateSet.appendUpdateSetsTo(sql.append(" ON DUPLICATE KEY UPDATE "), kept);
        } else if (postgres) {
            sql.append(" ON CONFLICT DO NOTHING");
        }
        return SqlText.toJdbc(sql.toString(), parsed.dialect());
    }

    private void requireNoCounterCondition(Expression where, String verb) throws NotExact {
        if (where == null) {
            return; // no WHERE: a scatter write, refused or routed by the key rules, not here
        }
        Optional<Column> counter = Expressions.scan(where).columns().stream().filter(this::isCounter).findFirst();
        if (counter.isPresent()) {
            throw new NotExact(verb + " has a condition on counter column " + name(counter.get()) + ", which no sub-row holds"
                    + " whole; restrict it by " + target.definition().shardKey() + " and other columns only");
        }
    }

    private List<Assignment> classify(List<UpdateSet> sets, boolean upsert) throws NotExact {
        List<Assignment> kinds = new ArrayList<>(sets.size());
        for (UpdateSet set : sets) {
            if (set.getColumns().size() != 1 || set.getValues().size() != 1) {
                throw new NotExact("assignments of several columns at once (" + set + ") are not split over sub-rows; assign one"
                        + " column at a time");
            }
            Column column = set.getColumn(0);
            Expression value = set.getValue(0);
            if (isCounter(column) && isIncrement(column, value, upsert)) {
                kinds.add(Assignment.INCREMENT);
                continue;
            }
            Optional<Column> read = Expressions.scan(value).columns().stream().filter(this::isCounter).findFirst();
            if (read.isPresent()) {
                throw new NotExact("the assignment " + set + " reads counter column " + name(read.get()) + ", which no sub-row"
                        + " holds whole; a counter may only be incremented (" + name(read.get()) + " = " + name(read.get())
                        + " + ?) or set to a value");
            }
            kinds.add(isCounter(column) ? Assignment.SET_COUNTER : Assignment.OTHER);
        }
        return kinds;
    }

    /** The assignments the sub-rows other than home take: no increments, counters set to 0, the rest as written. */
    private static List<UpdateSet> othersAssignments(List<UpdateSet> sets, List<Assignment> kinds) {
        List<UpdateSet> kept = new ArrayList<>();
        for (int i = 0; i < sets.size(); i++) {
            UpdateSet set = sets.get(i);
            switch (kinds.get(i)) {
                case INCREMENT -> { }
                case SET_COUNTER -> kept.add(new UpdateSet(set.getColumn(0), new LongValue(0)));
                case OTHER -> kept.add(set);
            }
        }
        return kept;
    }

    /** {@code c = c + amount}, {@code c = amount + c} or {@code c = c - amount}. */
    private boolean isIncrement(Column column, Expression value, boolean upsert) {
        return switch (value) {
            case Addition a -> sameColumn(a.getLeftExpression(), column) && isAmount(a.getRightExpression(), upsert)
                    || isAmount(a.getLeftExpression(), upsert) && sameColumn(a.getRightExpression(), column);
            case Subtraction s -> sameColumn(s.getLeftExpression(), column) && isAmount(s.getRightExpression(), upsert);
            default -> false;
        };
    }

    private boolean sameColumn(Expression e, Column column) {
        return e instanceof Column c && TableScope.names(c, target, SqlText.unquote(column.getColumnName()));
    }

    /** A literal number or a parameter; in an upsert also {@code VALUES(c)}, the value the row would have had. */
    private static boolean isAmount(Expression e, boolean upsert) {
        return switch (e) {
            case LongValue v -> true;
            case DoubleValue v -> true;
            case JdbcParameter p -> true;
            case SignedExpression s -> isAmount(s.getExpression(), false);
            case Function f -> upsert && f.getName().equalsIgnoreCase("VALUES") && f.getParameters() != null
                    && f.getParameters().size() == 1 && f.getParameters().get(0) instanceof Column;
            default -> false;
        };
    }

    private boolean isCounter(Column column) {
        return counters.stream().anyMatch(c -> TableScope.names(column, target, c));
    }

    private static String name(Column column) {
        return SqlText.unquote(column.getColumnName());
    }
}

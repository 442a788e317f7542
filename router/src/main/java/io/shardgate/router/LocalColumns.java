package io.shardgate.router;

import io.shardgate.router.plan.LocalColumn;
import java.util.Locale;
import java.util.Set;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.UserVariable;
import net.sf.jsqlparser.statement.select.SelectItem;

/** Classifies the outputs of a table-less SELECT for the front end. */
final class LocalColumns {
    private LocalColumns() {}

    static LocalColumn classify(SelectItem<?> item, Set<String> sessionFunctions) {
        Expression e = item.getExpression();
        String label = item.getAlias() == null ? e.toString() : SqlText.unquote(item.getAlias().getName());
        return switch (e) {
            case UserVariable v when v.isDoubleAdd() -> new LocalColumn(label, LocalColumn.Kind.SYSTEM_VARIABLE, systemVariable(v.getName()));
            case LongValue v -> new LocalColumn(label, LocalColumn.Kind.CONSTANT, e.toString());
            case StringValue v -> new LocalColumn(label, LocalColumn.Kind.CONSTANT, e.toString());
            case DoubleValue v -> new LocalColumn(label, LocalColumn.Kind.CONSTANT, e.toString());
            case NullValue v -> new LocalColumn(label, LocalColumn.Kind.CONSTANT, e.toString());
            case Function f when sessionFunctions.contains(f.getName().toUpperCase(Locale.ROOT)) ->
                    new LocalColumn(label, LocalColumn.Kind.SESSION_FUNCTION, f.getName().toUpperCase(Locale.ROOT));
            default -> new LocalColumn(label, LocalColumn.Kind.EXPRESSION, e.toString());
        };
    }

    /** {@code session.x}, {@code local.x} → {@code x}; {@code global.x} keeps its scope. */
    private static String systemVariable(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith("session.") || n.startsWith("local.")) {
            return n.substring(n.indexOf('.') + 1);
        }
        return n;
    }
}

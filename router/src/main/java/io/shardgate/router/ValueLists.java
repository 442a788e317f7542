package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.util.TablesNamesFinder;

/**
 * Long {@code IN (…)} lists of plain values, read without JSqlParser. JSqlParser spends 50–100 µs of lookahead on
 * each item of a list (a 50,000-item list from an ORM cost seconds, several times per statement), while the items
 * of such lists are almost always parameters or literals. So the text handed to the parser keeps the first item and
 * a marker in place of the rest; the items are read here in one linear pass, and after parsing the marked list gets
 * them back as the same nodes JSqlParser makes (checked against the parser's own node for the first item). The tree is
 * then the one a full parse gives, so analysis, routing and rewriting need to know nothing of this.
 *
 * <p>Only lists of one kind of item are taken: MySQL {@code ?n} (as numbered by {@link SqlText}), PostgreSQL
 * {@code $n}, integers and decimals (optionally negative), or plain single-quoted strings without backslashes.
 */
final class ValueLists {
    /** Shorter lists are parsed as they are: their cost is small and the plain path is the one tested most. */
    static final int MIN_ITEMS = 32;
    private static final String MARKER = "shardgate_value_list_";

    private ValueLists() {}

    /** The kinds of item, each built as JSqlParser builds it. */
    private enum Kind { PARAMETER, INTEGER, DECIMAL, STRING }

    /** One collapsed list: its items as text, and what they are. */
    private record List0(Kind kind, List<String> items) {}

    /** Text for the parser and the lists taken out of it, by marker number. */
    record Collapsed(String parseText, List<List0> lists) {
        boolean any() {
            return !lists.isEmpty();
        }
    }

    /** Replaces each long list of plain values in {@code text} by its first item and a marker. */
    static Collapsed collapse(String text, Dialect dialect) {
        List<List0> lists = new ArrayList<>();
        StringBuilder out = null;
        int copied = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            int skip = SqlText.skipQuotedOrComment(text, i, dialect);
            if (skip > i) {
                i = skip;
                continue;
            }
            if (isInKeyword(text, i)) {
                int open = skipSpace(text, i + 2);
                if (open < n && text.charAt(open) == '(') {
                    Optional<Scanned> list = scan(text, open + 1, dialect);
                    if (list.isPresent() && list.get().items().size() >= MIN_ITEMS) {
                        Scanned s = list.get();
                        if (out == null) {
                            out = new StringBuilder(n);
                        }
                        out.append(text, copied, open + 1).append(s.items().getFirst()).append(", ").append(MARKER)
                                .append(lists.size()).append(')');
                        lists.add(new List0(s.kind(), s.items()));
                        copied = s.end();
                        i = s.end();
                        continue;
                    }
                }
                i += 2;
                continue;
            }
            char c = text.charAt(i);
            if (Character.isLetterOrDigit(c) || c == '_' || c == '$') {
                while (i < n && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_' || text.charAt(i) == '$')) {
                    i++;
                }
                continue;
            }
            i++;
        }
        if (out == null) {
            return new Collapsed(text, List.of());
        }
        out.append(text, copied, n);
        return new Collapsed(out.toString(), List.copyOf(lists));
    }

    /**
     * Puts the lists back into the parsed tree. False when a marker was not found where expected or the parser's
     * first item differs from what this class builds: the caller then parses the full text instead.
     */
    static boolean restore(Statement statement, Collapsed collapsed) {
        boolean[] restored = new boolean[collapsed.lists().size()];
        boolean[] ok = {true};
        TablesNamesFinder<Void> walker = new TablesNamesFinder<>() {
            @Override
            public <S> Void visit(InExpression in, S context) {
                if (in.getRightExpression() instanceof ExpressionList<?> list && list.size() == 2
                        && list.get(1) instanceof Column marker && marker.getColumnName().startsWith(MARKER)) {
                    int k = Integer.parseInt(marker.getColumnName().substring(MARKER.length()));
                    ok[0] &= !restored[k] && refill(list, collapsed.lists().get(k));
                    restored[k] = true;
                }
                return super.visit(in, context);
            }
        };
        try {
            walker.getTables(statement);
        } catch (RuntimeException e) {
            return false; // a statement kind the walker does not know: parse in full
        }
        for (boolean r : restored) {
            ok[0] &= r;
        }
        return ok[0];
    }

    @SuppressWarnings("unchecked")
    private static boolean refill(ExpressionList<?> parsed, List0 list) {
        Expression first = (Expression) parsed.getFirst();
        Expression built = node(list.kind(), list.items().getFirst());
        if (!sameNode(first, built)) {
            return false;
        }
        ExpressionList<Expression> target = (ExpressionList<Expression>) parsed;
        target.clear();
        target.ensureCapacity(list.items().size());
        target.add(first);
        for (int i = 1; i < list.items().size(); i++) {
            target.add(node(list.kind(), list.items().get(i)));
        }
        return true;
    }

    private static boolean sameNode(Expression parsed, Expression built) {
        if (parsed.getClass() != built.getClass() || !parsed.toString().equals(built.toString())) {
            return false;
        }
        if (parsed instanceof SignedExpression p && built instanceof SignedExpression b) {
            return p.getExpression().getClass() == b.getExpression().getClass();
        }
        if (parsed instanceof JdbcParameter p && built instanceof JdbcParameter b) {
            return p.getIndex().equals(b.getIndex()) && p.isUseFixedIndex() == b.isUseFixedIndex();
        }
        return true;
    }

    private static Expression node(Kind kind, String item) {
        return switch (kind) {
            case PARAMETER -> new JdbcParameter(Integer.parseInt(item.substring(1)), true, item.substring(0, 1));
            case INTEGER -> item.startsWith("-") ? new SignedExpression('-', new LongValue(item.substring(1))) : new LongValue(item);
            case DECIMAL -> item.startsWith("-") ? new SignedExpression('-', new DoubleValue(item.substring(1))) : new DoubleValue(item);
            case STRING -> new StringValue(item);
        };
    }

    private record Scanned(Kind kind, List<String> items, int end) {}

    /** The items of a list starting just after its '(' when they are all plain values of one kind; end is past ')'. */
    private static Optional<Scanned> scan(String text, int from, Dialect dialect) {
        List<String> items = new ArrayList<>();
        Kind kind = null;
        int i = from;
        while (true) {
            i = skipSpace(text, i);
            int end = itemEnd(text, i, dialect);
            if (end < 0) {
                return Optional.empty();
            }
            Kind k = kindOf(text, i, end);
            if (k == null || (kind != null && k != kind)) {
                return Optional.empty();
            }
            kind = k;
            items.add(text.substring(i, end));
            i = skipSpace(text, end);
            if (i >= text.length()) {
                return Optional.empty();
            }
            char c = text.charAt(i);
            if (c == ')') {
                return Optional.of(new Scanned(kind, items, i + 1));
            }
            if (c != ',') {
                return Optional.empty();
            }
            i++;
        }
    }

    /** End of a plain value starting at {@code i}, or -1 when none starts there. */
    private static int itemEnd(String text, int i, Dialect dialect) {
        int n = text.length();
        if (i >= n) {
            return -1;
        }
        char c = text.charAt(i);
        if (c == '\'') {
            int end = SqlText.quotedEnd(text, i, false);
            return end > 0 && text.substring(i, end).indexOf('\\') < 0 ? end : -1;
        }
        if ((c == '?' && dialect == Dialect.MYSQL) || (c == '$' && dialect == Dialect.POSTGRES)) {
            int end = digitsEnd(text, i + 1);
            return end > i + 1 ? end : -1;
        }
        int start = c == '-' ? i + 1 : i;
        int end = digitsEnd(text, start);
        if (end == start) {
            return -1;
        }
        if (end < n && text.charAt(end) == '.') {
            int fraction = digitsEnd(text, end + 1);
            end = fraction > end + 1 ? fraction : -1;
        }
        // 1e5, 0x1F, 12abc: not a plain number
        return end > 0 && (end >= n || !(Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_'
                || text.charAt(end) == '.')) ? end : -1;
    }

    private static Kind kindOf(String text, int start, int end) {
        char c = text.charAt(start);
        if (c == '\'') {
            return Kind.STRING;
        }
        if (c == '?' || c == '$') {
            return Kind.PARAMETER;
        }
        return text.indexOf('.', start) >= 0 && text.indexOf('.', start) < end ? Kind.DECIMAL : Kind.INTEGER;
    }

    private static int digitsEnd(String text, int i) {
        while (i < text.length() && Character.isDigit(text.charAt(i))) {
            i++;
        }
        return i;
    }

    private static int skipSpace(String text, int i) {
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }

    /** The word IN (any case) at {@code i}, not part of a longer word. */
    private static boolean isInKeyword(String text, int i) {
        if (i + 2 > text.length() || !text.regionMatches(true, i, "IN", 0, 2)) {
            return false;
        }
        boolean before = i == 0 || !(Character.isLetterOrDigit(text.charAt(i - 1)) || text.charAt(i - 1) == '_');
        boolean after = i + 2 == text.length() || !(Character.isLetterOrDigit(text.charAt(i + 2)) || text.charAt(i + 2) == '_');
        return before && after;
    }
}

package io.shardgate.router;

import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.NotExpression;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;

/**
 * Works around a JSqlParser 5.3 bug (JSqlParser issues #2244, #2356): in {@code a IN (1, 2) AND b = 3}
 * the parser makes the IN's right side {@code (1, 2) AND b = 3}, and in {@code x = 1 AND y IN (2) OR z = 3}
 * it even groups {@code y IN (2) OR z = 3} under the AND. Routing on that tree could skip shards.
 *
 * <p>The bug keeps the operands and AND/OR operators in their textual order, so the repair reads the
 * tree in order as a flat sequence (an IN takes the first operand of its swallowed chain as its list)
 * and rebuilds it with SQL precedence (AND before OR). Parenthesised groups are repaired inside and
 * kept as one operand. The repaired tree is used only for analysis; SQL text is never printed from it.
 */
final class ConditionRepair {
    private ConditionRepair() {}

    private enum Op { AND, OR }

    static Expression repair(Expression e) {
        if (e == null) {
            return null;
        }
        List<Object> sequence = new ArrayList<>();
        flatten(e, sequence);
        return rebuild(sequence);
    }

    private static void flatten(Expression e, List<Object> out) {
        switch (e) {
            case AndExpression a -> binary(a, Op.AND, out);
            case OrExpression o -> binary(o, Op.OR, out);
            case InExpression in when isChain(in.getRightExpression()) -> swallowedChain(in, null, out);
            case NotExpression not when not.getExpression() instanceof InExpression in && isChain(in.getRightExpression()) ->
                    swallowedChain(in, not, out);
            case ParenthesedExpressionList<?> p when p.size() == 1 && p.get(0) instanceof Expression inner ->
                    out.add(new ParenthesedExpressionList<>(repair(inner)));
            case NotExpression not -> out.add(new NotExpression(repair(not.getExpression()), not.isExclamationMark()));
            default -> out.add(e);
        }
    }

    private static void binary(BinaryExpression b, Op op, List<Object> out) {
        flatten(b.getLeftExpression(), out);
        out.add(op);
        flatten(b.getRightExpression(), out);
    }

    private static boolean isChain(Expression e) {
        return e instanceof AndExpression || e instanceof OrExpression;
    }

    private static void swallowedChain(InExpression in, NotExpression not, List<Object> out) {
        List<Object> chain = new ArrayList<>();
        flatten(in.getRightExpression(), chain);
        InExpression fixed = new InExpression(in.getLeftExpression(), (Expression) chain.getFirst());
        fixed.setNot(in.isNot());
        fixed.setGlobal(in.isGlobal());
        chain.set(0, not == null ? fixed : new NotExpression(fixed, not.isExclamationMark()));
        out.addAll(chain);
    }

    private static Expression rebuild(List<Object> sequence) {
        Expression orChain = null;
        Expression andChain = (Expression) sequence.getFirst();
        for (int i = 1; i < sequence.size(); i += 2) {
            Op op = (Op) sequence.get(i);
            Expression next = (Expression) sequence.get(i + 1);
            if (op == Op.AND) {
                andChain = new AndExpression(andChain, next);
            } else {
                orChain = orChain == null ? andChain : new OrExpression(orChain, andChain);
                andChain = next;
            }
        }
        return orChain == null ? andChain : new OrExpression(orChain, andChain);
    }
}

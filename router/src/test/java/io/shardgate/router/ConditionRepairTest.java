package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.select.PlainSelect;
import org.junit.jupiter.api.Test;

/** JSqlParser 5.3 swallows the rest of a condition into an IN's right side; the repair restores SQL precedence. */
class ConditionRepairTest {

    @Test
    void inFollowedByAndBecomesAnAndOfTheIn() throws Exception {
        Expression repaired = ConditionRepair.repair(where("id IN (1, 2) AND x = 3"));
        assertThat(repaired).isInstanceOf(AndExpression.class);
        assertThat(((AndExpression) repaired).getLeftExpression()).isInstanceOf(InExpression.class);
        assertThat(shape(repaired)).isEqualTo("AND(IN(id), x = 3)");
    }

    @Test
    void andBindsTighterThanOrAcrossTheSwallowedChain() throws Exception {
        // parsed as AND(a = 1, IN(id; OR((1, 2), b = 2))): routing on it would restrict by a = 1
        assertThat(shape(ConditionRepair.repair(where("a = 1 AND id IN (1, 2) OR b = 2"))))
                .isEqualTo("OR(AND(a = 1, IN(id)), b = 2)");
        assertThat(shape(ConditionRepair.repair(where("id IN (1) OR id IN (2) AND b = 1"))))
                .isEqualTo("OR(IN(id), AND(IN(id), b = 1))");
    }

    @Test
    void parenthesesStayOneOperand() throws Exception {
        assertThat(shape(ConditionRepair.repair(where("(id IN (1, 2) OR b = 2) AND c = 3"))))
                .isEqualTo("AND((OR(IN(id), b = 2)), c = 3)");
    }

    @Test
    void notInKeepsItsNegation() throws Exception {
        Expression repaired = ConditionRepair.repair(where("id NOT IN (1, 2) AND x = 3"));
        assertThat(((InExpression) ((AndExpression) repaired).getLeftExpression()).isNot()).isTrue();
    }

    @Test
    void correctTreesAreUnchangedInShape() throws Exception {
        assertThat(shape(ConditionRepair.repair(where("x = 3 OR id IN (1, 2)")))).isEqualTo("OR(x = 3, IN(id))");
    }

    private static Expression where(String condition) throws Exception {
        return ((PlainSelect) CCJSqlParserUtil.parse("SELECT * FROM t WHERE " + condition)).getWhere();
    }

    private static String shape(Expression e) {
        return switch (e) {
            case AndExpression a -> "AND(" + shape(a.getLeftExpression()) + ", " + shape(a.getRightExpression()) + ")";
            case OrExpression o -> "OR(" + shape(o.getLeftExpression()) + ", " + shape(o.getRightExpression()) + ")";
            case InExpression in -> "IN(" + in.getLeftExpression() + ")";
            case net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<?> p when p.size() == 1 ->
                    "(" + shape((Expression) p.get(0)) + ")";
            default -> e.toString();
        };
    }
}

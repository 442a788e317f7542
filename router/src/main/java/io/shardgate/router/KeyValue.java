package io.shardgate.router;

import io.shardgate.cluster.KeyType;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.slot.KeyNormalizationException;
import io.shardgate.slot.ShardKeys;
import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;

/** A value a statement gives for a column: a literal (normalised while analysing) or a bound parameter. */
sealed interface KeyValue {

    /** A literal, already in canonical text for the column's type. */
    record Literal(String normalized) implements KeyValue {
        public Literal {
            Objects.requireNonNull(normalized, "normalized");
        }
    }

    /** The bound parameter at 0-based {@code index}. */
    record Param(int index) implements KeyValue {}

    /** The value's canonical text, resolving a parameter against the bound values. */
    default String normalize(KeyType type, List<?> params, Supplier<String> what) {
        return switch (this) {
            case Literal l -> l.normalized();
            case Param p -> {
                if (p.index() >= params.size()) {
                    throw new Refusal(RejectReason.MISSING_PARAMETER, "parameter " + (p.index() + 1) + " (" + what.get()
                            + ") is not bound; " + params.size() + " parameter(s) were given");
                }
                yield normalizeOrRefuse(type, params.get(p.index()), what);
            }
        };
    }

    /**
     * The value of a literal or parameter expression, or empty when the expression is something else
     * (a column, a function call) and so gives no placement.
     */
    static Optional<KeyValue> of(Expression e, KeyType type, String what) {
        return switch (e) {
            case JdbcParameter p -> Optional.of(new Param(p.getIndex() - 1));
            case LongValue v -> Optional.of(literal(type, v.getStringValue(), what));
            case StringValue v -> Optional.of(literal(type, v.getValue().replace("''", "'"), what));
            case DoubleValue v -> Optional.of(literal(type, new BigDecimal(v.toString()), what));
            case SignedExpression s when s.getSign() == '-' && s.getExpression() instanceof LongValue v ->
                    Optional.of(literal(type, "-" + v.getStringValue(), what));
            case NullValue n -> throw new Refusal(RejectReason.BAD_SHARD_KEY_VALUE, what + " is NULL; a NULL shard key has no shard");
            default -> Optional.empty();
        };
    }

    static String splitByText(Object value) {
        return ShardKeys.splitByText(value);
    }

    private static Literal literal(KeyType type, Object value, String what) {
        return new Literal(normalizeOrRefuse(type, value, () -> what));
    }

    /**
     * Canonical text of a value; a null {@code type} means a split-by value (whose column type the
     * cluster does not declare): its integer text if it is an integer, else its string.
     */
    private static String normalizeOrRefuse(KeyType type, Object value, Supplier<String> what) {
        String text;
        try {
            text = type == null ? splitByText(value) : ShardKeys.normalize(type, value);
        } catch (KeyNormalizationException e) {
            throw new Refusal(RejectReason.BAD_SHARD_KEY_VALUE, "bad value for " + what.get() + ": " + e.getMessage());
        }
        if (type == KeyType.STRING && text.endsWith(" ")) {
            // PAD SPACE collations (MariaDB's, _bin included) and PostgreSQL's char(n) hold 'a' and 'a ' equal; hashing
            // them apart would miss rows. Stripping the spaces before hashing would move keys already stored with them.
            throw new Refusal(RejectReason.BAD_SHARD_KEY_VALUE, "bad value for " + what.get() + ": '" + text + "' ends with a"
                    + " space; the shard compares it equal to the value without trailing spaces (PAD SPACE), which hashes to"
                    + " another slot, so string shard keys with trailing spaces are refused");
        }
        return text;
    }
}

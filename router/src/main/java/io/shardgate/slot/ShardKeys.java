package io.shardgate.slot;

import io.shardgate.cluster.KeyType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Objects;

/**
 * Normalises a shard-key value to the canonical text that {@link SlotFunction} hashes.
 *
 * <ul>
 *   <li>{@link KeyType#INT}: the value must be an integer in the signed 64-bit range. Numbers
 *       (Java integral types, {@code BigInteger}, a {@code BigDecimal} or double with no fraction)
 *       and strings of an optional sign and decimal digits, surrounded by optional spaces, are
 *       accepted. The canonical text is the shortest decimal form: {@code 42}, {@code '42'},
 *       {@code ' 042 '}, {@code 42.0} and a bound 42L all become {@code "42"}. Anything else
 *       (fractions, {@code '42abc'}, NULL) is refused: MySQL would coerce such values with a
 *       warning, and routing on a guess could return wrong rows.</li>
 *   <li>{@link KeyType#STRING}: the value's characters exactly as given (numbers use their
 *       canonical decimal text). No case or trailing-space folding: string key columns should use a
 *       binary or case-sensitive collation, or every client must send one spelling of a key.</li>
 * </ul>
 */
public final class ShardKeys {
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    private ShardKeys() {}

    /**
     * Canonical text of an append table's split-by value (a column whose type the cluster does not
     * declare): its integer text if it is an integer, else its string. Sub-key = slot of this text mod k.
     */
    public static String splitByText(Object value) {
        try {
            return normalize(KeyType.INT, value);
        } catch (KeyNormalizationException notAnInteger) {
            return normalize(KeyType.STRING, value);
        }
    }

    public static String normalize(KeyType type, Object value) {
        Objects.requireNonNull(type, "type");
        if (value == null) {
            throw new KeyNormalizationException("a NULL shard key has no slot");
        }
        return switch (type) {
            case INT -> normalizeInt(value);
            case STRING -> normalizeString(value);
        };
    }

    private static String normalizeInt(Object value) {
        return switch (value) {
            case Long l -> Long.toString(l);
            case Integer i -> Integer.toString(i);
            case Short s -> Short.toString(s);
            case Byte b -> Byte.toString(b);
            case BigInteger bi -> inLongRange(bi, value);
            case BigDecimal bd -> integralDecimal(bd, value);
            case Double d -> integralDecimal(BigDecimal.valueOf(d), value);
            case Float f -> integralDecimal(BigDecimal.valueOf(f.doubleValue()), value);
            case CharSequence cs -> parseIntText(cs.toString());
            default -> throw new KeyNormalizationException(
                    "value " + value + " of type " + value.getClass().getSimpleName() + " is not an integer shard key");
        };
    }

    private static String parseIntText(String text) {
        String t = text.strip();
        int start = (t.startsWith("-") || t.startsWith("+")) ? 1 : 0;
        if (t.length() == start || t.length() - start > 40) {
            throw notInteger(text);
        }
        for (int i = start; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < '0' || c > '9') {
                throw notInteger(text);
            }
        }
        return inLongRange(new BigInteger(t), text);
    }

    private static String integralDecimal(BigDecimal bd, Object original) {
        BigDecimal stripped = bd.stripTrailingZeros();
        if (stripped.scale() > 0) {
            throw new KeyNormalizationException("value " + original + " has a fraction; an integer shard key needs an integer");
        }
        return inLongRange(stripped.toBigIntegerExact(), original);
    }

    private static String inLongRange(BigInteger bi, Object original) {
        if (bi.compareTo(LONG_MIN) < 0 || bi.compareTo(LONG_MAX) > 0) {
            throw new KeyNormalizationException("value " + original + " is outside the 64-bit range of an integer shard key");
        }
        return bi.toString();
    }

    private static KeyNormalizationException notInteger(String text) {
        return new KeyNormalizationException("value '" + text + "' is not an integer; an integer shard key needs digits only");
    }

    private static String normalizeString(Object value) {
        return switch (value) {
            case CharSequence cs -> cs.toString();
            case BigDecimal bd -> bd.toPlainString();
            case Number n -> n.toString();
            default -> throw new KeyNormalizationException(
                    "value of type " + value.getClass().getSimpleName() + " is not a string shard key");
        };
    }
}

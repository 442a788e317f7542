package io.shardgate.proxy.exec.merge;

import io.shardgate.proxy.session.ColumnInfo;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;

/**
 * Numbers written as a MySQL server writes them in its text protocol, for values the merge computes (and, through
 * {@link PgText}, PostgreSQL's as PostgreSQL writes them).
 */
final class MySqlText {
    /** MySQL marks a DECIMAL/DOUBLE column whose scale is not fixed with 31 (39 in some versions) decimals. */
    private static final int NOT_FIXED_DECIMALS = 31;
    private static final int PG_NUMERIC = 1700;
    private static final double PLAIN_MAX = 1e15;
    private static final double PLAIN_MIN = 1e-15;

    private MySqlText() {}

    static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    static BigDecimal decimal(byte[] value) {
        return new BigDecimal(ValueOrder.text(value));
    }

    static double doubleValue(byte[] value) {
        return Double.parseDouble(ValueOrder.text(value));
    }

    /** A computed number in the form of {@code column}: integer, DECIMAL with the column's scale, or double. */
    static byte[] number(BigDecimal value, ColumnInfo column) {
        return bytes(switch (column.type()) {
            case FLOAT, DOUBLE -> formatFloating(value.doubleValue(), column);
            // PostgreSQL's unconstrained numeric prints the scale its inputs had, which the BigDecimal arithmetic keeps
            case DECIMAL -> column.pgTypeOid() == PG_NUMERIC && column.pgTypeModifier() == -1 ? value.toPlainString()
                    : column.decimals() >= NOT_FIXED_DECIMALS
                    ? value.stripTrailingZeros().toPlainString()
                    : value.setScale(column.decimals(), RoundingMode.HALF_UP).toPlainString();
            default -> value.setScale(0, RoundingMode.HALF_UP).toPlainString();
        });
    }

    /** A computed floating-point value as the column's server writes it: PostgreSQL's float4/float8 or MySQL's double. */
    static String formatFloating(double d, ColumnInfo column) {
        return switch (column.pgTypeOid()) {
            case PgText.FLOAT8 -> PgText.float8(d);
            case PgText.FLOAT4 -> PgText.float4((float) d);
            default -> formatDouble(d);
        };
    }

    /**
     * MySQL's shortest round-trip form of a double: plain digits within [1e-15, 1e15), otherwise
     * {@code 1.5e20} style; no trailing ".0". (An approximation of the server's {@code my_gcvt}.)
     */
    static String formatDouble(double d) {
        if (d == 0) {
            return "0";
        }
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return Double.toString(d);
        }
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        double abs = Math.abs(d);
        if (abs >= PLAIN_MIN && abs < PLAIN_MAX) {
            return exact.toPlainString();
        }
        int exponent = exact.precision() - exact.scale() - 1;
        BigDecimal mantissa = exact.movePointLeft(exponent).stripTrailingZeros();
        return mantissa.toPlainString() + "e" + exponent;
    }
}

package io.shardgate.proxy.exec.merge;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * Numbers the merge computes for a PostgreSQL cluster, written as PostgreSQL writes them, so that a scatter SUM of
 * {@code float8} or an AVG over several shards reads exactly as it would from one server.
 */
final class PgText {
    static final int FLOAT4 = 700;
    static final int FLOAT8 = 701;
    static final int NUMERIC = 1700;
    /** numeric.c: at least this many significant digits in a quotient (so numeric is no less precise than float8). */
    private static final int MIN_SIG_DIGITS = 16;
    private static final int MAX_DISPLAY_SCALE = 1000;
    /** numeric.c stores base-10000 digits; its scale choice works on their weights. */
    private static final BigInteger NBASE = BigInteger.valueOf(10_000);

    private PgText() {}

    /**
     * {@code float8out} with {@code extra_float_digits > 0} (the default since PostgreSQL 12, and what psql and pgJDBC
     * use): the shortest digits that read back as the same double, in plain notation for decimal exponents -4..14 and
     * as {@code 1.5e+20} / {@code 1e-05} (exponent of at least two digits) otherwise.
     */
    static String float8(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0" : "0";
        }
        return shortest(new BigDecimal(Double.toString(d)));
    }

    /** {@code float4out}: the same rules with the shortest digits of the float. */
    static String float4(float f) {
        if (Float.isNaN(f)) {
            return "NaN";
        }
        if (Float.isInfinite(f)) {
            return f > 0 ? "Infinity" : "-Infinity";
        }
        if (f == 0) {
            return (1 / f < 0) ? "-0" : "0";
        }
        return shortest(new BigDecimal(Float.toString(f)));
    }

    private static String shortest(BigDecimal value) {
        BigDecimal digits = value.stripTrailingZeros();
        int exponent = digits.precision() - digits.scale() - 1;
        if (exponent >= -4 && exponent < 15) {
            return digits.toPlainString();
        }
        String mantissa = digits.movePointLeft(exponent).toPlainString();
        String e = Integer.toString(Math.abs(exponent));
        return mantissa + (exponent < 0 ? "e-" : "e+") + (e.length() < 2 ? "0" + e : e);
    }

    /**
     * {@code numeric} AVG as {@code sum / count} with the result scale numeric.c's {@code select_div_scale} picks: 16
     * significant digits from the estimated weight of the quotient, at least the sum's scale, rounded half away from
     * zero. AVG(1, 2, 3, 4) is {@code 2.5000000000000000}, AVG(0.75 …) {@code 0.75000000000000000000}.
     */
    static String numericAverage(BigDecimal sum, long count) {
        BigDecimal divisor = BigDecimal.valueOf(count);
        long[] first1 = firstDigit(sum);
        long[] first2 = firstDigit(divisor);
        long qweight = first1[0] - first2[0];
        if (first1[1] <= first2[1]) {
            qweight--;
        }
        long rscale = MIN_SIG_DIGITS - qweight * 4;
        rscale = Math.max(rscale, Math.max(sum.scale(), 0));
        rscale = Math.max(rscale, 0);
        rscale = Math.min(rscale, MAX_DISPLAY_SCALE);
        return sum.divide(divisor, (int) rscale, RoundingMode.HALF_UP).toPlainString();
    }

    /** The weight (power of 10000) and value of the first non-zero base-10000 digit of |v|; {0, 0} for zero. */
    private static long[] firstDigit(BigDecimal v) {
        if (v.signum() == 0) {
            return new long[] {0, 0};
        }
        BigDecimal abs = v.abs();
        int decimalExponent = abs.precision() - abs.scale() - 1;   // 10^e <= |v| < 10^(e+1)
        int weight = Math.floorDiv(decimalExponent, 4);
        BigInteger digit = abs.movePointLeft(4 * weight).toBigInteger().mod(NBASE);
        return new long[] {weight, digit.longValue()};
    }
}

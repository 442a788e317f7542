package io.shardgate.proxy.exec.merge;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

/** Every expected string is what PostgreSQL 15 printed for the same value (psql, extra_float_digits 1). */
class PgTextTest {

    @Test
    void float8IsTheShortestFormInPostgresNotation() {
        assertThat(PgText.float8(1e20)).isEqualTo("1e+20");
        assertThat(PgText.float8(1.5e-5)).isEqualTo("1.5e-05");
        assertThat(PgText.float8(123456789012345678d)).isEqualTo("1.2345678901234568e+17");
        assertThat(PgText.float8(0.0001)).isEqualTo("0.0001");
        assertThat(PgText.float8(100)).isEqualTo("100");
        assertThat(PgText.float8(1e15)).isEqualTo("1e+15");
        assertThat(PgText.float8(1e14)).isEqualTo("100000000000000");
        assertThat(PgText.float8(-2.5e-7)).isEqualTo("-2.5e-07");
        assertThat(PgText.float8(0.1 + 0.2)).isEqualTo("0.30000000000000004");
        assertThat(PgText.float8(1e100)).isEqualTo("1e+100");
        assertThat(PgText.float8(-0.0)).isEqualTo("-0");
        assertThat(PgText.float8(Double.NaN)).isEqualTo("NaN");
        assertThat(PgText.float8(Double.NEGATIVE_INFINITY)).isEqualTo("-Infinity");
    }

    @Test
    void float4UsesTheFloatsShortestDigits() {
        assertThat(PgText.float4(3.4e38f)).isEqualTo("3.4e+38");
        assertThat(PgText.float4(0.1f)).isEqualTo("0.1");
        assertThat(PgText.float4(1e-5f)).isEqualTo("1e-05");
    }

    @Test
    void numericAverageHasTheScalePostgresDivisionPicks() {
        assertThat(PgText.numericAverage(new BigDecimal("10"), 4)).isEqualTo("2.5000000000000000");
        assertThat(PgText.numericAverage(new BigDecimal("3"), 2)).isEqualTo("1.5000000000000000");
        assertThat(PgText.numericAverage(new BigDecimal("1.50"), 2)).isEqualTo("0.75000000000000000000");
        assertThat(PgText.numericAverage(new BigDecimal("3.500"), 2)).isEqualTo("1.7500000000000000");
        assertThat(PgText.numericAverage(new BigDecimal("300001"), 2)).isEqualTo("150000.500000000000");
        assertThat(PgText.numericAverage(new BigDecimal("-7"), 3)).isEqualTo("-2.3333333333333333");
        assertThat(PgText.numericAverage(new BigDecimal("0"), 2)).isEqualTo("0.00000000000000000000");
        assertThat(PgText.numericAverage(new BigDecimal("12345678901235"), 2)).isEqualTo("6172839450617.5000");
        assertThat(PgText.numericAverage(new BigDecimal("0.00007"), 3)).isEqualTo("0.000023333333333333333333");
    }
}

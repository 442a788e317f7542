package io.shardgate.proxy.pg.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.error.ProxyException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

class PgTypesTest {

    @Test
    void integersFloatsAndBooleansToBinary() {
        assertThat(bin(PgTypes.INT2, "-2")).containsExactly(0xFF, 0xFE);
        assertThat(bin(PgTypes.INT4, "258")).containsExactly(0, 0, 1, 2);
        assertThat(bin(PgTypes.INT8, "-1")).containsExactly(-1, -1, -1, -1, -1, -1, -1, -1);
        assertThat(ByteBuffer.wrap(bin(PgTypes.FLOAT8, "1.5")).getDouble()).isEqualTo(1.5);
        assertThat(ByteBuffer.wrap(bin(PgTypes.FLOAT4, "-Infinity")).getFloat()).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(bin(PgTypes.BOOL, "t")).containsExactly(1);
        assertThat(bin(PgTypes.BOOL, "f")).containsExactly(0);
    }

    @Test
    void byteaHexTextToRawBytes() {
        assertThat(bin(PgTypes.BYTEA, "\\x00ff10")).containsExactly(0x00, 0xFF, 0x10);
        assertThat(bin(PgTypes.BYTEA, "\\x")).isEmpty();
    }

    @Test
    void datesAndTimestampsCountFrom2000() {
        assertThat(ByteBuffer.wrap(bin(PgTypes.DATE, "2000-01-02")).getInt()).isEqualTo(1);
        assertThat(ByteBuffer.wrap(bin(PgTypes.DATE, "1999-12-31")).getInt()).isEqualTo(-1);
        assertThat(ByteBuffer.wrap(bin(PgTypes.TIMESTAMP, "2000-01-01 00:00:01.5")).getLong()).isEqualTo(1_500_000);
        assertThat(ByteBuffer.wrap(bin(PgTypes.TIMESTAMPTZ, "2000-01-01 02:00:00+02")).getLong()).isZero();
        assertThat(ByteBuffer.wrap(bin(PgTypes.TIME, "00:01:00")).getLong()).isEqualTo(60_000_000);
    }

    @Test
    void infiniteValuesUseTheExtremesOfTheBinaryForm() {
        assertThat(ByteBuffer.wrap(bin(PgTypes.TIMESTAMP, "infinity")).getLong()).isEqualTo(Long.MAX_VALUE);
        assertThat(ByteBuffer.wrap(bin(PgTypes.TIMESTAMPTZ, "-infinity")).getLong()).isEqualTo(Long.MIN_VALUE);
        assertThat(ByteBuffer.wrap(bin(PgTypes.DATE, "infinity")).getInt()).isEqualTo(Integer.MAX_VALUE);
        assertThat(bin(PgTypes.NUMERIC, "NaN")).containsExactly(0, 0, 0, 0, 0xC0, 0, 0, 0);
        assertThat(bin(PgTypes.NUMERIC, "-Infinity")).containsExactly(0, 0, 0, 0, 0xF0, 0, 0, 0);
    }

    @Test
    void numericInBaseTenThousandDigits() {
        // 12345.678: digits 1, 2345, 6780; weight 1; dscale 3
        assertThat(bin(PgTypes.NUMERIC, "12345.678")).containsExactly(0, 3, 0, 1, 0, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1A, 0x7C);
        assertThat(bin(PgTypes.NUMERIC, "-0.01")).containsExactly(0, 1, 0xFF, 0xFF, 0x40, 0, 0, 2, 0, 100);
        assertThat(bin(PgTypes.NUMERIC, "0")).containsExactly(0, 0, 0, 0, 0, 0, 0, 0);
        for (String s : new String[] {"12345.678", "-0.01", "0", "100000000", "3.14159265358979", "-99999.99"}) {
            assertThat(PgTypes.fromBinary(PgTypes.NUMERIC, bin(PgTypes.NUMERIC, s))).as(s).isEqualTo(new BigDecimal(s));
        }
    }

    @Test
    void binaryParametersBecomeTheValuesTheSessionBinds() {
        assertThat(PgTypes.fromBinary(PgTypes.INT4, new byte[] {0, 0, 0, 42})).isEqualTo(42L);
        assertThat(PgTypes.fromBinary(PgTypes.INT8, new byte[] {-1, -1, -1, -1, -1, -1, -1, -2})).isEqualTo(-2L);
        assertThat(PgTypes.fromBinary(PgTypes.BOOL, new byte[] {1})).isEqualTo("true");
        assertThat(PgTypes.fromBinary(PgTypes.TEXT, "zoë".getBytes(StandardCharsets.UTF_8))).isEqualTo("zoë");
        assertThat(PgTypes.fromBinary(PgTypes.BYTEA, new byte[] {7})).isEqualTo(new byte[] {7});
        assertThat(PgTypes.fromBinary(PgTypes.DATE, new byte[] {0, 0, 0, 1})).isEqualTo(LocalDate.of(2000, 1, 2));
        assertThat(PgTypes.fromBinary(PgTypes.TIMESTAMP, ByteBuffer.allocate(8).putLong(1_000_000).array()))
                .isEqualTo(LocalDateTime.of(2000, 1, 1, 0, 0, 1));
        assertThat(PgTypes.fromBinary(PgTypes.UUID_OID, ByteBuffer.allocate(16).putLong(1).putLong(2).array()))
                .isEqualTo("00000000-0000-0001-0000-000000000002");
    }

    @Test
    void wrongLengthsAndUnknownTypesAreRefusedWithTheReason() {
        assertThatThrownBy(() -> PgTypes.fromBinary(PgTypes.INT4, new byte[] {1, 2}))
                .isInstanceOf(ProxyException.class).hasMessage("binary parameter of type OID 23 has 2 bytes, expected 4");
        assertThatThrownBy(() -> PgTypes.fromBinary(600, new byte[16]))
                .hasMessageContaining("binary format of parameters of type OID 600 is not supported");
    }

    @Test
    void theTypesTheProxyNamesRoundTripBetweenOidAndName() {
        // every OID with a declaration name maps back from the typname a shard reports for it
        java.util.Map<Integer, String> typnames = java.util.Map.ofEntries(java.util.Map.entry(PgTypes.BOOL, "bool"),
                java.util.Map.entry(PgTypes.BYTEA, "bytea"), java.util.Map.entry(PgTypes.INT2, "int2"),
                java.util.Map.entry(PgTypes.INT4, "int4"), java.util.Map.entry(PgTypes.INT8, "int8"),
                java.util.Map.entry(PgTypes.TEXT, "text"), java.util.Map.entry(PgTypes.VARCHAR, "varchar"),
                java.util.Map.entry(PgTypes.FLOAT8, "float8"), java.util.Map.entry(PgTypes.NUMERIC, "numeric"),
                java.util.Map.entry(PgTypes.TIMESTAMPTZ, "timestamptz"), java.util.Map.entry(PgTypes.UUID_OID, "uuid"));
        typnames.forEach((oid, typname) -> {
            assertThat(PgTypes.oidOf(typname)).as(typname).isEqualTo(oid);
            assertThat(PgTypes.sqlName(oid)).as(typname).isPresent();
        });
        assertThat(PgTypes.sqlName(0)).contains("unknown");
        assertThat(PgTypes.sqlName(PgTypes.FLOAT8)).contains("double precision");
        assertThat(PgTypes.sqlName(600)).isEmpty();
        assertThat(PgTypes.oidOf("point")).isZero();
    }

    private static byte[] bin(int oid, String text) {
        return PgTypes.toBinary(oid, text.getBytes(StandardCharsets.UTF_8));
    }
}

package io.shardgate.slot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.KeyType;
import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import java.util.stream.Stream;

class ShardKeysTest {

    static Stream<Object> spellingsOf42() {
        return Stream.of("42", " 042 ", "+42", 42, 42L, (short) 42, (byte) 42, 42.0, 42.0f, new BigDecimal("42.00"),
                BigInteger.valueOf(42));
    }

    @ParameterizedTest
    @MethodSource("spellingsOf42")
    void everySpellingOfFortyTwoNormalisesToTheSameText(Object value) {
        assertThat(ShardKeys.normalize(KeyType.INT, value)).isEqualTo("42");
    }

    @Test
    void negativeAndExtremeIntegersKeepTheirValue() {
        assertThat(ShardKeys.normalize(KeyType.INT, "-7")).isEqualTo("-7");
        assertThat(ShardKeys.normalize(KeyType.INT, Long.MAX_VALUE)).isEqualTo("9223372036854775807");
        assertThat(ShardKeys.normalize(KeyType.INT, "-9223372036854775808")).isEqualTo("-9223372036854775808");
    }

    @Test
    void textWithLettersIsRefusedNamingTheValue() {
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.INT, "42abc"))
                .isInstanceOf(KeyNormalizationException.class).hasMessageContaining("'42abc'").hasMessageContaining("not an integer");
    }

    @Test
    void fractionsAreRefused() {
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.INT, 4.5))
                .isInstanceOf(KeyNormalizationException.class).hasMessageContaining("4.5").hasMessageContaining("fraction");
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.INT, new BigDecimal("42.01")))
                .isInstanceOf(KeyNormalizationException.class).hasMessageContaining("fraction");
    }

    @Test
    void nullIsRefused() {
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.INT, null))
                .isInstanceOf(KeyNormalizationException.class).hasMessageContaining("NULL");
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.STRING, null))
                .isInstanceOf(KeyNormalizationException.class).hasMessageContaining("NULL");
    }

    @Test
    void valuesOutsideTheSixtyFourBitRangeAreRefused() {
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.INT, "9223372036854775808"))
                .isInstanceOf(KeyNormalizationException.class).hasMessageContaining("64-bit");
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.INT, BigInteger.TWO.pow(70)))
                .isInstanceOf(KeyNormalizationException.class).hasMessageContaining("64-bit");
    }

    @Test
    void emptyAndSignOnlyTextAreRefused() {
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.INT, "  ")).isInstanceOf(KeyNormalizationException.class);
        assertThatThrownBy(() -> ShardKeys.normalize(KeyType.INT, "-")).isInstanceOf(KeyNormalizationException.class);
    }

    @Test
    void stringKeysKeepTheirExactCharacters() {
        assertThat(ShardKeys.normalize(KeyType.STRING, "Alice ")).isEqualTo("Alice ");
        assertThat(ShardKeys.normalize(KeyType.STRING, "alice")).isNotEqualTo(ShardKeys.normalize(KeyType.STRING, "Alice"));
        assertThat(ShardKeys.normalize(KeyType.STRING, 42)).isEqualTo("42");
        assertThat(ShardKeys.normalize(KeyType.STRING, new BigDecimal("1E+3"))).isEqualTo("1000");
    }
}

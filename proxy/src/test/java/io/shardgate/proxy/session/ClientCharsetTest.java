package io.shardgate.proxy.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ClientCharsetTest {
    private static byte[] hex(String h) {
        return HexFormat.of().parseHex(h);
    }

    @Test
    void validUtf8DecodesAsUsual() {
        String text = "SELECT 'héllo ✓ 😀'";
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        assertThat(ClientCharset.UTF8MB4.decode(b)).isEqualTo(text);
        assertThat(ClientCharset.UTF8MB4.encode(text)).isEqualTo(b);
    }

    /** The report: 7B00FF80C3 must come back as 7B00FF80C3, not EFBFBD for each invalid byte. */
    @Test
    void invalidUtf8BytesEscapeOneByOneAndComeBackExactly() {
        byte[] b = hex("7B00FF80C3");
        String s = ClientCharset.UTF8MB4.decode(b);
        assertThat(s).isEqualTo("{\u0000\uDCFF\uDC80\uDCC3");
        assertThat(ClientCharset.UTF8MB4.encode(s)).isEqualTo(b);
    }

    @Test
    void overlongsSurrogatesAndTruncatedSequencesAreInvalid() {
        for (String h : new String[] {"C0AF", "E080AF", "EDA080", "F4908080", "F5808080", "E282", "F09F98", "80", "BF"}) {
            byte[] b = hex(h);
            String s = ClientCharset.UTF8MB4.decode(b);
            assertThat(s.chars()).as(h).allMatch(c -> c >= 0xDC80 && c <= 0xDCFF);
            assertThat(ClientCharset.UTF8MB4.encode(s)).as(h).isEqualTo(b);
        }
    }

    @Test
    void everyByteStringRoundTripsInEverySet() {
        Random random = new Random(42);
        for (ClientCharset cs : ClientCharset.values()) {
            for (int i = 0; i < 2000; i++) {
                byte[] b = new byte[random.nextInt(12)];
                random.nextBytes(b);
                assertThat(cs.encode(cs.decode(b))).as(cs + " " + HexFormat.of().formatHex(b)).isEqualTo(b);
            }
            byte[] all = new byte[256];
            for (int i = 0; i < 256; i++) {
                all[i] = (byte) i;
            }
            assertThat(cs.encode(cs.decode(all))).as(cs.name()).isEqualTo(all);
        }
    }

    @Test
    void latin1IsMySqlsCp1252() {
        assertThat(ClientCharset.LATIN1.decode(hex("636166E9"))).isEqualTo("café");
        assertThat(ClientCharset.LATIN1.decode(hex("80"))).isEqualTo("€");
        assertThat(ClientCharset.LATIN1.decode(hex("81"))).isEqualTo("\u0081"); // undefined in cp1252: MySQL's C1 control
        assertThat(ClientCharset.LATIN1.encode("café €")).isEqualTo(hex("636166E92080"));
        assertThatThrownBy(() -> ClientCharset.LATIN1.encode("✓")).hasMessageContaining("U+2713 cannot be written in latin1");
    }

    @Test
    void asciiEscapesHighBytes() {
        assertThat(ClientCharset.ASCII.decode(hex("41E9"))).isEqualTo("A\uDCE9");
        assertThat(ClientCharset.ASCII.encode("A\uDCE9")).isEqualTo(hex("41E9"));
    }

    @Test
    void handshakeCollationsAndNames() {
        assertThat(ClientCharset.byCollationId(45)).contains(ClientCharset.UTF8MB4);
        assertThat(ClientCharset.byCollationId(255)).contains(ClientCharset.UTF8MB4);
        assertThat(ClientCharset.byCollationId(33)).contains(ClientCharset.UTF8MB3);
        assertThat(ClientCharset.byCollationId(8)).contains(ClientCharset.LATIN1);
        assertThat(ClientCharset.byCollationId(63)).contains(ClientCharset.BINARY);
        assertThat(ClientCharset.byCollationId(13)).isEmpty(); // sjis_japanese_ci
        assertThat(ClientCharset.byCollationId(28)).isEmpty(); // gbk_chinese_ci
        assertThat(ClientCharset.byCollationId(1)).isEmpty(); // big5_chinese_ci
        assertThat(ClientCharset.byName("UTF8")).contains(ClientCharset.UTF8MB3);
        assertThat(ClientCharset.byName("sjis")).isEmpty();
        assertThat(ClientCharset.byCollationName("latin1_swedish_ci")).contains(ClientCharset.LATIN1);
        assertThat(ClientCharset.byCollationName("gbk_bin")).isEmpty();
    }

    @Test
    void stringParametersAreTextUnlessTheyAreBytesNoUtf8SetCanHold() {
        assertThat(ClientCharset.UTF8MB4.parameter(hex("636166C3A9"))).isEqualTo("café");
        assertThat(ClientCharset.UTF8MB4.parameter(hex("000102FF"))).isEqualTo(hex("000102FF"));
        assertThat(ClientCharset.BINARY.parameter(hex("C328"))).isEqualTo(hex("C328"));
        assertThat(ClientCharset.LATIN1.parameter(hex("636166E9"))).isEqualTo("café");
    }

    @Test
    void clientSqlGivesTheClientsBytesForItsOwnText() {
        byte[] b = hex("53454C454354205F62696E617279277B00FF80C327");
        ClientSql sql = ClientSql.of(b, ClientCharset.UTF8MB4);
        assertThat(sql.bytesOf(sql.text())).isSameAs(b);
        assertThat(sql.bytesOf(sql.text() + " ")).isEqualTo(hex("53454C454354205F62696E617279277B00FF80C32720"));
    }

    /** The proxy's own texts for character_set_results: what a set cannot hold becomes '?', as the server writes it. */
    @Test
    void encodeReplacingWritesWhatTheSetCannotHoldAsQuestionMarks() {
        assertThat(ClientCharset.LATIN1.encodeReplacing("'é €' in 日本😀")).isEqualTo(hex("27E920802720696E203F3F3F"));
        assertThat(ClientCharset.ASCII.encodeReplacing("é")).isEqualTo(hex("3F"));
        assertThat(ClientCharset.UTF8MB4.encodeReplacing("é😀")).isEqualTo(hex("C3A9F09F9880"));
        // an escaped byte is that byte in every set
        assertThat(ClientCharset.LATIN1.encodeReplacing(ClientCharset.UTF8MB4.decode(hex("FF")))).isEqualTo(hex("FF"));
    }
}

package io.shardgate.proxy.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.session.ClientCharset;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class MySqlStatementBytesTest {
    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    @Test
    void valuesAreWrittenAsConnectorJWritesThem() {
        byte[] sql = MySqlStatementBytes.render("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", Arrays.asList(null, -42L,
                new BigInteger("18446744073709551615"), new BigDecimal("1.50"), 1.5f, -2.25, LocalDate.of(2024, 2, 29),
                LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000), Duration.ofHours(-26), "it's \\ \n\0"),
                ClientCharset.UTF8MB4, false);
        assertThat(latin1(sql)).isEqualTo("INSERT INTO t VALUES (NULL, -42, 18446744073709551615, 1.50, 1.5, -2.25, '2024-02-29',"
                + " '2024-02-29 13:14:15.123456', '-26:00:00', 'it\\'s \\\\ \\n\\0')");
    }

    /** A String from the lossless decoding goes back as the client's bytes, in the session's character set. */
    @Test
    void stringsAreTheClientsBytes() {
        String invalid = ClientCharset.UTF8MB4.decode(HexFormat.of().parseHex("7B00FF80C3"));
        assertThat(MySqlStatementBytes.render("SELECT ?", List.of(invalid), ClientCharset.UTF8MB4, false))
                .isEqualTo(HexFormat.of().parseHex("53454C45435420" + "27" + "7B5C30FF80C3" + "27"));
        assertThat(MySqlStatementBytes.render("SELECT ?", List.of("café"), ClientCharset.LATIN1, false))
                .isEqualTo(HexFormat.of().parseHex("53454C45435420" + "27636166E927"));
        assertThat(MySqlStatementBytes.render("SELECT ?", List.of(new byte[] {0x27, (byte) 0xFF}), ClientCharset.UTF8MB4, false))
                .isEqualTo("SELECT _binary'\\'\u00FF'".getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void noBackslashEscapesDoublesQuotesAndWritesBytesInHex() {
        byte[] sql = MySqlStatementBytes.render("SELECT ?, ?", List.of("a'b\\c", new byte[] {0x01, (byte) 0xAB}),
                ClientCharset.UTF8MB4, true);
        assertThat(latin1(sql)).isEqualTo("SELECT 'a''b\\c', X'01AB'");
    }

    @Test
    void placeholdersInsideQuotesAndCommentsAreNotPlaceholders() {
        byte[] sql = MySqlStatementBytes.render("SELECT '?', \"?\", `?` /* ? */, ? -- ?\n", List.of(7L), ClientCharset.UTF8MB4, false);
        assertThat(latin1(sql)).isEqualTo("SELECT '?', \"?\", `?` /* ? */, 7 -- ?\n");
        assertThatThrownBy(() -> MySqlStatementBytes.render("SELECT ?", List.of(1L, 2L), ClientCharset.UTF8MB4, false))
                .hasMessageContaining("2 values for 1 placeholders");
    }
}

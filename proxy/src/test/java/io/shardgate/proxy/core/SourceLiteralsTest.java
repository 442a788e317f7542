package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cluster.Dialect;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ClientSql;
import io.shardgate.router.SqlTemplate;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The values the router routes by are what the server reads, introducer and all. */
class SourceLiteralsTest {
    private static SourceLiterals literals(byte[] sql, ClientCharset charset) {
        ClientSql client = ClientSql.of(sql, charset);
        return new SourceLiterals(client, SqlTemplate.of(client.text(), Dialect.MYSQL).orElseThrow());
    }

    private static SourceLiterals utf8(String sql) {
        return literals(sql.getBytes(StandardCharsets.UTF_8), ClientCharset.UTF8MB4);
    }

    @Test
    void anIntroducedStringIsItsBytesReadInTheIntroducersCharacterSet() {
        // a utf8mb4 client's _latin1'é' is the bytes C3 A9 read as latin1: 'Ã©', the key the server stores and compares
        assertThat(utf8("SELECT * FROM t WHERE k = _latin1'é' AND j = 'é'")).containsExactly("Ã©", "é");
        assertThat(utf8("SELECT * FROM t WHERE k = _utf8mb4'é' AND j = _utf8'é' AND b = _binary'é'")).containsExactly("é", "é", "é");
        // a latin1 client's byte E9: 'é' in latin1, an invalid byte in utf8mb4 (kept as its escape, never a guess)
        byte[] latin1 = "SELECT * FROM t WHERE k = _latin1'\u00e9' AND u = _utf8mb4'\u00e9'".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(literals(latin1, ClientCharset.LATIN1)).containsExactly("é", ClientCharset.UTF8MB4.decode(new byte[] {(byte) 0xE9}));
    }

    @Test
    void aSetTheProxyCannotReadIsOnlyTakenForAsciiBytes() {
        assertThat(utf8("SELECT * FROM t WHERE k = _latin2'abc'")).containsExactly("abc");
        assertThatThrownBy(() -> utf8("SELECT * FROM t WHERE k = _latin2'é'")).isInstanceOf(ProxyException.class)
                .hasMessageContaining("_latin2'é'").hasMessageContaining("latin2");
        // ASCII in a two-byte set is not the same characters
        assertThatThrownBy(() -> utf8("SELECT * FROM t WHERE k = _utf16'ab'")).isInstanceOf(ProxyException.class);
    }
}

package io.shardgate.proxy.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackendUrlTest {
    /**
     * A shard URL asking for multi-statements is overridden (Connector/J takes the last of repeated keys): text holding two
     * statements is sent to a shard only for its syntax error, which it must never run instead.
     */
    @Test
    void shardConnectionsNeverAllowSeveralStatements() {
        String url = BackendUrl.parse("jdbc:mariadb://db1:3306/app?allowMultiQueries=true").connectorUrl(Duration.ofSeconds(3), 16);
        assertThat(url).startsWith("jdbc:mysql://db1:3306/app?allowMultiQueries=true&").endsWith("&allowMultiQueries=false");
    }

    /**
     * The server counts an UPDATE's rows as the client asked at login (CLIENT_FOUND_ROWS): found rows by default, changed
     * rows for the pools of clients that did not ask for found rows; the shard's URL cannot override either.
     */
    @Test
    void foundRowsFollowsThePool() {
        BackendUrl url = BackendUrl.parse("jdbc:mariadb://db1:3306/app?useAffectedRows=true");
        assertThat(url.connectorUrl(Duration.ofSeconds(3), 16)).contains("&useAffectedRows=false&");
        assertThat(url.connectorUrl(Duration.ofSeconds(3), 16, true)).contains("&useAffectedRows=false&");
        assertThat(url.connectorUrl(Duration.ofSeconds(3), 16, false)).contains("&useAffectedRows=true&");
    }

    /** Connector/J decodes names and error texts one char per byte, whatever the session's SET NAMES. */
    @Test
    void namesAndErrorTextsAreDecodedAsBytes() {
        String url = BackendUrl.parse("jdbc:mariadb://db1:3306/app").connectorUrl(Duration.ofSeconds(3), 16);
        assertThat(url).contains("&characterSetResults=ISO8859_1&");
    }

    /** The server's bytes come back exactly: UTF-8 as text, other bytes (a latin1 session's) as escapes of themselves. */
    @Test
    void serverTextIsTheServersBytesDecodedLosslessly() {
        String utf8 = new String("Zoë 日本 😀".getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(BackendUrl.serverText(utf8)).isEqualTo("Zoë 日本 😀");
        String latin1 = new String(new byte[] {'c', 'a', 'f', (byte) 0xE9}, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(io.shardgate.proxy.session.ClientCharset.UTF8MB4.encode(BackendUrl.serverText(latin1)))
                .containsExactly('c', 'a', 'f', 0xE9);
        // text the driver wrote itself (a char above U+00FF cannot have come from one byte) stays as it is
        assertThat(BackendUrl.serverText("Communications link failure — 日本")).isEqualTo("Communications link failure — 日本");
        assertThat(BackendUrl.serverText(null)).isNull();
    }
}

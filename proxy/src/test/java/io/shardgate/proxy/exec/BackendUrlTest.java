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
}

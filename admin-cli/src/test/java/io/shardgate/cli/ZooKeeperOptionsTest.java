package io.shardgate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ZooKeeperOptionsTest {
    private static final Duration CONFIGURED = Duration.ofMillis(5_000);

    @Test
    void theEnvironmentOverridesTheConfiguredConnectTimeoutForCommands() {
        assertThat(ZooKeeperOptions.commandConnectTimeout(CONFIGURED, null)).isEqualTo(CONFIGURED);
        assertThat(ZooKeeperOptions.commandConnectTimeout(CONFIGURED, " ")).isEqualTo(CONFIGURED);
        assertThat(ZooKeeperOptions.commandConnectTimeout(CONFIGURED, "30000")).isEqualTo(Duration.ofSeconds(30));
        assertThat(ZooKeeperOptions.commandConnectTimeout(CONFIGURED, "100")).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void aBadOverrideIsAnErrorNamingTheVariable() {
        for (String bad : new String[] {"5s", "99", "120001", "-1"}) {
            assertThatThrownBy(() -> ZooKeeperOptions.commandConnectTimeout(CONFIGURED, bad))
                    .isInstanceOf(CliException.class)
                    .hasMessage("SHARDGATE_ZK_CONNECT_TIMEOUT_MS=" + bad + " is not a number of milliseconds in 100..120000");
        }
    }
}

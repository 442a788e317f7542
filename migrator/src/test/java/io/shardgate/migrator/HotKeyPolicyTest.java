package io.shardgate.migrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.slot.SplitKey;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HotKeyPolicyTest {
    private static final SplitKey.Id HOT = new SplitKey.Id("likes", "42");
    private static final SplitKey.Id OTHER = new SplitKey.Id("likes", "7");
    private static final Set<String> TABLES = Set.of("likes");
    private final HotKeyPolicy policy = new HotKeyPolicy(
            new HotKeyPolicy.Settings(1000, Duration.ofSeconds(10), 100, Duration.ofSeconds(60), 8));

    @Test
    void splitsAKeyOnlyAfterItStayedAboveTheThresholdForTheHoldTime() {
        assertThat(policy.decide(Map.of(HOT, 1500.0, OTHER, 50.0), Set.of(), TABLES, 0)).isEmpty();
        assertThat(policy.decide(Map.of(HOT, 1200.0), Set.of(), TABLES, 9_999)).isEmpty();
        assertThat(policy.decide(Map.of(HOT, 1100.0), Set.of(), TABLES, 10_000))
                .containsExactly(new HotKeyPolicy.Decision.Split(HOT, 8, 1100.0));
    }

    @Test
    void aDipBelowTheThresholdStartsTheClockAgain() {
        policy.decide(Map.of(HOT, 1500.0), Set.of(), TABLES, 0);
        assertThat(policy.decide(Map.of(HOT, 900.0), Set.of(), TABLES, 5_000)).isEmpty();
        assertThat(policy.decide(Map.of(HOT, 1500.0), Set.of(), TABLES, 6_000)).isEmpty();
        assertThat(policy.decide(Map.of(HOT, 1500.0), Set.of(), TABLES, 15_000)).isEmpty();
        assertThat(policy.decide(Map.of(HOT, 1500.0), Set.of(), TABLES, 16_000)).hasSize(1);
    }

    @Test
    void mergesASplitKeyOnlyWellBelowTheSplitThresholdAndAfterItsOwnHoldTime() {
        // between the thresholds: neither split again nor merged (hysteresis)
        assertThat(policy.decide(Map.of(HOT, 500.0), Set.of(HOT), TABLES, 0)).isEmpty();
        assertThat(policy.decide(Map.of(HOT, 500.0), Set.of(HOT), TABLES, 600_000)).isEmpty();
        // quiet keys are absent from the reports: a rate of 0
        assertThat(policy.decide(Map.of(), Set.of(HOT), TABLES, 600_001)).isEmpty();
        assertThat(policy.decide(Map.of(HOT, 20.0), Set.of(HOT), TABLES, 659_999)).isEmpty();
        assertThat(policy.decide(Map.of(HOT, 20.0), Set.of(HOT), TABLES, 660_001))
                .containsExactly(new HotKeyPolicy.Decision.Merge(HOT, 20.0));
    }

    @Test
    void ignoresTablesWithoutAHotKeyModeAndKeysAlreadySplit() {
        SplitKey.Id plain = new SplitKey.Id("accounts", "1");
        policy.decide(Map.of(plain, 9000.0, HOT, 9000.0), Set.of(HOT), TABLES, 0);
        assertThat(policy.decide(Map.of(plain, 9000.0, HOT, 9000.0), Set.of(HOT), TABLES, 100_000)).isEmpty();
    }

    @Test
    void refusesThresholdsThatWouldFlap() {
        assertThatThrownBy(() -> new HotKeyPolicy.Settings(1000, Duration.ofSeconds(1), 600, Duration.ofSeconds(1), 8))
                .hasMessageContaining("under half");
        assertThatThrownBy(() -> new HotKeyPolicy.Settings(0, Duration.ofSeconds(1), 0, Duration.ofSeconds(1), 8))
                .hasMessageContaining("positive");
        assertThatThrownBy(() -> new HotKeyPolicy.Settings(1000, Duration.ofSeconds(1), 10, Duration.ofSeconds(1), 1))
                .hasMessageContaining("k must be");
    }
}

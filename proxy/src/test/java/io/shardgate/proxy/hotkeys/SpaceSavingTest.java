package io.shardgate.proxy.hotkeys;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SpaceSavingTest {

    @Test
    void aNewKeyTakesTheSmallestCounterAndInheritsItsCountAsError() {
        SpaceSaving summary = new SpaceSaving(2);
        add(summary, "a", 5);
        add(summary, "b", 2);

        summary.add(new HotKey("t", "c"));

        assertThat(summary.counter(new HotKey("t", "b"))).isNull();
        SpaceSaving.Counter c = summary.counter(new HotKey("t", "c"));
        assertThat(c.count()).isEqualTo(3);
        assertThat(c.error()).isEqualTo(2);
        assertThat(summary.minCount()).isEqualTo(3);
        assertThat(summary.total()).isEqualTo(8);
    }

    @Test
    void minCountIsZeroUntilEveryCounterIsTakenAndClearEmptiesIt() {
        SpaceSaving summary = new SpaceSaving(3);
        add(summary, "a", 4);
        add(summary, "b", 1);
        assertThat(summary.minCount()).isZero();
        add(summary, "c", 2);
        assertThat(summary.minCount()).isEqualTo(1);

        summary.clear();

        assertThat(summary.size()).isZero();
        assertThat(summary.counter(new HotKey("t", "a"))).isNull();
        add(summary, "d", 1);
        assertThat(summary.counter(new HotKey("t", "d")).count()).isEqualTo(1);
    }

    private static void add(SpaceSaving summary, String key, int times) {
        for (int i = 0; i < times; i++) {
            summary.add(new HotKey("t", key));
        }
    }
}

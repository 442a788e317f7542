package io.shardgate.proxy.hotkeys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.shardgate.state.HotKeyReport.KeyRate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class HotKeySketchTest {
    private static final Duration WINDOW = Duration.ofSeconds(10);

    /** A clock the test moves by hand. */
    private static final class ManualClock {
        final AtomicLong nanos = new AtomicLong(1_000_000_000L);

        void advance(Duration d) {
            nanos.addAndGet(d.toNanos());
        }
    }

    private final ManualClock clock = new ManualClock();

    private HotKeySketch sketch(int capacity, int stripes) {
        return new HotKeySketch(capacity, WINDOW, stripes, clock.nanos::get);
    }

    private static Map<String, KeyRate> byKey(HotKeySketch.Top top) {
        return top.keys().stream().collect(Collectors.toMap(k -> k.table() + ":" + k.key(), k -> k));
    }

    @Test
    void countsAreExactWhileDistinctKeysFitTheCapacity() {
        HotKeySketch sketch = sketch(32, 4);
        Map<String, Long> truth = new HashMap<>();
        Random random = new Random(7);
        for (int i = 0; i < 5_000; i++) {
            String key = Integer.toString(random.nextInt(32));
            sketch.record("t", key);
            truth.merge("t:" + key, 1L, Long::sum);
        }

        Map<String, KeyRate> counted = byKey(sketch.top(100));

        assertThat(counted).hasSize(truth.size());
        truth.forEach((key, count) -> {
            assertThat(counted.get(key).count()).as(key).isEqualTo(count);
            assertThat(counted.get(key).error()).as(key).isZero();
        });
    }

    @Test
    void tablesAreCountedApart() {
        HotKeySketch sketch = sketch(8, 1);
        sketch.record("a", "1");
        sketch.record("a", "1");
        sketch.record("b", "1");

        assertThat(sketch.top(10).keys()).extracting(k -> k.table() + ":" + k.key() + "=" + k.count())
                .containsExactly("a:1=2", "b:1=1");
    }

    @Test
    void findsTheTrueTopKeysOfASkewedStreamLargerThanItsCapacity() {
        for (int stripes : new int[] {1, 8}) {
            HotKeySketch sketch = sketch(64, stripes);
            Map<String, Long> truth = zipfStream(sketch, 10_000, 200_000, 1.1, new Random(42));

            List<KeyRate> top = sketch.top(10).keys();

            List<String> trueTop = truth.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(10).map(Map.Entry::getKey).toList();
            assertThat(top).as("%d stripes", stripes).extracting(KeyRate::key).containsExactlyInAnyOrderElementsOf(trueTop);
            for (KeyRate k : sketch.top(Integer.MAX_VALUE).keys()) {
                long actual = truth.get(k.key());
                assertThat(actual).as("key %s with %d stripes", k.key(), stripes).isBetween(k.count() - k.error(), k.count());
            }
        }
    }

    @Test
    void boundsHoldAcrossTwoWindowsWhenKeysComeAndGo() {
        HotKeySketch sketch = sketch(16, 2);
        Random random = new Random(3);
        Map<String, Long> truth = zipfStream(sketch, 500, 20_000, 1.0, random);
        clock.advance(WINDOW);
        zipfStream(sketch, 500, 20_000, 1.0, random).forEach((k, v) -> truth.merge(k, v, Long::sum));

        for (KeyRate k : sketch.top(Integer.MAX_VALUE).keys()) {
            assertThat(truth.get(k.key())).as("key %s", k.key()).isBetween(k.count() - k.error(), k.count());
        }
    }

    /** Writes {@code events} keys drawn with probability proportional to 1/rank^s; returns the true counts. */
    private static Map<String, Long> zipfStream(HotKeySketch sketch, int keys, int events, double s, Random random) {
        double[] cumulative = new double[keys];
        double sum = 0;
        for (int rank = 1; rank <= keys; rank++) {
            sum += 1 / Math.pow(rank, s);
            cumulative[rank - 1] = sum;
        }
        Map<String, Long> truth = new HashMap<>();
        for (int i = 0; i < events; i++) {
            int index = java.util.Arrays.binarySearch(cumulative, random.nextDouble() * sum);
            String key = Integer.toString(index < 0 ? -index - 1 : index);
            sketch.record("t", key);
            truth.merge(key, 1L, Long::sum);
        }
        return truth;
    }

    @Test
    void concurrentWritersSumUp() throws Exception {
        HotKeySketch sketch = sketch(128, 4);
        int threads = 6;
        int perThread = 30_000;
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                writers.add(executor.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        sketch.record("t", Integer.toString(i % 100));
                    }
                }));
            }
            for (Future<?> writer : writers) {
                writer.get();
            }
        } finally {
            executor.shutdownNow();
        }

        List<KeyRate> keys = sketch.top(1000).keys();

        assertThat(keys).hasSize(100);
        assertThat(keys).allSatisfy(k -> {
            assertThat(k.count()).isEqualTo((long) threads * perThread / 100);
            assertThat(k.error()).isZero();
        });
    }

    @Test
    void rateCoversThePreviousWindowAndTheElapsedPartOfTheCurrent() {
        HotKeySketch sketch = sketch(8, 2);
        repeat(sketch, "hot", 100);
        clock.advance(Duration.ofSeconds(4));
        HotKeySketch.Top firstWindow = sketch.top(1);
        assertThat(firstWindow.windowSeconds()).isCloseTo(4.0, within(1e-9));
        assertThat(firstWindow.keys().getFirst().writesPerSecond()).isCloseTo(25.0, within(1e-9));

        clock.advance(Duration.ofSeconds(6)); // window 2 starts
        repeat(sketch, "hot", 50);
        clock.advance(Duration.ofSeconds(5));
        HotKeySketch.Top both = sketch.top(1);
        assertThat(both.windowSeconds()).isCloseTo(15.0, within(1e-9));
        assertThat(both.keys().getFirst().count()).isEqualTo(150);
        assertThat(both.keys().getFirst().writesPerSecond()).isCloseTo(10.0, within(1e-9));

        clock.advance(Duration.ofSeconds(10)); // window 3: the first window is forgotten
        assertThat(sketch.top(1).keys().getFirst().count()).isEqualTo(50);

        clock.advance(Duration.ofSeconds(20)); // two windows later: nothing recent
        assertThat(sketch.top(1).keys()).isEmpty();
    }

    @Test
    void aReportRightAfterStartDividesByAtLeastOneSecond() {
        HotKeySketch sketch = sketch(8, 1);
        repeat(sketch, "k", 10);

        HotKeySketch.Top top = sketch.top(5);

        assertThat(top.windowSeconds()).isEqualTo(1.0);
        assertThat(top.keys().getFirst().writesPerSecond()).isEqualTo(10.0);
    }

    @Test
    void topIsSortedByCountAndCutAtTheLimit() {
        HotKeySketch sketch = sketch(16, 4);
        for (int k = 1; k <= 6; k++) {
            repeat(sketch, "k" + k, k * 10);
        }

        List<KeyRate> top = sketch.top(3).keys();

        assertThat(top).extracting(KeyRate::key).containsExactly("k6", "k5", "k4");
        assertThat(top).isSortedAccordingTo(Comparator.comparingLong(KeyRate::count).reversed());
    }

    private static void repeat(HotKeySketch sketch, String key, int times) {
        for (int i = 0; i < times; i++) {
            sketch.record("t", key);
        }
    }
}

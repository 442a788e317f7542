package io.shardgate.proxy.hotkeys;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.state.StoreException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HotKeyPublisherTest {

    /** Records what it is given; fails the first {@code failures} publishes as an unreachable store would. */
    private static final class RecordingSink implements HotKeyPublisher.Sink {
        final BlockingQueue<HotKeySketch.Top> published = new LinkedBlockingQueue<>();
        final AtomicInteger failures;
        final AtomicInteger withdrawals = new AtomicInteger();

        RecordingSink(int failures) {
            this.failures = new AtomicInteger(failures);
        }

        @Override
        public void publish(HotKeySketch.Top top) {
            if (failures.getAndDecrement() > 0) {
                throw new StoreException.Unavailable("ZooKeeper is away", null);
            }
            published.add(top);
        }

        @Override
        public void withdraw() {
            withdrawals.incrementAndGet();
        }
    }

    @Test
    void publishesTheTopKeysRepeatedlyKeepsGoingAfterFailuresAndWithdrawsOnClose() throws Exception {
        HotKeySketch sketch = HotKeySketch.withDefaults();
        for (int i = 0; i < 40; i++) {
            sketch.record("t", "k" + i);
            sketch.record("t", "hot");
        }
        RecordingSink sink = new RecordingSink(2);
        HotKeyPublisher publisher = HotKeyPublisher.start(sketch, sink, Duration.ofMillis(10), "p1");

        HotKeySketch.Top first = sink.published.poll(10, TimeUnit.SECONDS);
        assertThat(first).isNotNull();
        assertThat(first.keys()).hasSize(HotKeyPublisher.PUBLISHED_KEYS);
        assertThat(first.keys().getFirst().key()).isEqualTo("hot");
        assertThat(sink.published.poll(10, TimeUnit.SECONDS)).as("a second report").isNotNull();

        publisher.close();
        sink.published.clear();

        assertThat(sink.withdrawals).hasValue(1);
        Thread.sleep(50);
        assertThat(sink.published).as("nothing after close").isEmpty();
    }
}

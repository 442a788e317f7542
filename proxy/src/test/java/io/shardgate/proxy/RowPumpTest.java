package io.shardgate.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.shardgate.proxy.session.RowStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The batches a streamed result goes out in. */
class RowPumpTest {
    /** {@code count} rows of one small value; before row {@code holdAt} (1-based) it waits for {@code go}. */
    private static final class Rows implements RowStream {
        private final int count;
        private final int holdAt;
        private final CountDownLatch held = new CountDownLatch(1);
        private final CountDownLatch go = new CountDownLatch(1);
        private int given;

        Rows(int count, int holdAt) {
            this.count = count;
            this.holdAt = holdAt;
        }

        @Override
        public byte[][] next() {
            if (given == count) {
                return null;
            }
            if (given + 1 == holdAt) {
                held.countDown();
                try {
                    go.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            given++;
            return new byte[][] {("row " + given).getBytes(StandardCharsets.US_ASCII)};
        }

        @Override
        public int warnings() {
            return 0;
        }

        @Override
        public void close() {
        }
    }

    /** The sizes of the batches written, in order. */
    private static List<Integer> batches(EmbeddedChannel channel) {
        List<Integer> sizes = new ArrayList<>();
        for (Object m = channel.readOutbound(); m != null; m = channel.readOutbound()) {
            sizes.add(((List<?>) m).size());
        }
        return sizes;
    }

    @Test
    void theFirstRowGoesOutAtOnceThenRowsInBatches() {
        EmbeddedChannel channel = new EmbeddedChannel();
        RowPump.Pumped pumped = new RowPump().pump(channel, new Rows(600, 0), 0, List::copyOf);
        assertThat(pumped).isEqualTo(new RowPump.Pumped(600, true));
        assertThat(batches(channel)).containsExactly(1, RowPump.BATCH_ROWS, RowPump.BATCH_ROWS, 600 - 1 - 2 * RowPump.BATCH_ROWS);
    }

    @Test
    void theFirstRowDoesNotWaitForTheNextOnes() throws Exception {
        EmbeddedChannel channel = new EmbeddedChannel();
        Rows rows = new Rows(3, 2); // the second row is late: a merge waiting for its slowest shard
        CompletableFuture<RowPump.Pumped> pumping = CompletableFuture.supplyAsync(() -> new RowPump().pump(channel, rows, 0,
                List::copyOf));
        assertThat(rows.held.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(batches(channel)).as("written while the second row is awaited").containsExactly(1);
        rows.go.countDown();
        assertThat(pumping.get(10, TimeUnit.SECONDS)).isEqualTo(new RowPump.Pumped(3, true));
        assertThat(batches(channel)).containsExactly(2);
    }
}

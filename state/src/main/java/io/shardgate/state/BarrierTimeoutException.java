package io.shardgate.state;

import java.time.Duration;
import java.util.Map;

/** An epoch barrier timed out; names every proxy that had not caught up and the epoch it showed. */
public final class BarrierTimeoutException extends RuntimeException {
    private final long epoch;
    private final Map<String, Long> lagging;

    public BarrierTimeoutException(long epoch, Duration waited, Map<String, Long> lagging) {
        super("proxies did not apply epoch " + epoch + " within " + waited.toMillis() + " ms: " + lagging
                + " (proxy id = applied epoch)");
        this.epoch = epoch;
        this.lagging = Map.copyOf(lagging);
    }

    public long epoch() {
        return epoch;
    }

    public Map<String, Long> lagging() {
        return lagging;
    }
}

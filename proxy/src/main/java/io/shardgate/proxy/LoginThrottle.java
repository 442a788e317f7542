package io.shardgate.proxy;

import io.shardgate.config.ShardgateConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failed logins, by client address, for every listener of one proxy. Each failure after the first from an address
 * delays the error reply: {@code limits.login-failure-delay-ms}, doubled per further failure up to
 * {@code limits.login-failure-max-delay-ms}; a success from the address, or 15 minutes without failures, starts it
 * over. Only that address waits (the front ends schedule the reply, no thread waits), so guessing from one address
 * slows down while other clients log in as fast as ever.
 *
 * <p>Failures are logged with the address, user and count, at the 1st, 2nd, 4th, 8th, … failure of an address, and
 * at most {@value #LOG_LINES_PER_MINUTE} lines a minute in all (the next line says how many were left out), so the log
 * cannot be flooded. Memory is bounded: at most {@value #MAX_ADDRESSES} addresses are remembered.
 */
public final class LoginThrottle {
    private static final Logger LOG = LoggerFactory.getLogger(LoginThrottle.class);
    static final int MAX_ADDRESSES = 10_000;
    static final int LOG_LINES_PER_MINUTE = 60;
    private static final long FORGET_AFTER_NANOS = Duration.ofMinutes(15).toNanos();
    private static final long MINUTE_NANOS = Duration.ofMinutes(1).toNanos();

    private final Duration baseDelay;
    private final Duration maxDelay;
    private final Map<String, Failures> byAddress = new ConcurrentHashMap<>();
    private final LongAdder total = new LongAdder();
    private final Object logLock = new Object();
    private long logWindowStart = System.nanoTime();
    private int loggedInWindow;
    private int suppressed;

    /** Failures of one address: how many since the last success, and when the last was. */
    private static final class Failures {
        int count;
        long lastNanos;
    }

    public LoginThrottle(Duration baseDelay, Duration maxDelay) {
        this.baseDelay = Objects.requireNonNull(baseDelay, "baseDelay");
        this.maxDelay = Objects.requireNonNull(maxDelay, "maxDelay");
        if (baseDelay.isNegative() || maxDelay.compareTo(baseDelay) < 0) {
            throw new IllegalArgumentException("login failure delays must satisfy 0 <= delay <= max delay, were " + baseDelay
                    + " and " + maxDelay);
        }
    }

    public static LoginThrottle of(ShardgateConfig.Limits limits) {
        return new LoginThrottle(limits.loginFailureDelay(), limits.loginFailureMaxDelay());
    }

    /**
     * Records a failed login and returns how long to wait before the error reply.
     *
     * @param protocol "mysql" or "postgres", for the log
     */
    public Duration failed(String address, String user, String protocol) {
        total.increment();
        long now = System.nanoTime();
        if (byAddress.size() >= MAX_ADDRESSES && !byAddress.containsKey(address)) {
            forgetOld(now);
        }
        int count;
        Failures f = byAddress.computeIfAbsent(address, a -> new Failures());
        synchronized (f) {
            if (f.count > 0 && now - f.lastNanos > FORGET_AFTER_NANOS) {
                f.count = 0;
            }
            count = ++f.count;
            f.lastNanos = now;
        }
        Duration delay = delayAfter(count);
        if (Integer.bitCount(count) == 1) {
            log(address, user, protocol, count, delay);
        }
        return delay;
    }

    /** A successful login from {@code address}: its failures are forgotten. */
    public void succeeded(String address) {
        if (!byAddress.isEmpty()) {
            byAddress.remove(address);
        }
    }

    /** Failed logins since the proxy started. */
    public long failures() {
        return total.sum();
    }

    /** The delay before the reply to an address's {@code count}-th failure in a row. */
    Duration delayAfter(int count) {
        if (count < 2 || baseDelay.isZero()) {
            return Duration.ZERO;
        }
        int doublings = Math.min(count - 2, 30);
        long millis = Math.min(maxDelay.toMillis(), baseDelay.toMillis() << doublings);
        return Duration.ofMillis(millis < 0 ? maxDelay.toMillis() : millis);
    }

    private void forgetOld(long now) {
        byAddress.values().removeIf(f -> {
            synchronized (f) {
                return now - f.lastNanos > FORGET_AFTER_NANOS;
            }
        });
        if (byAddress.size() >= MAX_ADDRESSES) {
            // a flood from many addresses: memory stays bounded, at the price of forgetting the counts
            LOG.warn("failed logins from more than {} addresses in 15 minutes; forgetting their counts", MAX_ADDRESSES);
            byAddress.clear();
        }
    }

    private void log(String address, String user, String protocol, int count, Duration delay) {
        int left;
        synchronized (logLock) {
            long now = System.nanoTime();
            if (now - logWindowStart > MINUTE_NANOS) {
                logWindowStart = now;
                loggedInWindow = 0;
            }
            if (loggedInWindow >= LOG_LINES_PER_MINUTE) {
                suppressed++;
                return;
            }
            loggedInWindow++;
            left = suppressed;
            suppressed = 0;
        }
        LOG.warn("failed {} login for user '{}' from {}: {} in a row from that address{}{}", protocol, user, address, count,
                delay.isZero() ? "" : "; its replies are delayed " + delay.toMillis() + " ms",
                left == 0 ? "" : " (" + left + " failed-login lines left out in the last minute)");
    }
}

package io.shardgate.state.zk;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link ZooKeeperClusterStore} talks to ZooKeeper.
 *
 * @param connectString    {@code host:port[,host:port...]}
 * @param connectTimeout   how long {@code connect} waits for the first connection before failing
 * @param sessionTimeout   ZooKeeper session timeout; a proxy's ephemeral node outlives a partition by
 *                         about this long (the server may clamp it to its min/max session timeout)
 * @param operationTimeout bound for one call while the connection is down: a call waits at most this
 *                         long for a connection and each ZooKeeper request at most this long for a reply
 */
public record ZooKeeperSettings(String connectString, Duration connectTimeout, Duration sessionTimeout,
        Duration operationTimeout) {
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(15);
    public static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(5);

    public ZooKeeperSettings {
        Objects.requireNonNull(connectString, "connectString");
        if (connectString.isBlank()) {
            throw new IllegalArgumentException("ZooKeeper connect string is empty");
        }
        requirePositive("connectTimeout", connectTimeout);
        requirePositive("sessionTimeout", sessionTimeout);
        requirePositive("operationTimeout", operationTimeout);
    }

    /** Settings with the default session (15 s) and operation (5 s) timeouts. */
    public static ZooKeeperSettings of(String connectString, Duration connectTimeout) {
        return new ZooKeeperSettings(connectString, connectTimeout, DEFAULT_SESSION_TIMEOUT, DEFAULT_OPERATION_TIMEOUT);
    }

    public ZooKeeperSettings withSessionTimeout(Duration timeout) {
        return new ZooKeeperSettings(connectString, connectTimeout, timeout, operationTimeout);
    }

    public ZooKeeperSettings withOperationTimeout(Duration timeout) {
        return new ZooKeeperSettings(connectString, connectTimeout, sessionTimeout, timeout);
    }

    private static void requirePositive(String name, Duration value) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero() || value.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " must be between 1 ms and " + Integer.MAX_VALUE + " ms, was " + value);
        }
    }
}

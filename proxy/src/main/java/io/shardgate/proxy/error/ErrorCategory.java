package io.shardgate.proxy.error;

/** Who has to act on an error. */
public enum ErrorCategory {
    /** The client sent something wrong or unsupported; retrying the same thing fails again. */
    USER,
    /** A shard, ZooKeeper or the proxy is not available right now; retrying later may succeed. */
    UNAVAILABLE,
    /** A bug or an unexpected state in Shardgate; the message and the log say where. */
    INTERNAL
}

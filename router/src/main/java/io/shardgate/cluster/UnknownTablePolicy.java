package io.shardgate.cluster;

/** What the router does with a table the cluster definition does not declare. */
public enum UnknownTablePolicy {
    /** Treat it as a single table on the cluster's default shard. */
    SINGLE,
    /** Reject the statement, naming the table. */
    REJECT
}

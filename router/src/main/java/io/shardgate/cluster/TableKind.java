package io.shardgate.cluster;

/** How a table's rows are placed over the shards. */
public enum TableKind {
    /** Rows spread by the shard key: hash(key) mod SLOTS picks the slot, the slot map picks the shard. */
    SHARDED,
    /** A small table copied to every shard: writes go to all shards, reads to any one. */
    BROADCAST,
    /** An unsharded table that lives on one named shard. */
    SINGLE
}

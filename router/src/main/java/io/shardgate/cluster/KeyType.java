package io.shardgate.cluster;

/**
 * The declared type of a shard key column. It decides how a literal or bound value is normalised
 * before hashing (see {@link io.shardgate.slot.ShardKeys}).
 */
public enum KeyType {
    /** A signed 64-bit integer column; {@code 42}, {@code '42'} and a bound 42 all normalise to "42". */
    INT,
    /** A character column; the value's exact characters are hashed (no case or space folding). */
    STRING
}

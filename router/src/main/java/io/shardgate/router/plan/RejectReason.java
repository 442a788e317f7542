package io.shardgate.router.plan;

/** Stable codes for statements the router refuses; the message of a {@link RoutePlan.Rejected} says the details. */
public enum RejectReason {
    /** The SQL could not be parsed. */
    PARSE_ERROR,
    /** The statement is past a {@link io.shardgate.router.StatementLimits} limit; refused before it was parsed. */
    STATEMENT_TOO_COMPLEX,
    /** A statement kind or clause the proxy does not route (yet). */
    UNSUPPORTED_STATEMENT,
    /** A table that the cluster does not declare, with the REJECT policy. */
    UNKNOWN_TABLE,
    /** Tables whose rows live on different shards are combined. */
    CROSS_SHARD_JOIN,
    /** A subquery that would see only one shard's rows when run per shard. */
    UNSUPPORTED_SUBQUERY,
    /** A read over several shards whose results cannot be merged exactly (COUNT(DISTINCT), HAVING, windows, …). */
    UNSUPPORTED_SCATTER,
    /** An INSERT into a sharded table that does not give the shard key. */
    MISSING_SHARD_KEY_ON_INSERT,
    /**
     * An INSERT into a sharded table without a column list, so the router cannot tell which value is
     * the shard key. A proxy may name the table's columns (read from a shard) and route it again.
     */
    INSERT_WITHOUT_COLUMN_LIST,
    /** INSERT … SELECT that is not known to be correct per shard. */
    UNSUPPORTED_INSERT_SELECT,
    /** An UPDATE (or upsert) that changes the shard key; the row would have to move. */
    SHARD_KEY_UPDATE,
    /** A shard key value that cannot be placed (wrong type, NULL, an expression). */
    BAD_SHARD_KEY_VALUE,
    /** Fewer bound parameters than the statement uses. */
    MISSING_PARAMETER,
    /** A write to a split counter key that its sub-rows cannot take exactly (see the message for what to write instead). */
    HOT_KEY_WRITE_UNSUPPORTED,
    /** A read of a split key that the router cannot merge exactly. */
    HOT_KEY_READ_UNSUPPORTED
}

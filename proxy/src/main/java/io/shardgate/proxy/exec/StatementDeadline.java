package io.shardgate.proxy.exec;

import java.util.function.LongSupplier;

/**
 * The deadline of the client statement a thread runs ({@code limits.statement-timeout-ms}), for the waits a statement
 * makes before it has a connection to cancel (a pool's wait, a login to a shard, a ping of an idle connection): those
 * must end at the statement's deadline, or as soon as it is cancelled, as the statement does on a shard.
 * {@code io.shardgate.proxy.core.RunningStatement} binds it while a statement runs.
 */
public final class StatementDeadline {
    /** Nanoseconds the running statement has left: 0 or less once it is past its deadline or cancelled. */
    public static final ScopedValue<LongSupplier> LEFT = ScopedValue.newInstance();

    private StatementDeadline() {}

    /** Nanoseconds the statement this thread runs has left; {@link Long#MAX_VALUE} when it runs none or has no deadline. */
    public static long leftNanos() {
        return LEFT.isBound() ? LEFT.get().getAsLong() : Long.MAX_VALUE;
    }
}

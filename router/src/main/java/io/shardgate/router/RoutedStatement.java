package io.shardgate.router;

import io.shardgate.router.plan.RoutePlan;
import java.util.Objects;

/**
 * A plan with the facts about its statement that a proxy needs around running it, decided by the router from the same
 * analysis and the same snapshot as the plan, so that nothing asks the statement again afterwards.
 *
 * @param plan              what to run
 * @param writesShardedRows whether the statement may change rows of sharded tables (a keyed UPDATE or DELETE, or an
 *                          INSERT): a fenced proxy checks it, and its written keys are counted for hot keys
 * @param holdsSnapshot     whether the proxy must let it finish before acknowledging a newer slot map: writes of
 *                          sharded rows, any statement about sharded rows, and writes to any table (a single table that
 *                          {@code table shard} turns into a sharded one must not be written as single once its rows
 *                          move); reads of other tables never delay an acknowledgement
 * @param writtenKeys       the (table, normalised key) pairs the statement writes with its parameters (see
 *                          {@link AnalysedStatement#forEachWrittenKey}); none for a rejected statement
 */
public record RoutedStatement(RoutePlan plan, boolean writesShardedRows, boolean holdsSnapshot, WrittenKeys writtenKeys) {
    public RoutedStatement {
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(writtenKeys, "writtenKeys");
    }

    /** The keys a routed write touches, given to a sink when asked (counted only for statements that run). */
    @FunctionalInterface
    public interface WrittenKeys {
        WrittenKeys NONE = sink -> { };

        void forEach(AnalysedStatement.WrittenKeySink sink);
    }

    /** Whether the plan writes to slots that are moving (it carries dual-write copies): a fenced proxy refuses it. */
    public boolean writesMovingSlots() {
        return switch (plan) {
            case RoutePlan.DualWrite d -> true;
            case RoutePlan.MultiShard m -> !m.copies().isEmpty();
            case RoutePlan.SingleShard s -> false;
            case RoutePlan.Broadcast b -> false;
            case RoutePlan.AnyShard a -> false;
            case RoutePlan.Session s -> false;
            case RoutePlan.Held h -> false;
            case RoutePlan.Rejected r -> false;
        };
    }
}

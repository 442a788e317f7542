package io.shardgate.router.plan;

import java.util.List;
import java.util.Objects;

/**
 * What to do with one statement, decided against one routing snapshot ({@link #epoch()}). Produced by
 * {@link io.shardgate.router.Router}; printed by {@link PlanPrinter}.
 */
public sealed interface RoutePlan {

    /** Epoch of the slot map the plan was made against. */
    long epoch();

    /** One shard runs the statement. */
    record SingleShard(long epoch, ShardStatement statement) implements RoutePlan {
        public SingleShard {
            Objects.requireNonNull(statement, "statement");
        }
    }

    /**
     * Several shards, each with its own SQL (a split multi-row INSERT, a scatter read with rewritten
     * SQL); the results are merged as {@code merge} says. {@code copies} are the dual-write copies of
     * writes that touch moving slots: each runs after the statement of its authoritative shard, inside
     * that shard's transaction.
     */
    record MultiShard(long epoch, List<ShardStatement> statements, MergePlan merge, List<ShadowCopy> copies)
            implements RoutePlan {
        public MultiShard {
            statements = List.copyOf(statements);
            Objects.requireNonNull(merge, "merge");
            copies = List.copyOf(copies);
            if (statements.size() < 2) {
                throw new IllegalArgumentException("a multi-shard plan needs at least two statements");
            }
        }

        public List<String> shards() {
            return statements.stream().map(ShardStatement::shard).toList();
        }
    }

    /**
     * The same SQL on every listed shard: DDL on sharded and broadcast tables, writes to broadcast
     * tables. Every shard gives the same result; the client sees the first shard's.
     */
    record Broadcast(long epoch, List<String> shards, String sql, List<Integer> parameters) implements RoutePlan {
        public Broadcast {
            shards = List.copyOf(shards);
            Objects.requireNonNull(sql, "sql");
            parameters = List.copyOf(parameters);
        }
    }

    /**
     * A write to keys in moving slots on one authoritative shard: run {@code statement}, then, in the
     * same transaction, make each {@link ShadowCopy}.
     */
    record DualWrite(long epoch, ShardStatement statement, List<ShadowCopy> copies) implements RoutePlan {
        public DualWrite {
            Objects.requireNonNull(statement, "statement");
            copies = List.copyOf(copies);
            if (copies.isEmpty()) {
                throw new IllegalArgumentException("a dual write needs at least one copy");
            }
        }
    }

    /**
     * A write to slots whose cutover pauses writes: hold it (queue, do not fail) until a snapshot with
     * a newer epoch arrives, then route it again.
     */
    record Held(long epoch, List<Integer> slots, String reason) implements RoutePlan {
        public Held {
            slots = List.copyOf(slots);
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** A session statement the proxy handles itself (and replays settings on its backend connections). */
    record Session(long epoch, SessionCommand command, String sql) implements RoutePlan {
        public Session {
            Objects.requireNonNull(command, "command");
            Objects.requireNonNull(sql, "sql");
        }
    }

    /**
     * A statement about no table ({@code SELECT 1}, {@code SELECT @@version}, {@code SHOW …}) that any
     * shard can answer; {@code statement} is on the default shard. {@code columns} classifies a
     * table-less SELECT's outputs (empty for SHOW) so the front end may answer it locally.
     */
    record AnyShard(long epoch, ShardStatement statement, List<LocalColumn> columns) implements RoutePlan {
        public AnyShard {
            Objects.requireNonNull(statement, "statement");
            columns = List.copyOf(columns);
        }
    }

    /** The statement is refused; {@code message} names the table, column and why. */
    record Rejected(long epoch, RejectReason reason, String message) implements RoutePlan {
        public Rejected {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(message, "message");
        }
    }
}

package io.shardgate.router;

import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import java.util.List;
import java.util.Objects;

/**
 * The statement router: a pure function from (statement, bound parameters, routing snapshot) to a
 * {@link RoutePlan}. Parse and analyse a statement once with {@link #analyse}, keep the
 * {@link AnalysedStatement} with the prepared statement, and call {@link #route} per execution.
 *
 * <p>Thread-safe. One instance per proxy; it remembers per-snapshot facts of the last snapshot it saw.
 */
public final class Router {
    private volatile SnapshotIndex index;

    /** Parses a statement once; cheap to keep, independent of the cluster definition. */
    public static AnalysedStatement analyse(String sql, Dialect dialect) {
        return analyse(sql, dialect, MySqlLexer.Gate.DEFAULT, StatementLimits.DEFAULTS);
    }

    /**
     * Parses a statement once, reading MySQL executable comments ({@code /*!40101 … *}{@code /}) as a server of the
     * {@code gate}'s version does: what it runs is analysed, what it skips is not.
     */
    public static AnalysedStatement analyse(String sql, Dialect dialect, MySqlLexer.Gate gate) {
        return analyse(sql, dialect, gate, StatementLimits.DEFAULTS);
    }

    /** As {@link #analyse(String, Dialect, MySqlLexer.Gate, StatementLimits)} with the default executable-comment gate. */
    public static AnalysedStatement analyse(String sql, Dialect dialect, StatementLimits limits) {
        return analyse(sql, dialect, MySqlLexer.Gate.DEFAULT, limits);
    }

    /**
     * Parses a statement once, reading executable comments as a server of the {@code gate}'s version does, unless it is
     * past {@code limits}: such a statement is not parsed, and routes to a {@link RejectReason#STATEMENT_TOO_COMPLEX}
     * rejection naming the limit.
     */
    public static AnalysedStatement analyse(String sql, Dialect dialect, MySqlLexer.Gate gate, StatementLimits limits) {
        Objects.requireNonNull(sql, "sql");
        Objects.requireNonNull(dialect, "dialect");
        Objects.requireNonNull(gate, "gate");
        Objects.requireNonNull(limits, "limits");
        return new AnalysedStatement(ParsedStatement.parse(sql, dialect, gate, limits));
    }

    /**
     * Routes an analysed statement.
     *
     * @param parameters the bound values, 0-based: {@code parameters.get(0)} is MySQL's first {@code ?}
     *                   or PostgreSQL's {@code $1}. Shard-key parameters are normalised as
     *                   {@link io.shardgate.slot.ShardKeys} says (a bound {@code "42"} and {@code 42L} agree).
     */
    public RoutePlan route(AnalysedStatement statement, List<?> parameters, RoutingSnapshot snapshot) {
        return route(statement, parameters, snapshot, 0);
    }

    /**
     * Routes an analysed statement, spreading increments of split counter keys by {@code spread}.
     *
     * @param spread which sub-row of a split counter key an increment goes to: the index, modulo their count,
     *               into the distinct shards of the key's sub-keys in sub-key order (0 = home). A proxy varies it
     *               per statement so that increments of a hot key spread over its shards; no other plan depends on it.
     */
    public RoutePlan route(AnalysedStatement statement, List<?> parameters, RoutingSnapshot snapshot, int spread) {
        return route(statement, parameters, snapshot, spread, IdSource.NONE);
    }

    /**
     * Routes an analysed statement, filling the sequence column of an INSERT into a table with a cluster sequence
     * from {@code ids} (before placing its rows, since the column may be the shard key).
     */
    public RoutePlan route(AnalysedStatement statement, List<?> parameters, RoutingSnapshot snapshot, int spread, IdSource ids) {
        Objects.requireNonNull(statement, "statement");
        Objects.requireNonNull(ids, "ids");
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(snapshot, "snapshot");
        RoutePlan plan = plan(statement, parameters, snapshot, spread, ids);
        return ParseCopyPlans.check(plan, statement, snapshot.cluster());
    }

    private RoutePlan plan(AnalysedStatement statement, List<?> parameters, RoutingSnapshot snapshot, int spread, IdSource ids) {
        Analysis analysis = statement.analysisFor(snapshot.cluster());
        if (analysis instanceof Analysis.Fixed fixed) {
            return fixed.plan().apply(snapshot.epoch());
        }
        try {
            SnapshotIndex base = indexOf(snapshot);
            return switch (analysis) {
                case Analysis.Keyed k -> new RoutingRun(indexFor(base, k.tables()), parameters, spread, ids).keyed(k);
                case Analysis.Insert i -> new RoutingRun(indexFor(base, List.of(i.table())), parameters, spread, ids).insert(i);
                case Analysis.Fixed f -> f.plan().apply(snapshot.epoch());
            };
        } catch (Refusal r) {
            return new RoutePlan.Rejected(snapshot.epoch(), r.reason(), r.getMessage());
        } catch (StackOverflowError e) {
            // a last resort: StatementLimits should have refused the statement before it was parsed
            return new RoutePlan.Rejected(snapshot.epoch(), RejectReason.STATEMENT_TOO_COMPLEX, StatementLimits.overflowMessage());
        }
    }

    /**
     * Routes as {@link #route(AnalysedStatement, List, RoutingSnapshot, int, IdSource)} and adds the facts about the
     * statement that running the plan needs (see {@link RoutedStatement}), decided under the same snapshot.
     */
    public RoutedStatement routeStatement(AnalysedStatement statement, List<?> parameters, RoutingSnapshot snapshot, int spread,
            IdSource ids) {
        RoutePlan plan = route(statement, parameters, snapshot, spread, ids);
        var cluster = snapshot.cluster();
        boolean writes = statement.writesShardedRows(cluster);
        boolean holds = writes || statement.touchesShardedRows(cluster) || statement.modifiesRows();
        RoutedStatement.WrittenKeys keys = writes && !(plan instanceof RoutePlan.Rejected)
                ? sink -> statement.forEachWrittenKey(cluster, parameters, sink) : RoutedStatement.WrittenKeys.NONE;
        return new RoutedStatement(plan, writes, holds, keys);
    }

    /** Parses, analyses and routes in one go: for one-off text statements. */
    public RoutePlan route(String sql, List<?> parameters, RoutingSnapshot snapshot) {
        return route(analyse(sql, snapshot.cluster().dialect()), parameters, snapshot);
    }

    /**
     * The index to route a statement over {@code tables} with: the snapshot's, or, for tables being sharded in place,
     * their table sharding's view. Such tables sit on other shards than the rest until their sharding ends, so a
     * statement that names them with other sharded tables cannot run per shard and is refused.
     */
    private static SnapshotIndex indexFor(SnapshotIndex base, List<TableDefinition> tables) {
        if (base.byShardingTable.isEmpty()) {
            return base;
        }
        SnapshotIndex chosen = null;
        String chosenTable = null;
        String other = null;
        for (TableDefinition t : tables) {
            SnapshotIndex view = base.byShardingTable.get(t.name());
            if (view == null) {
                other = t.kind() == TableKind.SHARDED ? t.name() : other;
            } else if (chosen != null && chosen != view) {
                throw new Refusal(RejectReason.CROSS_SHARD_JOIN, "tables " + chosenTable + " and " + t.name()
                        + " are being sharded in place separately, so their rows are not on the same shards yet; join them"
                        + " once 'table shard' has ended");
            } else {
                chosen = view;
                chosenTable = t.name();
            }
        }
        if (chosen == null) {
            return base;
        }
        if (other != null) {
            throw new Refusal(RejectReason.CROSS_SHARD_JOIN, "table " + chosenTable + " is being sharded in place (its rows"
                    + " are leaving shard " + base.snapshot.slotMap().tableSharding(chosenTable).orElseThrow().home()
                    + " slot by slot) and " + other + " is not, so their rows are not on the same shards yet; join them once"
                    + " 'table shard' has ended");
        }
        return chosen;
    }

    private SnapshotIndex indexOf(RoutingSnapshot snapshot) {
        SnapshotIndex i = index;
        if (i == null || i.snapshot != snapshot) {
            i = new SnapshotIndex(snapshot);
            index = i;
        }
        return i;
    }
}

package io.shardgate.router;

import io.shardgate.cluster.Dialect;
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
        Objects.requireNonNull(sql, "sql");
        Objects.requireNonNull(dialect, "dialect");
        return new AnalysedStatement(ParsedStatement.parse(sql, dialect));
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
        Objects.requireNonNull(statement, "statement");
        Objects.requireNonNull(parameters, "parameters");
        Objects.requireNonNull(snapshot, "snapshot");
        Analysis analysis = statement.analysisFor(snapshot.cluster());
        if (analysis instanceof Analysis.Fixed fixed) {
            return fixed.plan().apply(snapshot.epoch());
        }
        try {
            RoutingRun run = new RoutingRun(indexOf(snapshot), parameters, spread);
            return switch (analysis) {
                case Analysis.Keyed k -> run.keyed(k);
                case Analysis.Insert i -> run.insert(i);
                case Analysis.Fixed f -> f.plan().apply(snapshot.epoch());
            };
        } catch (Refusal r) {
            return new RoutePlan.Rejected(snapshot.epoch(), r.reason(), r.getMessage());
        }
    }

    /** Parses, analyses and routes in one go: for one-off text statements. */
    public RoutePlan route(String sql, List<?> parameters, RoutingSnapshot snapshot) {
        return route(analyse(sql, snapshot.cluster().dialect()), parameters, snapshot);
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

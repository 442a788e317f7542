package io.shardgate.router;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShardStatement;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The plans a statement analysed from a {@link ParseCopy} may run with. The router saw the statement without its
 * charset introducers and COLLATE clauses, so only a plan that sends the statement's own text to its shards and
 * computes nothing from it is exact: one shard, any shard (not answered by the proxy), or several shards whose
 * results are concatenated or whose affected rows are added. Anything the router would rewrite (a merge's ORDER BY,
 * aggregates, LIMIT, a multi-row INSERT split per shard), dual writes, and shard key matches the blanked text could
 * change are refused, naming what was blanked.
 */
final class ParseCopyPlans {
    /** Character sets whose ASCII is not one byte per character: a string introduced by one is never read as written. */
    private static final Set<String> WIDE = Set.of("ucs2", "utf16", "utf16le", "utf32");

    private ParseCopyPlans() {}

    static RoutePlan check(RoutePlan plan, AnalysedStatement statement, ClusterDefinition cluster) {
        ParseCopy copy = statement.parseCopy();
        if (!copy.changed()) {
            return plan;
        }
        String sql = statement.sql();
        return switch (plan) {
            case RoutePlan.SingleShard s -> keyed(plan, List.of(s.statement()), sql, copy, statement, cluster);
            case RoutePlan.AnyShard a -> unchanged(List.of(a.statement()), sql)
                    // the proxy's own answer would be computed from the blanked text: the shard answers
                    ? new RoutePlan.AnyShard(a.epoch(), a.statement(), List.of()) : refused(plan, copy, "the statement would be rewritten");
            case RoutePlan.MultiShard m -> !m.copies().isEmpty() ? refused(plan, copy, "it writes moving rows (dual write)")
                    : !plainMerge(m.merge()) ? refused(plan, copy, "its results over several shards would be merged by the proxy")
                    : keyed(plan, m.statements(), sql, copy, statement, cluster);
            case RoutePlan.Broadcast b -> b.sql().equals(sql) ? plan : refused(plan, copy, "the statement would be rewritten");
            case RoutePlan.DualWrite d -> refused(plan, copy, "it writes moving rows (dual write)");
            case RoutePlan.Held h -> plan;
            case RoutePlan.Session s -> plan;
            case RoutePlan.Rejected r -> plan;
        };
    }

    /** One or several shard statements: the text unchanged, and a shard key match the blanked text cannot change. */
    private static RoutePlan keyed(RoutePlan plan, List<ShardStatement> statements, String sql, ParseCopy copy,
            AnalysedStatement statement, ClusterDefinition cluster) {
        if (!unchanged(statements, sql)) {
            return refused(plan, copy, "the statement would be rewritten for its shards");
        }
        Set<String> shards = new HashSet<>();
        statements.forEach(s -> shards.add(s.shard()));
        boolean everyShard = shards.containsAll(cluster.shardNames());
        if (!everyShard && statement.touchesShardedRows(cluster)) {
            for (String collation : copy.collations()) {
                if (!strict(collation)) {
                    return refused(plan, copy, "COLLATE " + collation + " may make a shard key equal to keys on other shards"
                            + " (use a _bin or binary collation, or no COLLATE)");
                }
            }
            for (ParseCopy.Introducer i : copy.introducers()) {
                if (i.literal() != ParseCopy.Literal.STRING || !i.asciiContent() || WIDE.contains(i.charset())) {
                    return refused(plan, copy, "the server may read the literal introduced by _" + i.charset()
                            + " as another shard key than the one it was routed by");
                }
            }
        }
        return plan;
    }

    private static boolean unchanged(List<ShardStatement> statements, String sql) {
        return statements.stream().allMatch(s -> s.sql().equals(sql));
    }

    private static boolean plainMerge(MergePlan merge) {
        return (merge instanceof MergePlan.Rows r && r.isConcat()) || merge instanceof MergePlan.AffectedRows;
    }

    /** A collation under which different strings are never equal (as a string shard key column's must be). */
    private static boolean strict(String collation) {
        String c = collation.toLowerCase(Locale.ROOT);
        return c.equals("binary") || c.endsWith("_bin");
    }

    private static RoutePlan refused(RoutePlan plan, ParseCopy copy, String why) {
        List<String> what = new java.util.ArrayList<>();
        copy.introducers().forEach(i -> what.add("_" + i.charset()));
        copy.collations().forEach(c -> what.add("COLLATE " + c));
        return new RoutePlan.Rejected(epoch(plan), RejectReason.UNSUPPORTED_STATEMENT, "Shardgate runs a statement with a"
                + " character set introducer or COLLATE (" + String.join(", ", what) + ") only as written, on its shards,"
                + " computing nothing from it; here " + why);
    }

    private static long epoch(RoutePlan plan) {
        return switch (plan) {
            case RoutePlan.SingleShard s -> s.epoch();
            case RoutePlan.MultiShard m -> m.epoch();
            case RoutePlan.Broadcast b -> b.epoch();
            case RoutePlan.DualWrite d -> d.epoch();
            case RoutePlan.Held h -> h.epoch();
            case RoutePlan.Session s -> s.epoch();
            case RoutePlan.AnyShard a -> a.epoch();
            case RoutePlan.Rejected r -> r.epoch();
        };
    }
}

package io.shardgate.router.plan;

import io.shardgate.router.plan.MergePlan.Aggregate;
import io.shardgate.router.plan.MergePlan.SortKey;
import io.shardgate.router.plan.SessionCommand.Assignment;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Deterministic, human-readable text of a plan: used by the golden tests and fit for an EXPLAIN-like
 * admin command or a log line. The first line says what runs where; further lines (indented two
 * spaces) list per-shard SQL when shards run different SQL, and dual-write copies.
 */
public final class PlanPrinter {
    private PlanPrinter() {}

    public static String print(RoutePlan plan) {
        return switch (plan) {
            case RoutePlan.SingleShard p -> "single " + p.statement().shard() + " epoch=" + p.epoch() + ": " + sql(p.statement());
            case RoutePlan.MultiShard p -> multi(p);
            case RoutePlan.Broadcast p -> "broadcast " + list(p.shards()) + " epoch=" + p.epoch() + ": " + sql(p.sql(), p.parameters());
            case RoutePlan.DualWrite p -> "dualwrite " + p.statement().shard() + " epoch=" + p.epoch() + ": "
                    + sql(p.statement()) + copies(p.copies());
            case RoutePlan.Held p -> "held slots=" + p.slots() + " epoch=" + p.epoch() + ": " + p.reason();
            case RoutePlan.Session p -> "session " + command(p.command()) + " epoch=" + p.epoch();
            case RoutePlan.AnyShard p -> "anyshard " + p.statement().shard() + " epoch=" + p.epoch()
                    + (p.columns().isEmpty() ? "" : " columns=" + columns(p.columns())) + ": " + sql(p.statement());
            case RoutePlan.Rejected p -> "rejected " + p.reason() + ": " + p.message();
        };
    }

    public static String print(MergePlan merge) {
        return switch (merge) {
            case MergePlan.AffectedRows a -> "sumAffectedRows";
            case MergePlan.AffectedRowsOf a -> "affectedRowsOf(" + a.shard() + ")";
            case MergePlan.CounterRow c -> "counterRow(sum " + c.counterColumns().stream().map(i -> "c" + i)
                    .collect(Collectors.joining(",")) + "; others from " + c.homeShard() + ")";
            case MergePlan.Rows r -> rows(r);
            case MergePlan.InsertedRows i -> "insertedRows(valuesOrder " + i.statementOfRow().stream().map(n -> "s" + n)
                    .collect(Collectors.joining(",")) + ")";
        };
    }

    private static String multi(RoutePlan.MultiShard p) {
        List<ShardStatement> st = p.statements();
        boolean sameSql = st.stream().allMatch(s -> s.sql().equals(st.getFirst().sql())
                && s.parameters().equals(st.getFirst().parameters()));
        String head = (sameSql ? "scatter" : "multi") + (p.copies().isEmpty() ? " " : "-dualwrite ") + list(p.shards())
                + " epoch=" + p.epoch() + " merge=" + print(p.merge());
        if (sameSql) {
            return head + ": " + sql(st.getFirst()) + copies(p.copies());
        }
        return head + st.stream().map(s -> "\n  " + s.shard() + ": " + sql(s)).collect(Collectors.joining())
                + copies(p.copies());
    }

    private static String rows(MergePlan.Rows r) {
        if (r.isConcat()) {
            return "concat";
        }
        StringBuilder b = new StringBuilder();
        if (r.grouped()) {
            b.append("group(").append(r.groupBy().isEmpty() ? "all" : r.groupBy().toString().replace(" ", ""))
                    .append("; ").append(r.aggregates().stream().map(PlanPrinter::aggregate).collect(Collectors.joining(", ")))
                    .append(") ");
        }
        if (r.distinct()) {
            b.append("distinct ");
        }
        if (!r.orderBy().isEmpty()) {
            b.append("orderBy(").append(r.orderBy().stream().map(PlanPrinter::sortKey).collect(Collectors.joining(", ")))
                    .append(") ");
        }
        if (r.limit().isPresent() || r.offset() > 0) {
            b.append("limit(").append(r.limit().isPresent() ? Long.toString(r.limit().getAsLong()) : "all")
                    .append(r.offset() > 0 ? " offset " + r.offset() : "").append(") ");
        }
        if (r.hiddenColumns() > 0) {
            b.append("dropHidden(").append(r.hiddenColumns()).append(") ");
        }
        return b.toString().strip();
    }

    private static String aggregate(Aggregate a) {
        String fn = a.function().name().toLowerCase(java.util.Locale.ROOT);
        if (a.function() == MergePlan.AggregateFunction.AVG) {
            return fn + " " + a.output() + "=" + a.inputs().get(0) + "/" + a.inputs().get(1);
        }
        return fn + " " + a.output();
    }

    private static String sortKey(SortKey k) {
        return k.column() + (k.ascending() ? " ASC" : " DESC") + (k.nullsFirst() ? " NULLS FIRST" : " NULLS LAST");
    }

    private static String copies(List<ShadowCopy> copies) {
        return copies.stream().map(PlanPrinter::copy).map(s -> "\n  " + s).collect(Collectors.joining());
    }

    private static String copy(ShadowCopy c) {
        String head = "copy " + c.authoritativeShard() + "->" + c.shadowShard() + " " + c.migrationId() + " " + c.phase()
                + " " + c.table() + "." + c.keyColumn();
        return switch (c.keys()) {
            case ShadowCopy.KnownKeys k -> head + " keys=" + k.keys();
            case ShadowCopy.LookupKeys l -> head + " keys from slots " + l.slots() + " of: " + sql(l.sql(), l.parameters());
        };
    }

    private static String command(SessionCommand c) {
        return switch (c) {
            case SessionCommand.Begin b -> "BEGIN" + (b.characteristics().isEmpty() ? "" : " " + b.characteristics());
            case SessionCommand.Commit x -> "COMMIT";
            case SessionCommand.Rollback x -> "ROLLBACK";
            case SessionCommand.Savepoint s -> "SAVEPOINT " + s.name();
            case SessionCommand.RollbackToSavepoint s -> "ROLLBACK TO SAVEPOINT " + s.name();
            case SessionCommand.ReleaseSavepoint s -> "RELEASE SAVEPOINT " + s.name();
            case SessionCommand.SetAutocommit a -> "AUTOCOMMIT " + (a.enabled() ? "ON" : "OFF");
            case SessionCommand.SetNames n -> "NAMES " + n.charset() + n.collation().map(x -> " COLLATE " + x).orElse("");
            case SessionCommand.SetTransaction t -> "SET TRANSACTION " + t.characteristics();
            case SessionCommand.SetVariables v -> "SET " + v.assignments().stream().map(PlanPrinter::assignment)
                    .collect(Collectors.joining(", ", "[", "]"));
            case SessionCommand.Use u -> "USE " + u.schema();
            case SessionCommand.Reset r -> "RESET " + r.name().orElse("ALL");
            case SessionCommand.Discard d -> "DISCARD " + d.what();
            case SessionCommand.ShowDiagnostics d -> "LAST_BACKEND: " + d.sql();
        };
    }

    private static String assignment(Assignment a) {
        return (a.scope() == SessionCommand.Scope.USER ? "@" : "") + a.name() + "=" + a.value();
    }

    private static String columns(List<LocalColumn> cols) {
        return cols.stream().map(c -> switch (c.kind()) {
            case CONSTANT -> "const " + c.name();
            case SYSTEM_VARIABLE -> "sysvar " + c.name();
            case SESSION_FUNCTION -> "fn " + c.name();
            case EXPRESSION -> "expr " + c.name();
        }).collect(Collectors.joining(", ", "[", "]"));
    }

    private static String sql(ShardStatement s) {
        return sql(s.sql(), s.parameters());
    }

    /** SQL, followed by its parameter mapping unless it is simply 0, 1, 2, … */
    private static String sql(String sql, List<Integer> parameters) {
        boolean identity = IntStream.range(0, parameters.size()).allMatch(i -> parameters.get(i) == i);
        return sql + (identity ? "" : "  params=" + parameters.toString().replace(" ", ""));
    }

    private static String list(List<String> shards) {
        return "[" + String.join(",", shards) + "]";
    }
}

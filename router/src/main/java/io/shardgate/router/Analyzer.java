package io.shardgate.router;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.router.Analysis.CounterRead;
import io.shardgate.router.TableScope.TableRef;
import io.shardgate.router.plan.LocalColumn;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShardStatement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.conditional.OrExpression;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.alter.Alter;
import net.sf.jsqlparser.statement.create.index.CreateIndex;
import net.sf.jsqlparser.statement.create.table.CreateTable;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.drop.Drop;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.truncate.Truncate;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;
import net.sf.jsqlparser.util.TablesNamesFinder;

/**
 * Turns a parsed statement into an {@link Analysis} under one cluster definition. Everything that does
 * not depend on the slot map or on bound values is decided here, once per prepared statement.
 */
final class Analyzer {
    private static final Set<String> SESSION_FUNCTIONS = Set.of("DATABASE", "SCHEMA", "CONNECTION_ID", "LAST_INSERT_ID",
            "FOUND_ROWS", "ROW_COUNT", "USER", "CURRENT_USER", "SESSION_USER", "SYSTEM_USER", "VERSION",
            "CURRENT_SCHEMA", "CURRENT_DATABASE", "PG_BACKEND_PID");

    private static final Analysis.Scatter UNION_BRANCH = new Analysis.ScatterRefused(RejectReason.UNSUPPORTED_SCATTER,
            "UNION over several shards cannot be merged yet; restrict every branch to the same shard key value");

    private final ClusterDefinition cluster;
    private final ParsedStatement parsed;
    private final Dialect dialect;
    private final SqlText.Jdbc clientSql;
    private final Set<String> cteNames = new HashSet<>();

    private Analyzer(ParsedStatement parsed, ClusterDefinition cluster) {
        this.cluster = cluster;
        this.parsed = parsed;
        this.dialect = parsed.dialect();
        this.clientSql = SqlText.toJdbc(parsed.sql(), dialect);
    }

    static Analysis analyse(ParsedStatement parsed, ClusterDefinition cluster) {
        Analyzer a = new Analyzer(parsed, cluster);
        try {
            return a.dispatch();
        } catch (Refusal r) {
            return rejected(r.reason(), r.getMessage());
        } catch (StackOverflowError e) {
            // a last resort: StatementLimits should have refused the statement before it was parsed
            return rejected(RejectReason.STATEMENT_TOO_COMPLEX, StatementLimits.overflowMessage());
        }
    }

    /** PostgreSQL's view of the session's prepared statements, which on a shard lists that backend connection's. */
    private static final java.util.regex.Pattern PG_PREPARED_STATEMENTS = java.util.regex.Pattern.compile(
            "(?i)\\bpg_prepared_statements\\b");

    private Analysis dispatch() {
        if (parsed.dialect() == Dialect.POSTGRES && PG_PREPARED_STATEMENTS.matcher(parsed.sql()).find()) {
            return rejected(RejectReason.UNSUPPORTED_STATEMENT, "pg_prepared_statements is not supported by Shardgate: on a shard"
                    + " it lists that backend connection's statements, not this session's, which the proxy keeps itself");
        }
        return switch (parsed.form()) {
            case ParsedStatement.TooComplex t -> rejected(RejectReason.STATEMENT_TOO_COMPLEX, t.message());
            case ParsedStatement.Lexical l -> lexical(l.statement());
            case ParsedStatement.ServerSyntaxError ignored -> single(cluster.defaultShard());
            case ParsedStatement.Unparseable u -> CatalogQueries.runsOnDefaultShard(parsed.sql(), cluster) ? single(cluster.defaultShard())
                    : rejected(RejectReason.PARSE_ERROR, "cannot parse the statement: " + u.message());
            case ParsedStatement.Parsed p -> CatalogQueries.runsOnDefaultShard(parsed.sql(), cluster) ? single(cluster.defaultShard())
                    : statement(p.statement());
        };
    }

    private Analysis lexical(SessionStatements.Lexical statement) {
        return switch (statement) {
            case SessionStatements.Command c -> fixed(epoch -> new RoutePlan.Session(epoch, c.command(), parsed.sql()));
            case SessionStatements.Show s -> {
                String shard = s.table().map(t -> placementShard(TableScope.resolve(cluster, new Table(t))))
                        .orElse(cluster.defaultShard());
                ShardStatement st = on(shard);
                yield fixed(epoch -> new RoutePlan.AnyShard(epoch, st, List.of()));
            }
            case SessionStatements.Refused r -> rejected(r.reason(), r.message());
            case SessionStatements.TableMaintenance m -> tableMaintenance(m.tables(), m.restartsIdentity());
        };
    }

    /** MySQL's system schemas: a statement naming one would read the shard server's own accounts and state. */
    private static final Set<String> SYSTEM_SCHEMAS = Set.of("mysql", "performance_schema", "sys");

    private Analysis statement(Statement statement) {
        if (dialect == Dialect.MYSQL) {
            String system = systemSchemaTable(statement);
            if (system != null) {
                return rejected(RejectReason.UNSUPPORTED_STATEMENT, "Shardgate does not expose the shards' system schemas (" + system
                        + "): a client sees the cluster's database and information_schema only");
            }
        }
        return switch (statement) {
            case Select s -> select(s);
            case Insert i -> InsertAnalyzer.analyse(i, this);
            case net.sf.jsqlparser.statement.upsert.Upsert u when dialect == Dialect.MYSQL
                    && (u.getUpsertType() == net.sf.jsqlparser.statement.upsert.UpsertType.REPLACE
                    || u.getUpsertType() == net.sf.jsqlparser.statement.upsert.UpsertType.REPLACE_SET) ->
                    InsertAnalyzer.analyseReplace(u, this);
            case Update u -> update(u);
            case Delete d -> delete(d);
            case CreateTable ct -> createTable(ct);
            case CreateIndex ci -> ddl(ci.getTable());
            case Alter a -> ddl(a.getTable());
            case Truncate t -> ddl(t.getTable());
            case Drop d -> drop(d);
            default -> rejected(RejectReason.UNSUPPORTED_STATEMENT, "statements of kind " + kindName(statement)
                    + " are not routed by the proxy");
        };
    }

    private static final java.util.regex.Pattern SEQUENCE_CALL = java.util.regex.Pattern.compile(
            "(?i)\\b(nextval|currval|setval)\\s*\\(\\s*'([^']*)'");

    /**
     * {@code nextval('t_id_seq')} (or currval/setval) of the serial sequence behind a table with a cluster sequence
     * would read or move one shard's own counter, which the proxy never uses for that table (it fills the column from the
     * cluster sequence): its answer would not be an id the table can take. Refused with the reason.
     */
    private void refuseShardSequenceCall() {
        var m = SEQUENCE_CALL.matcher(parsed.sql());
        while (m.find()) {
            String name = m.group(2);
            name = name.substring(name.lastIndexOf('.') + 1).replace("\"", "").toLowerCase(java.util.Locale.ROOT);
            for (var t : cluster.tables().values()) {
                if (t.sequence() != null && name.equals(t.name() + "_" + t.sequence() + "_seq")) {
                    throw new Refusal(RejectReason.UNSUPPORTED_STATEMENT, m.group(1).toLowerCase(java.util.Locale.ROOT) + "('"
                            + m.group(2) + "') reads a shard's own sequence, but " + t.name() + "." + t.sequence() + " takes its ids"
                            + " from the cluster sequence; insert with DEFAULT (or without the column) and read the id with"
                            + " RETURNING " + t.sequence());
                }
            }
        }
    }

    // ---- DDL

    /**
     * A sharded table's GENERATED ALWAYS AS IDENTITY column would refuse the ids the proxy fills from the cluster
     * sequence; BY DEFAULT (and serial) take them.
     */
    private Analysis createTable(CreateTable ct) {
        TableRef ref = TableScope.resolve(cluster, ct.getTable());
        if (ref.definition().kind() == io.shardgate.cluster.TableKind.SHARDED) {
            var found = GeneratedColumns.of(ct);
            if (found.isPresent() && found.get().always()) {
                return rejected(RejectReason.UNSUPPORTED_STATEMENT, "column " + found.get().column() + " of the sharded table "
                        + ref.name() + " is GENERATED ALWAYS AS IDENTITY, which refuses the ids the proxy fills from the cluster"
                        + " sequence; declare it GENERATED BY DEFAULT AS IDENTITY (or bigserial)");
            }
        }
        return ddl(ct.getTable());
    }

    private Analysis ddl(Table table) {
        TableRef ref = TableScope.resolve(cluster, table);
        return switch (ref.definition().kind()) {
            case SHARDED, BROADCAST -> broadcast();
            case SINGLE -> single(ref.definition().shard());
        };
    }

    /**
     * DDL or maintenance naming several tables runs where they all are: every shard for sharded and broadcast tables,
     * their shard for single tables on one shard; tables placed differently cannot be handled by one statement.
     */
    /**
     * DROP, TRUNCATE, VACUUM or ANALYZE of {@code tables}, where they are. TRUNCATE … RESTART IDENTITY of a table whose ids
     * come from a cluster sequence is refused: one server would start the ids again from the sequence's start, but a
     * cluster sequence cannot restart while other proxies still hold blocks of it (they would hand out ids the restarted
     * sequence hands out again), and continuing it silently would not be what the client asked for.
     */
    private Analysis tableMaintenance(List<String> tables, boolean restartsIdentity) {
        if (tables.isEmpty()) {
            return broadcast();
        }
        java.util.Set<String> placements = new java.util.LinkedHashSet<>();
        for (String name : tables) {
            TableRef ref = TableScope.resolve(cluster, tableNamed(name));
            if (restartsIdentity && ref.definition().sequence() != null) {
                return rejected(RejectReason.UNSUPPORTED_STATEMENT, "TRUNCATE … RESTART IDENTITY would restart " + ref.definition().name()
                        + "." + ref.definition().sequence() + ", whose ids come from a cluster sequence, which cannot restart while"
                        + " proxies hold blocks of it (ids would repeat); use TRUNCATE without RESTART IDENTITY: the ids continue,"
                        + " unique");
            }
            placements.add(switch (ref.definition().kind()) {
                case SHARDED, BROADCAST -> "every shard";
                case SINGLE -> ref.definition().shard();
            });
        }
        if (placements.size() > 1) {
            return rejected(RejectReason.UNSUPPORTED_STATEMENT, "the statement names tables placed differently (" + String.join(", ",
                    placements) + "): run it once for each placement");
        }
        String placement = placements.iterator().next();
        return placement.equals("every shard") ? broadcast() : single(placement);
    }

    /** {@code t}, {@code s.t} or {@code "s"."t"} as written: the schema is what precedes the last dot outside quotes. */
    private static Table tableNamed(String name) {
        int dot = -1;
        boolean quoted = false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '.' && !quoted) {
                dot = i;
            }
        }
        return dot < 0 ? new Table(name) : new Table(name.substring(0, dot), name.substring(dot + 1));
    }

    private Analysis drop(Drop drop) {
        if (drop.getType().equalsIgnoreCase("TABLE")) {
            return ddl(drop.getName());
        }
        if (drop.getType().equalsIgnoreCase("INDEX")) {
            // MySQL names the table (DROP INDEX i ON t); PostgreSQL index names are per schema, so every shard
            return drop.getParameters() != null && drop.getParameters().size() >= 2
                    && drop.getParameters().get(0).equalsIgnoreCase("ON")
                    ? ddl(new Table(drop.getParameters().get(1))) : broadcast();
        }
        return rejected(RejectReason.UNSUPPORTED_STATEMENT, "DROP " + drop.getType() + " is not routed by the proxy");
    }

    // ---- SELECT

    private Analysis select(Select select) {
        if (dialect == Dialect.POSTGRES && parsed.sql().regionMatches(true, 0, "SELECT", 0, 6)) {
            refuseShardSequenceCall();
        }
        if (select.getWithItemsList() != null && !select.getWithItemsList().isEmpty()) {
            return withClause(select);
        }
        return switch (select) {
            case PlainSelect ps -> plainSelect(ps, true);
            case SetOperationList union -> union(union);
            case ParenthesedSelect p -> select(p.getSelect());
            case net.sf.jsqlparser.statement.select.Values v -> values(v);
            default -> rejected(RejectReason.UNSUPPORTED_STATEMENT, "this form of SELECT is not routed by the proxy");
        };
    }

    /**
     * A table-less {@code VALUES (…), (…)} runs where a table-less SELECT does; a subquery in it over a sharded table
     * would see one shard's rows only, so it is refused.
     */
    private Analysis values(net.sf.jsqlparser.statement.select.Values values) {
        List<TableRef> refs = tablesIn(values);
        refs.stream().filter(TableRef::sharded).findFirst().ifPresent(r -> {
            throw new Refusal(RejectReason.UNSUPPORTED_SUBQUERY, "VALUES with a subquery over sharded table " + r.name()
                    + " is not supported: each shard would answer from its own rows only");
        });
        return fixedPlacement(refs, false);
    }

    /** WITH: allowed over broadcast and single tables, whose placement decides; a CTE over a sharded table is refused. */
    private Analysis withClause(Select select) {
        for (WithItem<?> w : select.getWithItemsList()) {
            cteNames.add(SqlText.unquote(w.getAliasName()));
        }
        List<TableRef> refs = tablesIn(select);
        refs.stream().filter(TableRef::sharded).findFirst().ifPresent(r -> {
            throw new Refusal(RejectReason.UNSUPPORTED_SUBQUERY, "WITH queries over sharded table " + r.name()
                    + " are not supported: each shard would compute the common table expression from its own rows only");
        });
        return fixedPlacement(refs, false);
    }

    private Analysis union(SetOperationList union) {
        List<Analysis.Keyed> keyed = new ArrayList<>();
        List<TableRef> unsharded = new ArrayList<>();
        for (Select branch : union.getSelects()) {
            if (!(branch instanceof PlainSelect ps)) {
                throw new Refusal(RejectReason.UNSUPPORTED_STATEMENT, "nested set operations are not routed by the proxy");
            }
            switch (plainSelect(ps, false)) {
                case Analysis.Keyed k -> keyed.add(k);
                case Analysis.Fixed f -> unsharded.addAll(tablesIn(ps));
                case Analysis.Insert i -> throw new IllegalStateException("a SELECT analysed as an INSERT");
            }
        }
        if (keyed.isEmpty()) {
            return fixedPlacement(unsharded, false);
        }
        if (!unsharded.isEmpty() && unsharded.stream().anyMatch(r -> r.definition().kind() == TableKind.SINGLE)) {
            throw new Refusal(RejectReason.CROSS_SHARD_JOIN, "UNION of sharded table " + keyed.getFirst().table().name()
                    + " and single table " + unsharded.stream().filter(r -> r.definition().kind() == TableKind.SINGLE)
                    .findFirst().orElseThrow().name() + " would need rows from several shards");
        }
        KeyRestriction keys = keyed.getFirst().keys();
        for (Analysis.Keyed k : keyed.subList(1, keyed.size())) {
            if (k.table().keyType() != keyed.getFirst().table().keyType()) {
                throw new Refusal(RejectReason.CROSS_SHARD_JOIN, "UNION of " + keyed.getFirst().table().name() + " and "
                        + k.table().name() + " whose shard keys have different types");
            }
            keys = KeyRestriction.or(keys, k.keys());
        }
        List<TableDefinition> tables = keyed.stream().flatMap(k -> k.tables().stream()).distinct().toList();
        return new Analysis.Keyed(false, tables, keys, KeyRestriction.NONE, clientSql,
                UNION_BRANCH, new Analysis.NotCounter(), new Analysis.NotCounterWrite(), Optional.empty());
    }

    /** {@code whole}: the statement is this SELECT (not a UNION branch), so its scatter plan is worked out. */
    private Analysis plainSelect(PlainSelect ps, boolean whole) {
        if (isTableLess(ps.getFromItem())) {
            return tableLess(ps);
        }
        FromClause from = fromClause(ps.getFromItem(), ps.getJoins(), null);
        List<Expression> conditions = conditions(ps.getWhere(), ps.getJoins(), true);
        KeyRestriction keys = keyRestriction(conditions, from.scope());
        Expressions.Contents contents = Expressions.scan(selectExpressions(ps));
        List<TableRef> placement = new ArrayList<>(from.scope().refs());
        placement.addAll(from.placementOnly());
        placement.addAll(subqueries(contents.subqueries(), from.scope(), keys));
        if (from.scope().sharded().isEmpty()) {
            return fixedPlacement(placement, false);
        }
        requireNoSingles(placement, from.scope());
        requireColocated(from.scope(), conditions(ps.getWhere(), ps.getJoins(), false), ps.getJoins());
        TableRef primary = from.scope().sharded().getFirst();
        return new Analysis.Keyed(false, definitions(from.scope().sharded()), keys, splitByRestriction(primary, conditions, from.scope()),
                clientSql, whole ? scatterRead(ps, from.scope()) : UNION_BRANCH, counterRead(primary, ps),
                new Analysis.NotCounterWrite(), Optional.empty());
    }

    private Analysis.Scatter scatterRead(PlainSelect ps, TableScope scope) {
        Optional<String> outerJoinProblem = preservedBroadcastRows(ps, scope);
        if (outerJoinProblem.isPresent()) {
            return new Analysis.ScatterRefused(RejectReason.CROSS_SHARD_JOIN, outerJoinProblem.get());
        }
        if (!(parsed.freshTree() instanceof PlainSelect copy)) {
            throw new IllegalStateException("a SELECT that parses differently the second time");
        }
        Analysis.Scatter scatter = withLockSuffix(ScatterRewriter.plan(copy, dialect, scope, clientSql), clientSql);
        if (!(scatter instanceof Analysis.ScatterRead read) || !(parsed.freshTree() instanceof PlainSelect filtered)) {
            return scatter;
        }
        TableRef primary = scope.sharded().getFirst();
        filtered.setWhere(withShadowSentinel(filtered.getWhere()));
        SqlText.Jdbc filteredClientSql = SqlText.toJdbc(filtered.toString() + parsed.lockSuffix(), dialect);
        if (!(withLockSuffix(ScatterRewriter.plan(filtered, dialect, scope, filteredClientSql), filteredClientSql)
                instanceof Analysis.ScatterRead f)) {
            return scatter;
        }
        String key = scope.refs().size() == 1 ? quote(primary.definition().shardKey()) : keyExpression(primary);
        return new Analysis.ScatterRead(read.sql(), read.merge(), Optional.of(new Analysis.ShadowFilter(f.sql(), key)));
    }

    private Analysis.Scatter withLockSuffix(Analysis.Scatter scatter, SqlText.Jdbc unchanged) {
        if (scatter instanceof Analysis.ScatterRead read && read.sql() != unchanged && !parsed.lockSuffix().isEmpty()) {
            return new Analysis.ScatterRead(new SqlText.Jdbc(read.sql().sql() + parsed.lockSuffix(), read.sql().parameters()), read.merge());
        }
        return scatter;
    }

    private static Expression withShadowSentinel(Expression where) {
        Expression sentinel = new net.sf.jsqlparser.schema.Column(Analysis.ShadowFilter.SENTINEL);
        return where == null ? sentinel
                : new net.sf.jsqlparser.expression.operators.conditional.AndExpression(
                        new net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<>(where), sentinel);
    }

    private String keyExpression(TableRef ref) {
        return quote(ref.alias() != null ? ref.alias() : ref.name()) + "." + quote(ref.definition().shardKey());
    }

    private String quote(String identifier) {
        return dialect == io.shardgate.cluster.Dialect.POSTGRES ? "\"" + identifier.replace("\"", "\"\"") + "\""
                : "`" + identifier.replace("`", "``") + "`";
    }

    /** The client's UPDATE/DELETE with the shadow sentinel added to its WHERE (see {@link Analysis.ShadowFilter}). */
    private Optional<Analysis.ShadowFilter> shadowFilteredWrite(TableRef target) {
        String sql = switch (parsed.freshTree()) {
            case net.sf.jsqlparser.statement.update.Update u -> {
                u.setWhere(withShadowSentinel(u.getWhere()));
                yield u.toString();
            }
            case net.sf.jsqlparser.statement.delete.Delete d -> {
                d.setWhere(withShadowSentinel(d.getWhere()));
                yield d.toString();
            }
            default -> null;
        };
        return sql == null ? Optional.empty()
                : Optional.of(new Analysis.ShadowFilter(SqlText.toJdbc(sql, dialect), quote(target.definition().shardKey())));
    }

    /**
     * An outer join that keeps a broadcast table's unmatched rows would return those rows once per shard
     * when scattered.
     */
    private Optional<String> preservedBroadcastRows(PlainSelect ps, TableScope scope) {
        if (ps.getJoins() == null) {
            return Optional.empty();
        }
        boolean leftHasSharded = scope.refs().getFirst().sharded();
        String leftName = scope.refs().getFirst().name();
        for (int i = 0; i < ps.getJoins().size(); i++) {
            Join j = ps.getJoins().get(i);
            TableRef right = scope.refs().size() > i + 1 ? scope.refs().get(i + 1) : null;
            boolean rightSharded = right != null && right.sharded();
            if ((j.isLeft() || j.isFull()) && !leftHasSharded && rightSharded
                    || (j.isRight() || j.isFull()) && leftHasSharded && right != null && !rightSharded) {
                String kept = j.isLeft() ? leftName : right.name();
                return Optional.of("outer join keeps the unmatched rows of broadcast table " + kept
                        + ", which every shard would return; over several shards they would repeat");
            }
            leftHasSharded |= rightSharded;
        }
        return Optional.empty();
    }

    private CounterRead counterRead(TableRef primary, PlainSelect ps) {
        if (!(primary.definition().hotKey() instanceof HotKeyMode.Counter counter)) {
            return new Analysis.NotCounter();
        }
        List<Integer> columns = new ArrayList<>();
        for (int i = 0; i < ps.getSelectItems().size(); i++) {
            Expression e = ps.getSelectItems().get(i).getExpression();
            if (e instanceof net.sf.jsqlparser.statement.select.AllColumns) {
                return new Analysis.CounterRefused("SELECT * of a split counter key cannot be merged; name the columns");
            }
            if (Expressions.scan(e).hasAggregate() || ps.getGroupBy() != null) {
                return new Analysis.CounterRefused("aggregates over a split counter key are not supported yet; select the columns");
            }
            if (e instanceof Column c && counter.counterColumns().contains(SqlText.unquote(c.getColumnName()))) {
                columns.add(i);
            }
        }
        return new Analysis.CounterColumns(columns);
    }

    private Analysis tableLess(PlainSelect ps) {
        Expressions.Contents contents = Expressions.scan(selectExpressions(ps));
        if (!contents.subqueries().isEmpty()) {
            return fixedPlacement(subqueries(contents.subqueries(), new TableScope(List.of(), null), KeyRestriction.NONE), false);
        }
        List<LocalColumn> columns = ps.getSelectItems().stream().map(i -> LocalColumns.classify(i, SESSION_FUNCTIONS)).toList();
        ShardStatement st = on(cluster.defaultShard());
        return fixed(epoch -> new RoutePlan.AnyShard(epoch, st, columns));
    }

    private static boolean isTableLess(FromItem from) {
        return from == null || (from instanceof Table t && t.getName().equalsIgnoreCase("dual") && t.getSchemaName() == null);
    }

    // ---- UPDATE / DELETE

    private Analysis update(Update u) {
        boolean multiTable = (u.getJoins() != null && !u.getJoins().isEmpty()) || (u.getStartJoins() != null && !u.getStartJoins().isEmpty())
                || u.getFromItem() != null;
        TableRef target = TableScope.resolve(cluster, u.getTable());
        if (target.sharded()) {
            for (UpdateSet set : u.getUpdateSets()) {
                for (Column c : set.getColumns()) {
                    if (TableScope.names(c, target, target.definition().shardKey())) {
                        throw new Refusal(RejectReason.SHARD_KEY_UPDATE, "UPDATE sets " + target.keyLabel()
                                + ", the shard key; the row would have to move to another shard (delete it and insert it instead)");
                    }
                }
            }
        }
        List<Expression> exprs = new ArrayList<>();
        u.getUpdateSets().forEach(s -> exprs.addAll(s.getValues()));
        boolean limited = u.getLimit() != null || (u.getOrderByElements() != null && !u.getOrderByElements().isEmpty());
        Analysis.CounterWrite counterWrite = !multiTable && CounterWrites.applies(target)
                ? CounterWrites.update(target, u, parsed) : new Analysis.NotCounterWrite();
        return write("UPDATE", target, multiTable, u.getWhere(), exprs, limited, counterWrite);
    }

    private Analysis delete(Delete d) {
        TableRef target = TableScope.resolve(cluster, d.getTable());
        boolean multiTable = !deletesOnlyFromTable(d, target) || (d.getJoins() != null && !d.getJoins().isEmpty())
                || (d.getUsingList() != null && !d.getUsingList().isEmpty());
        boolean limited = d.getLimit() != null || (d.getOrderByElements() != null && !d.getOrderByElements().isEmpty());
        Analysis.CounterWrite counterWrite = !multiTable && CounterWrites.applies(target)
                ? CounterWrites.delete(target, d.getWhere(), clientSql, parsed) : new Analysis.NotCounterWrite();
        return write("DELETE", target, multiTable, d.getWhere(), List.of(), limited, counterWrite);
    }

    /**
     * {@code DELETE a FROM t a} and {@code DELETE t FROM t} (Hibernate 6's bulk delete on MySQL) delete from the one
     * table in FROM: a single-table statement in the multi-table syntax. The target must be that table's alias
     * (or its name when it has none), as the server requires; anything else keeps the multi-table treatment.
     */
    private static boolean deletesOnlyFromTable(Delete d, TableRef target) {
        if (d.getTables() == null || d.getTables().isEmpty()) {
            return true;
        }
        if (d.getTables().size() != 1) {
            return false;
        }
        String named = SqlText.unquote(d.getTables().getFirst().getName());
        String fromTable = target.alias() != null ? target.alias() : SqlText.unquote(d.getTable().getName());
        return named.equals(fromTable);
    }

    private Analysis write(String verb, TableRef target, boolean multiTable, Expression where, List<Expression> setValues,
            boolean limited, Analysis.CounterWrite counterWrite) {
        if (multiTable && target.definition().kind() != TableKind.SINGLE) {
            throw new Refusal(RejectReason.UNSUPPORTED_STATEMENT, verb + " of " + target.name()
                    + " with several tables is not supported on sharded or broadcast tables; write one table per statement");
        }
        TableScope scope = new TableScope(List.of(target), null);
        List<Expression> conditions = where == null ? List.of() : List.of(where);
        KeyRestriction keys = keyRestriction(conditions, scope);
        List<Expression> scanned = new ArrayList<>(setValues);
        scanned.add(where);
        List<TableRef> subRefs = subqueries(Expressions.scan(scanned).subqueries(), scope, keys);
        return switch (target.definition().kind()) {
            case SINGLE -> {
                List<TableRef> all = new ArrayList<>(subRefs);
                all.add(target);
                yield fixedPlacement(all, false);
            }
            case BROADCAST -> {
                subRefs.stream().filter(r -> r.definition().kind() != TableKind.BROADCAST).findFirst().ifPresent(r -> {
                    throw new Refusal(RejectReason.CROSS_SHARD_JOIN, verb + " of broadcast table " + target.name()
                            + " reads table " + r.name() + ", which is not on every shard; the copies would differ");
                });
                yield broadcast();
            }
            case SHARDED -> {
                requireNoSingles(subRefs, scope);
                Analysis.Scatter scatter = limited
                        ? new Analysis.ScatterRefused(RejectReason.UNSUPPORTED_SCATTER, verb + " with ORDER BY/LIMIT over several shards would apply the LIMIT on each shard; restrict it by the shard key "
                                + target.keyLabel())
                        : new Analysis.ScatterWrite(clientSql, shadowFilteredWrite(target));
                yield new Analysis.Keyed(true, List.of(target.definition()), keys, splitByRestriction(target, conditions, scope),
                        clientSql, scatter, new Analysis.NotCounter(), counterWrite, Optional.of(lookupSql(target, where)));
            }
        };
    }

    /** {@code SELECT key FROM t WHERE <same predicate> FOR UPDATE}: finds the keys a write will touch. */
    private SqlText.Jdbc lookupSql(TableRef target, Expression where) {
        String table = target.alias() == null ? target.name() : target.name() + " " + target.alias();
        String sql = "SELECT " + target.definition().shardKey() + " FROM " + table + (where == null ? "" : " WHERE " + where)
                + " FOR UPDATE";
        return SqlText.toJdbc(sql, dialect);
    }

    // ---- FROM, subqueries, co-location

    /** Tables of one FROM clause; {@code placementOnly} are tables inside derived tables (not addressable by column). */
    record FromClause(TableScope scope, List<TableRef> placementOnly) {}

    FromClause fromClause(FromItem first, List<Join> joins, TableScope outer) {
        List<TableRef> refs = new ArrayList<>();
        List<TableRef> inner = new ArrayList<>();
        addFromItem(first, refs, inner);
        if (joins != null) {
            joins.forEach(j -> addFromItem(j.getRightItem(), refs, inner));
        }
        return new FromClause(new TableScope(refs, outer), inner);
    }

    private void addFromItem(FromItem item, List<TableRef> refs, List<TableRef> inner) {
        switch (item) {
            case Table t when cteNames.contains(SqlText.unquote(t.getName())) -> { }
            case Table t -> refs.add(TableScope.resolve(cluster, t));
            case ParenthesedSelect derived -> {
                List<TableRef> tables = tablesIn(derived);
                tables.stream().filter(TableRef::sharded).findFirst().ifPresent(r -> {
                    throw new Refusal(RejectReason.UNSUPPORTED_SUBQUERY, "derived table in FROM reads sharded table " + r.name()
                            + "; each shard would compute it from its own rows only");
                });
                inner.addAll(tables);
            }
            case ParenthesedFromItem p -> {
                addFromItem(p.getFromItem(), refs, inner);
                if (p.getJoins() != null) {
                    p.getJoins().forEach(j -> addFromItem(j.getRightItem(), refs, inner));
                }
            }
            default -> throw new Refusal(RejectReason.UNSUPPORTED_STATEMENT, "FROM item " + item + " is not supported by the proxy");
        }
    }

    /** The first {@code schema.table} the statement names in a MySQL system schema, or null. */
    private static String systemSchemaTable(Statement statement) {
        Set<String> names;
        try {
            names = new TablesNamesFinder<Void>().getTables(statement);
        } catch (UnsupportedOperationException e) {
            return null; // a statement kind the finder does not walk names no tables it could reach either
        }
        for (String name : names) {
            int dot = name.lastIndexOf('.');
            if (dot > 0) {
                String schema = name.substring(0, dot);
                String last = SqlText.unquote(schema.substring(schema.lastIndexOf('.') + 1)).toLowerCase(java.util.Locale.ROOT);
                if (SYSTEM_SCHEMAS.contains(last)) {
                    return name;
                }
            }
        }
        return null;
    }

    /** Every table a (sub)statement names, at any depth, without CTE names. */
    List<TableRef> tablesIn(Statement statement) {
        Set<String> names = new TablesNamesFinder<Void>().getTables(statement);
        return names.stream().sorted()
                .map(n -> n.substring(n.lastIndexOf('.') + 1))
                .filter(n -> !cteNames.contains(SqlText.unquote(n)))
                .map(n -> TableScope.resolve(cluster, new Table(n)))
                .collect(Collectors.toCollection(ArrayList::new));
    }

    /**
     * Checks each subquery; returns the unsharded tables they read (which must agree with the outer
     * placement). A subquery over a sharded table must be tied to the outer query's shard key.
     */
    private List<TableRef> subqueries(List<Select> subqueries, TableScope outer, KeyRestriction outerKeys) {
        List<TableRef> placement = new ArrayList<>();
        for (Select sub : subqueries) {
            Select body = sub instanceof ParenthesedSelect p ? p.getSelect() : sub;
            if (!(body instanceof PlainSelect ps) || isTableLess(ps.getFromItem())) {
                List<TableRef> tables = tablesIn(body);
                tables.stream().filter(TableRef::sharded).findFirst().ifPresent(r -> {
                    throw untiedSubquery(r, outer);
                });
                placement.addAll(tables);
                continue;
            }
            placement.addAll(subquery(ps, outer, outerKeys));
        }
        return placement;
    }

    private List<TableRef> subquery(PlainSelect ps, TableScope outer, KeyRestriction outerKeys) {
        FromClause from = fromClause(ps.getFromItem(), ps.getJoins(), outer);
        List<Expression> conditions = conditions(ps.getWhere(), ps.getJoins(), true);
        KeyRestriction keys = keyRestriction(conditions, from.scope());
        List<TableRef> placement = new ArrayList<>(from.placementOnly());
        placement.addAll(subqueries(Expressions.scan(selectExpressions(ps)).subqueries(), from.scope(), keys));
        List<TableRef> sharded = from.scope().sharded();
        if (sharded.isEmpty()) {
            placement.addAll(from.scope().refs());
            return placement;
        }
        if (outer.sharded().isEmpty()) {
            throw untiedSubquery(sharded.getFirst(), outer);
        }
        requireColocated(from.scope(), conditions(ps.getWhere(), ps.getJoins(), false), ps.getJoins());
        boolean correlated = conjuncts(conditions).stream().anyMatch(c -> tiesToOuter(c, from.scope()));
        boolean sameKey = keys instanceof KeyRestriction.OneOf a && a.values().size() == 1
                && outerKeys instanceof KeyRestriction.OneOf b && b.values().equals(a.values());
        if (!correlated && !sameKey) {
            throw untiedSubquery(sharded.getFirst(), outer);
        }
        placement.addAll(from.scope().refs().stream().filter(r -> !r.sharded()).toList());
        return placement;
    }

    private boolean tiesToOuter(Expression condition, TableScope inner) {
        if (!(condition instanceof EqualsTo eq && eq.getLeftExpression() instanceof Column a && eq.getRightExpression() instanceof Column b)) {
            return false;
        }
        Optional<TableRef> ra = inner.keyOwner(a);
        Optional<TableRef> rb = inner.keyOwner(b);
        if (ra.isEmpty() || rb.isEmpty() || ra.get().definition().keyType() != rb.get().definition().keyType()) {
            return false;
        }
        return inner.refs().contains(ra.get()) != inner.refs().contains(rb.get());
    }

    private static Refusal untiedSubquery(TableRef sharded, TableScope outer) {
        String outerKey = outer.sharded().isEmpty() ? "the outer query reads no sharded table"
                : "add " + sharded.keyLabel() + " = " + outer.sharded().getFirst().keyLabel() + " or the same shard key value";
        return new Refusal(RejectReason.UNSUPPORTED_SUBQUERY, "subquery on sharded table " + sharded.name()
                + " is not tied to the outer query's shard key, so each shard would answer it from its own rows only ("
                + outerKey + ")");
    }

    /** All sharded tables must be joined on equal shard keys of one type, else a row's partner may be elsewhere. */
    private void requireColocated(TableScope scope, List<Expression> conditions, List<Join> joins) {
        List<TableRef> sharded = scope.sharded();
        if (sharded.size() < 2) {
            return;
        }
        int[] parent = new int[sharded.size()];
        for (int i = 0; i < parent.length; i++) {
            parent[i] = i;
        }
        for (Expression c : conjuncts(conditions)) {
            if (c instanceof EqualsTo eq && eq.getLeftExpression() instanceof Column a && eq.getRightExpression() instanceof Column b) {
                link(parent, sharded, scope.keyOwner(a), scope.keyOwner(b));
            }
        }
        usingLinks(scope, joins, parent, sharded);
        for (int i = 1; i < sharded.size(); i++) {
            if (find(parent, i) != find(parent, 0)) {
                TableRef a = sharded.get(0);
                TableRef b = sharded.get(i);
                String types = a.definition().keyType() == b.definition().keyType() ? ""
                        : "; their shard keys are of different types (" + a.definition().keyType() + ", " + b.definition().keyType() + ")";
                throw new Refusal(RejectReason.CROSS_SHARD_JOIN, "join of " + a.name() + " and " + b.name()
                        + " is not on both tables' shard keys (" + a.keyLabel() + ", " + b.keyLabel()
                        + "); it would need rows from several shards" + types);
            }
        }
    }

    private static void usingLinks(TableScope scope, List<Join> joins, int[] parent, List<TableRef> sharded) {
        if (joins == null) {
            return;
        }
        for (int j = 0; j < joins.size(); j++) {
            List<Column> using = joins.get(j).getUsingColumns();
            if (using == null || scope.refs().size() <= j + 1) {
                continue;
            }
            TableRef right = scope.refs().get(j + 1);
            for (Column c : using) {
                String name = SqlText.unquote(c.getColumnName());
                for (TableRef left : scope.refs().subList(0, j + 1)) {
                    if (right.sharded() && left.sharded() && right.definition().shardKey().equals(name)
                            && left.definition().shardKey().equals(name)) {
                        link(parent, sharded, Optional.of(left), Optional.of(right));
                    }
                }
            }
        }
    }

    private static void link(int[] parent, List<TableRef> sharded, Optional<TableRef> a, Optional<TableRef> b) {
        if (a.isEmpty() || b.isEmpty() || a.get().definition().keyType() != b.get().definition().keyType()) {
            return;
        }
        int ia = sharded.indexOf(a.get());
        int ib = sharded.indexOf(b.get());
        if (ia >= 0 && ib >= 0) {
            parent[find(parent, ia)] = find(parent, ib);
        }
    }

    private static int find(int[] parent, int i) {
        while (parent[i] != i) {
            i = parent[i];
        }
        return i;
    }

    private static void requireNoSingles(List<TableRef> refs, TableScope scope) {
        refs.stream().filter(r -> r.definition().kind() == TableKind.SINGLE).findFirst().ifPresent(single -> {
            TableRef sharded = scope.sharded().getFirst();
            throw new Refusal(RejectReason.CROSS_SHARD_JOIN, "sharded table " + sharded.name() + " is combined with "
                    + (single.declared() ? "single table " : "undeclared table ") + single.name() + " on "
                    + single.definition().shard() + "; the sharded rows live on other shards too");
        });
    }

    /** Unsharded tables only: their common shard; broadcast-only reads go to the default shard, writes everywhere. */
    private Analysis fixedPlacement(List<TableRef> refs, boolean writeToBroadcast) {
        Set<String> shards = new LinkedHashSet<>();
        refs.stream().filter(r -> r.definition().kind() == TableKind.SINGLE).forEach(r -> shards.add(r.definition().shard()));
        if (shards.size() > 1) {
            List<TableRef> singles = refs.stream().filter(r -> r.definition().kind() == TableKind.SINGLE).toList();
            TableRef a = singles.getFirst();
            TableRef b = singles.stream().filter(r -> !r.definition().shard().equals(a.definition().shard())).findFirst().orElseThrow();
            throw new Refusal(RejectReason.CROSS_SHARD_JOIN, "tables " + a.name() + " (on " + a.definition().shard() + ") and "
                    + b.name() + " (on " + b.definition().shard() + ") live on different shards");
        }
        if (!shards.isEmpty()) {
            return single(shards.iterator().next());
        }
        return writeToBroadcast ? broadcast() : single(cluster.defaultShard());
    }

    private static String placementShard(TableRef ref, String defaultShard) {
        return ref.definition().kind() == TableKind.SINGLE ? ref.definition().shard() : defaultShard;
    }

    private String placementShard(TableRef ref) {
        return placementShard(ref, cluster.defaultShard());
    }

    // ---- conditions and key restrictions

    /** WHERE plus the ON conditions of inner joins (or of all joins, for co-location). */
    private static List<Expression> conditions(Expression where, List<Join> joins, boolean innerOnly) {
        List<Expression> out = new ArrayList<>();
        if (where != null) {
            out.add(where);
        }
        if (joins != null) {
            for (Join j : joins) {
                boolean outer = j.isLeft() || j.isRight() || j.isFull() || j.isOuter();
                if (!innerOnly || !outer) {
                    out.addAll(j.getOnExpressions());
                }
            }
        }
        return out;
    }

    /** Top-level AND terms of the conditions, after repairing JSqlParser's IN precedence. */
    private static List<Expression> conjuncts(List<Expression> conditions) {
        List<Expression> out = new ArrayList<>();
        conditions.forEach(c -> addConjuncts(ConditionRepair.repair(c), out));
        return out;
    }

    private static void addConjuncts(Expression e, List<Expression> out) {
        switch (e) {
            case AndExpression a -> {
                addConjuncts(a.getLeftExpression(), out);
                addConjuncts(a.getRightExpression(), out);
            }
            case ParenthesedExpressionList<?> p when p.size() == 1 && p.get(0) instanceof Expression inner -> addConjuncts(inner, out);
            default -> out.add(e);
        }
    }

    private KeyRestriction keyRestriction(List<Expression> conditions, TableScope scope) {
        if (scope.sharded().isEmpty()) {
            return KeyRestriction.NONE;
        }
        TableDefinition primary = scope.sharded().getFirst().definition();
        Predicate<Column> isKey = c -> scope.keyOwner(c).filter(r -> scope.refs().contains(r)).isPresent();
        return restriction(conditions, isKey, primary.keyType() , "shard key " + scope.sharded().getFirst().keyLabel());
    }

    private KeyRestriction splitByRestriction(TableRef table, List<Expression> conditions, TableScope scope) {
        if (!(table.definition().hotKey() instanceof HotKeyMode.Append append)) {
            return KeyRestriction.NONE;
        }
        String column = append.splitBy().toLowerCase(Locale.ROOT);
        return restriction(conditions, c -> TableScope.names(c, table, column), null, "split-by column " + table.name() + "." + column);
    }

    private static KeyRestriction restriction(List<Expression> conditions, Predicate<Column> isColumn,
            io.shardgate.cluster.KeyType type, String what) {
        KeyRestriction r = KeyRestriction.NONE;
        for (Expression c : conditions) {
            r = KeyRestriction.and(r, restriction(ConditionRepair.repair(c), isColumn, type, what));
        }
        return r;
    }

    private static KeyRestriction restriction(Expression e, Predicate<Column> isColumn, io.shardgate.cluster.KeyType type, String what) {
        return switch (e) {
            case AndExpression a -> KeyRestriction.and(restriction(a.getLeftExpression(), isColumn, type, what),
                    restriction(a.getRightExpression(), isColumn, type, what));
            case OrExpression o -> KeyRestriction.or(restriction(o.getLeftExpression(), isColumn, type, what),
                    restriction(o.getRightExpression(), isColumn, type, what));
            case ParenthesedExpressionList<?> p when p.size() == 1 && p.get(0) instanceof Expression inner ->
                    restriction(inner, isColumn, type, what);
            case EqualsTo eq -> equality(eq, isColumn, type, what);
            case InExpression in when !in.isNot() && in.getLeftExpression() instanceof Column c && isColumn.test(c)
                    && in.getRightExpression() instanceof ParenthesedExpressionList<?> list -> oneOf(list, type, what);
            default -> KeyRestriction.NONE;
        };
    }

    private static KeyRestriction equality(EqualsTo eq, Predicate<Column> isColumn, io.shardgate.cluster.KeyType type, String what) {
        Expression value;
        if (eq.getLeftExpression() instanceof Column c && isColumn.test(c)) {
            value = eq.getRightExpression();
        } else if (eq.getRightExpression() instanceof Column c && isColumn.test(c)) {
            value = eq.getLeftExpression();
        } else {
            return KeyRestriction.NONE;
        }
        return KeyValue.of(value, type, what).<KeyRestriction>map(v -> new KeyRestriction.OneOf(List.of(v))).orElse(KeyRestriction.NONE);
    }

    private static KeyRestriction oneOf(ParenthesedExpressionList<?> list, io.shardgate.cluster.KeyType type, String what) {
        List<KeyValue> values = new ArrayList<>();
        for (Object item : list) {
            Optional<KeyValue> v = KeyValue.of((Expression) item, type, what);
            if (v.isEmpty()) {
                return KeyRestriction.NONE;
            }
            values.add(v.get());
        }
        return new KeyRestriction.OneOf(values);
    }

    // ---- helpers shared with InsertAnalyzer

    ClusterDefinition cluster() {
        return cluster;
    }

    ParsedStatement parsed() {
        return parsed;
    }

    SqlText.Jdbc clientSql() {
        return clientSql;
    }

    Analysis single(String shard) {
        ShardStatement st = on(shard);
        return fixed(epoch -> new RoutePlan.SingleShard(epoch, st));
    }

    Analysis broadcast() {
        List<String> shards = cluster.shardNames();
        return fixed(epoch -> new RoutePlan.Broadcast(epoch, shards, clientSql.sql(), clientSql.parameters()));
    }

    private ShardStatement on(String shard) {
        return new ShardStatement(shard, clientSql.sql(), clientSql.parameters());
    }

    static Analysis fixed(java.util.function.LongFunction<RoutePlan> plan) {
        return new Analysis.Fixed(plan);
    }

    static Analysis rejected(RejectReason reason, String message) {
        return fixed(epoch -> new RoutePlan.Rejected(epoch, reason, message));
    }

    static List<TableDefinition> definitions(List<TableRef> refs) {
        return refs.stream().map(TableRef::definition).distinct().toList();
    }

    private static List<Expression> selectExpressions(PlainSelect ps) {
        List<Expression> out = new ArrayList<>();
        ps.getSelectItems().forEach(i -> out.add(i.getExpression()));
        out.add(ps.getWhere());
        out.add(ps.getHaving());
        if (ps.getJoins() != null) {
            ps.getJoins().forEach(j -> out.addAll(j.getOnExpressions()));
        }
        if (ps.getOrderByElements() != null) {
            ps.getOrderByElements().forEach(o -> out.add(o.getExpression()));
        }
        out.removeIf(java.util.Objects::isNull);
        return out;
    }

    private static String kindName(Statement s) {
        return s.getClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1 $2").toUpperCase(Locale.ROOT);
    }
}

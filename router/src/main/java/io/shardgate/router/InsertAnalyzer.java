package io.shardgate.router;

import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.router.TableScope.TableRef;
import io.shardgate.router.plan.RejectReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.update.UpdateSet;
import net.sf.jsqlparser.statement.upsert.Upsert;

/**
 * INSERT: each VALUES row's shard key is read here; the per-shard statement is built at routing time
 * as {@code prefix + the shard's rows + suffix}, keeping every row's {@code ?} markers and so its
 * parameter indexes (no values are inlined).
 *
 * <p>MySQL's REPLACE is routed the same way, row by row, each shard running REPLACE of its rows: a row replaces the
 * rows it conflicts with on its own shard, so the answer (affected rows: one per row inserted plus one per row deleted,
 * summed over the shards) is one server's as long as every unique key of the table includes the shard key, which is
 * what makes a unique key mean anything on a sharded table (INSERT … ON DUPLICATE KEY UPDATE rests on the same). A
 * REPLACE of a split counter key is refused: its sub-rows cannot be replaced by one row.
 */
final class InsertAnalyzer {
    /** Stands for the VALUES rows while printing the statement once to cut it into prefix and suffix. */
    private static final String ROWS_SENTINEL = "shardgate_rows_sentinel";

    private final Insert insert;
    private final Analyzer analyzer;
    private final TableRef target;
    /** A MySQL REPLACE, read as the INSERT of the same rows (see the class comment). */
    private final boolean replace;

    private InsertAnalyzer(Insert insert, Analyzer analyzer, boolean replace) {
        this.insert = insert;
        this.analyzer = analyzer;
        this.replace = replace;
        this.target = TableScope.resolve(analyzer.cluster(), insert.getTable());
    }

    static Analysis analyse(Insert insert, Analyzer analyzer) {
        return new InsertAnalyzer(insert, analyzer, false).analyse();
    }

    /** MySQL {@code REPLACE [INTO] t (…) VALUES …}, {@code REPLACE t SET …} or {@code REPLACE t … SELECT}. */
    static Analysis analyseReplace(Upsert replace, Analyzer analyzer) {
        return new InsertAnalyzer(asInsert(replace), analyzer, true).analyse();
    }

    /** The INSERT of the rows {@code replace} writes. */
    private static Insert asInsert(Upsert replace) {
        Insert insert = new Insert();
        insert.setTable(replace.getTable());
        insert.setColumns(replace.getColumns());
        insert.setSelect(replace.getSelect());
        if (replace.getUpdateSets() != null && !replace.getUpdateSets().isEmpty()) {
            insert.withSetUpdateSets(replace.getUpdateSets());
        }
        return insert;
    }

    private Analysis analyse() {
        boolean fromQuery = !usesSet() && !(insert.getSelect() instanceof Values);
        return switch (target.definition().kind()) {
            case SINGLE -> fromQuery ? fromQueryOnShard(target.definition().shard()) : analyzer.single(target.definition().shard());
            case BROADCAST -> fromQuery ? fromQueryOnShard(null) : analyzer.broadcast();
            case SHARDED -> {
                if (fromQuery) {
                    throw new Refusal(RejectReason.UNSUPPORTED_INSERT_SELECT, verb() + " INTO " + target.name()
                            + " … SELECT cannot be split by the shard key " + target.keyLabel() + " yet; insert VALUES rows");
                }
                yield sharded();
            }
        };
    }

    /**
     * INSERT … SELECT is correct per shard only when every row it reads is on the shard it writes:
     * into a single table from tables on that shard or broadcast ones; into a broadcast table (shard
     * {@code null}) from broadcast tables only.
     */
    private Analysis fromQueryOnShard(String shard) {
        for (TableRef r : analyzer.tablesIn(insert.getSelect())) {
            boolean fine = r.definition().kind() == TableKind.BROADCAST
                    || (shard != null && r.definition().kind() == TableKind.SINGLE && r.definition().shard().equals(shard));
            if (!fine) {
                throw new Refusal(RejectReason.UNSUPPORTED_INSERT_SELECT, verb() + " INTO " + target.name() + " … SELECT reads "
                        + r.name() + ", whose rows are not all on the shard(s) being written");
            }
        }
        return shard == null ? analyzer.broadcast() : analyzer.single(shard);
    }

    private Analysis sharded() {
        TableDefinition table = target.definition();
        refuseKeyChangeOnConflict(table);
        List<Column> columns = usesSet()
                ? insert.getSetUpdateSets().stream().flatMap(s -> s.getColumns().stream()).toList()
                : insert.getColumns() == null ? List.of() : List.copyOf(insert.getColumns());
        if (columns.isEmpty()) {
            throw new Refusal(RejectReason.INSERT_WITHOUT_COLUMN_LIST, verb() + " INTO " + table.name()
                    + " has no column list; name the columns so the shard key " + table.shardKey() + " can be found");
        }
        String sequence = table.sequence();
        int idIndex = sequence == null ? -1 : indexOf(columns, sequence);
        boolean idOmitted = sequence != null && idIndex < 0;
        int keyIndex = indexOf(columns, table.shardKey());
        boolean keyIsGenerated = sequence != null && sequence.equals(table.shardKey());
        if (keyIndex < 0 && !keyIsGenerated) {
            throw new Refusal(RejectReason.MISSING_SHARD_KEY_ON_INSERT, verb() + " INTO " + table.name()
                    + " does not give the shard key " + table.shardKey() + (sequence != null ? "" : " (no cluster sequence fills it;"
                    + " if it is an AUTO_INCREMENT, serial or identity column, declare one: shardgate sequence add " + table.name()
                    + " --column " + table.shardKey() + ")"));
        }
        if (sequence != null && usesSet() && idOmitted) {
            throw new Refusal(RejectReason.UNSUPPORTED_STATEMENT, verb() + " INTO " + table.name() + " … SET does not give "
                    + sequence + ", and the proxy fills it from the cluster sequence only in INSERT … (columns) VALUES; use that form"
                    + " or give " + sequence);
        }
        int splitIndex = table.hotKey() instanceof HotKeyMode.Append a ? indexOf(columns, a.splitBy().toLowerCase(Locale.ROOT)) : -1;
        List<List<Expression>> rows = rows();
        List<Analysis.InsertRow> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            out.add(row(rows.get(i), i, columns.size(), keyIndex, splitIndex, idIndex, idOmitted));
        }
        SqlText.Jdbc[] cut = prefixAndSuffix(rows.size(), false);
        Optional<Analysis.Generated> generated = Optional.empty();
        if (sequence != null && !usesSet()) {
            SqlText.Jdbc[] withId = prefixAndSuffix(rows.size(), true);
            generated = Optional.of(new Analysis.Generated(sequence, keyIsGenerated,
                    analyzer.parsed().dialect() == io.shardgate.cluster.Dialect.MYSQL, withId[0], withId[1]));
        }
        Analysis.CounterWrite counterWrite = !CounterWrites.applies(target) ? new Analysis.NotCounterWrite()
                : replace ? new Analysis.CounterWriteRefused("a REPLACE cannot replace a split key's sub-rows by one row; use"
                        + " INSERT … ON DUPLICATE KEY UPDATE or UPDATE")
                : rows.size() == 1 ? CounterWrites.insert(target, insert, columns, rows.getFirst(), analyzer.parsed())
                : new Analysis.CounterWriteRefused("a multi-row INSERT cannot create its sub-rows along with other"
                        + " rows; insert the split key's row alone");
        // ON CONFLICT DO NOTHING, or DO UPDATE … WHERE, returns no row for a row it skips
        var conflict = insert.getConflictAction();
        boolean mayReturnFewerRows = conflict != null && (conflict.getWhereExpression() != null
                || conflict.getConflictActionType() != net.sf.jsqlparser.statement.insert.ConflictActionType.DO_UPDATE);
        return new Analysis.Insert(table, out, analyzer.clientSql(), cut[0], cut[1], insert.getReturningClause() != null,
                mayReturnFewerRows, counterWrite, generated);
    }

    private Analysis.InsertRow row(List<Expression> values, int index, int columnCount, int keyIndex, int splitIndex, int idIndex,
            boolean idOmitted) {
        String where = "row " + (index + 1);
        if (values.size() != columnCount) {
            throw new Refusal(RejectReason.PARSE_ERROR, where + " has " + values.size() + " values for " + columnCount + " columns");
        }
        TableDefinition table = target.definition();
        Analysis.IdValue id = table.sequence() == null ? new Analysis.NoSequence()
                : idOmitted ? new Analysis.NewId() : idValue(values.get(idIndex), where);
        boolean keyFromId = keyIndex == idIndex && (id instanceof Analysis.NewId || id instanceof Analysis.NullId);
        KeyValue key = keyFromId ? null : keyOf(values, keyIndex, where);
        Optional<KeyValue> splitBy = splitIndex < 0 ? Optional.empty()
                : KeyValue.of(values.get(splitIndex), null, "split-by column of " + table.name() + " in " + where);
        var dialect = analyzer.parsed().dialect();
        SqlText.Jdbc text = SqlText.toJdbc(new ParenthesedExpressionList<>(values).toString(), dialect);
        SqlText.Jdbc generatedText = null;
        if (table.sequence() != null && !(id instanceof Analysis.OtherId)) {
            List<Expression> withMarker = new ArrayList<>(values);
            var marker = new net.sf.jsqlparser.expression.JdbcParameter();
            marker.setIndex(Analysis.Generated.ID_PARAMETER + 1);
            marker.setUseFixedIndex(true);
            marker.setParameterCharacter(dialect == io.shardgate.cluster.Dialect.POSTGRES ? "$" : "?");
            if (idOmitted) {
                withMarker.add(marker);
            } else {
                withMarker.set(idIndex, marker);
            }
            generatedText = SqlText.toJdbc(new ParenthesedExpressionList<>(withMarker).toString(), dialect);
        }
        return new Analysis.InsertRow(key, splitBy, text, id, generatedText);
    }

    private KeyValue keyOf(List<Expression> values, int keyIndex, String where) {
        Expression keyExpr = values.get(keyIndex);
        return KeyValue.of(keyExpr, target.definition().keyType(), "shard key " + target.keyLabel() + " in " + where)
                .orElseThrow(() -> new Refusal(RejectReason.BAD_SHARD_KEY_VALUE, where + " gives the shard key " + target.keyLabel()
                        + " as " + keyExpr + "; it must be a literal or a parameter"));
    }

    /** What a row gives for the sequence column; the router decides per execution whether it asks for a new id. */
    private Analysis.IdValue idValue(Expression e, String where) {
        boolean postgres = analyzer.parsed().dialect() == io.shardgate.cluster.Dialect.POSTGRES;
        if (e instanceof Column c && c.getTable() == null && c.getColumnName().equalsIgnoreCase("DEFAULT")) {
            return new Analysis.NewId();
        }
        if (postgres && e instanceof net.sf.jsqlparser.expression.Function f && f.getName().equalsIgnoreCase("nextval")) {
            return new Analysis.NewId();
        }
        if (e instanceof net.sf.jsqlparser.expression.NullValue) {
            return new Analysis.NullId();
        }
        Optional<KeyValue> given;
        try {
            given = KeyValue.of(e, io.shardgate.cluster.KeyType.INT, "id column in " + where);
        } catch (Refusal notAnInteger) {
            given = Optional.empty();
        }
        if (given.isPresent()) {
            return new Analysis.GivenId(given.get());
        }
        if (!postgres) {
            // MySQL generates an id where the value comes out NULL or 0: the shard's own counter must never do that
            throw new Refusal(RejectReason.UNSUPPORTED_STATEMENT, where + " gives " + target.definition().sequence() + " of "
                    + target.name() + " as " + e + ", which the proxy cannot tell from a request for a new id (NULL or 0);"
                    + " give an integer, a parameter, NULL or DEFAULT");
        }
        return new Analysis.OtherId();
    }

    private List<List<Expression>> rows() {
        if (usesSet()) {
            List<Expression> values = new ArrayList<>();
            insert.getSetUpdateSets().forEach(s -> s.getValues().forEach(values::add));
            return List.of(values);
        }
        ExpressionList<?> list = ((Values) insert.getSelect()).getExpressions();
        if (list instanceof ParenthesedExpressionList<?> single) {
            return List.of(expressions(single));
        }
        List<List<Expression>> rows = new ArrayList<>();
        for (Object row : list) {
            if (!(row instanceof ExpressionList<?> r)) {
                throw new Refusal(RejectReason.UNSUPPORTED_STATEMENT, "VALUES row " + row + " is not a parenthesised list");
            }
            rows.add(expressions(r));
        }
        return rows;
    }

    private static List<Expression> expressions(ExpressionList<?> list) {
        return list.stream().map(e -> (Expression) e).toList();
    }

    /**
     * The text before and after the VALUES rows, from a copy whose rows are replaced by a marker; {@code withId}: for
     * rows whose sequence column the proxy fills, so also for one row, and with the column added when it is omitted.
     */
    private SqlText.Jdbc[] prefixAndSuffix(int rowCount, boolean withId) {
        SqlText.Jdbc empty = new SqlText.Jdbc("", List.of());
        if ((rowCount == 1 && !withId) || usesSet()) {
            return new SqlText.Jdbc[] {empty, empty};
        }
        Insert copy = replace ? asInsert((Upsert) analyzer.parsed().freshTree()) : (Insert) analyzer.parsed().freshTree();
        String sequence = target.definition().sequence();
        if (withId && indexOf(copy.getColumns(), sequence) < 0) {
            copy.getColumns().add(new Column(sequence));
        }
        ((Values) copy.getSelect()).setExpressions(new ExpressionList<>(new Column(ROWS_SENTINEL)));
        String text = copy.toString();
        if (replace) {
            if (!text.startsWith("INSERT ")) {
                throw new IllegalStateException("JSqlParser printed an INSERT as " + text);
            }
            text = "REPLACE " + text.substring("INSERT ".length());
        }
        int at = text.indexOf(ROWS_SENTINEL);
        var dialect = analyzer.parsed().dialect();
        return new SqlText.Jdbc[] {
            SqlText.toJdbc(text.substring(0, at), dialect), SqlText.toJdbc(text.substring(at + ROWS_SENTINEL.length()), dialect)
        };
    }

    private void refuseKeyChangeOnConflict(TableDefinition table) {
        List<UpdateSet> sets = new ArrayList<>();
        if (insert.getDuplicateUpdateSets() != null) {
            sets.addAll(insert.getDuplicateUpdateSets());
        }
        if (insert.getConflictAction() != null && insert.getConflictAction().getUpdateSets() != null) {
            sets.addAll(insert.getConflictAction().getUpdateSets());
        }
        for (UpdateSet s : sets) {
            for (Column c : s.getColumns()) {
                if (SqlText.unquote(c.getColumnName()).equals(table.shardKey())) {
                    throw new Refusal(RejectReason.SHARD_KEY_UPDATE, "the upsert of " + table.name() + " sets the shard key "
                            + target.keyLabel() + " on conflict; the row would have to move to another shard");
                }
            }
        }
    }

    private String verb() {
        return replace ? "REPLACE" : "INSERT";
    }

    /** {@code INSERT … SET a = 1} (MySQL); {@code Insert.isUseSet()} is deprecated in JSqlParser 5.3. */
    private boolean usesSet() {
        return insert.getSetUpdateSets() != null && !insert.getSetUpdateSets().isEmpty();
    }

    private static int indexOf(List<Column> columns, String name) {
        for (int i = 0; i < columns.size(); i++) {
            if (SqlText.unquote(columns.get(i).getColumnName()).equals(name)) {
                return i;
            }
        }
        return -1;
    }
}

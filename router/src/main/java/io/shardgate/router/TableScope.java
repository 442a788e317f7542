package io.shardgate.router;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.cluster.UnknownTablePolicy;
import io.shardgate.router.plan.RejectReason;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;

/**
 * The tables one query level names, with aliases, and the enclosing level for correlated subqueries.
 * Resolves a column to the sharded table whose shard key it is.
 */
final class TableScope {

    /** A table in a FROM clause. {@code declared} is false for an unknown table placed by policy. */
    record TableRef(TableDefinition definition, String alias, boolean declared) {
        TableRef {
            Objects.requireNonNull(definition, "definition");
        }

        String name() {
            return definition.name();
        }

        boolean sharded() {
            return definition.kind() == TableKind.SHARDED;
        }

        boolean answersTo(String qualifier) {
            return qualifier.equals(alias) || qualifier.equals(definition.name());
        }

        /** {@code table.key} for messages. */
        String keyLabel() {
            return definition.name() + "." + definition.shardKey();
        }
    }

    private final List<TableRef> refs;
    private final TableScope outer;

    TableScope(List<TableRef> refs, TableScope outer) {
        this.refs = List.copyOf(refs);
        this.outer = outer;
    }

    List<TableRef> refs() {
        return refs;
    }

    List<TableRef> sharded() {
        return refs.stream().filter(TableRef::sharded).toList();
    }

    Optional<TableScope> outer() {
        return Optional.ofNullable(outer);
    }

    /** The sharded table (of this level, then outer levels) whose shard key {@code column} is. */
    Optional<TableRef> keyOwner(Column column) {
        String name = SqlText.unquote(column.getColumnName());
        Table qualifierTable = column.getTable();
        String qualifier = qualifierTable == null || qualifierTable.getName() == null ? null : SqlText.unquote(qualifierTable.getName());
        for (TableRef ref : refs) {
            boolean visible = qualifier == null || ref.answersTo(qualifier);
            if (visible && ref.sharded() && ref.definition().shardKey().equals(name)) {
                return Optional.of(ref);
            }
        }
        boolean resolvedHere = qualifier != null && refs.stream().anyMatch(r -> r.answersTo(qualifier));
        return resolvedHere || outer == null ? Optional.empty() : outer.keyOwner(column);
    }

    /** Whether {@code column} names {@code columnName} of {@code ref} (qualified by its alias or name, or unqualified). */
    static boolean names(Column column, TableRef ref, String columnName) {
        if (!SqlText.unquote(column.getColumnName()).equals(columnName)) {
            return false;
        }
        Table t = column.getTable();
        return t == null || t.getName() == null || ref.answersTo(SqlText.unquote(t.getName()));
    }

    /** Resolves a table named in SQL, applying the unknown-table policy. */
    static TableRef resolve(ClusterDefinition cluster, Table table) {
        String name = SqlText.unquote(table.getName());
        String alias = table.getAlias() == null ? null : SqlText.unquote(table.getAlias().getName());
        Optional<TableDefinition> def = cluster.table(name);
        if (def.isPresent()) {
            return new TableRef(def.get(), alias, true);
        }
        if (cluster.unknownTables() == UnknownTablePolicy.REJECT) {
            throw new Refusal(RejectReason.UNKNOWN_TABLE, "table " + name
                    + " is not declared in the cluster definition, and unknown tables are rejected (unknownTables: REJECT)");
        }
        return new TableRef(TableDefinition.single(name, cluster.defaultShard()), alias, false);
    }
}

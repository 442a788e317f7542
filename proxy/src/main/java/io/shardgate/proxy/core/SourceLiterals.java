package io.shardgate.proxy.core;

import io.shardgate.proxy.session.ClientSql;
import io.shardgate.router.SqlTemplate;
import io.shardgate.router.plan.ShardStatement;
import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * The literal values of a MySQL text statement, as the router sees them (the parameters of its cached template), which
 * also know where each came from in the client's bytes. It travels through routing and execution as the plan's
 * parameter list; when a shard statement is sent, {@link #bytesFor} gives the client's own bytes if the shard SQL is
 * the statement as sent, and otherwise the shard SQL with every literal spelled as the client spelled it, in the
 * client's character set: a literal the router did not change is never decoded and re-encoded.
 */
final class SourceLiterals extends AbstractList<Object> implements RandomAccess {
    private final ClientSql sql;
    /** The statement's template, or null when it was analysed as it is (no replaceable literal). */
    private final SqlTemplate template;
    private final List<Object> values;

    SourceLiterals(ClientSql sql, SqlTemplate template) {
        this.sql = sql;
        this.template = template;
        this.values = template == null ? List.of() : template.literals();
    }

    /** The bytes to send for {@code statement}, one of this statement's shard statements. */
    byte[] bytesFor(ShardStatement statement) {
        if (template == null) {
            return sql.bytesOf(statement.sql());
        }
        if (statement.sql().equals(template.template()) && inOrder(statement.parameters())) {
            return sql.bytes(); // the statement as sent: nothing to render
        }
        return sql.bytesOf(template.render(statement.sql(), statement.parameters()));
    }

    private static boolean inOrder(List<Integer> parameters) {
        for (int i = 0; i < parameters.size(); i++) {
            if (parameters.get(i) != i) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Object get(int index) {
        return values.get(index);
    }

    @Override
    public int size() {
        return values.size();
    }
}

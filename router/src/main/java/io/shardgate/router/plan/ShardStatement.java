package io.shardgate.router.plan;

import java.util.List;
import java.util.Objects;

/**
 * SQL to run on one shard.
 *
 * @param shard      shard name
 * @param sql        SQL text with JDBC-style {@code ?} placeholders (never {@code $n})
 * @param parameters for each {@code ?} of {@code sql}, in order, the 0-based index into the bound
 *                   parameters of the statement the client sent
 */
public record ShardStatement(String shard, String sql, List<Integer> parameters) {
    public ShardStatement {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(sql, "sql");
        parameters = List.copyOf(parameters);
    }

    /** The parameters of this statement, picked from the client's bound values. */
    public List<Object> bind(List<?> boundParameters) {
        Object[] values = new Object[parameters.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = boundParameters.get(parameters.get(i));
        }
        // null parameter values are legal (SQL NULL), so no List.of here
        return java.util.Collections.unmodifiableList(java.util.Arrays.asList(values));
    }
}

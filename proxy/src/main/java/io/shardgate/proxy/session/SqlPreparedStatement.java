package io.shardgate.proxy.session;

import java.util.List;
import java.util.Objects;

/**
 * A statement a PostgreSQL client prepared with SQL {@code PREPARE}, as the session checked it: its text and the type of
 * each parameter, declared or inferred by a shard as the server infers them.
 *
 * @param sql         the statement after {@code AS}, with its {@code $n} parameters
 * @param types       each parameter's type as SQL spells it ({@code format_type}: {@code bigint}, {@code character varying})
 * @param driverTypes each parameter's type as the backend driver names it ({@code int8}, {@code varchar})
 * @param columns     the result columns an EXECUTE of it returns, as a shard describes them (none for a write without
 *                    RETURNING): what a Describe of an {@code EXECUTE} statement answers
 */
public record SqlPreparedStatement(String sql, List<String> types, List<String> driverTypes, List<ColumnInfo> columns) {
    public SqlPreparedStatement {
        Objects.requireNonNull(sql, "sql");
        types = List.copyOf(types);
        driverTypes = List.copyOf(driverTypes);
        columns = List.copyOf(columns);
        if (types.size() != driverTypes.size()) {
            throw new IllegalArgumentException(types.size() + " types but " + driverTypes.size() + " driver types");
        }
    }
}

package io.shardgate.proxy.session;

import java.util.List;

/**
 * The answer to a prepare: the statement's id and what the client needs to bind and read it.
 *
 * @param statementId id the client uses in execute/close/reset
 * @param parameters  one entry per {@code ?}
 * @param columns     result columns, empty for a statement without a result set
 */
public record PreparedInfo(int statementId, List<ColumnInfo> parameters, List<ColumnInfo> columns) {
    public PreparedInfo {
        parameters = List.copyOf(parameters);
        columns = List.copyOf(columns);
    }
}

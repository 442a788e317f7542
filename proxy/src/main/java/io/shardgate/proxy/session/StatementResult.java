package io.shardgate.proxy.session;

import java.util.List;
import java.util.Objects;

/**
 * What a statement returns, independent of the wire protocol.
 *
 * <p>Row values are the backend's TEXT form of each value as bytes (MySQL's text protocol
 * representation for a MySQL cluster, PostgreSQL's text output for a PostgreSQL cluster), or null
 * for SQL NULL. Passing the backend's own text through keeps values byte-exact; a binary-protocol
 * encoder parses the text according to the column's {@link ColumnType}.
 */
public sealed interface StatementResult {

    /** A statement without a result set. */
    record Update(long affectedRows, long lastInsertId, int warnings, String info) implements StatementResult {
        public Update {
            Objects.requireNonNull(info, "info");
        }

        public static Update of(long affectedRows) {
            return new Update(affectedRows, 0, 0, "");
        }
    }

    /** A result set, fully read. */
    record Rows(List<ColumnInfo> columns, List<byte[][]> rows, int warnings) implements StatementResult {
        public Rows {
            columns = List.copyOf(columns);
            rows = List.copyOf(rows);
        }
    }
}

package io.shardgate.proxy.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a statement returns, independent of the wire protocol.
 *
 * <p>Row values are the backend's TEXT form of each value as bytes (MySQL's text protocol
 * representation for a MySQL cluster, PostgreSQL's text output for a PostgreSQL cluster), or null
 * for SQL NULL. Passing the backend's own text through keeps values byte-exact; a binary-protocol
 * encoder parses the text according to the column's {@link ColumnType}.
 *
 * <p>A result set comes either whole ({@link Rows}: the proxy's own answers, results it derives something from) or as
 * a {@link Stream} that the front end writes as its rows arrive (a plain read of shard rows, see ProxySession).
 */
public sealed interface StatementResult {

    /**
     * A statement without a result set. {@code queryStatus}: the status flags a MySQL server set in its OK packet that
     * describe the statement itself, not the session ({@link #QUERY_STATUS}: no index or no good index used, slow), which
     * a front end passes on with its own session flags.
     */
    record Update(long affectedRows, long lastInsertId, int warnings, String info, int queryStatus) implements StatementResult {
        /** SERVER_QUERY_NO_GOOD_INDEX_USED, SERVER_QUERY_NO_INDEX_USED, SERVER_QUERY_WAS_SLOW. */
        public static final int QUERY_STATUS = 0x0010 | 0x0020 | 0x0800;

        public Update {
            Objects.requireNonNull(info, "info");
            queryStatus &= QUERY_STATUS;
        }

        public Update(long affectedRows, long lastInsertId, int warnings, String info) {
            this(affectedRows, lastInsertId, warnings, info, 0);
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

    /**
     * A result set whose rows are still coming: the front end writes {@code columns}, then each row as {@link RowStream#next}
     * gives it, and closes the stream in every case. Whoever does not write it as a stream reads it whole with
     * {@link #readAll}.
     */
    record Stream(List<ColumnInfo> columns, RowStream rows) implements StatementResult {
        public Stream {
            columns = List.copyOf(columns);
            Objects.requireNonNull(rows, "rows");
        }

        /** The whole result, read now (the stream is closed). */
        public Rows readAll() {
            List<byte[][]> all = new ArrayList<>();
            try {
                for (byte[][] row; (row = rows.next()) != null; ) {
                    all.add(row);
                }
                return new Rows(columns, all, rows.warnings());
            } finally {
                rows.close();
            }
        }
    }

    /** {@code result} with a stream read whole: for callers that need every row (or the count) before answering. */
    static StatementResult whole(StatementResult result) {
        return result instanceof Stream s ? s.readAll() : result;
    }
}

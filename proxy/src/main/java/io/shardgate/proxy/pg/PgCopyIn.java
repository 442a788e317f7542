package io.shardgate.proxy.pg;

import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.StatementResult;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One running COPY FROM STDIN: splits the client's data into rows (rows may span CopyData messages), decodes each row
 * in text or CSV format, and inserts the rows in batches of multi-row INSERTs with parameters through the session.
 *
 * <p>Decision: the rows go in as INSERTs rather than as a COPY per shard, so each row takes exactly the route an INSERT
 * of it would (its key's shard, dual writes while its slot moves, held during a cutover, the sub-keys of a split hot
 * key) and a row without a routable key is refused like such an INSERT. The front end runs the whole COPY in one
 * transaction (the client's, or one it opens), so a bad row leaves nothing behind. The price is speed: a server's COPY
 * is several times faster than these INSERTs.
 */
final class PgCopyIn {
    /** PostgreSQL allows 65535 parameters per statement; rows per INSERT stay well below that. */
    private static final int MAX_PARAMETERS = 30_000;
    private static final int MAX_ROWS_PER_INSERT = 1_000;

    private final PgCopyStatement copy;
    private final FrontendSession session;
    private final int width;
    private final int rowsPerInsert;
    private final String fullInsert;
    private final List<String> columnNames;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private final List<Object> batch = new ArrayList<>();
    private int batchRows;
    private long line;
    private long rows;
    private boolean ended;
    private boolean headerSkipped;

    /**
     * @param columns the columns the rows carry, as the INSERTs name them: the COPY's list, or the table's columns
     */
    PgCopyIn(PgCopyStatement copy, List<String> columns, FrontendSession session) {
        this.copy = copy;
        this.session = session;
        this.width = columns.size();
        this.rowsPerInsert = Math.max(1, Math.min(MAX_ROWS_PER_INSERT, MAX_PARAMETERS / Math.max(1, width)));
        this.fullInsert = insert(copy.table(), columns, rowsPerInsert);
        this.columnNames = List.copyOf(columns);
    }

    /** A chunk of the client's data. */
    void data(byte[] chunk) {
        if (ended) {
            return;   // after the \. end marker a server ignores what follows
        }
        pending.write(chunk, 0, chunk.length);
        byte[] buffer = pending.toByteArray();
        int start = 0;
        int end;
        while (!ended && (end = rowEnd(buffer, start)) >= 0) {
            row(buffer, start, end);
            start = end + 1;
        }
        pending.reset();
        if (!ended) {
            pending.write(buffer, start, buffer.length - start);
        }
    }

    /** The end of the data: the last row (which may lack its newline) and the last INSERT; returns the rows copied. */
    long finish() {
        if (!ended && pending.size() > 0) {
            byte[] rest = pending.toByteArray();
            if (copy.csv() && rowEnd(appendNewline(rest), 0) < 0) {
                throw badData("unterminated CSV quoted field");
            }
            row(rest, 0, rest.length);
        }
        pending.reset();
        flush();
        return rows;
    }

    private static byte[] appendNewline(byte[] rest) {
        byte[] withNewline = Arrays.copyOf(rest, rest.length + 1);
        withNewline[rest.length] = '\n';
        return withNewline;
    }

    /** The index of the newline ending the row that starts at {@code start}, or -1 if it has not arrived yet. */
    private int rowEnd(byte[] b, int start) {
        if (!copy.csv()) {
            for (int i = start; i < b.length; i++) {
                if (b[i] == '\n') {
                    return i;
                }
            }
            return -1;
        }
        boolean quoted = false;
        for (int i = start; i < b.length; i++) {
            byte c = b[i];
            if (quoted) {
                if (c == copy.escape() && copy.escape() != copy.quote() && i + 1 < b.length
                        && (b[i + 1] == copy.quote() || b[i + 1] == copy.escape())) {
                    i++;
                } else if (c == copy.quote()) {
                    quoted = false;
                }
            } else if (c == copy.quote()) {
                quoted = true;
            } else if (c == '\n') {
                return i;
            }
        }
        return -1;
    }

    private void row(byte[] b, int start, int end) {
        line++;
        int stop = end > start && b[end - 1] == '\r' ? end - 1 : end;
        String text = new String(b, start, stop - start, StandardCharsets.UTF_8);
        if (text.equals("\\.")) {
            ended = true;
            return;
        }
        if (copy.csv() && copy.header() && !headerSkipped) {
            headerSkipped = true;
            return;
        }
        List<String> fields = copy.csv() ? csvFields(text) : textFields(text);
        if (fields.size() < width) {
            throw badData("missing data for column " + columnNames.get(fields.size()));
        }
        if (fields.size() > width) {
            throw badData("extra data after last expected column");
        }
        batch.addAll(fields);
        batchRows++;
        if (batchRows == rowsPerInsert) {
            flush();
        }
    }

    /** Text format: fields split at the delimiter, backslash escapes decoded, the NULL text (as sent) read as NULL. */
    private List<String> textFields(String text) {
        List<String> fields = new ArrayList<>(width);
        StringBuilder raw = new StringBuilder();
        StringBuilder value = new StringBuilder();
        int n = text.length();
        for (int i = 0; i <= n; i++) {
            char c = i < n ? text.charAt(i) : copy.delimiter();
            if (i == n || c == copy.delimiter()) {
                fields.add(raw.toString().equals(copy.nullText()) ? null : value.toString());
                raw.setLength(0);
                value.setLength(0);
                if (i == n) {
                    break;
                }
                continue;
            }
            raw.append(c);
            if (c != '\\' || i + 1 >= n) {
                value.append(c);
                continue;
            }
            char d = text.charAt(++i);
            raw.append(d);
            switch (d) {
                case 'b' -> value.append('\b');
                case 'f' -> value.append('\f');
                case 'n' -> value.append('\n');
                case 'r' -> value.append('\r');
                case 't' -> value.append('\t');
                case 'v' -> value.append('\u000B');
                case 'x' -> {
                    int digits = 0;
                    int code = 0;
                    while (digits < 2 && i + 1 < n && Character.digit(text.charAt(i + 1), 16) >= 0) {
                        code = code * 16 + Character.digit(text.charAt(++i), 16);
                        raw.append(text.charAt(i));
                        digits++;
                    }
                    if (digits == 0) {
                        value.append('x');
                    } else {
                        value.append((char) code);
                    }
                }
                default -> {
                    if (d >= '0' && d <= '7') {
                        int code = d - '0';
                        for (int k = 0; k < 2 && i + 1 < n && text.charAt(i + 1) >= '0' && text.charAt(i + 1) <= '7'; k++) {
                            code = code * 8 + (text.charAt(++i) - '0');
                            raw.append(text.charAt(i));
                        }
                        value.append((char) code);
                    } else {
                        value.append(d);
                    }
                }
            }
        }
        return fields;
    }

    /**
     * CSV: fields split at the delimiter outside quotes; a quoted field keeps delimiters and newlines, a doubled quote
     * (or the escape character) inside it stands for itself; an unquoted field equal to the NULL text is NULL, a quoted
     * one never is.
     */
    private List<String> csvFields(String text) {
        List<String> fields = new ArrayList<>(width);
        StringBuilder value = new StringBuilder();
        boolean quoted = false;
        boolean wasQuoted = false;
        int n = text.length();
        for (int i = 0; i <= n; i++) {
            if (i == n) {
                if (quoted) {
                    throw badData("unterminated CSV quoted field");
                }
                fields.add(!wasQuoted && value.toString().equals(copy.nullText()) ? null : value.toString());
                break;
            }
            char c = text.charAt(i);
            if (quoted) {
                if (c == copy.escape() && i + 1 < n && (text.charAt(i + 1) == copy.quote() || text.charAt(i + 1) == copy.escape())
                        && (copy.escape() != copy.quote() || text.charAt(i + 1) == copy.quote())) {
                    value.append(text.charAt(++i));
                } else if (c == copy.quote()) {
                    quoted = false;
                } else {
                    value.append(c);
                }
            } else if (c == copy.quote()) {
                quoted = true;
                wasQuoted = true;
            } else if (c == copy.delimiter()) {
                fields.add(!wasQuoted && value.toString().equals(copy.nullText()) ? null : value.toString());
                value.setLength(0);
                wasQuoted = false;
            } else {
                value.append(c);
            }
        }
        return fields;
    }

    private void flush() {
        if (batchRows == 0) {
            return;
        }
        String sql = batchRows == rowsPerInsert ? fullInsert : insert(copy.table(), columnNames, batchRows);
        try {
            StatementResult result = session.query(sql, new ArrayList<>(batch));   // NULLs included
            rows += result instanceof StatementResult.Update u ? u.affectedRows() : batchRows;
        } catch (ProxyException e) {
            String message = describeBatch(e);
            throw e.code() == null ? ProxyException.backend(e.error().mysqlErrno(), e.error().sqlState(), message, e.getCause())
                    : new ProxyException(e.code(), message, e);
        }
        batch.clear();
        batchRows = 0;
    }

    /** Which lines the failed INSERT carried: a server names the one line; an INSERT of many rows knows the range. */
    private String describeBatch(ProxyException e) {
        long last = line;
        long first = last - batchRows + 1;
        return e.getMessage() + " (COPY " + copy.table() + ", " + (first == last ? "line " + last : "lines " + first + "-" + last) + ")";
    }

    private ProxyException badData(String message) {
        return ProxyException.backend(0, "22P04", message + " (COPY " + copy.table() + ", line " + line + ")", null);
    }

    private static String insert(String table, List<String> columns, int rowCount) {
        StringBuilder sql = new StringBuilder("INSERT INTO ").append(table).append(" (").append(String.join(", ", columns))
                .append(") VALUES ");
        int p = 1;
        for (int r = 0; r < rowCount; r++) {
            sql.append(r == 0 ? "(" : ", (");
            for (int c = 0; c < columns.size(); c++) {
                sql.append(c == 0 ? "$" : ", $").append(p++);
            }
            sql.append(')');
        }
        return sql.toString();
    }
}

package io.shardgate.proxy.pg.message;

import io.shardgate.proxy.session.ColumnInfo;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What the proxy sends a PostgreSQL client, encoded by {@link io.shardgate.proxy.pg.codec.PgMessageEncoder}. */
public sealed interface PgServerMessage {

    /** The single byte answering an SSLRequest or GSSENCRequest: {@code 'N'} = not supported, go on in plain text. */
    record EncryptionRefused() implements PgServerMessage {}

    /** 'R' 0. */
    record AuthenticationOk() implements PgServerMessage {}

    /** 'R' 5 with the 4-byte salt. */
    record AuthenticationMd5(byte[] salt) implements PgServerMessage {}

    /** 'R' 10 with the mechanisms offered. */
    record AuthenticationSasl(List<String> mechanisms) implements PgServerMessage {
        public AuthenticationSasl {
            mechanisms = List.copyOf(mechanisms);
        }
    }

    /** 'R' 11: server-first-message. */
    record AuthenticationSaslContinue(byte[] data) implements PgServerMessage {}

    /** 'R' 12: server-final-message. */
    record AuthenticationSaslFinal(byte[] data) implements PgServerMessage {}

    /** 'S'. */
    record ParameterStatus(String name, String value) implements PgServerMessage {}

    /** 'K'. */
    record BackendKeyData(int processId, int secretKey) implements PgServerMessage {}

    /** 'Z' with 'I' (idle), 'T' (in a transaction) or 'E' (in a failed transaction). */
    record ReadyForQuery(char status) implements PgServerMessage {}

    /**
     * 'T'. {@code formats} has one code per column (0 text, 1 binary); for a statement description all are 0.
     */
    record RowDescription(List<ColumnInfo> columns, List<Short> formats) implements PgServerMessage {
        public RowDescription {
            columns = List.copyOf(columns);
            formats = List.copyOf(formats);
            if (formats.size() != columns.size()) {
                throw new IllegalArgumentException(columns.size() + " columns but " + formats.size() + " formats");
            }
        }
    }

    /**
     * Several 'D' messages. Values are the backend's text bytes (null = SQL NULL); a column whose format is binary is
     * converted by the encoder from text to the type's binary form.
     */
    record DataRows(List<ColumnInfo> columns, List<Short> formats, List<byte[][]> rows) implements PgServerMessage {
        public DataRows {
            columns = List.copyOf(columns);
            formats = List.copyOf(formats);
            rows = List.copyOf(rows);
        }
    }

    /** 'C'. */
    /** 'G': the server is ready for COPY FROM STDIN data, in text format (0) for each of {@code columns} columns. */
    record CopyInResponse(int columns) implements PgServerMessage {}

    record CommandComplete(String tag) implements PgServerMessage {
        public CommandComplete {
            Objects.requireNonNull(tag, "tag");
        }
    }

    /** 'I'. */
    record EmptyQueryResponse() implements PgServerMessage {}

    /**
     * 'E' (error) or 'N' (notice): severity, SQLSTATE and message kept apart, and the server's other fields (DETAIL 'D',
     * HINT 'H', POSITION 'P', internal position and query 'p' 'q', WHERE 'W', schema, table, column, data type and
     * constraint names 's' 't' 'c' 'd' 'n', FILE, LINE and ROUTINE 'F' 'L' 'R') by their field codes.
     */
    record ErrorResponse(boolean notice, String severity, String sqlState, String message, Map<Character, String> fields)
            implements PgServerMessage {
        /** The optional fields in the order a server sends them. */
        public static final String FIELD_ORDER = "DHPpqWstcdnFLR";

        public ErrorResponse {
            Objects.requireNonNull(severity, "severity");
            Objects.requireNonNull(sqlState, "sqlState");
            Objects.requireNonNull(message, "message");
            fields = Map.copyOf(fields);
            for (Character code : fields.keySet()) {
                if (FIELD_ORDER.indexOf(code) < 0) {
                    throw new IllegalArgumentException("not an optional ErrorResponse field: '" + code + "'");
                }
            }
        }

        /** Without further fields. */
        public ErrorResponse(boolean notice, String severity, String sqlState, String message) {
            this(notice, severity, sqlState, message, Map.of());
        }

        /** The same error with a shard's DETAIL and HINT fields (null where it sent none). */
        public ErrorResponse withDetail(String detail, String hint) {
            Map<Character, String> more = new java.util.HashMap<>(fields);
            if (detail != null) {
                more.put('D', detail);
            }
            if (hint != null) {
                more.put('H', hint);
            }
            return withFields(more);
        }

        /** The same error with {@code fields} (codes from {@link #FIELD_ORDER}) instead of its own. */
        public ErrorResponse withFields(Map<Character, String> fields) {
            return new ErrorResponse(notice, severity, sqlState, message, fields);
        }

        public static ErrorResponse error(String sqlState, String message) {
            return new ErrorResponse(false, "ERROR", sqlState, message);
        }

        public static ErrorResponse fatal(String sqlState, String message) {
            return new ErrorResponse(false, "FATAL", sqlState, message);
        }
    }

    /** '1'. */
    record ParseComplete() implements PgServerMessage {}

    /** '2'. */
    record BindComplete() implements PgServerMessage {}

    /** '3'. */
    record CloseComplete() implements PgServerMessage {}

    /** 'n'. */
    record NoData() implements PgServerMessage {}

    /** 's'. */
    record PortalSuspended() implements PgServerMessage {}

    /** 't'. */
    record ParameterDescription(List<Integer> typeOids) implements PgServerMessage {
        public ParameterDescription {
            typeOids = List.copyOf(typeOids);
        }
    }
}

package io.shardgate.proxy.pg.message;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a PostgreSQL client sends (protocol 3.0), one record per message, decoded by
 * {@link io.shardgate.proxy.pg.codec.PgMessageDecoder}. Nothing past the decoder sees bytes.
 */
public sealed interface PgClientMessage {

    /** SSLRequest (startup phase): the client asks for TLS before its StartupMessage. */
    record SslRequest() implements PgClientMessage {}

    /** GSSENCRequest (startup phase): the client asks for GSSAPI encryption. */
    record GssEncRequest() implements PgClientMessage {}

    /** StartupMessage: protocol version and the parameters (user, database, options, client settings). */
    record Startup(int protocolVersion, Map<String, String> parameters) implements PgClientMessage {
        public Startup {
            parameters = Map.copyOf(parameters);
        }
    }

    /** CancelRequest (startup phase, on a new connection): cancel the statement of the session with this key. */
    record CancelRequest(int processId, int secretKey) implements PgClientMessage {}

    /**
     * 'p': PasswordMessage, SASLInitialResponse or SASLResponse; which one depends on what the server asked
     * for, so the front end reads the bytes ({@link io.shardgate.proxy.pg.PgAuth}).
     */
    record AuthData(byte[] data) implements PgClientMessage {
        public AuthData {
            Objects.requireNonNull(data, "data");
        }
    }

    /** 'Q': one or more statements separated by semicolons. */
    record Query(String sql) implements PgClientMessage {}

    /** 'P': prepare {@code sql} as statement {@code name} ("" = unnamed); a type OID of 0 leaves the type to the server. */
    record Parse(String name, String sql, List<Integer> parameterTypes) implements PgClientMessage {
        public Parse {
            parameterTypes = List.copyOf(parameterTypes);
        }
    }

    /**
     * 'B': bind {@code statement} into {@code portal}. Format codes as sent: none = all text, one = for all, else one
     * per parameter (or result column). A null value is SQL NULL.
     */
    record Bind(String portal, String statement, List<Short> parameterFormats, List<byte[]> values, List<Short> resultFormats)
            implements PgClientMessage {
        public Bind {
            parameterFormats = List.copyOf(parameterFormats);
            values = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(values));
            resultFormats = List.copyOf(resultFormats);
        }
    }

    /** 'D': describe a statement ({@code 'S'}) or a portal ({@code 'P'}). */
    record Describe(char kind, String name) implements PgClientMessage {}

    /** 'E': run a portal, at most {@code maxRows} rows (0 = all). */
    record Execute(String portal, int maxRows) implements PgClientMessage {}

    /** 'C': close a statement ({@code 'S'}) or a portal ({@code 'P'}). */
    record Close(char kind, String name) implements PgClientMessage {}

    /** 'S': end of an extended-query batch. */
    record Sync() implements PgClientMessage {}

    /** 'H': send what is pending. */
    record Flush() implements PgClientMessage {}

    /** 'X'. */
    record Terminate() implements PgClientMessage {}

    /** 'd': a chunk of COPY FROM STDIN data; rows may span chunks. Outside a COPY it is ignored, as by a server. */
    record CopyData(byte[] data) implements PgClientMessage {}

    /** 'c': the end of the COPY data. */
    record CopyDone() implements PgClientMessage {}

    /** 'f': the client gives up the COPY, with its reason. */
    record CopyFail(String reason) implements PgClientMessage {}

    /** A message type this proxy does not handle (e.g. 'F' function call). */
    record Unknown(char type) implements PgClientMessage {}

    /** 'F': the legacy function-call ("fastpath") message; its body is skipped, the front end refuses it. */
    record FunctionCall() implements PgClientMessage {}
}

package io.shardgate.proxy.mysql.message;

import java.util.List;
import java.util.Map;

/** Everything a MySQL client sends, decoded. No message holds a ByteBuf. */
public sealed interface ClientMessage {

    /** Protocol::HandshakeResponse41. */
    record HandshakeResponse(int capabilities, int maxPacketSize, int collation, String user, byte[] authResponse,
            String database, String authPlugin, Map<String, String> attributes) implements ClientMessage {
        public HandshakeResponse {
            attributes = Map.copyOf(attributes);
        }
    }

    /** A client asked for TLS, which this proxy does not offer. */
    record SslRequest(int capabilities) implements ClientMessage {}

    /** The client's answer to an AuthSwitchRequest: the scramble computed with the requested plugin. */
    record AuthSwitchResponse(byte[] authResponse) implements ClientMessage {}

    record Quit() implements ClientMessage {}

    record InitDb(String schema) implements ClientMessage {}

    /**
     * COM_QUERY: the statement as the client's bytes, in its character set; nothing decodes them before the session
     * (which knows the character set), so the shard can get them byte for byte.
     */
    record Query(byte[] sql) implements ClientMessage {
        @Override
        public boolean equals(Object o) {
            return o instanceof Query q && java.util.Arrays.equals(sql, q.sql);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(sql);
        }

        @Override
        public String toString() {
            return "Query[" + new String(sql, java.nio.charset.StandardCharsets.ISO_8859_1) + "]";
        }
    }

    record FieldList(String table, String wildcard) implements ClientMessage {}

    record Ping() implements ClientMessage {}

    /** COM_STMT_PREPARE: the statement as the client's bytes, like {@link Query}. */
    record StmtPrepare(byte[] sql) implements ClientMessage {
        @Override
        public boolean equals(Object o) {
            return o instanceof StmtPrepare p && java.util.Arrays.equals(sql, p.sql);
        }

        @Override
        public int hashCode() {
            return java.util.Arrays.hashCode(sql);
        }

        @Override
        public String toString() {
            return "StmtPrepare[" + new String(sql, java.nio.charset.StandardCharsets.ISO_8859_1) + "]";
        }
    }

    /**
     * COM_STMT_EXECUTE with parameters decoded to Java values (see FrontendSession#execute); a string-typed parameter is a
     * {@link io.shardgate.proxy.session.ClientText} (the client's bytes: only the session knows their character set).
     */
    /*
     * relayPacket: the command as a shard takes it for the relay of backend.native: the client's COM_STMT_EXECUTE
     * payload (command byte first) with the parameter types always bound (new-params-bound 1, the types the client
     * last sent when it sent none this time), so that it stands alone on any backend connection. Null when the
     * execute cannot go out as one packet: parameters sent as long data, a cursor asked for, an unknown statement.
     */
    record StmtExecute(int statementId, int flags, List<Object> parameters, byte[] relayPacket) implements ClientMessage {
        public StmtExecute {
            parameters = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(parameters));
        }

        public StmtExecute(int statementId, int flags, List<Object> parameters) {
            this(statementId, flags, parameters, null);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof StmtExecute e && e.statementId == statementId && e.flags == flags
                    && e.parameters.equals(parameters) && java.util.Arrays.equals(e.relayPacket, relayPacket);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(statementId, flags, parameters, java.util.Arrays.hashCode(relayPacket));
        }

        @Override
        public String toString() {
            return "StmtExecute[" + statementId + ", flags " + flags + ", " + parameters + (relayPacket == null ? "" : ", relayable") + "]";
        }
    }

    /** COM_STMT_SEND_LONG_DATA: already folded into the codec's state; the handler sends no answer. */
    record StmtSendLongData(int statementId, int parameter) implements ClientMessage {}

    record StmtClose(int statementId) implements ClientMessage {}

    record StmtReset(int statementId) implements ClientMessage {}

    /** COM_SET_OPTION: 0 turns multi-statements on, 1 off. */
    record SetOption(int option) implements ClientMessage {}

    record ResetConnection() implements ClientMessage {}

    record ChangeUser(String user) implements ClientMessage {}

    /** A command byte this proxy does not implement. */
    record Unknown(int command) implements ClientMessage {}
}

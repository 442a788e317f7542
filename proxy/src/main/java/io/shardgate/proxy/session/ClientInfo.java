package io.shardgate.proxy.session;

import java.util.Map;
import java.util.Objects;

/**
 * Who is connecting, as told by the front end after authentication.
 *
 * @param user          authenticated user
 * @param schema        database named at connect, or null
 * @param remoteAddress client address for logs
 * @param attributes    connection attributes the driver sent (program name, driver version, ...)
 * @param charset       the client character set it asked for at connect (PostgreSQL clients: UTF8, i.e. utf8mb4)
 * @param flags         the capability flags that change the server's answers (MySQL clients; others: the defaults)
 * @param connectionId  the id the front end gave the connection (MySQL: in the handshake), which {@code CONNECTION_ID()}
 *                      answers and {@code KILL} takes; 0: none, the core numbers the session itself
 */
public record ClientInfo(String user, String schema, String remoteAddress, Map<String, String> attributes, ClientCharset charset,
        ClientFlags flags, long connectionId) {
    public ClientInfo {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(remoteAddress, "remoteAddress");
        attributes = Map.copyOf(attributes);
        Objects.requireNonNull(charset, "charset");
        Objects.requireNonNull(flags, "flags");
    }

    /** A client whose front end numbers no connections (the core numbers the session). */
    public ClientInfo(String user, String schema, String remoteAddress, Map<String, String> attributes, ClientCharset charset,
            ClientFlags flags) {
        this(user, schema, remoteAddress, attributes, charset, flags, 0);
    }

    /** A client with the default flags ({@link ClientFlags#DEFAULT}). */
    public ClientInfo(String user, String schema, String remoteAddress, Map<String, String> attributes, ClientCharset charset) {
        this(user, schema, remoteAddress, attributes, charset, ClientFlags.DEFAULT);
    }

    /** A client of the default character set, utf8mb4. */
    public ClientInfo(String user, String schema, String remoteAddress, Map<String, String> attributes) {
        this(user, schema, remoteAddress, attributes, ClientCharset.UTF8MB4);
    }
}

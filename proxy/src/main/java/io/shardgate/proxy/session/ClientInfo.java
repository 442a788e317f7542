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
 */
public record ClientInfo(String user, String schema, String remoteAddress, Map<String, String> attributes) {
    public ClientInfo {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(remoteAddress, "remoteAddress");
        attributes = Map.copyOf(attributes);
    }
}

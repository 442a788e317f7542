package io.shardgate.it.corpus;

import static java.util.Objects.requireNonNull;

/**
 * Where a driver connects: the proxy (in front of the shards) or the reference single server.
 *
 * @param role {@code proxy} or {@code reference}, for messages
 */
public record Target(String role, String host, int port, String user, String password, String database) {
    public Target {
        requireNonNull(role);
        requireNonNull(host);
        requireNonNull(user);
        requireNonNull(password);
        requireNonNull(database);
    }
}

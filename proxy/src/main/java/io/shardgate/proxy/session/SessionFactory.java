package io.shardgate.proxy.session;

import java.util.Optional;

/** What a front end needs from the proxy core: users to authenticate and sessions to run. */
public interface SessionFactory {

    /** The configured plain-text password of a user, to verify a client's scrambled answer. */
    Optional<String> password(String user);

    /** Opens a session for an authenticated client; UNKNOWN_DATABASE if its schema does not exist. */
    FrontendSession open(ClientInfo client);

    /** The server version string to announce, e.g. {@code 10.11.19-MariaDB-shardgate-0.1}. */
    String serverVersion();

    /** Told of each error a front end sends to a client (for the error counters); does nothing by default. */
    default void errorSent(io.shardgate.proxy.error.SqlError error) {
    }

    /**
     * The SQL dialect of the cluster the sessions serve, so a front end can refuse clients of the other protocol
     * family; empty while it is not known (no cluster state yet) or for a factory bound to no cluster.
     */
    default Optional<io.shardgate.cluster.Dialect> dialect() {
        return Optional.empty();
    }
}

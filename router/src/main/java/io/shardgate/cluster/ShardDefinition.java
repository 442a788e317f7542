package io.shardgate.cluster;

import java.util.Objects;

/**
 * One backend database.
 *
 * @param name     short stable name such as {@code s0}; used in the slot map and in every error message
 * @param jdbcUrl  JDBC URL of the database (the database part of the URL is the shard's schema)
 * @param user     backend user
 * @param password backend password (may be empty, never null)
 * @param poolSize maximum connections the proxy's pool keeps to this shard
 * @param spare    registered but given no slots at cluster creation (a target for later resharding)
 */
public record ShardDefinition(String name, String jdbcUrl, String user, String password, int poolSize, boolean spare) {
    public ShardDefinition {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
        // never print the password
        return "ShardDefinition[name=" + name + ", jdbcUrl=" + jdbcUrl + ", user=" + user
                + ", poolSize=" + poolSize + ", spare=" + spare + "]";
    }
}

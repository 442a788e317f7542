package io.shardgate.proxy.backend.mysql;

import java.util.Arrays;
import java.util.Objects;

/**
 * A statement's bytes (as the client prepared them) as the key of a connection's prepared statements, hashed once: a
 * relayed execute looks its statement up on each idle connection it considers, and hashing the text again for each
 * cost a visible share of the proxy's CPU on point selects. The bytes are not copied; the caller does not change them.
 */
public final class StatementKey {
    private final byte[] bytes;
    private final int hash;

    public StatementKey(byte[] bytes) {
        this.bytes = Objects.requireNonNull(bytes, "bytes");
        this.hash = Arrays.hashCode(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StatementKey k && k.hash == hash && Arrays.equals(k.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return "statement of " + bytes.length + " bytes";
    }
}

package io.shardgate.state;

import java.util.Objects;

/**
 * A stored value with the store's version of its node; pass the version back to a compare-and-set.
 */
public record Versioned<T>(T value, int version) {
    public Versioned {
        Objects.requireNonNull(value, "value");
    }
}

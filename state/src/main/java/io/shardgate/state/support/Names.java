package io.shardgate.state.support;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Names that become path segments in the store (cluster, migration and proxy ids). One rule for
 * both stores, so a name the in-memory twin accepts is also a valid ZooKeeper node name.
 */
public final class Names {
    /** Letters, digits and {@code . _ - :}, starting with a letter or digit, at most 128 characters. */
    public static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

    private Names() {}

    /**
     * Returns {@code value} if it is a valid path segment.
     *
     * @throws IllegalArgumentException naming {@code what} and the rule when it is not
     */
    public static String requireSegment(String what, String value) {
        Objects.requireNonNull(value, what);
        if (!SEGMENT.matcher(value).matches()) {
            throw new IllegalArgumentException(what + " '" + value + "' must match " + SEGMENT.pattern());
        }
        return value;
    }
}

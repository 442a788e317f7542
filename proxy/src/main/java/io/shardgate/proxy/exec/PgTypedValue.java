package io.shardgate.proxy.exec;

import java.util.Objects;

/**
 * A PostgreSQL parameter value with the type the statement declared for it: bound to the shard with that type (so
 * {@code SELECT $1} of a {@code bigint} parameter is a bigint column, as on one server) rather than as an untyped string
 * the shard would infer a type for. Routing reads the value as its text ({@link CharSequence}), as it reads a client's
 * text parameter; a NULL is a {@link Null}, which routing cannot place (a NULL shard key is refused, as when bound).
 *
 * @param type the type as pgJDBC names it (a {@code pg_type.typname}, schema-qualified outside pg_catalog)
 * @param text the value in the type's text form
 */
public record PgTypedValue(String type, String text) implements CharSequence {
    public PgTypedValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(text, "text");
    }

    /** SQL NULL of a declared type. */
    public record Null(String type) {
        public Null {
            Objects.requireNonNull(type, "type");
        }
    }

    @Override
    public int length() {
        return text.length();
    }

    @Override
    public char charAt(int index) {
        return text.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return text.subSequence(start, end);
    }

    @Override
    public String toString() {
        return text;
    }
}

package io.shardgate.proxy.session;

import java.util.Objects;

/**
 * A statement as the client sent it: its bytes, the character set they are in, and their lossless decoding (see
 * {@link ClientCharset}) that analysis works on. {@code charset.encode(text)} is {@code bytes}.
 */
public record ClientSql(byte[] bytes, ClientCharset charset, String text) {
    public ClientSql {
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(charset, "charset");
        Objects.requireNonNull(text, "text");
    }

    public static ClientSql of(byte[] bytes, ClientCharset charset) {
        return new ClientSql(bytes, charset, charset.decode(bytes));
    }

    /** SQL the proxy itself wrote (ASCII in practice), in the session's character set. */
    public static ClientSql ofText(String text, ClientCharset charset) {
        return new ClientSql(charset.encode(text), charset, text);
    }

    /** The client's bytes if {@code sql} is the client's text unchanged, else {@code sql} in the client's character set. */
    public byte[] bytesOf(String sql) {
        return sql.equals(text) ? bytes : charset.encode(sql);
    }

    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientSql c && charset == c.charset && java.util.Arrays.equals(bytes, c.bytes);
    }

    @Override
    public int hashCode() {
        return 31 * charset.hashCode() + java.util.Arrays.hashCode(bytes);
    }
}

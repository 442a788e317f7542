package io.shardgate.proxy.session;

/**
 * A string-typed value a client bound to a prepared statement, as its bytes: they are in the session's client character
 * set, which the codec does not know (a SET NAMES may still be running). The session decodes it losslessly
 * ({@link ClientCharset#decode}), so it reaches the shard as exactly these bytes.
 */
public record ClientText(byte[] bytes) {
    public ClientText {
        java.util.Objects.requireNonNull(bytes, "bytes");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClientText t && java.util.Arrays.equals(bytes, t.bytes);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "ClientText[" + java.util.HexFormat.of().formatHex(bytes) + "]";
    }
}

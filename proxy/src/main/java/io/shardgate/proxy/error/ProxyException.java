package io.shardgate.proxy.error;

import java.util.Objects;

/**
 * An error the proxy raises itself, from the {@link ErrorCode} catalogue, or one from a backend
 * carried unchanged ({@link #backend}). The message says what happened and what to do, with
 * context (shard, elapsed time, cause).
 */
public final class ProxyException extends RuntimeException {
    private final SqlError error;

    public ProxyException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public ProxyException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        Objects.requireNonNull(code, "code");
        this.error = new SqlError(code.mysqlErrno(), code.mysqlSqlState(), message, code);
    }

    private ProxyException(SqlError error, Throwable cause) {
        super(error.message(), cause);
        this.error = error;
    }

    /** A backend's error, passed through unchanged. */
    public static ProxyException backend(int errno, String sqlState, String message, Throwable cause) {
        return new ProxyException(new SqlError(errno, sqlState == null ? "HY000" : sqlState, message, null), cause);
    }

    public SqlError error() {
        return error;
    }

    /** The catalogue code, or null for a backend error. */
    public ErrorCode code() {
        return error.code();
    }
}

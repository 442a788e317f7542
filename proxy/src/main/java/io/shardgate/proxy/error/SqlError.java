package io.shardgate.proxy.error;

import java.util.Objects;

/**
 * An error as a client sees it, in both protocols' terms. Made either from the catalogue
 * ({@link ProxyException}) or from a backend's SQLException, whose errno, SQLSTATE and message are
 * kept unchanged.
 *
 * @param mysqlErrno    MySQL error number
 * @param sqlState      five-character SQLSTATE for the client's protocol
 * @param message       human-readable text
 * @param code          catalogue code, or null when the error came from a backend
 */
public record SqlError(int mysqlErrno, String sqlState, String message, ErrorCode code) {
    public SqlError {
        Objects.requireNonNull(sqlState, "sqlState");
        Objects.requireNonNull(message, "message");
    }

    public boolean fromBackend() {
        return code == null;
    }
}

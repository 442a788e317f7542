package io.shardgate.proxy.pg.codec;

import io.shardgate.proxy.error.ErrorCode;

/**
 * The client broke the PostgreSQL protocol (a malformed or oversized message). The front end answers with an
 * ErrorResponse and closes that one connection.
 */
public final class PgProtocolException extends RuntimeException {
    private final ErrorCode code;

    public PgProtocolException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}

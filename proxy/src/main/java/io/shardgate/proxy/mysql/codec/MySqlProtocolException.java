package io.shardgate.proxy.mysql.codec;

import io.shardgate.proxy.error.ErrorCode;

/**
 * The client broke the protocol (a malformed or oversized packet). The front end answers with an
 * error packet where the protocol allows and closes that one connection.
 */
public final class MySqlProtocolException extends RuntimeException {
    private final ErrorCode code;

    public MySqlProtocolException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}

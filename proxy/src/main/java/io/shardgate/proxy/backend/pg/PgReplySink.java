package io.shardgate.proxy.backend.pg;

import io.shardgate.proxy.error.ProxyException;

/**
 * Receives one request's reply, message by message, on the connection's event loop. Exactly one of these happens per
 * request: messages ending with one whose {@code last} is true (the ReadyForQuery), or (at any point) {@link #failed}.
 * ParameterStatus and NotificationResponse messages are the connection's business and never reach a sink. A sink that
 * cannot keep up calls {@link PgBackendConnection#pauseReading()} and later {@link PgBackendConnection#resumeReading()}.
 */
public interface PgReplySink {
    /**
     * One message as the server sent it; the sink owns {@code frame} and must release it.
     *
     * @param last the reply ends with this message (a ReadyForQuery); the connection takes a new request already
     */
    void message(PgFrame frame, boolean last);

    /** The request failed: the connection is lost, hung, or sent something unexpected; it is closed already. */
    void failed(ProxyException error);
}

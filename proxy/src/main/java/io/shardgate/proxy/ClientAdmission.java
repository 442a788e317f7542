package io.shardgate.proxy;

import io.shardgate.config.ShardgateConfig;
import io.shardgate.proxy.mysql.ConnectionLimiter;
import java.time.Duration;
import java.util.Objects;

/**
 * Who gets in through one listener, written once for both protocols: a connection takes an unauthenticated place when
 * it is accepted ({@code limits.max-unauthenticated-connections}) and trades it for an authenticated one once its login
 * succeeds ({@code limits.max-connections}), so clients that never finish their handshake cannot take the places of
 * authenticated ones; it must be authenticated within {@code limits.handshake-timeout-ms}; failed logins go through
 * the proxy's {@link LoginThrottle}.
 */
public final class ClientAdmission {
    private final ConnectionLimiter authenticated;
    private final ConnectionLimiter unauthenticated;
    private final Duration handshakeTimeout;
    private final LoginThrottle throttle;

    public ClientAdmission(int maxConnections, int maxUnauthenticated, Duration handshakeTimeout, LoginThrottle throttle) {
        this.authenticated = new ConnectionLimiter(maxConnections);
        this.unauthenticated = new ConnectionLimiter(maxUnauthenticated);
        this.handshakeTimeout = Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
        this.throttle = Objects.requireNonNull(throttle, "throttle");
    }

    /** Admission for one listener under {@code limits}, failed logins counted by the proxy-wide {@code throttle}. */
    public static ClientAdmission of(ShardgateConfig.Limits limits, LoginThrottle throttle) {
        return new ClientAdmission(limits.maxConnections(), limits.maxUnauthenticatedConnections(), limits.handshakeTimeout(),
                throttle);
    }

    /** The defaults with another cap on authenticated connections (for tests and embedders). */
    public static ClientAdmission withMaxConnections(int maxConnections) {
        ShardgateConfig.Limits d = ShardgateConfig.Limits.DEFAULTS;
        return new ClientAdmission(maxConnections, d.maxUnauthenticatedConnections(), d.handshakeTimeout(), LoginThrottle.of(d));
    }

    /** A new connection's place, or null when every unauthenticated place is taken. */
    public Ticket admit() {
        return unauthenticated.tryAcquire() ? new Ticket() : null;
    }

    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    public LoginThrottle throttle() {
        return throttle;
    }

    public int authenticatedConnections() {
        return authenticated.open();
    }

    public int unauthenticatedConnections() {
        return unauthenticated.open();
    }

    public int maxConnections() {
        return authenticated.limit();
    }

    public int maxUnauthenticatedConnections() {
        return unauthenticated.limit();
    }

    /** One connection's place; its methods may be called from the event loop and the session's thread. */
    public final class Ticket {
        private enum State { UNAUTHENTICATED, AUTHENTICATED, RELEASED }

        private State state = State.UNAUTHENTICATED;

        private Ticket() {}

        /** Trades the unauthenticated place for an authenticated one; false (and no place) when those are all taken. */
        public synchronized boolean authenticate() {
            if (state != State.UNAUTHENTICATED) {
                return state == State.AUTHENTICATED;
            }
            unauthenticated.release();
            if (authenticated.tryAcquire()) {
                state = State.AUTHENTICATED;
                return true;
            }
            state = State.RELEASED;
            return false;
        }

        public synchronized boolean isAuthenticated() {
            return state == State.AUTHENTICATED;
        }

        /** Gives the place back when the connection closes; later calls do nothing. */
        public synchronized void release() {
            switch (state) {
                case UNAUTHENTICATED -> unauthenticated.release();
                case AUTHENTICATED -> authenticated.release();
                case RELEASED -> { }
            }
            state = State.RELEASED;
        }
    }
}

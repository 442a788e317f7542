package io.shardgate.proxy.pg;

import io.shardgate.proxy.NettyListener;
import io.shardgate.proxy.ClientAdmission;
import io.shardgate.proxy.pg.codec.PgMessageDecoder;
import io.shardgate.proxy.pg.codec.PgMessageEncoder;
import io.shardgate.proxy.session.SessionFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** The PostgreSQL-protocol listener: a Netty server whose event loops only decode, encode and hand off. */
public final class PgFrontend implements AutoCloseable {
    private final NettyListener listener;
    private final ClientAdmission admission;

    private PgFrontend(NettyListener listener, ClientAdmission admission) {
        this.listener = listener;
        this.admission = admission;
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one).
     *
     * @param authMethod      {@code scram-sha-256}, {@code md5} or {@code trust} (configured users only, no password asked)
     * @param maxMessageBytes largest client message accepted
     * @param ioThreads       event-loop threads; session work runs on virtual threads, so few are needed
     * @param tls             TLS offered to clients that send an SSLRequest; {@link PgTls#OFF} answers 'N'
     */
    public static PgFrontend start(String host, int port, SessionFactory sessions, String authMethod, int maxMessageBytes,
            int maxConnections, int ioThreads, PgTls tls) throws InterruptedException {
        return start(host, port, sessions, authMethod, maxMessageBytes, ClientAdmission.withMaxConnections(maxConnections), ioThreads,
                tls);
    }

    /** As above, letting clients in as {@code admission} says. */
    public static PgFrontend start(String host, int port, SessionFactory sessions, String authMethod, int maxMessageBytes,
            ClientAdmission admission, int ioThreads, PgTls tls) throws InterruptedException {
        return start(sessions, authMethod, maxMessageBytes, admission, tls, ch -> NettyListener.bind(host, port, ioThreads, ch));
    }

    /**
     * As above, with the client connections on {@code loops} (the proxy's event loops, shared with its native backend
     * connections; they stay running when this front end closes).
     */
    public static PgFrontend start(String host, int port, SessionFactory sessions, String authMethod, int maxMessageBytes,
            ClientAdmission admission, io.netty.channel.EventLoopGroup loops, PgTls tls) throws InterruptedException {
        return start(sessions, authMethod, maxMessageBytes, admission, tls, ch -> NettyListener.bind(host, port, loops, ch));
    }

    private static PgFrontend start(SessionFactory sessions, String authMethod, int maxMessageBytes, ClientAdmission admission,
            PgTls tls, NettyListener.Binder binder) throws InterruptedException {
        if (!PgAuth.supported(authMethod)) {
            throw new IllegalArgumentException("PostgreSQL auth method must be scram-sha-256, md5 or trust, was " + authMethod);
        }
        AtomicInteger ids = new AtomicInteger();
        CancelKeys cancelKeys = new CancelKeys();
        NettyListener listener = binder.bind(ch -> {
            ch.pipeline().addLast("decoder", new PgMessageDecoder(maxMessageBytes))
                    .addLast("encoder", new PgMessageEncoder())
                    .addLast("session", new PgFrontendHandler(sessions, authMethod, admission, ids.incrementAndGet(),
                            cancelKeys, tls));
        });
        return new PgFrontend(listener, admission);
    }

    public int port() {
        return listener.port();
    }

    /** Connections open now, authenticated or not. */
    public int openConnections() {
        return admission.authenticatedConnections() + admission.unauthenticatedConnections();
    }

    public ClientAdmission admission() {
        return admission;
    }

    @Override
    public void close() {
        listener.close();
    }
}

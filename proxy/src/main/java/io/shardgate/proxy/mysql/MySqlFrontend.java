package io.shardgate.proxy.mysql;

import io.shardgate.proxy.ClientAdmission;
import io.shardgate.proxy.NettyListener;
import io.shardgate.proxy.mysql.codec.ClientMessageDecoder;
import io.shardgate.proxy.mysql.codec.ConnectionState;
import io.shardgate.proxy.mysql.codec.MySqlFrameDecoder;
import io.shardgate.proxy.mysql.codec.ServerMessageEncoder;
import io.shardgate.proxy.session.SessionFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** The MySQL-protocol listener: a Netty server whose event loops only decode, encode and hand off. */
public final class MySqlFrontend implements AutoCloseable {
    private final NettyListener listener;
    private final ClientAdmission admission;

    private MySqlFrontend(NettyListener listener, ClientAdmission admission) {
        this.listener = listener;
        this.admission = admission;
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one).
     *
     * @param ioThreads event-loop threads; session work runs on virtual threads, so few are needed
     */
    public static MySqlFrontend start(String host, int port, SessionFactory sessions, String authPlugin, int maxPacketBytes,
            int maxConnections, int ioThreads) throws InterruptedException {
        return start(host, port, sessions, authPlugin, maxPacketBytes, ClientAdmission.withMaxConnections(maxConnections), ioThreads);
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one), letting clients in as {@code admission} says.
     *
     * @param ioThreads event-loop threads; session work runs on virtual threads, so few are needed
     */
    public static MySqlFrontend start(String host, int port, SessionFactory sessions, String authPlugin, int maxPacketBytes,
            ClientAdmission admission, int ioThreads) throws InterruptedException {
        return start(sessions, authPlugin, maxPacketBytes, admission, ch -> NettyListener.bind(host, port, ioThreads, ch));
    }

    /**
     * Binds {@code host:port} with its client connections on {@code loops} (the proxy's event loops, shared with its
     * native backend connections; they stay running when this front end closes).
     */
    public static MySqlFrontend start(String host, int port, SessionFactory sessions, String authPlugin, int maxPacketBytes,
            ClientAdmission admission, io.netty.channel.EventLoopGroup loops) throws InterruptedException {
        return start(sessions, authPlugin, maxPacketBytes, admission, ch -> NettyListener.bind(host, port, loops, ch));
    }

    private static MySqlFrontend start(SessionFactory sessions, String authPlugin, int maxPacketBytes, ClientAdmission admission,
            NettyListener.Binder binder) throws InterruptedException {
        if (!MySqlAuth.supported(authPlugin)) {
            throw new IllegalArgumentException("auth plugin must be " + MySqlAuth.NATIVE + " or " + MySqlAuth.CACHING_SHA2);
        }
        AtomicInteger ids = new AtomicInteger();
        MySqlConnections connections = new MySqlConnections();
        NettyListener listener = binder.bind(ch -> {
            ConnectionState state = new ConnectionState(maxPacketBytes);
            ch.pipeline().addLast("frames", new MySqlFrameDecoder(state))
                    .addLast("messages", new ClientMessageDecoder(state))
                    .addLast("encoder", new ServerMessageEncoder(state))
                    .addLast("session", new MySqlFrontendHandler(state, sessions, ids.incrementAndGet(),
                            authPlugin, admission, connections));
        });
        return new MySqlFrontend(listener, admission);
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

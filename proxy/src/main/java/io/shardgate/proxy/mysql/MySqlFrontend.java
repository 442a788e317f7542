package io.shardgate.proxy.mysql;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.shardgate.proxy.mysql.codec.ClientMessageDecoder;
import io.shardgate.proxy.mysql.codec.ConnectionState;
import io.shardgate.proxy.mysql.codec.MySqlFrameDecoder;
import io.shardgate.proxy.mysql.codec.ServerMessageEncoder;
import io.shardgate.proxy.session.SessionFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;

/** The MySQL-protocol listener: a Netty server whose event loops only decode, encode and hand off. */
public final class MySqlFrontend implements AutoCloseable {
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel channel;
    private final ConnectionLimiter limiter;

    private MySqlFrontend(EventLoopGroup boss, EventLoopGroup workers, Channel channel, ConnectionLimiter limiter) {
        this.boss = boss;
        this.workers = workers;
        this.channel = channel;
        this.limiter = limiter;
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one).
     *
     * @param ioThreads event-loop threads; session work runs on virtual threads, so few are needed
     */
    public static MySqlFrontend start(String host, int port, SessionFactory sessions, String authPlugin, int maxPacketBytes,
            int maxConnections, int ioThreads) throws InterruptedException {
        if (!MySqlAuth.supported(authPlugin)) {
            throw new IllegalArgumentException("auth plugin must be " + MySqlAuth.NATIVE + " or " + MySqlAuth.CACHING_SHA2);
        }
        boolean epoll = Epoll.isAvailable();
        var factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, factory);
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(ioThreads, factory);
        ConnectionLimiter limiter = new ConnectionLimiter(maxConnections);
        AtomicInteger ids = new AtomicInteger();
        try {
            Channel ch = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ConnectionState state = new ConnectionState(maxPacketBytes);
                            ch.pipeline().addLast("frames", new MySqlFrameDecoder(state))
                                    .addLast("messages", new ClientMessageDecoder(state))
                                    .addLast("encoder", new ServerMessageEncoder(state))
                                    .addLast("session", new MySqlFrontendHandler(state, sessions, ids.incrementAndGet(),
                                            authPlugin, limiter));
                        }
                    })
                    .bind(host, port).sync().channel();
            return new MySqlFrontend(boss, workers, ch, limiter);
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully();
            workers.shutdownGracefully();
            throw e;
        }
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public int openConnections() {
        return limiter.open();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}

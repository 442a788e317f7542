package io.shardgate.proxy.pg;

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
import io.shardgate.proxy.mysql.ConnectionLimiter;
import io.shardgate.proxy.pg.codec.PgMessageDecoder;
import io.shardgate.proxy.pg.codec.PgMessageEncoder;
import io.shardgate.proxy.session.SessionFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The PostgreSQL-protocol listener: a Netty server whose event loops only decode, encode and hand off. */
public final class PgFrontend implements AutoCloseable {
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel channel;
    private final ConnectionLimiter limiter;

    private PgFrontend(EventLoopGroup boss, EventLoopGroup workers, Channel channel, ConnectionLimiter limiter) {
        this.boss = boss;
        this.workers = workers;
        this.channel = channel;
        this.limiter = limiter;
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one).
     *
     * @param authMethod      {@code scram-sha-256}, {@code md5} or {@code trust} (configured users only, no password asked)
     * @param maxMessageBytes largest client message accepted
     * @param ioThreads       event-loop threads; session work runs on virtual threads, so few are needed
     */
    public static PgFrontend start(String host, int port, SessionFactory sessions, String authMethod, int maxMessageBytes,
            int maxConnections, int ioThreads) throws InterruptedException {
        if (!PgAuth.supported(authMethod)) {
            throw new IllegalArgumentException("PostgreSQL auth method must be scram-sha-256, md5 or trust, was " + authMethod);
        }
        boolean epoll = Epoll.isAvailable();
        var factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, factory);
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(ioThreads, factory);
        ConnectionLimiter limiter = new ConnectionLimiter(maxConnections);
        AtomicInteger ids = new AtomicInteger();
        CancelKeys cancelKeys = new CancelKeys();
        try {
            Channel ch = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast("decoder", new PgMessageDecoder(maxMessageBytes))
                                    .addLast("encoder", new PgMessageEncoder())
                                    .addLast("session", new PgFrontendHandler(sessions, authMethod, limiter, ids.incrementAndGet(),
                                            cancelKeys));
                        }
                    })
                    .bind(host, port).sync().channel();
            return new PgFrontend(boss, workers, ch, limiter);
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
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

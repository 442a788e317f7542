package io.shardgate.proxy;

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
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A bound Netty server socket with its event loops (epoll where available), shared by the protocol front ends:
 * each gives the pipeline of a new client connection, and the loops only decode, encode and hand off.
 */
public final class NettyListener implements AutoCloseable {
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final boolean ownsWorkers;
    private final Channel channel;

    private NettyListener(EventLoopGroup boss, EventLoopGroup workers, boolean ownsWorkers, Channel channel) {
        this.boss = boss;
        this.workers = workers;
        this.ownsWorkers = ownsWorkers;
        this.channel = channel;
    }

    /**
     * Binds {@code host:port} (port 0 picks a free one).
     *
     * @param ioThreads event-loop threads; session work runs on virtual threads, so few are needed
     * @param pipeline  sets up the handlers of each accepted connection
     */
    public static NettyListener bind(String host, int port, int ioThreads, Consumer<SocketChannel> pipeline)
            throws InterruptedException {
        var factory = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return bind(host, port, new MultiThreadIoEventLoopGroup(ioThreads, factory), true, pipeline);
    }

    /**
     * Binds {@code host:port} with its client connections on {@code workers}, loops the caller owns (the proxy's, shared
     * with its backend connections) and that {@link #close} leaves running.
     */
    public static NettyListener bind(String host, int port, EventLoopGroup workers, Consumer<SocketChannel> pipeline)
            throws InterruptedException {
        return bind(host, port, workers, false, pipeline);
    }

    private static NettyListener bind(String host, int port, EventLoopGroup workers, boolean ownsWorkers,
            Consumer<SocketChannel> pipeline) throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        var factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, factory);
        try {
            Channel ch = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            pipeline.accept(ch);
                        }
                    })
                    .bind(host, port).sync().channel();
            return new NettyListener(boss, workers, ownsWorkers, ch);
        } catch (InterruptedException | RuntimeException e) {
            boss.shutdownGracefully();
            if (ownsWorkers) {
                workers.shutdownGracefully();
            }
            throw e;
        }
    }

    /** Binds a listener whose connections get {@code pipeline}: how a front end is told where and on which loops. */
    @FunctionalInterface
    public interface Binder {
        NettyListener bind(Consumer<SocketChannel> pipeline) throws InterruptedException;
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        if (ownsWorkers) {
            workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}

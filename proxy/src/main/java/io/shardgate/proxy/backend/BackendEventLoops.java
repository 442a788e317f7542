package io.shardgate.proxy.backend;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * The event loops the proxy's native backend connections (MySQL and PostgreSQL) run on, with the matching channel type
 * (epoll where available, else NIO).
 */
public final class BackendEventLoops implements AutoCloseable {
    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelType;

    public BackendEventLoops(int threads) {
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.channelType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    public EventLoopGroup group() {
        return group;
    }

    public Class<? extends SocketChannel> channelType() {
        return channelType;
    }

    /**
     * Whether a channel of {@link #channelType} can be registered on {@code loop}, an event loop of another group (the
     * listener's, which picks its transport the same way): a backend connection can then live on its client's loop.
     */
    public boolean compatible(io.netty.channel.EventLoop loop) {
        if (!(loop instanceof io.netty.channel.IoEventLoop io) || loop.isShuttingDown()) {
            return false;
        }
        return channelType == EpollSocketChannel.class ? io.isCompatible(io.netty.channel.epoll.EpollIoHandle.class)
                : io.isCompatible(io.netty.channel.nio.NioIoHandle.class);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

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
 * The proxy's event loops, with the matching channel type (epoll where available, else NIO): the client connections of
 * both front ends and the native backend connections (MySQL and PostgreSQL) run on the same loops, so a relayed
 * statement whose backend connection shares its client's loop crosses no thread between the shard's reply and the
 * client's socket (a pool lends such a connection first, see {@link #loopOf}).
 */
public final class BackendEventLoops implements AutoCloseable {
    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelType;
    private final java.util.Set<io.netty.util.concurrent.EventExecutor> loops;
    private final boolean owned;

    public BackendEventLoops(int threads) {
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.channelType = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        this.loops = loopsOf(group);
        this.owned = true;
    }

    private BackendEventLoops(BackendEventLoops of) {
        this.group = of.group;
        this.channelType = of.channelType;
        this.loops = of.loops;
        this.owned = false;
    }

    private static java.util.Set<io.netty.util.concurrent.EventExecutor> loopsOf(EventLoopGroup group) {
        java.util.Set<io.netty.util.concurrent.EventExecutor> all = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        group.forEach(all::add);
        return java.util.Collections.unmodifiableSet(all);
    }

    /** The same loops for another user, whose {@link #close} leaves them running (their owner closes them). */
    public BackendEventLoops shared() {
        return new BackendEventLoops(this);
    }

    public EventLoopGroup group() {
        return group;
    }

    /**
     * {@code preferred} when it is one of these loops (a new connection is registered there), else the group (which
     * picks one in turn).
     */
    public EventLoopGroup loopOf(io.netty.channel.EventLoop preferred) {
        return preferred != null && loops.contains(preferred) ? preferred : group;
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
        if (!owned) {
            return;
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}

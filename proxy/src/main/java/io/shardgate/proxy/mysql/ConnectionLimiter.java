package io.shardgate.proxy.mysql;

import java.util.concurrent.atomic.AtomicInteger;

/** Caps concurrent client connections (limits.max-connections). */
public final class ConnectionLimiter {
    private final int limit;
    private final AtomicInteger open = new AtomicInteger();

    public ConnectionLimiter(int limit) {
        this.limit = limit;
    }

    public boolean tryAcquire() {
        while (true) {
            int n = open.get();
            if (n >= limit) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void release() {
        open.decrementAndGet();
    }

    public int open() {
        return open.get();
    }

    public int limit() {
        return limit;
    }
}

package io.shardgate.local;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Finds free TCP ports on 127.0.0.1.
 *
 * <p>{@link #find()} prefers ports <em>below</em> the kernel's ephemeral range
 * ({@code /proc/sys/net/ipv4/ip_local_port_range}, usually 32768-60999): a port from that range (what binding port 0
 * gives) can be taken as the local end of some outgoing connection while a server is killed, and then the server
 * cannot be restarted on its port. A candidate counts as free when a socket can be bound to it, and no port is handed
 * out twice by one JVM. If no such port turns up, it falls back to binding port 0 and reading the port back.
 */
public final class FreePorts {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
    private static final int LOWEST = 10_000;

    private FreePorts() {
    }

    /** A port that is free on 127.0.0.1 right now and that this JVM has not handed out before. */
    public static int find() {
        int ephemeralLow = ephemeralRangeStart();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (ephemeralLow - LOWEST > 1000) {
            for (int attempt = 0; attempt < 200; attempt++) {
                int port = random.nextInt(LOWEST, ephemeralLow);
                if (!HANDED_OUT.contains(port) && isFree(port) && HANDED_OUT.add(port)) {
                    return port;
                }
            }
        }
        for (int attempt = 0; attempt < 50; attempt++) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(LOOPBACK, 0));
                int port = socket.getLocalPort();
                if (HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new LocalServerException("could not bind any port on 127.0.0.1: " + e, e);
            }
        }
        throw new LocalServerException("could not find a free port on 127.0.0.1");
    }

    /** Whether a listening socket could be bound to 127.0.0.1:{@code port} now. */
    public static boolean isFree(int port) {
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("not a port: " + port);
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true); // as servers do: connections in TIME_WAIT do not block the port
            socket.bind(new InetSocketAddress(LOOPBACK, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Waits until {@link #isFree(int)} is true; false if the timeout passed first. */
    public static boolean awaitFree(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!isFree(port)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Util.sleep(50);
        }
        return true;
    }

    private static int ephemeralRangeStart() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32768;
        }
    }
}

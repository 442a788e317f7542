package io.shardgate.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A quick TCP look at the servers of a connect string before a ZooKeeper client retries for its
 * whole connect timeout: when every server actively refuses, the answer is already known.
 */
final class ConnectProbe {
    private static final int PROBE_TIMEOUT_MS = 1000;

    private ConnectProbe() {}

    /**
     * Whether every {@code host:port} of {@code connectString} refused the connection. An accepted
     * connection, a timeout or an unknown host counts as "maybe reachable", leaving the verdict to
     * the client and its timeout.
     */
    static boolean allRefuse(String connectString) {
        List<String> servers = List.of(connectString.split(","));
        try (ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Boolean>> refused = servers.stream().map(s -> probes.submit(() -> refuses(s.trim()))).toList();
            for (Future<Boolean> f : refused) {
                if (!f.get()) {
                    return false;
                }
            }
            return true;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return false;
        }
    }

    private static boolean refuses(String server) {
        int colon = server.lastIndexOf(':');
        if (colon < 0) {
            return false;
        }
        String host = server.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(server.substring(colon + 1));
        } catch (NumberFormatException e) {
            return false;
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), PROBE_TIMEOUT_MS);
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
    }
}

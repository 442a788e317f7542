package io.shardgate.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Port checks done before starting a server, so a clash is one clear line rather than a bind stack trace. */
final class Ports {
    private Ports() {}

    /** Whether 127.0.0.1:{@code port} can be bound now. */
    static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Fails naming {@code what} and the option that changes it when 127.0.0.1:{@code port} is taken. */
    static void requireFree(int port, String what, String option) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        } catch (IOException e) {
            throw new CliException("port " + port + " for " + what + " is already in use (" + e.getMessage()
                    + "); stop what uses it or choose another with " + option, e);
        }
    }
}

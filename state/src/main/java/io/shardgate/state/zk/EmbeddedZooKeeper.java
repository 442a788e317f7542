package io.shardgate.state.zk;

import io.shardgate.state.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.server.embedded.ExitHandler;
import org.apache.zookeeper.server.embedded.ZooKeeperServerEmbedded;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single ZooKeeper server inside this process, bound to 127.0.0.1: the one-machine default and
 * the demo's state store. Uses ZooKeeper's own {@link ZooKeeperServerEmbedded}; the admin HTTP
 * server is off and only the {@code ruok}/{@code srvr} four-letter words are enabled.
 */
public final class EmbeddedZooKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedZooKeeper.class);
    private static final String HOST = "127.0.0.1";
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

    private final ZooKeeperServerEmbedded server;
    private final int port;
    private boolean closed;

    private EmbeddedZooKeeper(ZooKeeperServerEmbedded server, int port) {
        this.server = server;
        this.port = port;
    }

    /**
     * Starts a server keeping its data under {@code dataDir} and returns once it answers {@code ruok}.
     *
     * @param port the client port, or 0 for a free one
     * @throws StoreException.Unavailable when the server does not start (port taken, bad directory, timeout)
     */
    public static EmbeddedZooKeeper start(Path dataDir, int port) {
        Objects.requireNonNull(dataDir, "dataDir");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in 0..65535, was " + port);
        }
        int chosen = port == 0 ? freePort() : port;
        ZooKeeperServerEmbedded server = build(dataDir, chosen);
        try {
            server.start(STARTUP_TIMEOUT.toMillis());
            awaitServing(chosen);
        } catch (Exception e) {
            server.close();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new StoreException.Unavailable("embedded ZooKeeper on " + HOST + ":" + chosen + " (data " + dataDir
                    + ") did not start: " + e.getMessage(), e);
        }
        LOG.info("embedded ZooKeeper serving on {}:{} with data in {}", HOST, chosen, dataDir);
        return new EmbeddedZooKeeper(server, chosen);
    }

    private static ZooKeeperServerEmbedded build(Path dataDir, int port) {
        Properties config = new Properties();
        config.setProperty("clientPort", Integer.toString(port));
        config.setProperty("clientPortAddress", HOST);
        config.setProperty("dataDir", dataDir.resolve("data").toAbsolutePath().toString());
        config.setProperty("tickTime", "2000");
        config.setProperty("initLimit", "10");
        config.setProperty("syncLimit", "5");
        // Keys ZooKeeper does not know as config become "zookeeper.<key>" system properties.
        config.setProperty("admin.enableServer", "false");
        config.setProperty("4lw.commands.whitelist", "ruok,srvr");
        try {
            Files.createDirectories(dataDir);
            return ZooKeeperServerEmbedded.builder()
                    .baseDir(dataDir.toAbsolutePath())
                    .configuration(config)
                    .exitHandler(ExitHandler.LOG_ONLY)
                    .build();
        } catch (Exception e) {
            throw new StoreException.Unavailable("cannot configure embedded ZooKeeper on " + HOST + ":" + port + " (data "
                    + dataDir + "): " + e.getMessage(), e);
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new StoreException.Unavailable("cannot find a free port on " + HOST + ": " + e.getMessage(), e);
        }
    }

    /**
     * Polls {@code ruok} until the server answers: listening is not yet serving. Any answer counts,
     * since the four-letter-word whitelist is fixed per JVM by whoever used it first.
     */
    private static void awaitServing(int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline) {
            try {
                if (!fourLetterWord(port, "ruok").isEmpty()) {
                    return;
                }
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(50);
        }
        throw new IOException("no answer to 'ruok' from " + HOST + ":" + port + " within " + STARTUP_TIMEOUT.toMillis() + " ms", last);
    }

    private static String fourLetterWord(int port, String word) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(HOST, port), 1000);
            socket.setSoTimeout(1000);
            OutputStream out = socket.getOutputStream();
            out.write(word.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
    }

    /** {@code 127.0.0.1:<port>}, for {@link ZooKeeperClusterStore#connect}. */
    public String connectString() {
        return HOST + ":" + port;
    }

    public int port() {
        return port;
    }

    /** Stops the server and returns once its port accepts no more connections. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.close();
        awaitPortClosed();
        LOG.info("embedded ZooKeeper on {}:{} stopped", HOST, port);
    }

    private void awaitPortClosed() {
        long deadline = System.nanoTime() + SHUTDOWN_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(HOST, port), 200);
            } catch (IOException refused) {
                return;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        LOG.warn("embedded ZooKeeper on {}:{} still accepts connections {} ms after close", HOST, port,
                SHUTDOWN_TIMEOUT.toMillis());
    }
}

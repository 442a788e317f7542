package io.shardgate.cli;

import io.shardgate.config.ShardgateConfig;
import io.shardgate.proxy.ProxyServer;
import io.shardgate.state.StoreException;
import io.shardgate.state.zk.EmbeddedZooKeeper;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shardgate proxy}: one proxy process in the foreground. */
@Command(name = "proxy",
        description = {
            "Run a Shardgate proxy in the foreground until Ctrl-C or SIGTERM.",
            "It serves the cluster named in the configuration to MySQL clients. With zookeeper.connect: embedded it",
            "starts the embedded ZooKeeper in this process, or uses the one already listening on its port."
        })
final class ProxyCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Option(names = "--port", paramLabel = "PORT", description = "MySQL port (default: listen.mysql-port in the configuration; 0 picks a free port).")
    Integer port;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        ShardgateConfig cfg = withCluster(withPort(zk.config()), zk.clusterName());
        EmbeddedZooKeeper embedded = startEmbeddedIfWanted(cfg);
        String connect = embedded != null ? embedded.connectString() : zk.connectString();
        ProxyServer server;
        try {
            server = ProxyServer.start(cfg, connect);
        } catch (StoreException.Unavailable e) {
            closeQuietly(embedded);
            throw new CliException("cannot reach ZooKeeper at " + connect + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(embedded);
            throw e;
        }
        out.println("proxy " + server.proxyId() + " serving cluster '" + cfg.cluster() + "' (ZooKeeper " + connect + ")");
        String user = cfg.users().getFirst().name();
        if (server.listensForMySql()) {
            out.println("MySQL clients: mariadb -h" + cfg.listen().host() + " -P" + server.mysqlPort() + " -u" + user + " -p");
        }
        if (server.listensForPostgres()) {
            out.println("PostgreSQL clients: psql -h " + cfg.listen().host() + " -p " + server.postgresPort() + " -U " + user);
        }
        out.flush();
        Foreground.runUntilStopped(() -> {
            server.close();
            closeQuietly(embedded);
            out.println("proxy stopped");
            out.flush();
        });
        return 0;
    }

    private ShardgateConfig withPort(ShardgateConfig cfg) {
        if (port == null) {
            return cfg;
        }
        if (port < 0 || port > 65535) {
            throw new CliException("--port: must be in 0..65535, was " + port);
        }
        var l = cfg.listen();
        return cfg.withListen(new ShardgateConfig.Listen(l.host(), port, l.postgresPort(), l.mysqlAuth(), l.postgresAuth()));
    }

    private static ShardgateConfig withCluster(ShardgateConfig cfg, String cluster) {
        return cluster.equals(cfg.cluster()) ? cfg
                : cfg.withCluster(cluster);
    }

    /** The embedded ZooKeeper, when the configuration asks for it, --zk does not override, and its port is free. */
    private EmbeddedZooKeeper startEmbeddedIfWanted(ShardgateConfig cfg) {
        var z = cfg.zookeeper();
        if (zk.zk != null || !z.embedded() || !Ports.isFree(z.embeddedPort())) {
            return null;
        }
        return EmbeddedServers.startZooKeeper(z.embeddedDataDir(), z.embeddedPort());
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // stopping on the way out; the original failure is what the user needs to see
            }
        }
    }
}

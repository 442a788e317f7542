package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.local.FreePorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code shardgate proxy --config FILE} as its own process with only the PostgreSQL listener on (mysql-port 0), as a
 * PostgreSQL cluster's proxies run: it must start, say where psql connects, and answer psql with the configured
 * authentication. (It used to stop at start-up asking for the MySQL port it did not open.)
 */
class PgProxyProcessIT {
    private static final String TABLES = """
            tables:
              - {name: items, kind: sharded, key: id, key-type: int}
            """;

    @Test
    void aProxyWithOnlyThePostgresListenerServesPsql() throws Exception {
        try (PgShardedCluster cluster = PgShardedCluster.start(2, TABLES, "md5")) {
            try (var c = cluster.proxyConnection(""); var st = c.createStatement()) {
                st.execute("CREATE TABLE items (id INT PRIMARY KEY, name TEXT)");
                st.execute("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')");
            }
            int port = FreePorts.find();
            Path config = Files.createTempFile("shardgate-pg-proxy", ".yaml");
            Files.writeString(config, """
                    cluster: %s
                    listen:
                      host: 127.0.0.1
                      mysql-port: 0
                      postgres-port: %d
                      postgres-auth: md5
                    admin:
                      port: 0
                    zookeeper:
                      connect: %s
                    users:
                      - name: %s
                        password: %s
                    """.formatted(PgShardedCluster.CLUSTER, port, cluster.zooKeeperConnect(), PgShardedCluster.USER,
                    PgShardedCluster.PASSWORD));
            Process proxy = ShardgateProcess.builder("proxy", "--config", config.toString()).redirectErrorStream(true).start();
            try {
                String line = ShardgateProcess.awaitLine(proxy, "PostgreSQL clients:", Duration.ofSeconds(60));
                assertThat(line).isEqualTo("PostgreSQL clients: psql -h 127.0.0.1 -p " + port + " -U " + PgShardedCluster.USER);
                ProcessBuilder psql = new ProcessBuilder("psql", "-X", "-At", "-h", "127.0.0.1", "-p", Integer.toString(port),
                        "-U", PgShardedCluster.USER, "-d", PgShardedCluster.DATABASE, "-c", "SELECT name FROM items ORDER BY id")
                        .redirectErrorStream(true);
                psql.environment().put("PGPASSWORD", PgShardedCluster.PASSWORD);
                psql.environment().put("PGSSLMODE", "disable");
                Process p = psql.start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue()).as(out).isZero();
                assertThat(out).isEqualTo("one\ntwo\nthree\n");
                assertThat(proxy.isAlive()).isTrue();
            } finally {
                proxy.destroy();
                proxy.waitFor(30, TimeUnit.SECONDS);
                Files.deleteIfExists(config);
            }
        }
    }
}

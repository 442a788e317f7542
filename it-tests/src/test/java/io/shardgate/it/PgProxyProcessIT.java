package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.local.FreePorts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shardgate proxy --config FILE} as its own process with only the PostgreSQL listener on (mysql-port 0), as a
 * PostgreSQL cluster's proxies run: it must start, say where psql connects, and answer psql with the configured
 * authentication. (It used to stop at start-up asking for the MySQL port it did not open.) With a certificate in its
 * {@code tls:} section, psql and pgJDBC with {@code sslmode=require} get TLS, and with {@code require: true} a client
 * that does not ask for TLS is refused.
 */
class PgProxyProcessIT {
    private static final String TABLES = """
            tables:
              - {name: items, kind: sharded, key: id, key-type: int}
            """;

    @Test
    void aProxyWithOnlyThePostgresListenerServesPsql() throws Exception {
        try (PgShardedCluster cluster = startWithItems()) {
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
                // it registers the address clients use, its PostgreSQL port
                ShardgateProcess.Result status = ShardgateProcess.run(Duration.ofSeconds(60), "status", "--zk",
                        cluster.zooKeeperConnect(), "--cluster", PgShardedCluster.CLUSTER);
                assertThat(status.stdout()).contains("127.0.0.1:" + port + " ");
                assertThat(proxy.isAlive()).isTrue();
            } finally {
                proxy.destroy();
                proxy.waitFor(30, TimeUnit.SECONDS);
                Files.deleteIfExists(config);
            }
        }
    }

    @Test
    void withACertificateClientsGetTlsAndRequireRefusesPlainText(@TempDir Path dir) throws Exception {
        Path cert = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
        String made = new String(openssl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(openssl.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(openssl.exitValue()).as(made).isZero();
        try (PgShardedCluster cluster = startWithItems()) {
            int port = FreePorts.find();
            Path config = dir.resolve("proxy.yaml");
            Files.writeString(config, """
                    cluster: %s
                    listen: {host: 127.0.0.1, mysql-port: 0, postgres-port: %d, postgres-auth: scram-sha-256}
                    admin: {port: 0}
                    zookeeper: {connect: '%s'}
                    users: [{name: %s, password: %s}]
                    tls: {cert-file: '%s', key-file: '%s', require: true}
                    """.formatted(PgShardedCluster.CLUSTER, port, cluster.zooKeeperConnect(), PgShardedCluster.USER,
                    PgShardedCluster.PASSWORD, cert, key));
            Process proxy = ShardgateProcess.builder("proxy", "--config", config.toString()).redirectErrorStream(true).start();
            try {
                ShardgateProcess.awaitLine(proxy, "PostgreSQL clients:", Duration.ofSeconds(60));
                // psql reports the TLS version of its own connection: the handshake really happened
                String viaTls = psql(port, "require", "SELECT name FROM items WHERE id = 2", "\\conninfo");
                assertThat(viaTls).startsWith("two\n").contains("SSL connection (protocol: TLSv1.3");
                String plain = psqlFailing(port, "disable", "SELECT 1");
                assertThat(plain).contains("requires TLS (tls.require is true)");
                String url = "jdbc:postgresql://127.0.0.1:" + port + "/" + PgShardedCluster.DATABASE + "?user=" + PgShardedCluster.USER
                        + "&password=" + PgShardedCluster.PASSWORD + "&sslmode=require&prepareThreshold=1";
                try (Connection c = DriverManager.getConnection(url);
                        PreparedStatement ps = c.prepareStatement("SELECT name FROM items WHERE id = ?")) {
                    for (int id = 1; id <= 3; id++) {
                        ps.setInt(1, id);
                        try (ResultSet rs = ps.executeQuery()) {
                            assertThat(rs.next()).isTrue();
                            assertThat(rs.getString(1)).isEqualTo(List.of("one", "two", "three").get(id - 1));
                        }
                    }
                    try (var st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM items")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getLong(1)).isEqualTo(3);
                    }
                }
                // the switch to TLS right after the 'S' byte must hold for every connection, however fast the client
                for (int i = 0; i < 40; i++) {
                    try (Connection c = DriverManager.getConnection(url); var st = c.createStatement();
                            ResultSet rs = st.executeQuery("SELECT 1")) {
                        assertThat(rs.next()).isTrue();
                    }
                }
                assertThat(proxy.isAlive()).isTrue();
            } finally {
                proxy.destroy();
                proxy.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static PgShardedCluster startWithItems() throws Exception {
        PgShardedCluster cluster = PgShardedCluster.start(2, TABLES, "md5");
        try (var c = cluster.proxyConnection(""); var st = c.createStatement()) {
            st.execute("CREATE TABLE items (id INT PRIMARY KEY, name TEXT)");
            st.execute("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')");
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private static Process startPsql(int port, String sslMode, String... commands) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("psql", "-X", "-At", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-U", PgShardedCluster.USER, "-d", PgShardedCluster.DATABASE));
        for (String c : commands) {
            cmd.addAll(List.of("-c", c));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", PgShardedCluster.PASSWORD);
        pb.environment().put("PGSSLMODE", sslMode);
        return pb.start();
    }

    private static String psql(int port, String sslMode, String... commands) throws Exception {
        return psqlExpecting(true, port, sslMode, commands);
    }

    private static String psqlFailing(int port, String sslMode, String... commands) throws Exception {
        return psqlExpecting(false, port, sslMode, commands);
    }

    private static String psqlExpecting(boolean success, int port, String sslMode, String... commands) throws Exception {
        Process p = startPsql(port, sslMode, commands);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue() == 0).as(out).isEqualTo(success);
        return out;
    }
}

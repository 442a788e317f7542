package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.local.CommandRunner;
import io.shardgate.local.FreePorts;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The newcomer's path: {@code shardgate demo} starts ZooKeeper, MariaDB shards and the proxy; the
 * mariadb client works through the printed endpoint; SIGTERM stops every process it started.
 */
class DemoIT {
    private Process demo;

    @TempDir
    Path dataDir;

    @AfterEach
    void kill() throws InterruptedException {
        if (demo != null && demo.isAlive()) {
            demo.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void demoServesTheMariadbClientAndStopsEverythingOnSigterm() throws Exception {
        int zk = FreePorts.find();
        int proxy = FreePorts.find();
        int shardBase = FreePorts.find();
        while (!FreePorts.isFree(shardBase + 1) || !FreePorts.isFree(shardBase + 2) || shardBase + 2 == zk
                || shardBase + 2 == proxy || (proxy >= shardBase && proxy <= shardBase + 2) || (zk >= shardBase && zk <= shardBase + 2)) {
            shardBase = FreePorts.find();
        }
        demo = ShardgateProcess.builder("demo", "--shards", "2", "--spares", "1", "--data-dir", dataDir.toString(),
                "--zk-port", Integer.toString(zk), "--port", Integer.toString(proxy), "--admin-port", Integer.toString(FreePorts.find()), "--shard-base-port",
                Integer.toString(shardBase)).redirectErrorStream(true).start();
        String connectLine = ShardgateProcess.awaitLine(demo, "Connect:", Duration.ofSeconds(120));
        assertThat(connectLine).contains("-P" + proxy).contains("shardgate");

        var result = CommandRunner.of("mariadb", "--no-defaults", "--batch", "-A", "-h127.0.0.1", "-P" + proxy, "-uapp",
                "-papp", "shardgate", "-e",
                "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20));"
                        + " INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'bob'), (3, 'cy'), (4, 'di'), (5, 'ed');"
                        + " SELECT COUNT(*), MIN(name), MAX(name) FROM users;"
                        + " SELECT name FROM users WHERE id = 4")
                .timeout(Duration.ofSeconds(60)).run();
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output().lines().toList()).containsSubsequence("5\tada\ted", "di");

        // least privilege: the proxy's backend user owns the demo's database and nothing else, and the shards' system
        // schemas are not exposed to clients
        var privileges = CommandRunner.of("mariadb", "--no-defaults", "--batch", "-N", "-A", "-h127.0.0.1", "-P" + proxy, "-uapp",
                "-papp", "shardgate", "-e", "SHOW GRANTS").timeout(Duration.ofSeconds(60)).run();
        assertThat(privileges.exitCode()).as(privileges.output()).isZero();
        assertThat(privileges.output()).contains("GRANT ALL PRIVILEGES ON `shardgate`.*").doesNotContain("WITH GRANT OPTION")
                .doesNotContain("ALL PRIVILEGES ON *.*");
        var systemSchema = CommandRunner.of("mariadb", "--no-defaults", "--batch", "-A", "-h127.0.0.1", "-P" + proxy, "-uapp",
                "-papp", "shardgate", "-e", "SELECT user, host FROM mysql.user").timeout(Duration.ofSeconds(60)).run();
        assertThat(systemSchema.exitCode()).as(systemSchema.output()).isNotZero();
        assertThat(systemSchema.output()).contains("does not expose the shards' system schemas (mysql.user)");

        for (int shard : List.of(shardBase, shardBase + 1)) {
            var rows = CommandRunner.of("mariadb", "--no-defaults", "--batch", "-N", "-h127.0.0.1", "-P" + shard, "-uroot",
                    "shardgate", "-e", "SELECT COUNT(*) FROM users").timeout(Duration.ofSeconds(30)).run();
            assertThat(rows.exitCode()).as(rows.output()).isZero();
            assertThat(Integer.parseInt(rows.output().strip())).as("rows on shard port %d", shard).isBetween(0, 5);
        }

        demo.destroy();
        assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("the demo stops on SIGTERM").isTrue();
        for (int port : List.of(zk, proxy, shardBase, shardBase + 1, shardBase + 2)) {
            assertThat(accepts(port)).as("port %d is released", port).isFalse();
        }
    }

    @Test
    void postgresDemoServesPsqlAndStopsEverythingOnSigterm() throws Exception {
        int zk = FreePorts.find();
        int proxy = FreePorts.find();
        int shardBase = FreePorts.find();
        while (!FreePorts.isFree(shardBase + 1) || shardBase + 1 == zk || shardBase + 1 == proxy
                || (proxy >= shardBase && proxy <= shardBase + 1) || (zk >= shardBase && zk <= shardBase + 1)) {
            shardBase = FreePorts.find();
        }
        // PostgreSQL runs as the postgres OS user when the test runs as root: it must be able to reach its data directory
        java.nio.file.Files.setPosixFilePermissions(dataDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        demo = ShardgateProcess.builder("demo", "--protocol", "postgres", "--shards", "2", "--spares", "0", "--data-dir",
                dataDir.toString(), "--zk-port", Integer.toString(zk), "--port", Integer.toString(proxy), "--admin-port", Integer.toString(FreePorts.find()), "--shard-base-port",
                Integer.toString(shardBase)).redirectErrorStream(true).start();
        String connectLine = ShardgateProcess.awaitLine(demo, "Connect:", Duration.ofSeconds(120));
        assertThat(connectLine).contains("psql").contains("-p " + proxy).contains("shardgate");

        var result = CommandRunner.of("psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Integer.toString(proxy),
                "-U", "app", "-d", "shardgate", "-c",
                "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20));"
                        + " INSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'bob'), (3, 'cy'), (4, 'di'), (5, 'ed');"
                        + " SELECT COUNT(*), MIN(name), MAX(name) FROM users;"
                        + " SELECT name FROM users WHERE id = 4")
                .env("PGPASSWORD", "app").timeout(Duration.ofSeconds(60)).run();
        assertThat(result.exitCode()).as(result.output()).isZero();
        assertThat(result.output().lines().toList()).containsSubsequence("5|ada|ed", "di");

        var role = CommandRunner.of("psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", Integer.toString(proxy), "-U", "app", "-d",
                "shardgate", "-c", "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
                .env("PGPASSWORD", "app").timeout(Duration.ofSeconds(60)).run();
        assertThat(role.exitCode()).as(role.output()).isZero();
        assertThat(role.output().strip()).as("the proxy's backend role is no superuser").isEqualTo("shardgate|f|f|f");

        int onShards = 0;
        for (int shard : List.of(shardBase, shardBase + 1)) {
            var rows = CommandRunner.of("psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", Integer.toString(shard), "-U", "postgres",
                    "-d", "shardgate", "-c", "SELECT COUNT(*) FROM users").timeout(Duration.ofSeconds(30)).run();
            assertThat(rows.exitCode()).as(rows.output()).isZero();
            onShards += Integer.parseInt(rows.output().strip());
        }
        assertThat(onShards).isEqualTo(5);

        demo.destroy();
        assertThat(demo.waitFor(60, TimeUnit.SECONDS)).as("the demo stops on SIGTERM").isTrue();
        for (int port : List.of(zk, proxy, shardBase, shardBase + 1)) {
            assertThat(accepts(port)).as("port %d is released", port).isFalse();
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

}

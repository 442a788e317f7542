package io.shardgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardgateConfigTest {

    private static ShardgateConfig parse(String yaml) {
        return ShardgateConfig.parse(yaml, "test.yaml");
    }

    /** Asserts that {@code yaml} fails with a ConfigException about {@code key} whose message contains {@code text}. */
    private static void assertRejected(String yaml, String key, String text) {
        assertThatThrownBy(() -> parse(yaml))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(key + ": ")
                .hasMessageContaining(text)
                .satisfies(e -> assertThat(((ConfigException) e).key()).isEqualTo(key));
    }

    @Test
    void defaultsAreTheDocumentedValues() {
        ShardgateConfig c = ShardgateConfig.defaults();
        assertThat(c.cluster()).isEqualTo("demo");
        assertThat(c.listen()).isEqualTo(new ShardgateConfig.Listen("127.0.0.1", 3307, 0, "mysql_native_password"));
        assertThat(c.admin()).isEqualTo(new ShardgateConfig.Admin("127.0.0.1", 9307));
        assertThat(c.zookeeper().embedded()).isTrue();
        assertThat(c.zookeeper().embeddedPort()).isEqualTo(2181);
        assertThat(c.zookeeper().clientConnectString()).isEqualTo("127.0.0.1:2181");
        assertThat(c.zookeeper().embeddedDataDir()).isEqualTo(Path.of("data/zookeeper"));
        assertThat(c.zookeeper().sessionTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.zookeeper().connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.users()).containsExactly(new ShardgateConfig.User("app", "app"));
        assertThat(c.limits()).isEqualTo(new ShardgateConfig.Limits(16 * 1024 * 1024, 4096));
    }

    @Test
    void emptyAndCommentOnlyFilesGiveTheDefaults() {
        assertThat(parse("")).isEqualTo(ShardgateConfig.defaults());
        assertThat(parse("# nothing set yet\n\n")).isEqualTo(ShardgateConfig.defaults());
        assertThat(parse("{}")).isEqualTo(ShardgateConfig.defaults());
    }

    @Test
    void missingKeysTakeTheirDefaultsOneByOne() {
        ShardgateConfig c = parse("""
                cluster: shop
                listen:
                  mysql-port: 4000
                zookeeper:
                  connect: zk1:2181,zk2:2181
                limits:
                  max-connections: 10
                """);
        assertThat(c.cluster()).isEqualTo("shop");
        assertThat(c.listen()).isEqualTo(new ShardgateConfig.Listen("127.0.0.1", 4000, 0, "mysql_native_password"));
        assertThat(c.admin()).isEqualTo(ShardgateConfig.Admin.DEFAULTS);
        assertThat(c.zookeeper().embedded()).isFalse();
        assertThat(c.zookeeper().clientConnectString()).isEqualTo("zk1:2181,zk2:2181");
        assertThat(c.zookeeper().sessionTimeoutMs()).isEqualTo(15_000);
        assertThat(c.users()).isEqualTo(ShardgateConfig.defaults().users());
        assertThat(c.limits()).isEqualTo(new ShardgateConfig.Limits(16 * 1024 * 1024, 10));
    }

    @Test
    void everyKeyIsRead() {
        ShardgateConfig c = parse("""
                cluster: c_1-x
                listen: {host: 0.0.0.0, mysql-port: 13306, postgres-port: 15432}
                admin: {host: 0.0.0.0, port: 0}
                zookeeper:
                  connect: embedded
                  embedded-port: 12181
                  embedded-data-dir: /tmp/zk
                  session-timeout-ms: 30000
                  connect-timeout-ms: 1000
                users:
                  - {name: app, password: secret}
                  - {name: report}
                limits: {max-packet-bytes: 1024, max-connections: 1}
                """);
        assertThat(c).isEqualTo(new ShardgateConfig("c_1-x",
                new ShardgateConfig.Listen("0.0.0.0", 13306, 15432, "mysql_native_password"),
                new ShardgateConfig.Admin("0.0.0.0", 0),
                new ShardgateConfig.ZooKeeper("embedded", 12181, Path.of("/tmp/zk"), 30_000, 1_000),
                java.util.List.of(new ShardgateConfig.User("app", "secret"), new ShardgateConfig.User("report", "")),
                new ShardgateConfig.Limits(1024, 1)));
        assertThat(c.zookeeper().clientConnectString()).isEqualTo("127.0.0.1:12181");
    }

    @Test
    void loadReadsAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("s.yaml");
        Files.writeString(file, "cluster: from_file\n");
        assertThat(ShardgateConfig.load(file).cluster()).isEqualTo("from_file");
    }

    @Test
    void loadOfAMissingFileSaysSo(@TempDir Path dir) {
        Path file = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ShardgateConfig.load(file))
                .isInstanceOf(ConfigException.class)
                .hasMessage("config file " + file + " does not exist");
    }

    @Test
    void invalidYamlNamesTheFileAndLine() {
        assertThatThrownBy(() -> parse("listen:\n  mysql-port: [1,\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("test.yaml is not valid YAML");
    }

    @Test
    void unknownTopLevelKey() {
        assertRejected("clustr: demo\n", "clustr", "unknown key; allowed keys here are [admin, backend, cluster, limits, listen, tls, users, zookeeper]");
    }

    @Test
    void unknownNestedKey() {
        assertRejected("listen:\n  mysql_port: 3307\n", "listen.mysql_port", "allowed keys here are [host, mysql-auth, mysql-port, postgres-auth, postgres-port]");
    }

    @Test
    void clusterNamePattern() {
        assertRejected("cluster: Demo\n", "cluster", "use 1 to 64 lower-case letters, digits, '-' or '_'");
        assertRejected("cluster: a/b\n", "cluster", "'a/b' is not a valid cluster name");
    }

    @Test
    void mysqlAuthMethodIsOneOfTwo() {
        assertRejected("listen: {mysql-auth: sha256_password}\n", "listen.mysql-auth",
                "'sha256_password' is not allowed; use one of: mysql_native_password, caching_sha2_password");
        assertThat(ShardgateConfig.parse("listen: {mysql-auth: caching_sha2_password}\n", "t").listen().mysqlAuth())
                .isEqualTo("caching_sha2_password");
    }

    @Test
    void postgresAuthMethodIsOneOfThreeAndScramByDefault() {
        assertThat(ShardgateConfig.parse("listen: {postgres-port: 5433}\n", "t").listen().postgresAuth()).isEqualTo("scram-sha-256");
        assertRejected("listen: {postgres-auth: password}\n", "listen.postgres-auth",
                "'password' is not allowed; use one of: scram-sha-256, md5, trust");
        assertThat(ShardgateConfig.parse("listen: {postgres-auth: md5}\n", "t").listen().postgresAuth()).isEqualTo("md5");
    }

    @Test
    void mysqlPortRange() {
        assertRejected("listen: {mysql-port: 70000}\n", "listen.mysql-port", "must be in 0..65535, was 70000");
        assertRejected("listen: {mysql-port: -1}\n", "listen.mysql-port", "must be in 0..65535");
        assertRejected("listen: {mysql-port: abc}\n", "listen.mysql-port", "must be an integer in 0..65535");
    }

    @Test
    void postgresAndAdminPortRange() {
        assertRejected("listen: {postgres-port: 65536}\n", "listen.postgres-port", "must be in 0..65535");
        assertRejected("admin: {port: 99999}\n", "admin.port", "must be in 0..65535");
    }

    @Test
    void embeddedPortRange() {
        assertRejected("zookeeper: {embedded-port: 0}\n", "zookeeper.embedded-port", "must be in 1..65535");
    }

    @Test
    void portsMustBeDistinct() {
        assertRejected("admin: {port: 3307}\n", "admin.port", "port 3307 is already used by listen.mysql-port");
        assertRejected("listen: {mysql-port: 5432, postgres-port: 5432}\n", "listen.postgres-port", "already used by listen.mysql-port");
        assertRejected("zookeeper: {embedded-port: 9307}\n", "zookeeper.embedded-port", "already used by admin.port");
    }

    @Test
    void zeroPortsAndExternalZooKeeperDoNotClash() {
        ShardgateConfig c = parse("""
                listen: {mysql-port: 0, postgres-port: 0}
                admin: {port: 0}
                zookeeper: {connect: "zk:2181", embedded-port: 9307}
                """);
        assertThat(c.listen().mysqlPort()).isZero();
        assertThat(c.zookeeper().clientConnectString()).isEqualTo("zk:2181");
    }

    @Test
    void hostMustLookLikeAnAddress() {
        assertRejected("listen: {host: 'my host'}\n", "listen.host", "is not a host name or IP address");
        assertRejected("admin: {host: ''}\n", "admin.host", "must not be empty");
    }

    @Test
    void connectStringFormat() {
        assertRejected("zookeeper: {connect: localhost}\n", "zookeeper.connect",
                "'localhost' is not allowed; use \"embedded\" or host:port[,host:port...]");
        assertRejected("zookeeper: {connect: 'zk1:2181,'}\n", "zookeeper.connect", "is not allowed");
        assertRejected("zookeeper: {connect: 'zk1:99999'}\n", "zookeeper.connect", "port 99999 outside 1..65535");
        assertRejected("zookeeper: {connect: ''}\n", "zookeeper.connect", "must not be empty");
    }

    @Test
    void sessionTimeoutRange() {
        assertRejected("zookeeper: {session-timeout-ms: 999}\n", "zookeeper.session-timeout-ms", "must be in 1000..600000, was 999");
    }

    @Test
    void connectTimeoutRange() {
        assertRejected("zookeeper: {connect-timeout-ms: 200000}\n", "zookeeper.connect-timeout-ms", "must be in 100..120000");
    }

    @Test
    void usersMustNotBeEmpty() {
        assertRejected("users: []\n", "users", "needs at least one user");
    }

    @Test
    void userNamesMustBeUnique() {
        assertRejected("users: [{name: app, password: a}, {name: app, password: b}]\n", "users[1].name", "user 'app' is declared twice");
    }

    @Test
    void userNeedsAValidName() {
        assertRejected("users: [{password: a}]\n", "users[0].name", "is required");
        assertRejected("users: [{name: 'a b'}]\n", "users[0].name", "is not a valid user name");
        assertRejected("users: [{name: app, pass: x}]\n", "users[0].pass", "unknown key");
    }

    @Test
    void maxPacketBytesRange() {
        assertRejected("limits: {max-packet-bytes: 1023}\n", "limits.max-packet-bytes", "must be in 1024..1073741824, was 1023");
        assertRejected("limits: {max-packet-bytes: 1073741825}\n", "limits.max-packet-bytes", "must be in 1024..1073741824");
    }

    @Test
    void maxConnectionsRange() {
        assertRejected("limits: {max-connections: 0}\n", "limits.max-connections", "must be in 1..1000000");
    }

    @Test
    void maxPinnedPerShard() {
        assertThat(ShardgateConfig.parse("limits: {max-pinned-per-shard: 5}\n", "test").limits().maxPinnedPerShard()).isEqualTo(5);
        assertThat(ShardgateConfig.parse("", "test").limits().maxPinnedPerShard()).isEqualTo(64);
        assertRejected("limits: {max-pinned-per-shard: 0}\n", "limits.max-pinned-per-shard", "must be in 1..100000, was 0");
        assertRejected("limits: {max-pinned-per-shard: lots}\n", "limits.max-pinned-per-shard", "");
    }

    @Test
    void statementTimeoutDefaultsToAnHourAndZeroMeansNone() {
        assertThat(ShardgateConfig.parse("", "test").limits().statementTimeoutMs()).isEqualTo(3_600_000);
        assertThat(parse("limits: {statement-timeout-ms: 0}\n").limits().statementTimeout()).isZero();
        assertThat(parse("limits: {statement-timeout-ms: 2500}\n").limits().statementTimeout()).hasMillis(2500);
        assertRejected("limits: {statement-timeout-ms: -1}\n", "limits.statement-timeout-ms", "must be in 0..86400000");
        assertRejected("limits: {statement-timeout-ms: 86400001}\n", "limits.statement-timeout-ms", "must be in 0..86400000");
    }

    @Test
    void hardeningLimitsAreReadWithDefaultsAndRanges() {
        ShardgateConfig.Limits d = ShardgateConfig.defaults().limits();
        assertThat(d.maxUnauthenticatedConnections()).isEqualTo(1024);
        assertThat(d.handshakeTimeoutMs()).isEqualTo(10_000);
        assertThat(d.loginFailureDelayMs()).isEqualTo(250);
        assertThat(d.loginFailureMaxDelayMs()).isEqualTo(5_000);
        assertThat(d.statementLimits()).isEqualTo(io.shardgate.router.StatementLimits.DEFAULTS);
        ShardgateConfig.Limits l = parse("""
                limits:
                  max-unauthenticated-connections: 7
                  handshake-timeout-ms: 2500
                  login-failure-delay-ms: 0
                  login-failure-max-delay-ms: 0
                  max-statement-depth: 10
                  max-statement-operators: 20
                  max-statement-items: 30
                """).limits();
        assertThat(l).isEqualTo(new ShardgateConfig.Limits(16 * 1024 * 1024, 4096, 7, 2500, 0, 0, 10, 20, 30, 64, 50_000, 3_600_000));
        assertThat(l.statementLimits()).isEqualTo(new io.shardgate.router.StatementLimits(10, 20, 30));
        assertRejected("limits: {max-unauthenticated-connections: 0}\n", "limits.max-unauthenticated-connections",
                "must be in 1..1000000");
        assertRejected("limits: {handshake-timeout-ms: 99}\n", "limits.handshake-timeout-ms", "must be in 100..600000");
        assertRejected("limits: {login-failure-delay-ms: 60001}\n", "limits.login-failure-delay-ms", "must be in 0..60000");
        assertRejected("limits: {login-failure-delay-ms: 500, login-failure-max-delay-ms: 400}\n",
                "limits.login-failure-max-delay-ms", "must be at least login-failure-delay-ms (500), was 400");
        assertRejected("limits: {max-statement-depth: 0}\n", "limits.max-statement-depth", "must be in 1..1000");
        assertRejected("limits: {max-statement-operators: 100001}\n", "limits.max-statement-operators", "must be in 1..100000");
        assertRejected("limits: {max-statement-items: 0}\n", "limits.max-statement-items", "must be in 1..10000000");
    }

    @Test
    void sectionsMustBeMappings() {
        assertRejected("listen: 3307\n", "listen", "must be a mapping");
    }

    @Test
    void passwordsStayOutOfToString() {
        assertThat(ShardgateConfig.defaults().toString()).doesNotContain("password=").contains("User[name=app]");
    }

    @Test
    void checkClusterNameForCommandLineValues() {
        assertThat(ShardgateConfig.checkClusterName("--cluster", "shop-1")).isEqualTo("shop-1");
        assertThatThrownBy(() -> ShardgateConfig.checkClusterName("--cluster", "Shop"))
                .hasMessageStartingWith("--cluster: 'Shop' is not a valid cluster name");
    }

    @Test
    void nativeBackendsAreOnUnlessSwitchedOff() {
        assertThat(ShardgateConfig.defaults().backend().nativeMySql()).isTrue();
        assertThat(parse("backend: {}").backend()).isEqualTo(ShardgateConfig.Backend.DEFAULTS);
        assertThat(parse("backend: {native: false}").backend().nativeMySql()).isFalse();
        assertThat(parse("backend: {native: true}").backend().nativeMySql()).isTrue();
        assertRejected("backend: {native: 'yes'}", "backend.native", "must be true or false");
        assertRejected("backend: {nativ: true}", "backend.nativ", "unknown key");
    }

    @Test
    void nativePoolsKeepOneIdleConnectionUnlessConfigured() {
        assertThat(ShardgateConfig.defaults().backend().nativeMinIdle()).isEqualTo(1);
        assertThat(parse("backend: {native: true}").backend().nativeMinIdle()).isEqualTo(1);
        assertThat(parse("backend: {native-min-idle: 0}").backend()).isEqualTo(new ShardgateConfig.Backend(true, 0));
        assertThat(parse("backend: {native-min-idle: 4}").backend().nativeMinIdle()).isEqualTo(4);
        assertRejected("backend: {native-min-idle: -1}", "backend.native-min-idle", "0..1000");
        assertRejected("backend: {native-min-idle: 1001}", "backend.native-min-idle", "0..1000");
        assertRejected("backend: {native-min-idle: 'two'}", "backend.native-min-idle", "integer");
        assertThatThrownBy(() -> new ShardgateConfig.Backend(true, 5000)).hasMessageStartingWith("backend.native-min-idle: must be 0..1000");
    }

    @Test
    void tlsTakesACertificateAndItsKeyOrNothing(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path cert = java.nio.file.Files.writeString(dir.resolve("server.crt"), "-----BEGIN CERTIFICATE-----\n");
        java.nio.file.Path key = java.nio.file.Files.writeString(dir.resolve("server.key"), "-----BEGIN PRIVATE KEY-----\n");
        assertThat(ShardgateConfig.defaults().tls()).isEqualTo(ShardgateConfig.Tls.OFF);
        assertThat(ShardgateConfig.defaults().tls().enabled()).isFalse();
        ShardgateConfig c = parse("tls: {cert-file: '" + cert + "', key-file: '" + key + "', require: true}");
        assertThat(c.tls()).isEqualTo(new ShardgateConfig.Tls(cert, key, true));
        assertThat(c.tls().enabled()).isTrue();
        assertThat(parse("tls: {cert-file: '" + cert + "', key-file: '" + key + "'}").tls().require()).isFalse();
        assertRejected("tls: {cert-file: '" + cert + "'}", "tls.key-file", "is needed too");
        assertRejected("tls: {key-file: '" + key + "'}", "tls.cert-file", "is needed too");
        assertRejected("tls: {require: true}", "tls.require", "true needs cert-file and key-file");
        assertRejected("tls: {cert-file: '" + dir.resolve("missing.crt") + "', key-file: '" + key + "'}", "tls.cert-file",
                "is not a readable file");
        assertRejected("tls: {cert-file: '" + cert + "', key-file: '" + key + "', ciphers: all}", "tls.ciphers", "");
    }
}

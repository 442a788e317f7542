package io.shardgate.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The bootstrap configuration of a Shardgate process ({@code conf/shardgate.yaml}): which cluster
 * it serves, where it listens, how it reaches ZooKeeper and who may connect. Everything else about
 * the cluster (shards, tables, slot map) lives in ZooKeeper and changes there, never here.
 *
 * <p>Every key has a default, so an empty file (or no file) is a valid configuration for one
 * machine. Loading validates every key and fails on the first problem with a {@link ConfigException}
 * whose message starts with the key's path ({@code listen.mysql-port}) and says what is allowed.
 *
 * @param cluster   name of the cluster this process serves; its state lives under
 *                  {@code /shardgate/<cluster>} in ZooKeeper. Lower-case letters, digits, '-' and '_',
 *                  at most 64 characters. Default {@value #DEFAULT_CLUSTER}.
 * @param listen    the client-facing SQL listeners
 * @param admin     the admin HTTP listener (metrics, health, dashboard)
 * @param zookeeper how to reach (or start) ZooKeeper
 * @param users     client accounts of the proxy, at least one, names unique. Default one user
 *                  {@code app} with password {@code app}.
 * @param limits    resource limits protecting the proxy
 * @param tls       TLS for client connections (the PostgreSQL listener); off by default
 * @param backend   how the proxy talks to its shards
 */
public record ShardgateConfig(String cluster, Listen listen, Admin admin, ZooKeeper zookeeper, List<User> users,
        Limits limits, Tls tls, Backend backend) {

    public static final String DEFAULT_CLUSTER = "demo";
    public static final String EMBEDDED = "embedded";
    /** Where the command line and the proxy look for the file when none is named. */
    public static final Path DEFAULT_PATH = Path.of("conf", "shardgate.yaml");

    static final Pattern CLUSTER_NAME = Pattern.compile("[a-z0-9_-]{1,64}");
    private static final Pattern HOST_PORT = Pattern.compile("([A-Za-z0-9._-]+):(\\d{1,5})");
    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z0-9_.@-]{1,32}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    public ShardgateConfig {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(zookeeper, "zookeeper");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(backend, "backend");
        users = List.copyOf(users);
        checkClusterName("cluster", cluster);
        if (users.isEmpty()) {
            throw new ConfigException("users", "needs at least one user (name and password)");
        }
    }

    /** A configuration without TLS. */
    public ShardgateConfig(String cluster, Listen listen, Admin admin, ZooKeeper zookeeper, List<User> users, Limits limits) {
        this(cluster, listen, admin, zookeeper, users, limits, Tls.OFF);
    }

    /** A configuration with the default backend settings. */
    public ShardgateConfig(String cluster, Listen listen, Admin admin, ZooKeeper zookeeper, List<User> users, Limits limits,
            Tls tls) {
        this(cluster, listen, admin, zookeeper, users, limits, tls, Backend.DEFAULTS);
    }

    /** The same with other listeners. */
    public ShardgateConfig withListen(Listen l) {
        return new ShardgateConfig(cluster, l, admin, zookeeper, users, limits, tls, backend);
    }

    /** The same for another cluster. */
    public ShardgateConfig withCluster(String name) {
        return new ShardgateConfig(name, listen, admin, zookeeper, users, limits, tls, backend);
    }

    /**
     * How the proxy talks to its shards ({@code backend:} in the file).
     *
     * @param nativeMySql {@code native}: relay single-shard text SELECTs of MySQL clients over the proxy's own MySQL
     *                    protocol connections, forwarding the client's bytes and the shard's reply packets as they are,
     *                    instead of reading the result through JDBC and encoding it again (issue 15; the statements and
     *                    sessions that qualify are listed in {@code io.shardgate.proxy.core.NativeRelay}); and for
     *                    PostgreSQL clients, a simple Query message's one SELECT and an unnamed statement's extended
     *                    execution over the proxy's own PostgreSQL connections ({@code io.shardgate.proxy.core.PgNativeRelay}).
     *                    These connections come in addition to the JDBC pool, up to each shard's pool-size. Default true;
     *                    false is the fallback: every statement then takes the JDBC path
     * @param nativeMinIdle {@code native-min-idle}: idle native connections each native pool of a shard keeps open and
     *                    logged in, 0..1000, capped by the shard's pool-size; default {@value #DEFAULT_NATIVE_MIN_IDLE}.
     *                    Opened in the background when the pool starts and again as soon as connections are borrowed,
     *                    cut (a read ended early by LIMIT or a client gone), discarded or expired, so that a statement,
     *                    each shard's part of a scatter read above all, does not connect on its way to the first row. 0:
     *                    connections are opened by the statements that need them
     */
    public record Backend(boolean nativeMySql, int nativeMinIdle) {
        public static final int DEFAULT_NATIVE_MIN_IDLE = 1;
        public static final int MAX_NATIVE_MIN_IDLE = 1000;
        public static final Backend DEFAULTS = new Backend(true, DEFAULT_NATIVE_MIN_IDLE);

        public Backend {
            if (nativeMinIdle < 0 || nativeMinIdle > MAX_NATIVE_MIN_IDLE) {
                throw new ConfigException("backend.native-min-idle", "must be 0.." + MAX_NATIVE_MIN_IDLE + ", was " + nativeMinIdle);
            }
        }

        /** Native connections on or off, with the default idle floor. */
        public Backend(boolean nativeMySql) {
            this(nativeMySql, DEFAULT_NATIVE_MIN_IDLE);
        }
    }

    /**
     * The client-facing SQL listeners.
     *
     * @param host         address the listeners bind to; default {@code 127.0.0.1} (use {@code 0.0.0.0} for all interfaces)
     * @param mysqlPort    MySQL protocol port, 0..65535, 0 turns it off; default 3307
     * @param postgresPort PostgreSQL protocol port, 0..65535, 0 turns it off; default 0
     * @param mysqlAuth    authentication method the MySQL listener asks clients for:
     *                     {@code mysql_native_password} (default; every client has it) or
     *                     {@code caching_sha2_password}; a client that answers with the other one is accepted too
     * @param postgresAuth authentication method the PostgreSQL listener asks clients for: {@code scram-sha-256}
     *                     (default), {@code md5}, or {@code trust} (a configured user gets in without a password)
     */
    public record Listen(String host, int mysqlPort, int postgresPort, String mysqlAuth, String postgresAuth) {
        public static final List<String> MYSQL_AUTH_METHODS = List.of("mysql_native_password", "caching_sha2_password");
        public static final List<String> POSTGRES_AUTH_METHODS = List.of("scram-sha-256", "md5", "trust");
        public static final Listen DEFAULTS = new Listen("127.0.0.1", 3307, 0, "mysql_native_password", "scram-sha-256");

        public Listen {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(mysqlAuth, "mysqlAuth");
            Objects.requireNonNull(postgresAuth, "postgresAuth");
        }

        /** The listeners with the default PostgreSQL authentication (scram-sha-256). */
        public Listen(String host, int mysqlPort, int postgresPort, String mysqlAuth) {
            this(host, mysqlPort, postgresPort, mysqlAuth, "scram-sha-256");
        }
    }

    /**
     * The admin HTTP listener.
     *
     * @param host address it binds to; default {@code 127.0.0.1}
     * @param port port, 0..65535, 0 turns it off; default 9307
     */
    public record Admin(String host, int port) {
        public static final Admin DEFAULTS = new Admin("127.0.0.1", 9307);

        public Admin {
            Objects.requireNonNull(host, "host");
        }
    }

    /**
     * How to reach ZooKeeper.
     *
     * @param connect          {@code embedded} (a ZooKeeper started in-process on {@code embeddedPort})
     *                         or a connect string {@code host:port[,host:port...]}; default embedded
     * @param embeddedPort     client port of the embedded ZooKeeper, 1..65535; default 2181
     * @param embeddedDataDir  data directory of the embedded ZooKeeper, relative to the working
     *                         directory; default {@code data/zookeeper}
     * @param sessionTimeoutMs ZooKeeper session timeout in ms, 1000..600000; default 15000. A proxy
     *                         that loses its session for this long is considered gone.
     * @param connectTimeoutMs how long to wait for the first connection in ms, 100..120000; default 5000
     */
    public record ZooKeeper(String connect, int embeddedPort, Path embeddedDataDir, int sessionTimeoutMs,
            int connectTimeoutMs) {
        public static final ZooKeeper DEFAULTS = new ZooKeeper(EMBEDDED, 2181, Path.of("data", "zookeeper"), 15_000, 5_000);

        public ZooKeeper {
            Objects.requireNonNull(connect, "connect");
            Objects.requireNonNull(embeddedDataDir, "embeddedDataDir");
        }

        /** Whether this process (or the demo) runs ZooKeeper in-process. */
        public boolean embedded() {
            return connect.equals(EMBEDDED);
        }

        /** The connect string clients use: the embedded server's local address, or {@link #connect()}. */
        public String clientConnectString() {
            return embedded() ? "127.0.0.1:" + embeddedPort : connect;
        }

        public Duration sessionTimeout() {
            return Duration.ofMillis(sessionTimeoutMs);
        }

        public Duration connectTimeout() {
            return Duration.ofMillis(connectTimeoutMs);
        }
    }

    /**
     * A client account of the proxy.
     *
     * @param name     user name, 1..32 of letters, digits, '_', '.', '@', '-'; unique
     * @param password password, may be empty
     */
    public record User(String name, String password) {
        public User {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(password, "password");
        }

        @Override
        public String toString() {
            return "User[name=" + name + "]";
        }
    }

    /**
     * Limits protecting the proxy.
     *
     * @param maxPacketBytes                largest client packet accepted, 1 KiB..1 GiB; default 16 MiB
     * @param maxConnections                most authenticated client connections at once (per listener), 1..1000000;
     *                                      default 4096
     * @param maxUnauthenticatedConnections most connections still in their handshake or authentication at once (per
     *                                      listener), counted apart so that they never take an authenticated client's
     *                                      place, 1..1000000; default 1024
     * @param handshakeTimeoutMs            how long a connection may take from accept to authenticated before it is
     *                                      closed (MySQL's connect_timeout, PostgreSQL's authentication_timeout),
     *                                      100..600000 ms; default 10000
     * @param loginFailureDelayMs           delay before the reply to a second failed login from one address, doubled
     *                                      for each further failure, 0 (off)..60000 ms; default 250
     * @param loginFailureMaxDelayMs        cap of that delay, 0..600000 ms, at least login-failure-delay-ms; default 5000
     * @param maxStatementDepth             deepest nesting of parentheses in a statement, 1..1000; default 32
     * @param maxStatementOperators         most boolean and arithmetic operators in a statement, 1..100000; default 1000
     * @param maxStatementItems             most comma-separated list items in a statement (IN lists, VALUES rows),
     *                                      1..10000000; default 200000
     * @param maxPinnedPerShard             most backend connections of one shard that sessions may pin for their
     *                                      session state (temporary tables, named locks, user variables), 1..100000;
     *                                      default 64. A statement that would pin one more is refused before it runs,
     *                                      so pinned sessions cannot starve the shard's pool.
     * @param poolWaitMs                    longest a statement waits for a backend connection while every connection of
     *                                      its shard's pool is in use by other sessions, 250..3600000; default 50000
     *                                      (InnoDB's lock wait timeout): a client transaction holds a connection per
     *                                      shard it touched until it ends, so a burst of concurrent transactions queues
     *                                      as row-lock waits do, instead of failing
     * @param statementTimeoutMs            longest a client statement may run, 0 (no deadline)..86400000; default
     *                                      3600000 (1 h). Past it the statement is cancelled on every shard it runs on
     *                                      and the client gets MariaDB's max_statement_time error (1969, PostgreSQL
     *                                      57014). Not 0 by default (MariaDB's max_statement_time is): a proxy must not
     *                                      leave a session without an answer when a shard hangs; an hour is far past
     *                                      any OLTP statement, and long reports or DDL can raise it or set 0
     */
    public record Limits(int maxPacketBytes, int maxConnections, int maxUnauthenticatedConnections, int handshakeTimeoutMs,
            int loginFailureDelayMs, int loginFailureMaxDelayMs, int maxStatementDepth, int maxStatementOperators,
            int maxStatementItems, int maxPinnedPerShard, int poolWaitMs, int statementTimeoutMs) {
        public static final int DEFAULT_MAX_PINNED_PER_SHARD = 64;
        public static final int DEFAULT_POOL_WAIT_MS = 50_000;
        public static final int DEFAULT_STATEMENT_TIMEOUT_MS = 3_600_000;
        public static final Limits DEFAULTS = new Limits(16 * 1024 * 1024, 4096, 1024, 10_000, 250, 5_000,
                io.shardgate.router.StatementLimits.DEFAULTS.maxDepth(), io.shardgate.router.StatementLimits.DEFAULTS.maxOperators(),
                io.shardgate.router.StatementLimits.DEFAULTS.maxItems(), DEFAULT_MAX_PINNED_PER_SHARD, DEFAULT_POOL_WAIT_MS,
                DEFAULT_STATEMENT_TIMEOUT_MS);

        public Limits {
            if (loginFailureMaxDelayMs < loginFailureDelayMs) {
                throw new ConfigException("limits.login-failure-max-delay-ms", "must be at least limits.login-failure-delay-ms ("
                        + loginFailureDelayMs + "), was " + loginFailureMaxDelayMs);
            }
        }

        /** The default limits with another packet size and connection cap. */
        public Limits(int maxPacketBytes, int maxConnections) {
            this(maxPacketBytes, maxConnections, DEFAULT_MAX_PINNED_PER_SHARD);
        }

        /** The default limits with another packet size, connection cap and limit of pinned connections per shard. */
        public Limits(int maxPacketBytes, int maxConnections, int maxPinnedPerShard) {
            this(maxPacketBytes, maxConnections, DEFAULTS.maxUnauthenticatedConnections(), DEFAULTS.handshakeTimeoutMs(),
                    DEFAULTS.loginFailureDelayMs(), DEFAULTS.loginFailureMaxDelayMs(), DEFAULTS.maxStatementDepth(),
                    DEFAULTS.maxStatementOperators(), DEFAULTS.maxStatementItems(), maxPinnedPerShard, DEFAULT_POOL_WAIT_MS,
                    DEFAULT_STATEMENT_TIMEOUT_MS);
        }

        /** These limits with another pool wait. */
        public Limits withPoolWaitMs(int wait) {
            return new Limits(maxPacketBytes, maxConnections, maxUnauthenticatedConnections, handshakeTimeoutMs, loginFailureDelayMs,
                    loginFailureMaxDelayMs, maxStatementDepth, maxStatementOperators, maxStatementItems, maxPinnedPerShard, wait,
                    statementTimeoutMs);
        }

        /** These limits with another statement deadline (0: none). */
        public Limits withStatementTimeoutMs(int timeout) {
            return new Limits(maxPacketBytes, maxConnections, maxUnauthenticatedConnections, handshakeTimeoutMs, loginFailureDelayMs,
                    loginFailureMaxDelayMs, maxStatementDepth, maxStatementOperators, maxStatementItems, maxPinnedPerShard, poolWaitMs,
                    timeout);
        }

        public Duration statementTimeout() {
            return Duration.ofMillis(statementTimeoutMs);
        }

        /** The limits on one statement, for the router. */
        public io.shardgate.router.StatementLimits statementLimits() {
            return new io.shardgate.router.StatementLimits(maxStatementDepth, maxStatementOperators, maxStatementItems);
        }

        public Duration handshakeTimeout() {
            return Duration.ofMillis(handshakeTimeoutMs);
        }

        public Duration loginFailureDelay() {
            return Duration.ofMillis(loginFailureDelayMs);
        }

        public Duration loginFailureMaxDelay() {
            return Duration.ofMillis(loginFailureMaxDelayMs);
        }
    }

    /**
     * TLS for client connections. The PostgreSQL listener answers a client's SSLRequest with 'S' and a TLS handshake
     * when a certificate is configured ({@code 'N'} otherwise); the MySQL listener does not offer TLS yet.
     *
     * @param certFile PEM certificate chain, the server's certificate first; null when TLS is off
     * @param keyFile  PEM private key of that certificate (PKCS#8, "BEGIN PRIVATE KEY"), unencrypted; null when off
     * @param require  refuse PostgreSQL clients that do not ask for TLS (28000), for listeners beyond localhost
     */
    public record Tls(Path certFile, Path keyFile, boolean require) {
        public static final Tls OFF = new Tls(null, null, false);

        public Tls {
            if ((certFile == null) != (keyFile == null)) {
                throw new ConfigException("tls", "needs both cert-file and key-file, or neither");
            }
            if (require && certFile == null) {
                throw new ConfigException("tls.require", "true needs cert-file and key-file");
            }
        }

        public boolean enabled() {
            return certFile != null;
        }
    }

    static final int MIN_PACKET = 1024;
    static final int MAX_PACKET = 1024 * 1024 * 1024;

    /** The configuration used when no file is given. */
    public static ShardgateConfig defaults() {
        return new ShardgateConfig(DEFAULT_CLUSTER, Listen.DEFAULTS, Admin.DEFAULTS, ZooKeeper.DEFAULTS,
                List.of(new User("app", "app")), Limits.DEFAULTS);
    }

    /** Reads and validates {@code file}; the file must exist. */
    public static ShardgateConfig load(Path file) {
        Objects.requireNonNull(file, "file");
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("", "config file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("", "cannot read config file " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses and validates YAML text; {@code source} names the file in errors. A blank document gives the defaults. */
    public static ShardgateConfig parse(String text, String source) {
        Objects.requireNonNull(text, "text");
        return parse(ConfigNode.parseYaml(isBlankDocument(text) ? "{}" : text, source));
    }

    private static boolean isBlankDocument(String text) {
        try {
            JsonNode root = YAML.readTree(text);
            return root == null || root.isMissingNode() || root.isNull();
        } catch (IOException e) {
            return false; // let ConfigNode report the syntax error with its line
        }
    }

    public static ShardgateConfig parse(ConfigNode root) {
        root.allowOnly("cluster", "listen", "admin", "zookeeper", "users", "limits", "tls", "backend");
        String cluster = root.string("cluster", DEFAULT_CLUSTER);
        checkClusterName("cluster", cluster);

        ConfigNode l = root.optionalObject("listen");
        Listen listen = l.isPresent() ? parseListen(l.allowOnly("host", "mysql-port", "postgres-port", "mysql-auth",
                "postgres-auth")) : Listen.DEFAULTS;
        ConfigNode a = root.optionalObject("admin");
        Admin admin = a.isPresent() ? parseAdmin(a.allowOnly("host", "port")) : Admin.DEFAULTS;
        ConfigNode z = root.optionalObject("zookeeper");
        ZooKeeper zk = z.isPresent()
                ? parseZooKeeper(z.allowOnly("connect", "embedded-port", "embedded-data-dir", "session-timeout-ms", "connect-timeout-ms"))
                : ZooKeeper.DEFAULTS;
        List<User> users = root.has("users") ? parseUsers(root) : defaults().users();
        ConfigNode lim = root.optionalObject("limits");
        Limits limits = lim.isPresent() ? parseLimits(lim.allowOnly("max-packet-bytes", "max-connections",
                "max-unauthenticated-connections", "handshake-timeout-ms", "login-failure-delay-ms", "login-failure-max-delay-ms",
                "max-statement-depth", "max-statement-operators", "max-statement-items", "max-pinned-per-shard",
                "pool-wait-ms", "statement-timeout-ms")) : Limits.DEFAULTS;

        ConfigNode t = root.optionalObject("tls");
        Tls tls = t.isPresent() ? parseTls(t.allowOnly("cert-file", "key-file", "require")) : Tls.OFF;

        ConfigNode b = root.optionalObject("backend");
        Backend backend = b.isPresent() ? parseBackend(b.allowOnly("native", "native-min-idle")) : Backend.DEFAULTS;

        checkDistinctPorts(listen, admin, zk);
        return new ShardgateConfig(cluster, listen, admin, zk, users, limits, tls, backend);
    }

    private static Backend parseBackend(ConfigNode n) {
        return new Backend(n.bool("native", Backend.DEFAULTS.nativeMySql()),
                n.integer("native-min-idle", 0, Backend.MAX_NATIVE_MIN_IDLE, Backend.DEFAULTS.nativeMinIdle()));
    }

    private static Listen parseListen(ConfigNode n) {
        Listen d = Listen.DEFAULTS;
        String auth = n.string("mysql-auth", d.mysqlAuth());
        if (!Listen.MYSQL_AUTH_METHODS.contains(auth)) {
            throw n.error("mysql-auth", "'" + auth + "' is not allowed; use one of: " + String.join(", ", Listen.MYSQL_AUTH_METHODS));
        }
        String pgAuth = n.string("postgres-auth", d.postgresAuth());
        if (!Listen.POSTGRES_AUTH_METHODS.contains(pgAuth)) {
            throw n.error("postgres-auth", "'" + pgAuth + "' is not allowed; use one of: " + String.join(", ", Listen.POSTGRES_AUTH_METHODS));
        }
        return new Listen(host(n, d.host()), n.integer("mysql-port", 0, 65535, d.mysqlPort()),
                n.integer("postgres-port", 0, 65535, d.postgresPort()), auth, pgAuth);
    }

    private static Admin parseAdmin(ConfigNode n) {
        Admin d = Admin.DEFAULTS;
        return new Admin(host(n, d.host()), n.integer("port", 0, 65535, d.port()));
    }

    private static String host(ConfigNode n, String defaultHost) {
        if (!n.has("host")) {
            return defaultHost;
        }
        String host = n.nonBlank("host").trim();
        if (!host.matches("[A-Za-z0-9._:-]+")) {
            throw n.error("host", "'" + host + "' is not a host name or IP address (e.g. 127.0.0.1 or 0.0.0.0)");
        }
        return host;
    }

    private static ZooKeeper parseZooKeeper(ConfigNode n) {
        ZooKeeper d = ZooKeeper.DEFAULTS;
        String connect = n.has("connect") ? n.nonBlank("connect").trim() : d.connect();
        try {
            checkConnectString(connect);
        } catch (IllegalArgumentException e) {
            throw n.error("connect", e.getMessage());
        }
        Path dataDir = n.has("embedded-data-dir") ? Path.of(n.nonBlank("embedded-data-dir")) : d.embeddedDataDir();
        return new ZooKeeper(connect,
                n.integer("embedded-port", 1, 65535, d.embeddedPort()),
                dataDir,
                n.integer("session-timeout-ms", 1_000, 600_000, d.sessionTimeoutMs()),
                n.integer("connect-timeout-ms", 100, 120_000, d.connectTimeoutMs()));
    }

    private static List<User> parseUsers(ConfigNode root) {
        List<ConfigNode> nodes = root.list("users");
        if (nodes.isEmpty()) {
            throw root.error("users", "needs at least one user (name and password)");
        }
        List<User> users = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (ConfigNode n : nodes) {
            n.allowOnly("name", "password");
            String name = n.nonBlank("name");
            if (!USER_NAME.matcher(name).matches()) {
                throw n.error("name", "'" + name + "' is not a valid user name: 1 to 32 letters, digits, '_', '.', '@' or '-'");
            }
            if (!seen.add(name)) {
                throw n.error("name", "user '" + name + "' is declared twice");
            }
            users.add(new User(name, n.string("password", "")));
        }
        return users;
    }

    private static Limits parseLimits(ConfigNode n) {
        Limits d = Limits.DEFAULTS;
        int delay = n.integer("login-failure-delay-ms", 0, 60_000, d.loginFailureDelayMs());
        int maxDelay = n.integer("login-failure-max-delay-ms", 0, 600_000, Math.max(delay, d.loginFailureMaxDelayMs()));
        if (maxDelay < delay) {
            throw n.error("login-failure-max-delay-ms", "must be at least login-failure-delay-ms (" + delay + "), was " + maxDelay);
        }
        return new Limits(n.integer("max-packet-bytes", MIN_PACKET, MAX_PACKET, d.maxPacketBytes()),
                n.integer("max-connections", 1, 1_000_000, d.maxConnections()),
                n.integer("max-unauthenticated-connections", 1, 1_000_000, d.maxUnauthenticatedConnections()),
                n.integer("handshake-timeout-ms", 100, 600_000, d.handshakeTimeoutMs()),
                delay, maxDelay,
                n.integer("max-statement-depth", 1, 1_000, d.maxStatementDepth()),
                n.integer("max-statement-operators", 1, 100_000, d.maxStatementOperators()),
                n.integer("max-statement-items", 1, 10_000_000, d.maxStatementItems()),
                n.integer("max-pinned-per-shard", 1, 100_000, d.maxPinnedPerShard()),
                n.integer("pool-wait-ms", 250, 3_600_000, d.poolWaitMs()),
                n.integer("statement-timeout-ms", 0, 86_400_000, d.statementTimeoutMs()));
    }

    private static Tls parseTls(ConfigNode n) {
        Path cert = n.has("cert-file") ? readableFile(n, "cert-file") : null;
        Path key = n.has("key-file") ? readableFile(n, "key-file") : null;
        if ((cert == null) != (key == null)) {
            throw n.error(cert == null ? "cert-file" : "key-file", "is needed too: TLS takes a certificate and its private key");
        }
        boolean require = n.bool("require", false);
        if (require && cert == null) {
            throw n.error("require", "true needs cert-file and key-file");
        }
        return new Tls(cert, key, require);
    }

    private static Path readableFile(ConfigNode n, String key) {
        Path file = Path.of(n.nonBlank(key).trim());
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw n.error(key, "'" + file + "' is not a readable file");
        }
        return file;
    }

    /** Two listeners on one port would fail at bind time with a vaguer message; say which keys clash now. */
    private static void checkDistinctPorts(Listen listen, Admin admin, ZooKeeper zk) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("listen.mysql-port", listen.mysqlPort());
        ports.put("listen.postgres-port", listen.postgresPort());
        ports.put("admin.port", admin.port());
        if (zk.embedded()) {
            ports.put("zookeeper.embedded-port", zk.embeddedPort());
        }
        Map<Integer, String> owners = new LinkedHashMap<>();
        for (var e : ports.entrySet()) {
            if (e.getValue() == 0) {
                continue;
            }
            String other = owners.putIfAbsent(e.getValue(), e.getKey());
            if (other != null) {
                throw new ConfigException(e.getKey(), "port " + e.getValue() + " is already used by " + other
                        + "; ports must be distinct (0 turns a listener off)");
            }
        }
    }

    /**
     * Checks a cluster name given by a file or on the command line.
     *
     * @throws ConfigException naming {@code key} when the name does not fit {@code [a-z0-9_-]{1,64}}
     */
    public static String checkClusterName(String key, String name) {
        if (name == null || !CLUSTER_NAME.matcher(name).matches()) {
            throw new ConfigException(key, "'" + name + "' is not a valid cluster name: use 1 to 64 lower-case letters, digits, '-' or '_'");
        }
        return name;
    }

    /**
     * Checks a ZooKeeper connect string: {@code embedded} or {@code host:port[,host:port...]}.
     *
     * @throws IllegalArgumentException saying what is allowed
     */
    public static String checkConnectString(String connect) {
        if (connect.equals(EMBEDDED)) {
            return connect;
        }
        String usage = "use \"embedded\" or host:port[,host:port...] (e.g. zk1:2181,zk2:2181,zk3:2181)";
        for (String part : connect.split(",", -1)) {
            var m = HOST_PORT.matcher(part.trim());
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + connect + "' is not allowed; " + usage);
            }
            int port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("'" + connect + "' has port " + port + " outside 1..65535; " + usage);
            }
        }
        return connect;
    }
}

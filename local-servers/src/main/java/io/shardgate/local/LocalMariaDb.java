package io.shardgate.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A throwaway MariaDB server ({@code mariadbd}) on 127.0.0.1, tuned to start fast and use little memory; user
 * {@code root} with an empty password. Files under the base directory: {@code data/} (initialised with
 * {@code mariadb-install-db} on first start only, so a restart keeps the data), {@code error.log},
 * {@code mariadbd.out} (the process's own stdout/stderr), {@code mysqld.sock}, {@code mariadbd.pid}, {@code tmp/}.
 *
 * <pre>{@code
 * try (LocalMariaDb db = LocalMariaDb.temporary()) {
 *     db.createDatabase("shop");
 *     try (Connection c = DriverManager.getConnection(db.jdbcUrl("shop"), "root", "")) { ... }
 * }
 * }</pre>
 */
public final class LocalMariaDb extends LocalServer {
    private static final Logger log = LoggerFactory.getLogger(LocalMariaDb.class);
    private static final String PACKAGE = "mariadb-server";

    private final Path mariadbd;
    private final Path installDb;
    private final Path client;

    private LocalMariaDb(Path baseDir, boolean deleteOnClose) {
        super(baseDir, deleteOnClose);
        this.mariadbd = Binaries.find("mariadbd", PACKAGE);
        this.installDb = Binaries.find("mariadb-install-db", PACKAGE);
        this.client = Binaries.find("mariadb", "mariadb-client");
    }

    /**
     * Starts a server with its files under {@code baseDir} (created if missing, kept on {@link #close()}), on
     * {@code port} (0: a free one). An already initialised data directory is reused with its data.
     */
    public static LocalMariaDb start(Path baseDir, int port) {
        return start(baseDir, port, false);
    }

    /** As {@link #start(Path, int)}; with {@code deleteOnClose} {@link #close()} deletes {@code baseDir}. */
    public static LocalMariaDb start(Path baseDir, int port, boolean deleteOnClose) {
        LocalMariaDb db = new LocalMariaDb(baseDir, deleteOnClose);
        try {
            db.boot(port);
            return db;
        } catch (RuntimeException e) {
            db.abandon();
            throw e;
        }
    }

    /** A server on a free port in a new temporary directory that {@link #close()} deletes. */
    public static LocalMariaDb temporary() {
        return temporary(0);
    }

    /** A server on {@code port} (0: a free one) in a new temporary directory that {@link #close()} deletes. */
    public static LocalMariaDb temporary(int port) {
        return start(tempDir("shardgate-mariadb-"), port, true);
    }

    /** Whether the MariaDB binaries this class needs are installed. */
    public static boolean isAvailable() {
        return Binaries.lookup("mariadbd").isPresent() && Binaries.lookup("mariadb-install-db").isPresent()
                && Binaries.lookup("mariadb").isPresent();
    }

    static Path tempDir(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new LocalServerException("could not create a temporary directory: " + e, e);
        }
    }

    @Override
    String kind() {
        return "MariaDB";
    }

    @Override
    Path serverBinary() {
        return mariadbd;
    }

    @Override
    public Path dataDir() {
        return baseDir().resolve("data");
    }

    @Override
    public Path logFile() {
        return baseDir().resolve("error.log");
    }

    @Override
    Path consoleFile() {
        return baseDir().resolve("mariadbd.out");
    }

    public Path socketFile() {
        return baseDir().resolve("mysqld.sock");
    }

    @Override
    String runAs() {
        return null;
    }

    @Override
    public String user() {
        return "root";
    }

    /** {@code jdbc:mysql://127.0.0.1:PORT/DATABASE} (user root, empty password). */
    @Override
    public String jdbcUrl(String database) {
        return "jdbc:mysql://" + HOST + ":" + port() + "/" + (database == null ? "" : database);
    }

    @Override
    void prepare() {
        createDirectories(baseDir().resolve("tmp"));
        checkSocketPath(socketFile(), "MariaDB");
        if (Files.isDirectory(dataDir().resolve("mysql"))) {
            return; // initialised before: keep the data
        }
        if (isEmptyOrMissing(dataDir())) {
            DataDirTemplates.fill("mariadb", installDb, installArguments(), dataDir(), null, this::installDb);
        } else {
            installDb(dataDir());
        }
    }

    /** mariadb-install-db's options but the data directory. */
    private static List<String> installArguments() {
        List<String> arguments = new ArrayList<>(List.of("--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db",
                "--skip-name-resolve"));
        if (Util.isRoot()) {
            arguments.add("--user=root");
        }
        return arguments;
    }

    /** Runs mariadb-install-db for the data directory {@code data} (its parent exists). */
    private void installDb(Path data) {
        boolean existed = Files.exists(data);
        List<String> command = new ArrayList<>();
        command.add(installDb.toString());
        command.addAll(installArguments());
        command.add("--datadir=" + data);
        // install-db's bootstrap server uses TMPDIR; a private one keeps parallel initialisations apart
        // (several sharing /tmp failed now and then with "Unknown table 'mysql.tmp_user_sys'")
        Path tmp = data.resolveSibling(data.getFileName() + ".tmp");
        createDirectories(tmp);
        CommandRunner.Result result;
        try {
            result = CommandRunner.of(command).directory(data.getParent()).env("TMPDIR", tmp.toString())
                    .timeout(Duration.ofSeconds(180)).run();
        } finally {
            Util.deleteRecursively(tmp);
        }
        if (!result.succeeded() || !Files.isDirectory(data.resolve("mysql"))) {
            if (!existed) {
                Util.deleteRecursively(data);
            }
            throw new LocalServerException("MariaDB data dir initialisation failed (" + installDb + ", data dir " + data
                    + ", exit code " + result.exitCode() + " after " + Util.millis(result.elapsed()) + "): "
                    + CommandRunner.commandLine(command) + "\n--- output (tail) ---\n" + result.outputTail(CommandRunner.TAIL_LINES));
        }
        log.info("MariaDB data dir {} initialised in {}", data, Util.millis(result.elapsed()));
    }

    @Override
    List<String> serverCommand(int port) {
        List<String> command = new ArrayList<>(List.of(mariadbd.toString(), "--no-defaults"));
        if (Util.isRoot()) {
            command.add("--user=root");
        }
        command.addAll(List.of(
                "--datadir=" + dataDir(),
                "--port=" + port,
                "--bind-address=" + HOST,
                "--socket=" + socketFile(),
                "--pid-file=" + baseDir().resolve("mariadbd.pid"),
                "--log-error=" + logFile(),
                "--tmpdir=" + baseDir().resolve("tmp"),
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=48M",
                "--innodb-flush-log-at-trx-commit=2",
                "--loose-innodb-doublewrite=0",
                "--loose-innodb-buffer-pool-dump-at-shutdown=0",
                "--loose-innodb-buffer-pool-load-at-startup=0",
                "--skip-log-bin",
                "--max-connections=500",
                "--max-allowed-packet=64M",
                "--performance-schema=OFF",
                "--skip-name-resolve",
                "--skip-external-locking",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci"));
        return command;
    }

    @Override
    String probe(int port) throws IOException {
        return WireProbes.mysqlHandshake(HOST, port);
    }

    @Override
    void verifyStarted() {
        String[] row = execute("SELECT @@port, @@datadir").split("\t");
        String datadir = row.length > 1 ? row[1].replaceAll("/+$", "") : "";
        String expected;
        try {
            expected = dataDir().toRealPath().toString();
        } catch (IOException e) {
            expected = dataDir().toString();
        }
        if (!row[0].equals(String.valueOf(port())) || !(datadir.equals(expected) || datadir.equals(dataDir().toString()))) {
            throw new LocalServerException(describe() + ": the server answering on the port is not this one (port "
                    + row[0] + ", datadir " + datadir + ")");
        }
    }

    @Override
    void requestShutdown(Process process) {
        process.destroy(); // SIGTERM: clean shutdown
    }

    /** Runs SQL with the {@code mariadb} client (batch mode: tab-separated rows, no header); returns its output. */
    @Override
    public String execute(String database, String sql) {
        List<String> command = new ArrayList<>(List.of(client.toString(), "--no-defaults", "--protocol=TCP",
                "--host=" + HOST, "--port=" + port(), "--user=root", "--connect-timeout=10", "--batch", "--skip-column-names"));
        if (database != null) {
            command.add("--database=" + database);
        }
        return runSql(command, sql, database);
    }

    @Override
    public void createDatabase(String name) {
        execute("CREATE DATABASE IF NOT EXISTS " + quoteIdentifier(name));
    }

    @Override
    public void createDatabaseUser(String database, String user, String password) {
        String u = "'" + user.replace("'", "''") + "'@'" + HOST + "'";
        String p = "'" + password.replace("\\", "\\\\").replace("'", "''") + "'";
        execute("CREATE USER IF NOT EXISTS " + u + " IDENTIFIED BY " + p + "; ALTER USER " + u + " IDENTIFIED BY " + p
                + "; GRANT ALL PRIVILEGES ON " + quoteIdentifier(database) + ".* TO " + u);
    }

    static String quoteIdentifier(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty database name");
        }
        return "`" + name.replace("`", "``") + "`";
    }
}

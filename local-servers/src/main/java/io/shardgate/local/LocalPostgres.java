package io.shardgate.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A throwaway PostgreSQL server on 127.0.0.1, with durability switched off for speed (fsync and full_page_writes
 * off: committed data survives a {@link #kill()} of the server, not a machine crash); superuser {@code postgres}, trust authentication (any or no password). Files under the base
 * directory: {@code data/} (initialised with {@code initdb} on first start only), {@code postgres.log} (the server's
 * stderr) and the unix socket {@code .s.PGSQL.PORT}.
 *
 * <p>PostgreSQL refuses to run as root. When this JVM runs as root, initdb and the server run as the OS user
 * {@code postgres} (via {@code setpriv}), the base directory is chowned to it, and the base directory's parents
 * must be traversable by it: a directory under /tmp works, one under /root does not. As any other user they run as
 * that user.
 */
public final class LocalPostgres extends LocalServer {
    private static final Logger log = LoggerFactory.getLogger(LocalPostgres.class);
    private static final String OS_USER = "postgres";

    private final Path binDir;
    private final Path psql;

    private LocalPostgres(Path baseDir, boolean deleteOnClose) {
        super(baseDir, deleteOnClose);
        this.binDir = Binaries.postgresBinDir();
        Path sibling = binDir.resolve("psql");
        this.psql = Files.isExecutable(sibling) ? sibling : Binaries.find("psql", "postgresql-client");
    }

    /**
     * Starts a server with its files under {@code baseDir} (created if missing, kept on {@link #close()}), on
     * {@code port} (0: a free one). An already initialised data directory is reused with its data.
     */
    public static LocalPostgres start(Path baseDir, int port) {
        return start(baseDir, port, false);
    }

    /** As {@link #start(Path, int)}; with {@code deleteOnClose} {@link #close()} deletes {@code baseDir}. */
    public static LocalPostgres start(Path baseDir, int port, boolean deleteOnClose) {
        LocalPostgres pg = new LocalPostgres(baseDir, deleteOnClose);
        try {
            pg.boot(port);
            return pg;
        } catch (RuntimeException e) {
            pg.abandon();
            throw e;
        }
    }

    /** A server on a free port in a new temporary directory that {@link #close()} deletes. */
    public static LocalPostgres temporary() {
        return temporary(0);
    }

    /** A server on {@code port} (0: a free one) in a new temporary directory that {@link #close()} deletes. */
    public static LocalPostgres temporary(int port) {
        return start(LocalMariaDb.tempDir("shardgate-pg-"), port, true);
    }

    /** Whether the PostgreSQL binaries this class needs are installed. */
    public static boolean isAvailable() {
        try {
            Binaries.postgresBinDir();
            return true;
        } catch (LocalServerException e) {
            return false;
        }
    }

    @Override
    String kind() {
        return "PostgreSQL";
    }

    @Override
    Path serverBinary() {
        return binDir.resolve("postgres");
    }

    @Override
    public Path dataDir() {
        return baseDir().resolve("data");
    }

    @Override
    public Path logFile() {
        return baseDir().resolve("postgres.log");
    }

    @Override
    Path consoleFile() {
        return logFile();
    }

    @Override
    String runAs() {
        return Util.isRoot() ? OS_USER : null;
    }

    @Override
    public String user() {
        return "postgres";
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE} (null: database postgres; user postgres, trust auth). */
    @Override
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + HOST + ":" + port() + "/" + (database == null ? "postgres" : database);
    }

    @Override
    void prepare() {
        createDirectories(baseDir());
        checkSocketPath(baseDir().resolve(".s.PGSQL.65535.lock"), "PostgreSQL");
        String osUser = runAs();
        if (osUser != null) {
            handOverBaseDir(osUser);
        }
        if (Files.exists(dataDir().resolve("PG_VERSION"))) {
            return; // initialised before: keep the data
        }
        if (isEmptyOrMissing(dataDir())) {
            DataDirTemplates.fill("postgres", binDir.resolve("initdb"), INITDB_ARGUMENTS, dataDir(), osUser, this::initdb);
        } else {
            initdb(dataDir());
        }
    }

    /** initdb's options but the data directory. */
    private static final List<String> INITDB_ARGUMENTS = List.of("-A", "trust", "-U", "postgres", "--encoding=UTF8", "--locale=C",
            "--no-sync", "--no-instructions");

    /** Runs initdb (as the server's OS user) for the data directory {@code data} (its parent exists and is that user's). */
    private void initdb(Path data) {
        String osUser = runAs();
        boolean existed = Files.exists(data);
        List<String> command = new java.util.ArrayList<>(List.of(binDir.resolve("initdb").toString(), "-D", data.toString()));
        command.addAll(INITDB_ARGUMENTS);
        List<String> full = launchCommand(osUser, false, command);
        CommandRunner.Result result = CommandRunner.of(full).directory(data.getParent()).timeout(Duration.ofSeconds(180)).run();
        if (!result.succeeded()) {
            if (!existed) {
                Util.deleteRecursively(data);
            }
            throw new LocalServerException("PostgreSQL data dir initialisation failed (" + command.getFirst() + " as "
                    + (osUser == null ? System.getProperty("user.name") : osUser) + ", data dir " + data + ", exit code "
                    + result.exitCode() + " after " + Util.millis(result.elapsed()) + "): " + CommandRunner.commandLine(full)
                    + "\n--- output (tail) ---\n" + result.outputTail(CommandRunner.TAIL_LINES));
        }
        log.info("PostgreSQL data dir {} initialised in {}", data, Util.millis(result.elapsed()));
    }

    /** Makes the base dir the server user's and checks that user can reach it. */
    private void handOverBaseDir(String osUser) {
        try {
            UserPrincipal owner = baseDir().getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(osUser);
            if (!Files.getOwner(baseDir()).equals(owner)) {
                Files.setOwner(baseDir(), owner);
            }
        } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
            throw new LocalServerException("PostgreSQL refuses to run as root and the OS user '" + osUser
                    + "' it would run as does not exist; install the 'postgresql' package (it creates the user)", e);
        } catch (IOException e) {
            throw new LocalServerException("could not chown " + baseDir() + " to " + osUser + ": " + e, e);
        }
        List<String> check = launchCommand(osUser, false, List.of("test", "-w", baseDir().toString(), "-a", "-x", baseDir().toString()));
        if (!CommandRunner.of(check).directory(Path.of("/")).timeout(Duration.ofSeconds(10)).run().succeeded()) {
            throw new LocalServerException("the OS user '" + osUser + "' (PostgreSQL refuses to run as root) cannot write to "
                    + baseDir() + ": every parent directory must be traversable by it (o+x); use a base directory under /tmp");
        }
    }

    /**
     * fsync and full_page_writes are off: data survives a killed server but not a machine crash.
     * synchronous_commit stays on on purpose: with it off a commit returns before its WAL reaches even the OS, so a
     * row committed just before {@link #kill()} is lost (like innodb-flush-log-at-trx-commit=0); with fsync off,
     * "on" costs only a write() per commit (the equivalent of MariaDB's innodb-flush-log-at-trx-commit=2).
     */
    @Override
    List<String> serverCommand(int port) {
        List<String> command = new ArrayList<>(List.of(serverBinary().toString(), "-D", dataDir().toString(),
                "-p", String.valueOf(port), "-k", baseDir().toString()));
        for (String setting : List.of("listen_addresses=" + HOST, "fsync=off", "synchronous_commit=on", "full_page_writes=off",
                "shared_buffers=64MB", "max_connections=300", "logging_collector=off")) {
            command.add("-c");
            command.add(setting);
        }
        return command;
    }

    @Override
    String probe(int port) throws IOException {
        return WireProbes.postgresStartup(HOST, port);
    }

    @Override
    void verifyStarted() {
        String dir = execute("SHOW data_directory").strip();
        String expected;
        try {
            expected = dataDir().toRealPath().toString();
        } catch (IOException e) {
            expected = dataDir().toString();
        }
        if (!dir.equals(expected) && !dir.equals(dataDir().toString())) {
            throw new LocalServerException(describe() + ": the server answering on the port is not this one (data_directory " + dir + ")");
        }
    }

    /** SIGINT: PostgreSQL's "fast" shutdown (SIGTERM would wait for every client to disconnect). */
    @Override
    void requestShutdown(Process process) {
        Optional<Path> kill = Binaries.lookup("kill");
        if (kill.isPresent()) {
            CommandRunner.Result r = CommandRunner.of(kill.get().toString(), "-s", "INT", String.valueOf(process.pid()))
                    .timeout(Duration.ofSeconds(10)).run();
            if (r.succeeded()) {
                return;
            }
            log.warn("{}: kill -s INT {} failed ({}); sending SIGTERM", describe(), process.pid(), r.output().strip());
        }
        process.destroy();
    }

    /**
     * Runs SQL with {@code psql} as user postgres (statements from stdin, stops at the first error); returns the
     * result rows, tab-separated, one per line, without a header.
     */
    @Override
    public String execute(String database, String sql) {
        List<String> command = List.of(psql.toString(), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                "-h", HOST, "-p", String.valueOf(port()), "-U", "postgres", "-d", database == null ? "postgres" : database);
        return runSql(command, sql, database);
    }

    @Override
    public void createDatabaseUser(String database, String user, String password) {
        String role = "\"" + user.replace("\"", "\"\"") + "\"";
        String pw = "'" + password.replace("'", "''") + "'";
        if (execute("SELECT 1 FROM pg_roles WHERE rolname = '" + user.replace("'", "''") + "'").isEmpty()) {
            execute("CREATE ROLE " + role + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD " + pw);
        } else {
            execute("ALTER ROLE " + role + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD " + pw);
        }
        // the owner of the database and of its public schema creates tables and functions there, and nothing elsewhere
        execute("ALTER DATABASE \"" + database.replace("\"", "\"\"") + "\" OWNER TO " + role);
        execute(database, "ALTER SCHEMA public OWNER TO " + role);
        // tables made earlier by the superuser (a data directory from before) change hands too, with their sequences
        execute(database, "DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') LOOP EXECUTE format('ALTER TABLE public.%I OWNER TO %I',"
                + " r.relname, '" + user.replace("'", "''") + "'); END LOOP; END $$");
    }

    @Override
    public void createDatabase(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("empty database name");
        }
        if (execute("SELECT 1 FROM pg_database WHERE datname = '" + name.replace("'", "''") + "'").isEmpty()) {
            execute("CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"");
        }
    }
}

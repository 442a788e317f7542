package io.shardgate.local;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A database server running as a child process of this JVM, on 127.0.0.1, with its files under one base directory.
 * Lifecycle: {@link #stop()} (graceful), {@link #kill()} (SIGKILL, a simulated crash), {@link #restart()} (same port,
 * same data, after either) and {@link #close()} (stop, and delete the base directory if it is a temporary one).
 *
 * <p>The processes do not outlive the JVM: a shutdown hook stops every server that is still running, and where
 * {@code setpriv} (util-linux) is available each server is started with a parent-death signal (SIGKILL), so it dies
 * even when the JVM is killed with SIGKILL. The parent-death signal follows the <em>thread</em> that started the
 * process, so all servers are started from one long-lived daemon thread owned by this class.
 *
 * <p>Lifecycle methods are synchronized per server; different servers can be used from different threads.
 */
public abstract sealed class LocalServer implements AutoCloseable permits LocalMariaDb, LocalPostgres {
    /** Servers listen on this address only. */
    public static final String HOST = "127.0.0.1";
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
    static final Duration SQL_TIMEOUT = Duration.ofSeconds(120);
    static final int LOG_TAIL_LINES = 30;
    /** Longest unix socket path the kernel accepts (sun_path is 108 bytes including the NUL). */
    static final int MAX_SOCKET_PATH = 107;

    private static final Logger log = LoggerFactory.getLogger(LocalServer.class);
    private static final Set<LocalServer> LIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean HOOK_INSTALLED = new AtomicBoolean();
    /**
     * Starts every server process. Never terminates (FutureTask catches whatever a task throws), so the servers'
     * parent-death signal fires only when the JVM dies.
     */
    private static final ExecutorService LAUNCHER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "local-servers-launcher");
        t.setDaemon(true);
        return t;
    });

    private final Path baseDir;
    private final boolean deleteOnClose;
    private volatile int port;
    private volatile Process process;
    private volatile Duration startupTime = Duration.ZERO;
    private boolean closed;

    LocalServer(Path baseDir, boolean deleteOnClose) {
        this.baseDir = baseDir.toAbsolutePath().normalize();
        this.deleteOnClose = deleteOnClose;
    }

    // ---- what each kind of server supplies

    /** "MariaDB", "PostgreSQL". */
    abstract String kind();

    /** The server binary, for messages. */
    abstract Path serverBinary();

    /** Creates directories and initialises the data directory unless that was done before. */
    abstract void prepare();

    /** The server command line, as the current user (the OS-user switch is added by {@link #launchCommand}). */
    abstract List<String> serverCommand(int port);

    /** The OS user to run the server as, or null for the current user. */
    abstract String runAs();

    /** One readiness check: null when ready, else why not. */
    abstract String probe(int port) throws IOException;

    /** Checks once ready that the server answering on the port is this one; throws if not. */
    abstract void verifyStarted();

    /** Asks the server to shut down cleanly (a signal; returns at once). */
    abstract void requestShutdown(Process process);

    /** The server's log file, quoted in error messages. */
    public abstract Path logFile();

    /** Where the server process's stdout and stderr go (may be {@link #logFile()}). */
    abstract Path consoleFile();

    public abstract Path dataDir();

    /** The JDBC URL of {@code database} (null: the server's default database). */
    public abstract String jdbcUrl(String database);

    /** The superuser that can log in over TCP from 127.0.0.1 with {@link #password()}. */
    public abstract String user();

    /** The superuser's password: empty. */
    public String password() {
        return "";
    }

    /**
     * Runs SQL (one or more statements) with the server's command-line client as the superuser, in
     * {@code database} (null: none / the default). Returns the result rows, tab-separated, one per line, without a
     * header; throws {@link LocalServerException} with the client's output if a statement fails.
     */
    public abstract String execute(String database, String sql);

    /** {@link #execute(String, String)} without a database. */
    public String execute(String sql) {
        return execute(null, sql);
    }

    /** Creates a database unless it exists. */
    public abstract void createDatabase(String name);

    /**
     * Creates (or updates) a login that can do anything inside {@code database} and nothing outside it: no other
     * database, no system schema, no global privilege, no grant option. What a proxy's or migrator's backend user
     * should be, rather than the superuser.
     */
    public abstract void createDatabaseUser(String database, String user, String password);

    // ---- accessors

    public int port() {
        return port;
    }

    public String host() {
        return HOST;
    }

    public Path baseDir() {
        return baseDir;
    }

    /** Whether {@link #close()} deletes the base directory. */
    public boolean deleteOnClose() {
        return deleteOnClose;
    }

    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** The server's process id, or -1 if it was never started. */
    public long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** How long the last (re)start took from launching the process until it answered (not counting data dir init). */
    public Duration startupTime() {
        return startupTime;
    }

    @Override
    public String toString() {
        return kind() + "[" + HOST + ":" + port + ", " + baseDir + (isRunning() ? ", running" : ", not running") + "]";
    }

    // ---- lifecycle

    /** First start: prepare, then launch; with port 0 a free port is picked (and re-picked if someone takes it). */
    final void boot(int requestedPort) {
        if (requestedPort < 0 || requestedPort > 65535) {
            throw new IllegalArgumentException("port must be 0 (pick a free one) or 1-65535: " + requestedPort);
        }
        synchronized (this) {
            prepare();
            int attempts = requestedPort == 0 ? 3 : 1;
            for (int attempt = 1;; attempt++) {
                int candidate = requestedPort == 0 ? FreePorts.find() : requestedPort;
                try {
                    launch(candidate, Duration.ZERO);
                    return;
                } catch (PortInUseException e) {
                    if (attempt >= attempts) {
                        throw e;
                    }
                    log.debug("{} port {} was taken, trying another: {}", kind(), candidate, e.getMessage());
                }
            }
        }
    }

    /** Starts the server again on the same port with the same data; stops it first if it is running. */
    public synchronized void restart() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
        if (isRunning()) {
            stop();
        }
        prepare();
        launch(port, Duration.ofSeconds(15));
    }

    /**
     * Stops the server cleanly (SIGTERM for MariaDB, a fast shutdown for PostgreSQL), waiting up to 20 s, then
     * SIGKILL. The data directory stays. No-op if it is not running.
     */
    public synchronized void stop() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        long start = System.nanoTime();
        List<ProcessHandle> children = p.descendants().toList();
        requestShutdown(p);
        if (!waitFor(p, STOP_TIMEOUT)) {
            log.warn("{} did not stop within {} s after the shutdown signal; killing it", this, STOP_TIMEOUT.toSeconds());
            forceKill(p);
        }
        awaitExit(children, Duration.ofSeconds(10));
        log.info("{} on port {} stopped in {}", kind(), port, Util.millis(Duration.ofNanos(System.nanoTime() - start)));
    }

    /**
     * Kills the server and its child processes with SIGKILL at once, as a crash would; returns once they are gone.
     * The data directory stays; {@link #restart()} brings the server back (running crash recovery).
     */
    public synchronized void kill() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        long start = System.nanoTime();
        forceKill(p);
        log.info("{} on port {} killed (SIGKILL) in {}", kind(), port, Util.millis(Duration.ofNanos(System.nanoTime() - start)));
    }

    /** Stops the server; deletes the base directory if it is a temporary one. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stop();
        } finally {
            LIVE.remove(this);
            if (deleteOnClose) {
                Util.deleteRecursively(baseDir);
            }
        }
    }

    /** Cleans up after a failed first start: kills what runs, removes a temporary base dir. */
    final void abandon() {
        synchronized (this) {
            closed = true;
            Process p = process;
            if (p != null && p.isAlive()) {
                forceKill(p);
            }
            LIVE.remove(this);
            if (deleteOnClose) {
                try {
                    Util.deleteRecursively(baseDir);
                } catch (RuntimeException e) {
                    log.warn("could not delete {}: {}", baseDir, e.getMessage());
                }
            }
        }
    }

    private void launch(int port, Duration portWait) {
        if (!FreePorts.awaitFree(port, portWait)) {
            throw new PortInUseException(describe(port) + ": port " + port + " on " + HOST + " is already in use"
                    + (portWait.isZero() ? "" : " (waited " + portWait.toSeconds() + " s for it to be released)"));
        }
        this.port = port;
        long logOffset = Util.sizeOf(logFile());
        long consoleOffset = Util.sizeOf(consoleFile());
        List<String> command = launchCommand(runAs(), true, serverCommand(port));
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(baseDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(Redirect.appendTo(consoleFile().toFile()))
                .redirectInput(Redirect.from(Path.of("/dev/null").toFile()));
        long start = System.nanoTime();
        Process p = startOnLauncherThread(pb);
        process = p;
        installShutdownHook();
        LIVE.add(this);
        try {
            awaitReady(p, port, start, logOffset, consoleOffset);
            verifyStarted();
        } catch (RuntimeException e) {
            if (p.isAlive()) {
                forceKill(p);
            }
            throw e;
        }
        startupTime = Duration.ofNanos(System.nanoTime() - start);
        log.info("{} started on {}:{} (pid {}, data {}) in {}", kind(), HOST, port, p.pid(), dataDir(), Util.millis(startupTime));
    }

    private void awaitReady(Process p, int port, long start, long logOffset, long consoleOffset) {
        long deadline = start + START_TIMEOUT.toNanos();
        String lastProbe = "no answer yet";
        while (true) {
            if (!p.isAlive()) {
                Util.sleep(100); // let the server finish writing its log
                String logs = logsSince(logOffset, consoleOffset);
                String message = describe(port) + ": the server process exited with code " + p.exitValue() + " after "
                        + Util.millis(Duration.ofNanos(System.nanoTime() - start)) + " before accepting connections" + logs;
                if (logs.contains("Address already in use")) {
                    throw new PortInUseException(message);
                }
                throw new LocalServerException(message);
            }
            try {
                lastProbe = probe(port);
                if (lastProbe == null) {
                    return;
                }
            } catch (IOException e) {
                lastProbe = e.toString();
            }
            if (System.nanoTime() > deadline) {
                String logs = logsSince(logOffset, consoleOffset);
                throw new LocalServerException(describe(port) + ": not ready after " + START_TIMEOUT.toSeconds()
                        + " s (last check: " + lastProbe + ")" + logs);
            }
            Util.sleep(50);
        }
    }

    private String logsSince(long logOffset, long consoleOffset) {
        String logs = Util.tailBlock(logFile(), logOffset, LOG_TAIL_LINES);
        if (!consoleFile().equals(logFile())) {
            logs += Util.tailBlock(consoleFile(), consoleOffset, LOG_TAIL_LINES);
        }
        return logs;
    }

    /** "MariaDB (/usr/sbin/mariadbd) on 127.0.0.1:P, data dir D" — the start of every error message. */
    final String describe(int port) {
        return kind() + " (" + serverBinary() + ") on " + HOST + ":" + port + ", data dir " + dataDir();
    }

    final String describe() {
        return describe(port);
    }

    /** Tail of the server log, for messages about a running server. */
    final String logTail() {
        return Util.tailBlock(logFile(), 0, LOG_TAIL_LINES);
    }

    /** Runs a client command for SQL, adding context to failures. */
    final String runSql(List<String> command, String sql, String database) {
        CommandRunner.Result result;
        try {
            result = CommandRunner.of(command).stdin(sql).timeout(SQL_TIMEOUT).directory(baseDir)
                    .env("PGCONNECT_TIMEOUT", "10").run();
        } catch (LocalServerException e) {
            throw new LocalServerException(describe() + ": " + e.getMessage(), e);
        }
        if (!result.succeeded()) {
            String state = isRunning() ? "" : " (the server is not running)";
            throw new LocalServerException(describe() + ": SQL failed" + state + " in database " + (database == null ? "(none)" : database)
                    + ": " + abbreviate(sql) + "\ncommand: " + CommandRunner.commandLine(command) + ", exit code " + result.exitCode()
                    + "\n--- output ---\n" + result.outputTail(CommandRunner.TAIL_LINES));
        }
        return result.output().stripTrailing();
    }

    private static String abbreviate(String sql) {
        String oneLine = sql.strip().replaceAll("\\s+", " ");
        return oneLine.length() > 200 ? oneLine.substring(0, 200) + "…" : oneLine;
    }

    static void checkSocketPath(Path socket, String what) {
        if (socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
            throw new LocalServerException(what + " socket path " + socket + " is longer than " + MAX_SOCKET_PATH
                    + " bytes, the limit for unix sockets; use a shorter base directory (e.g. under /tmp)");
        }
    }

    /** Whether {@code dir} does not exist or is an empty directory (deleted then, so a copy can take its place). */
    static boolean isEmptyOrMissing(Path dir) {
        if (!Files.exists(dir)) {
            return true;
        }
        try (var entries = Files.list(dir)) {
            if (entries.findAny().isPresent()) {
                return false;
            }
            Files.delete(dir);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LocalServerException("could not create directory " + dir + ": " + e, e);
        }
    }

    // ---- process handling

    /**
     * The command that runs {@code command} as {@code user} (null: the current user) with a parent-death signal:
     * {@code setpriv [--reuid --regid --init-groups] [--pdeathsig KILL] -- command}. Without setpriv the command
     * runs as is (switching user then is an error).
     */
    static List<String> launchCommand(String user, boolean deathSignal, List<String> command) {
        Optional<Path> setpriv = Binaries.lookup("setpriv");
        if (user == null && (!deathSignal || setpriv.isEmpty())) {
            if (deathSignal && WARNED_NO_SETPRIV.compareAndSet(false, true)) {
                log.warn("setpriv (util-linux) not found: local servers will not die with the JVM if it is killed with SIGKILL");
            }
            return command;
        }
        if (setpriv.isEmpty()) {
            throw Binaries.missing("setpriv", "util-linux", List.of());
        }
        List<String> full = new ArrayList<>();
        full.add(setpriv.get().toString());
        if (user != null) {
            OsUser os = OsUser.lookup(user);
            full.add("--reuid=" + os.uid());
            full.add("--regid=" + os.gid());
            full.add("--init-groups");
        }
        if (deathSignal) {
            full.add("--pdeathsig");
            full.add("KILL");
        }
        full.add("--");
        full.addAll(command);
        return full;
    }

    private static final AtomicBoolean WARNED_NO_SETPRIV = new AtomicBoolean();

    /** uid and primary gid of an OS user. */
    record OsUser(String name, int uid, int gid) {
        private static final ConcurrentHashMap<String, OsUser> CACHE = new ConcurrentHashMap<>();

        static OsUser lookup(String name) {
            return CACHE.computeIfAbsent(name, n -> {
                CommandRunner.Result uid = CommandRunner.of("id", "-u", n).timeout(Duration.ofSeconds(10)).run();
                CommandRunner.Result gid = CommandRunner.of("id", "-g", n).timeout(Duration.ofSeconds(10)).run();
                if (!uid.succeeded() || !gid.succeeded()) {
                    throw new LocalServerException("OS user '" + n + "' does not exist (" + uid.output().strip()
                            + "); it is needed to run the server as non-root (install the package that creates it, e.g. postgresql)");
                }
                return new OsUser(n, Integer.parseInt(uid.output().strip()), Integer.parseInt(gid.output().strip()));
            });
        }
    }

    private static Process startOnLauncherThread(ProcessBuilder pb) {
        try {
            return LAUNCHER.submit(pb::start).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new LocalServerException("could not start " + CommandRunner.commandLine(pb.command()) + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalServerException("interrupted while starting " + pb.command().getFirst(), e);
        } catch (TimeoutException e) {
            throw new LocalServerException("starting " + pb.command().getFirst() + " took more than 30 s", e);
        }
    }

    /** SIGKILL to the process and all its descendants; waits (bounded) until they are gone. */
    static void forceKill(Process p) {
        List<ProcessHandle> children = p.descendants().toList();
        p.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        waitFor(p, Duration.ofSeconds(10));
        awaitExit(children, Duration.ofSeconds(10));
    }

    private static boolean waitFor(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !p.isAlive();
        }
    }

    private static void awaitExit(List<ProcessHandle> handles, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ProcessHandle h : handles) {
            while (!isGone(h) && System.nanoTime() < deadline) {
                Util.sleep(20);
            }
        }
    }

    /**
     * Dead or a zombie. Killed grandchildren (PostgreSQL backends) are orphans that init reaps in its own time; a
     * zombie holds no memory, ports or files any more, so there is no need to wait for that.
     */
    static boolean isGone(ProcessHandle h) {
        if (!h.isAlive()) {
            return true;
        }
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(h.pid()), "stat"));
            int end = stat.lastIndexOf(')');
            return end > 0 && end + 2 < stat.length() && (stat.charAt(end + 2) == 'Z' || stat.charAt(end + 2) == 'X');
        } catch (IOException | RuntimeException e) {
            return !h.isAlive();
        }
    }

    private static void installShutdownHook() {
        if (HOOK_INSTALLED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(LocalServer::shutdownAll, "local-servers-shutdown"));
        }
    }

    /** Shutdown hook: signal every running server, give them 5 s together, kill the rest, delete temporary dirs. */
    private static void shutdownAll() {
        List<LocalServer> servers = List.copyOf(LIVE);
        List<Process> running = new ArrayList<>();
        for (LocalServer s : servers) {
            Process p = s.process;
            if (p != null && p.isAlive()) {
                running.add(p);
                try {
                    s.requestShutdown(p);
                } catch (RuntimeException e) {
                    p.destroy();
                }
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        for (Process p : running) {
            long left = Math.max(0, deadline - System.nanoTime());
            if (!waitFor(p, Duration.ofNanos(left))) {
                forceKill(p);
            }
        }
        for (LocalServer s : servers) {
            if (s.deleteOnClose) {
                try {
                    Util.deleteRecursively(s.baseDir);
                } catch (RuntimeException ignored) {
                    // best effort while the JVM exits
                }
            }
        }
    }

    /** The port was taken (before or during the start). */
    static final class PortInUseException extends LocalServerException {
        private static final long serialVersionUID = 1L;

        PortInUseException(String message) {
            super(message);
        }
    }
}

package io.shardgate.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a short-lived command with a timeout and collects its exit code and output (stdout and stderr merged).
 *
 * <pre>{@code
 * CommandRunner.Result r = CommandRunner.of("mariadb", "--version").timeout(Duration.ofSeconds(10)).runChecked();
 * }</pre>
 *
 * Instances are immutable; every setter returns a copy. {@link #run()} reports any exit code; {@link #runChecked()}
 * throws a {@link LocalServerException} naming the command line, exit code and the tail of the output if the exit
 * code is not 0. Both throw when the command cannot be started or does not finish within the timeout (it is then
 * killed).
 */
public final class CommandRunner {
    /** Output lines quoted in error messages. */
    static final int TAIL_LINES = 30;

    private final List<String> command;
    private final Duration timeout;
    private final Path directory;
    private final Map<String, String> env;
    private final String stdin;

    private CommandRunner(List<String> command, Duration timeout, Path directory, Map<String, String> env, String stdin) {
        this.command = List.copyOf(command);
        this.timeout = timeout;
        this.directory = directory;
        this.env = env;
        this.stdin = stdin;
    }

    public static CommandRunner of(String... command) {
        return of(List.of(command));
    }

    public static CommandRunner of(List<String> command) {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("empty command");
        }
        return new CommandRunner(command, Duration.ofSeconds(60), null, Map.of(), null);
    }

    /** Default: 60 s. */
    public CommandRunner timeout(Duration timeout) {
        return new CommandRunner(command, timeout, directory, env, stdin);
    }

    /** Working directory (default: the JVM's). */
    public CommandRunner directory(Path directory) {
        return new CommandRunner(command, timeout, directory, env, stdin);
    }

    /** Adds an environment variable to the inherited environment. */
    public CommandRunner env(String name, String value) {
        Map<String, String> copy = new LinkedHashMap<>(env);
        copy.put(name, value);
        return new CommandRunner(command, timeout, directory, copy, stdin);
    }

    /** Text written to the command's standard input (default: none, stdin is closed at once). */
    public CommandRunner stdin(String input) {
        return new CommandRunner(command, timeout, directory, env, input);
    }

    public List<String> command() {
        return command;
    }

    /** Runs the command; throws a {@link LocalServerException} if its exit code is not 0. */
    public Result runChecked() {
        Result result = run();
        if (result.exitCode() != 0) {
            throw new LocalServerException("command failed with exit code " + result.exitCode() + " after "
                    + Util.millis(result.elapsed()) + ": " + commandLine(command) + tailBlock(result.output()));
        }
        return result;
    }

    /** Runs the command and returns whatever exit code it had. */
    public Result run() {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (directory != null) {
            pb.directory(directory.toFile());
        }
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new LocalServerException("could not run " + commandLine(command) + ": " + e.getMessage(), e);
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().name("command-output").start(() -> copy(process.getInputStream(), output));
        try {
            try (OutputStream in = process.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException ignored) {
                // the command did not read its input; its exit code and output tell the story
            }
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
                reader.join(Duration.ofSeconds(2));
                throw new LocalServerException("command did not finish within " + timeout.toSeconds() + " s and was killed: "
                        + commandLine(command) + tailBlock(snapshot(output)));
            }
            reader.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new LocalServerException("interrupted while running " + commandLine(command), e);
        }
        return new Result(command, process.exitValue(), snapshot(output), Duration.ofNanos(System.nanoTime() - start));
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (out) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException ignored) {
            // stream closed because the process was killed
        }
    }

    private static String snapshot(ByteArrayOutputStream out) {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    private static String tailBlock(String output) {
        String tail = Util.tail(output, TAIL_LINES);
        return tail.isBlank() ? " (no output)" : "\n--- output (tail) ---\n" + tail;
    }

    /** The command as one line, arguments with spaces or quotes single-quoted, for messages. */
    static String commandLine(List<String> command) {
        StringBuilder sb = new StringBuilder();
        for (String arg : command) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(arg.isEmpty() || arg.matches(".*[\\s'\"\\\\$`;&|<>*?].*") ? "'" + arg.replace("'", "'\\''") + "'" : arg);
        }
        return sb.toString();
    }

    /** What a finished command did. {@code output} is stdout and stderr merged. */
    public record Result(List<String> command, int exitCode, String output, Duration elapsed) {
        public boolean succeeded() {
            return exitCode == 0;
        }

        /** The last {@code lines} lines of the output. */
        public String outputTail(int lines) {
            return Util.tail(output, lines);
        }
    }
}

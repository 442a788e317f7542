package io.shardgate.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code shardgate} command line as a separate JVM, from the jar the build packaged,
 * with the repository root as working directory (as {@code bin/shardgate} does).
 */
final class ShardgateProcess {
    static final Path ROOT = Path.of(System.getProperty("shardgate.root", "..")).toAbsolutePath().normalize();
    static final Path JAR = ROOT.resolve("admin-cli/target/shardgate-admin-cli.jar");

    record Result(int exitCode, String stdout, String stderr, Duration elapsed) {}

    private ShardgateProcess() {}

    static ProcessBuilder builder(String... args) {
        return builder(List.of(), args);
    }

    /** As {@link #builder(String...)}, with options for the JVM (such as {@code -Xmx128m}). */
    static ProcessBuilder builder(List<String> jvmOptions, String... args) {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing; run the build (mvn verify) first");
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(cmd).directory(ROOT.toFile());
        // a command's 5 s default wait for a ZooKeeper session is too short on a CI machine running servers and the
        // suite on two cores; what these tests check is the command's answer, not how fast ZooKeeper is
        builder.environment().putIfAbsent("SHARDGATE_ZK_CONNECT_TIMEOUT_MS", "30000");
        return builder;
    }

    /** Waits until the process prints a line starting with {@code prefix}; fails with what it printed. */
    static String awaitLine(Process p, String prefix, Duration timeout) throws Exception {
        var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        var found = new java.util.concurrent.CompletableFuture<String>();
        StringBuilder seen = new StringBuilder();
        Thread.ofVirtual().start(() -> {
            try {
                for (String line; (line = reader.readLine()) != null; ) {
                    synchronized (seen) {
                        seen.append(line).append('\n');
                    }
                    if (line.startsWith(prefix)) {
                        found.complete(line);
                    }
                }
                found.completeExceptionally(new AssertionError("process ended before '" + prefix + "':\n" + seen));
            } catch (IOException e) {
                found.completeExceptionally(e);
            }
        });
        try {
            return found.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            synchronized (seen) {
                throw new AssertionError("no '" + prefix + "' line within " + timeout + ":\n" + seen, e);
            }
        }
    }

    /** Runs a command to completion; fails the test if it takes longer than {@code timeout}. */
    static Result run(Duration timeout, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("shardgate-out", ".txt");
        Path err = Files.createTempFile("shardgate-err", ".txt");
        long start = System.nanoTime();
        Process p = builder(args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("shardgate " + String.join(" ", args) + " did not finish within " + timeout);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), Duration.ofNanos(System.nanoTime() - start));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}

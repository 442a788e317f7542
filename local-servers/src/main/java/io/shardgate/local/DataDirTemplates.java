package io.shardgate.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Freshly initialised data directories, made once per machine and copied for each new server. Running
 * {@code mariadb-install-db} or {@code initdb} is most of a throwaway server's start (2–4 s on a 2-core machine, and a
 * test suite starts well over a hundred servers); copying the result takes a fraction of a second. A template is keyed
 * by the initialising binary (path, size, modification time) and its arguments, so a new package version or other
 * options make a new one. A template is built in a private staging directory and renamed into place, so a directory
 * under {@link #root()} is always complete, and JVMs sharing the machine (parallel builds) never see half of one.
 *
 * <p>The copy is an independent directory ({@code cp -a}: owner and modes kept, so a PostgreSQL directory stays its OS
 * user's): nothing a server writes reaches the template. {@value #SWITCH}{@code =off} in the environment turns
 * templates off (each data directory is initialised in place, as before); any failure to use a template falls back to
 * that too.
 */
final class DataDirTemplates {
    static final String SWITCH = "SHARDGATE_DATADIR_TEMPLATES";
    private static final Logger log = LoggerFactory.getLogger(DataDirTemplates.class);
    private static final Duration COPY_TIMEOUT = Duration.ofSeconds(120);

    /** Initialises a data directory at the path it is given (which does not exist yet; its parent does). */
    @FunctionalInterface
    interface Initialiser {
        void initialise(Path dataDir);
    }

    private DataDirTemplates() {}

    /**
     * Makes {@code dataDir} (which must not exist) a freshly initialised data directory: a copy of the template for
     * {@code binary} and {@code arguments}, which {@code init} builds first if there is none. {@code stagingOwner}, when not null,
     * is the OS user {@code init} runs as: the staging directory is handed to it.
     */
    static void fill(String kind, Path binary, List<String> arguments, Path dataDir, String stagingOwner, Initialiser init) {
        if ("off".equalsIgnoreCase(System.getenv(SWITCH))) {
            init.initialise(dataDir);
            return;
        }
        fill(root(), kind, binary, arguments, dataDir, stagingOwner, init);
    }

    /** As {@link #fill(String, Path, List, Path, String, Initialiser)} with the templates under {@code root}. */
    static void fill(Path root, String kind, Path binary, List<String> arguments, Path dataDir, String stagingOwner, Initialiser init) {
        Path template;
        try {
            template = template(root, kind, binary, arguments, stagingOwner, init);
        } catch (IOException | RuntimeException e) {
            log.warn("{} data dir template not usable ({}); initialising {} in place", kind, e.toString(), dataDir);
            init.initialise(dataDir);
            return;
        }
        long start = System.nanoTime();
        CommandRunner.Result copy = CommandRunner.of("cp", "-a", "--reflink=auto", template.toString(), dataDir.toString())
                .directory(dataDir.getParent()).timeout(COPY_TIMEOUT).run();
        if (!copy.succeeded()) {
            Util.deleteRecursively(dataDir);
            log.warn("copying the {} data dir template {} failed (exit {}): {}; initialising {} in place", kind, template,
                    copy.exitCode(), copy.outputTail(CommandRunner.TAIL_LINES), dataDir);
            init.initialise(dataDir);
            return;
        }
        log.info("{} data dir {} copied from template {} in {} ms", kind, dataDir, template, (System.nanoTime() - start) / 1_000_000);
    }

    /** The template's data directory, built now if it is not there yet. */
    private static Path template(Path root, String kind, Path binary, List<String> arguments, String stagingOwner, Initialiser init)
            throws IOException {
        Path dir = root.resolve(kind + "-" + key(binary, arguments));
        Path data = dir.resolve("data");
        if (Files.isDirectory(data)) {
            return data;
        }
        Files.createDirectories(root);
        Path staging = Files.createTempDirectory(root, kind + "-staging-");
        try {
            if (stagingOwner != null) {
                Files.setOwner(staging, staging.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(stagingOwner));
            }
            init.initialise(staging.resolve("data"));
            try {
                Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
                log.info("{} data dir template made: {}", kind, dir);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + staging + " to " + dir + " atomically", e);
            } catch (IOException e) {
                // rename(2) onto a template made meanwhile fails with ENOTEMPTY, which Java reports as a plain FileSystemException
                if (!Files.isDirectory(data)) {
                    throw e;
                }
                log.debug("{} data dir template {} was made meanwhile by another process", kind, dir);
            }
        } finally {
            if (Files.exists(staging)) {
                Util.deleteRecursively(staging);
            }
        }
        if (!Files.isDirectory(data)) {
            throw new IOException("template " + dir + " has no data directory");
        }
        return data;
    }

    /** Where templates live: {@code $TMPDIR/shardgate-datadir-templates} (a place every OS user can traverse). */
    static Path root() {
        return Path.of(System.getProperty("java.io.tmpdir"), "shardgate-datadir-templates");
    }

    /** Identifies the binary's build and the initialisation's options. */
    static String key(Path binary, List<String> arguments) throws IOException {
        Path real = binary.toRealPath();
        String identity = real + "\n" + Files.size(real) + "\n" + Files.getLastModifiedTime(real).toMillis() + "\n"
                + String.join("\n", arguments);
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is a required JDK algorithm", e);
        }
    }
}

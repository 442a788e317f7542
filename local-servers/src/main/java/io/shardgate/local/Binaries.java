package io.shardgate.local;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Finds server binaries on PATH and in the usual install locations. */
final class Binaries {
    private static final List<Path> USUAL_DIRS = List.of(
            Path.of("/usr/sbin"), Path.of("/usr/bin"), Path.of("/usr/local/sbin"), Path.of("/usr/local/bin"),
            Path.of("/usr/local/mysql/bin"), Path.of("/usr/local/mariadb/bin"), Path.of("/sbin"), Path.of("/bin"));

    private Binaries() {
    }

    /** The first executable {@code name} on PATH or in the usual directories. */
    static Optional<Path> lookup(String name) {
        return searchDirs().stream().map(d -> d.resolve(name)).filter(Binaries::executable).findFirst();
    }

    /** Like {@link #lookup} but a missing binary is an error naming the package that provides it. */
    static Path find(String name, String packageName) {
        return lookup(name).orElseThrow(() -> missing(name, packageName, searchDirs()));
    }

    static LocalServerException missing(String name, String packageName, List<Path> searched) {
        return new LocalServerException("'" + name + "' not found on PATH or in " + searched
                + "; install the '" + packageName + "' package (e.g. apt-get install " + packageName + ")");
    }

    /**
     * The PostgreSQL bin directory holding both initdb and postgres: the newest /usr/lib/postgresql/N/bin, then
     * the real directory of a postgres found on PATH, then /usr/local/pgsql/bin.
     */
    static Path postgresBinDir() {
        List<Path> candidates = new ArrayList<>();
        Path versions = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(versions)) {
            try (DirectoryStream<Path> dirs = Files.newDirectoryStream(versions)) {
                List<Path> found = new ArrayList<>();
                dirs.forEach(found::add);
                found.sort(Comparator.comparingInt(Binaries::versionOf).reversed());
                found.forEach(d -> candidates.add(d.resolve("bin")));
            } catch (IOException ignored) {
                // fall through to PATH
            }
        }
        lookup("postgres").ifPresent(p -> {
            try {
                candidates.add(p.toRealPath().getParent());
            } catch (IOException ignored) {
                candidates.add(p.getParent());
            }
        });
        candidates.add(Path.of("/usr/local/pgsql/bin"));
        for (Path dir : candidates) {
            if (executable(dir.resolve("initdb")) && executable(dir.resolve("postgres"))) {
                return dir;
            }
        }
        throw missing("postgres and initdb", "postgresql", candidates);
    }

    private static int versionOf(Path dir) {
        try {
            return Integer.parseInt(dir.getFileName().toString().replaceAll("\\..*", ""));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static List<Path> searchDirs() {
        Set<Path> dirs = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String entry : path.split(File.pathSeparator)) {
                if (!entry.isBlank()) {
                    dirs.add(Path.of(entry));
                }
            }
        }
        dirs.addAll(USUAL_DIRS);
        return List.copyOf(dirs);
    }

    private static boolean executable(Path file) {
        return Files.isRegularFile(file) && Files.isExecutable(file);
    }
}

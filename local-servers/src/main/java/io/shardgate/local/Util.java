package io.shardgate.local;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;

/** Small file and text helpers shared by the package. */
final class Util {
    private Util() {
    }

    /** The last {@code lines} lines of {@code text}. */
    static String tail(String text, int lines) {
        if (text == null || text.isEmpty()) {
            return "";
        }
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** The last {@code lines} lines of a file, read from byte {@code fromOffset} on (missing file: ""). */
    static String tail(Path file, long fromOffset, int lines) {
        try {
            long size = Files.size(file);
            long start = Math.max(fromOffset, size - 64 * 1024);
            if (start >= size) {
                return "";
            }
            try (InputStream in = Files.newInputStream(file)) {
                in.skipNBytes(start);
                return tail(new String(in.readAllBytes(), StandardCharsets.UTF_8), lines);
            }
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            return "(could not read " + file + ": " + e + ")";
        }
    }

    static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    /** A "--- tail of X ---" block for error messages, or "" when the file has nothing to show. */
    static String tailBlock(Path file, long fromOffset, int lines) {
        String tail = tail(file, fromOffset, lines);
        return tail.isBlank() ? "" : "\n--- tail of " + file + " ---\n" + tail;
    }

    static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                    if (exc instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw exc;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new LocalServerException("could not delete " + dir + ": " + e, e);
        }
    }

    static String millis(Duration d) {
        return d.toMillis() + " ms";
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalServerException("interrupted", e);
        }
    }
}

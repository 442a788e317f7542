package io.shardgate.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Templates with a hand-written initialiser that writes a marker file and counts its runs (no database needed). */
class DataDirTemplatesTest {
    @TempDir
    Path tmp;

    private final AtomicInteger runs = new AtomicInteger();

    private DataDirTemplates.Initialiser initialiser(String content) {
        return dir -> {
            runs.incrementAndGet();
            try {
                Files.createDirectories(dir);
                Files.writeString(dir.resolve("marker"), content);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    private Path binary() throws IOException {
        Path b = tmp.resolve("initdb");
        if (!Files.exists(b)) {
            Files.writeString(b, "#!/bin/sh\n");
        }
        return b;
    }

    @Test
    void initialisesOnceAndCopiesIndependentDirectories() throws Exception {
        Path root = tmp.resolve("templates");
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        DataDirTemplates.fill(root, "kind", binary(), List.of("-x"), a, null, initialiser("fresh"));
        DataDirTemplates.fill(root, "kind", binary(), List.of("-x"), b, null, initialiser("fresh"));
        assertThat(runs.get()).as("the initialiser ran for the template only").isEqualTo(1);
        assertThat(Files.readString(a.resolve("marker"))).isEqualTo("fresh");
        Files.writeString(a.resolve("marker"), "changed by a's server");
        assertThat(Files.readString(b.resolve("marker"))).as("copies are independent").isEqualTo("fresh");
        Path c = tmp.resolve("c");
        DataDirTemplates.fill(root, "kind", binary(), List.of("-x"), c, null, initialiser("fresh"));
        assertThat(Files.readString(c.resolve("marker"))).as("the template is untouched by a copy's writes").isEqualTo("fresh");
        try (var entries = Files.list(root)) {
            assertThat(entries.map(p -> p.getFileName().toString()).toList()).as("no staging directory is left")
                    .singleElement().asString().startsWith("kind-");
        }
    }

    @Test
    void otherArgumentsOrAnotherBinaryBuildMakeAnotherTemplate() throws Exception {
        Path root = tmp.resolve("templates");
        DataDirTemplates.fill(root, "kind", binary(), List.of("-x"), tmp.resolve("a"), null, initialiser("x"));
        DataDirTemplates.fill(root, "kind", binary(), List.of("-y"), tmp.resolve("b"), null, initialiser("y"));
        assertThat(Files.readString(tmp.resolve("b/marker"))).isEqualTo("y");
        Files.writeString(binary(), "#!/bin/sh\n# a new build\n");
        DataDirTemplates.fill(root, "kind", binary(), List.of("-x"), tmp.resolve("c"), null, initialiser("x2"));
        assertThat(Files.readString(tmp.resolve("c/marker"))).isEqualTo("x2");
        assertThat(runs.get()).isEqualTo(3);
    }

    @Test
    void concurrentFirstUsesAgreeOnOneTemplate() throws Exception {
        Path root = tmp.resolve("templates");
        Path binary = binary();
        int n = 6;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Path target = tmp.resolve("d" + i);
                done.add(pool.submit(() -> {
                    go.await();
                    DataDirTemplates.fill(root, "kind", binary, List.of(), target, null, initialiser("same"));
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < n; i++) {
            assertThat(Files.readString(tmp.resolve("d" + i + "/marker"))).isEqualTo("same");
        }
        try (var entries = Files.list(root)) {
            assertThat(entries.count()).as("one template, staging directories gone").isEqualTo(1);
        }
    }

    @Test
    void aFailingTemplateFallsBackToInitialisingInPlace() throws Exception {
        Path root = tmp.resolve("not-a-directory");
        Files.writeString(root, "a file where the templates would go");
        Path a = tmp.resolve("a");
        DataDirTemplates.fill(root, "kind", binary(), List.of(), a, null, initialiser("in place"));
        assertThat(Files.readString(a.resolve("marker"))).isEqualTo("in place");
    }
}

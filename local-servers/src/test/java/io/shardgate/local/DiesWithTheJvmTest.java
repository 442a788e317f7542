package io.shardgate.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** Servers started by a JVM go away with it: SIGKILL (parent-death signal) and SIGTERM (shutdown hook). */
class DiesWithTheJvmTest {

    record Server(String kind, long pid, int port, Path baseDir) {
        boolean alive() {
            return ProcessHandle.of(pid).map(h -> !LocalServer.isGone(h)).orElse(false);
        }
    }

    @Test
    void serversDieWhenTheJvmIsKilledWithSigkill() throws Exception {
        Process child = startChild("with-postgres");
        List<Server> servers = awaitReady(child);
        try {
            assertThat(servers).extracting(Server::kind).containsExactly("mariadb", "postgres");
            assertThat(servers).allMatch(Server::alive);

            child.destroyForcibly(); // SIGKILL: no shutdown hook runs
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();

            for (Server s : servers) {
                awaitDead(s);
                assertThat(FreePorts.awaitFree(s.port(), Duration.ofSeconds(5))).as("%s port free", s.kind()).isTrue();
            }
        } finally {
            servers.forEach(s -> ProcessHandle.of(s.pid()).ifPresent(ProcessHandle::destroyForcibly));
            for (Server s : servers) {
                Util.deleteRecursively(s.baseDir()); // nobody else will: the hook did not run
            }
        }
    }

    @Test
    void theShutdownHookStopsServersAndDeletesTemporaryDirs() throws Exception {
        Process child = startChild("mariadb-only");
        List<Server> servers = awaitReady(child);
        Server db = servers.getFirst();
        try {
            assertThat(db.alive()).isTrue();

            child.destroy(); // SIGTERM: the JVM exits normally and runs its shutdown hooks
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();

            assertThat(db.alive()).isFalse();
            assertThat(db.baseDir()).doesNotExist();
        } finally {
            ProcessHandle.of(db.pid()).ifPresent(ProcessHandle::destroyForcibly);
            Util.deleteRecursively(db.baseDir());
        }
    }

    private static Process startChild(String mode) throws Exception {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(java.toString(), "-cp", classpath, ChildServerMain.class.getName(), mode)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
    }

    private static List<Server> awaitReady(Process child) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("READY ")) {
                        return line;
                    }
                }
                return null;
            } catch (Exception e) {
                return null;
            }
        });
        String line;
        try {
            line = ready.get(90, TimeUnit.SECONDS);
        } catch (Exception e) {
            child.destroyForcibly();
            throw e;
        }
        assertThat(line).as("child JVM output").isNotNull();
        String[] f = line.substring("READY ".length()).split(" ");
        List<Server> servers = new ArrayList<>();
        for (int i = 0; i + 4 <= f.length; i += 4) {
            servers.add(new Server(f[i], Long.parseLong(f[i + 1]), Integer.parseInt(f[i + 2]), Path.of(f[i + 3])));
        }
        return servers;
    }

    private static void awaitDead(Server s) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (s.alive() && System.nanoTime() < deadline) {
            Util.sleep(50);
        }
        assertThat(s.alive()).as("%s (pid %d) outlived its JVM", s.kind(), s.pid()).isFalse();
    }
}

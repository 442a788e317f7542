package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code mariadb} command-line client (libmariadb) against the real front end and a fake core. */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {MySqlAuth.NATIVE, MySqlAuth.CACHING_SHA2})
class MariaDbClientTest {
    private static final Path CLIENT = Path.of("/usr/bin/mariadb");
    private static final Path SHA2_PLUGIN = Path.of("/usr/lib/x86_64-linux-gnu/libmariadb3/plugin/caching_sha2_password.so");

    @Parameter
    String plugin;

    private final FakeSessions sessions = new FakeSessions();
    private MySqlFrontend frontend;

    /** What the client printed and how it ended. */
    record Run(int exitCode, String stdout, String stderr) {}

    @BeforeEach
    void start() throws InterruptedException {
        assumeTrue(Files.isExecutable(CLIENT), "the mariadb client is not installed at " + CLIENT);
        if (plugin.equals(MySqlAuth.CACHING_SHA2)) {
            assumeTrue(Files.exists(SHA2_PLUGIN), "libmariadb's caching_sha2_password plugin is not installed at " + SHA2_PLUGIN);
        }
        frontend = MySqlFrontend.start("127.0.0.1", 0, sessions, plugin, 64 << 20, 100, 1);
    }

    @AfterEach
    void stop() {
        if (frontend != null) {
            frontend.close();
        }
    }

    private Run mariadb(String user, String password, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(CLIENT.toString(), "--no-defaults", "-h127.0.0.1", "-P" + frontend.port(),
                "-u" + user, "-p" + password, "-A", "--connect-timeout=5"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("mariadb did not finish within 20 s: " + command);
        }
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void selectPrintsTabSeparatedRows() throws Exception {
        Run run = mariadb("app", "app", "--batch", "shardgate", "-e", "SELECT * FROM types");
        assertThat(run.stderr()).isEmpty();
        assertThat(run.exitCode()).isZero();
        assertThat(run.stdout()).isEqualTo(
                "i\ttiny\tbig\tubig\tdec\tdbl\tflt\ttxt\tblob\td\tts\tt\tnegt\tn\tni\n"
                        + "-42\t-5\t9007199254740993\t18446744073709551615\t12345.678901\t-2.25\t1.5\théllo ✓ 日本\t"
                        + "\\0\u0001\u0002\uFFFDx\t2024-02-29\t2024-02-29 13:14:15.123456\t13:14:15\t-26:03:04.500000\tNULL\tNULL\n");
        assertThat(sessions.last().client().schema()).isEqualTo(FakeSessions.DATABASE);
    }

    @Test
    void statementsAndErrors() throws Exception {
        Run ok = mariadb("app", "app", "--batch", "-e", "USE shardgate; INSERT INTO t VALUES (1); SELECT database()");
        assertThat(ok.stderr()).isEmpty();
        assertThat(ok.exitCode()).isZero();
        assertThat(ok.stdout()).isEqualTo("database()\nshardgate\n");

        Run err = mariadb("app", "app", "--batch", "shardgate", "-e", "SELECT * FROM nope");
        assertThat(err.exitCode()).isEqualTo(1);
        assertThat(err.stderr()).contains("ERROR 1146 (42S02)").contains(FakeSessions.NO_SUCH_TABLE_MESSAGE);
    }

    @Test
    void wrongPasswordIsAccessDenied() throws Exception {
        Run run = mariadb("app", "wrong", "--batch", "-e", "SELECT 1");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stderr()).contains("ERROR 1045 (28000)").contains("Access denied for user 'app'@'127.0.0.1'");
    }

    @Test
    void unknownDatabase() throws Exception {
        Run run = mariadb("app", "app", "--batch", "nosuchdb", "-e", "SELECT 1");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.stderr()).contains("ERROR 1049 (42000)").contains("Unknown database 'nosuchdb'");
    }

    @Test
    void emptyPassword() throws Exception {
        List<String> command = List.of(CLIENT.toString(), "--no-defaults", "-h127.0.0.1", "-P" + frontend.port(), "-unopass", "-A",
                "--batch", "shardgate", "-e", "SELECT database()");
        Process p = new ProcessBuilder(command).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("database()\nshardgate\n");
        assertThat(p.exitValue()).isZero();
    }
}

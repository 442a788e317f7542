package io.shardgate.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class CommandRunnerTest {

    @Test
    void collectsExitCodeAndMergedOutput() {
        CommandRunner.Result r = CommandRunner.of("sh", "-c", "echo out; echo err >&2; exit 3").run();

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.succeeded()).isFalse();
        assertThat(r.output()).contains("out").contains("err");
    }

    @Test
    void passesStdinEnvironmentAndDirectory() {
        CommandRunner.Result r = CommandRunner.of("sh", "-c", "cat; echo \"$GREETING\"; pwd")
                .stdin("from stdin\n").env("GREETING", "hello").directory(java.nio.file.Path.of("/tmp")).runChecked();

        assertThat(r.output().lines()).containsExactly("from stdin", "hello", "/tmp");
    }

    @Test
    void runCheckedReportsCommandLineExitCodeAndOutputTail() {
        assertThatThrownBy(() -> CommandRunner.of("sh", "-c", "for i in $(seq 1 100); do echo line$i; done; exit 7").runChecked())
                .isInstanceOf(LocalServerException.class)
                .hasMessageContaining("exit code 7")
                .hasMessageContaining("sh -c 'for i in")
                .hasMessageContaining("line100")
                .hasMessageNotContaining("line50\n");
    }

    @Test
    void killsACommandThatOverrunsItsTimeout() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> CommandRunner.of("sh", "-c", "echo started; sleep 30").timeout(Duration.ofMillis(500)).run())
                .isInstanceOf(LocalServerException.class)
                .hasMessageContaining("did not finish within")
                .hasMessageContaining("started");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aMissingProgramIsAClearError() {
        assertThatThrownBy(() -> CommandRunner.of("/nonexistent/program", "x").run())
                .isInstanceOf(LocalServerException.class)
                .hasMessageContaining("/nonexistent/program");
    }

    @Test
    void aMissingServerBinaryNamesThePackageToInstall() {
        assertThatThrownBy(() -> Binaries.find("no-such-server-binary-xyz", "some-server-package"))
                .isInstanceOf(LocalServerException.class)
                .hasMessageContaining("'no-such-server-binary-xyz' not found")
                .hasMessageContaining("install the 'some-server-package' package");
        assertThat(Binaries.lookup("sh")).isPresent();
    }
}

package io.shardgate.it.corpus;

import io.shardgate.local.CommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * The Node.js drivers of the corpus, installed from the committed {@code it-tests/src/test/node/package.json} and
 * {@code package-lock.json} with {@code npm ci} into {@code it-tests/target/corpus-node}: exact versions, no network
 * after the first run (the install is skipped while the lock file is unchanged).
 */
public final class NodeModules {
    private NodeModules() {}

    /** Installs if needed and returns the {@code node_modules} directory (for NODE_PATH). */
    public static synchronized Path install(Path itTestsDir) throws IOException {
        Path source = itTestsDir.resolve("src/test/node");
        Path target = itTestsDir.resolve("target/corpus-node");
        Path modules = target.resolve("node_modules");
        Path lock = source.resolve("package-lock.json");
        // written after a successful install only, so an interrupted one is redone
        Path installedLock = target.resolve("installed-package-lock.json");
        if (Files.isDirectory(modules) && Files.exists(installedLock) && Files.mismatch(lock, installedLock) == -1) {
            return modules;
        }
        Files.createDirectories(target);
        Files.copy(source.resolve("package.json"), target.resolve("package.json"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(lock, target.resolve("package-lock.json"), StandardCopyOption.REPLACE_EXISTING);
        CommandRunner.of("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error").directory(target)
                .timeout(Duration.ofMinutes(5)).runChecked();
        Files.copy(lock, installedLock, StandardCopyOption.REPLACE_EXISTING);
        return modules;
    }
}

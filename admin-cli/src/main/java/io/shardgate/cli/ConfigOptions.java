package io.shardgate.cli;

import io.shardgate.config.ConfigException;
import io.shardgate.config.ShardgateConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config} and {@code --cluster}: which bootstrap file and which cluster a command works on. */
public final class ConfigOptions {

    @Option(names = "--config", paramLabel = "FILE",
            description = "Bootstrap configuration (default: conf/shardgate.yaml if it exists, else built-in defaults).")
    Path configFile;

    @Option(names = "--cluster", paramLabel = "NAME",
            description = "Cluster name, its state is under /shardgate/NAME in ZooKeeper (default: 'cluster' in the configuration).")
    String cluster;

    private ShardgateConfig config;

    /** The loaded configuration; a bad file ends the command with one line naming the file and the key. */
    public ShardgateConfig config() {
        if (config == null) {
            config = load();
        }
        return config;
    }

    private ShardgateConfig load() {
        Path file = configFile;
        if (file == null) {
            if (!Files.isRegularFile(ShardgateConfig.DEFAULT_PATH)) {
                return ShardgateConfig.defaults();
            }
            file = ShardgateConfig.DEFAULT_PATH;
        }
        try {
            return ShardgateConfig.load(file);
        } catch (ConfigException e) {
            throw ConfigErrors.inFile(file, e);
        }
    }

    public String clusterName() {
        if (cluster != null) {
            try {
                return ShardgateConfig.checkClusterName("--cluster", cluster);
            } catch (ConfigException e) {
                throw new CliException(e.getMessage(), e);
            }
        }
        return config().cluster();
    }
}

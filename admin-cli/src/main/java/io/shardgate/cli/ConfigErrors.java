package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Turns configuration problems into one line that names the file, then the key. */
final class ConfigErrors {
    private ConfigErrors() {}

    /** "conf/x.yaml: listen.mysql-port: must be in 0..65535, was 70000"; file-level messages already name the file. */
    static CliException inFile(Path file, ConfigException e) {
        String message = e.key().isEmpty() && e.getMessage().contains(file.toString())
                ? e.getMessage()
                : file + ": " + e.getMessage();
        return new CliException(message, e);
    }

    /** Reads and validates a cluster definition file, or fails with one line. */
    static ClusterDefinition readClusterFile(Path file) {
        if (!Files.exists(file)) {
            throw new CliException("cluster file " + file + " does not exist");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new CliException("cluster file " + file + " is not a readable file");
        }
        try {
            return ClusterDefinitionCodec.read(file);
        } catch (ConfigException e) {
            throw inFile(file, e);
        }
    }
}

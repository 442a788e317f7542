package io.shardgate.cli;

/**
 * A failure the user can act on. Its message is printed as one line after {@code shardgate: error:}
 * and the command exits with status 1; the cause is only shown with {@code --verbose}.
 */
public final class CliException extends RuntimeException {

    public CliException(String message) {
        super(message);
    }

    public CliException(String message, Throwable cause) {
        super(message, cause);
    }

    static CliException notInitialised(String cluster, String connectString) {
        return new CliException("cluster '" + cluster + "' is not initialised in ZooKeeper at " + connectString
                + "; run shardgate cluster init --file FILE (e.g. conf/cluster-example.yaml)");
    }
}

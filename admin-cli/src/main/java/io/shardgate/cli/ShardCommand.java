package io.shardgate.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code shardgate shard ...}: register backend databases with the cluster. */
@Command(name = "shard", description = "Add shards (backend databases) to a cluster's definition.",
        subcommands = {ShardAddCommand.class})
final class ShardCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ErrorHandler.EXIT_USAGE;
    }
}

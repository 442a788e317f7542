package io.shardgate.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code shardgate cluster ...}: create and change a cluster's definition. */
@Command(name = "cluster", description = "Create or change a cluster's definition.",
        subcommands = {ClusterInitCommand.class})
final class ClusterCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ErrorHandler.EXIT_USAGE;
    }
}

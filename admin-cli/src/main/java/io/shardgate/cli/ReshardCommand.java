package io.shardgate.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code shardgate reshard ...}: move slots between shards. */
@Command(name = "reshard", description = "Move slots between shards (so far: plan the moves).",
        subcommands = {ReshardPlanCommand.class})
final class ReshardCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ErrorHandler.EXIT_USAGE;
    }
}

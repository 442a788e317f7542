package io.shardgate.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Spec;

/** A command that only groups subcommands ({@code cluster}, {@code shard}, {@code reshard}): alone, it prints its usage. */
abstract class CommandGroup implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public final Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ErrorHandler.EXIT_USAGE;
    }
}

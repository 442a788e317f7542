package io.shardgate.cli;

import picocli.CommandLine.Command;

/** {@code shardgate reshard ...}: move slots between shards. */
@Command(name = "reshard",
        description = "Move slots between shards: plan the moves, start them, follow them, and abort, complete or roll them back.",
        subcommands = {
            ReshardPlanCommand.class,
            ReshardStartCommand.class,
            ReshardStatusCommand.class,
            ReshardAbortCommand.class,
            ReshardCompleteCommand.class,
            ReshardRollbackCommand.class
        })
final class ReshardCommand extends CommandGroup {
}

package io.shardgate.cli;

import picocli.CommandLine.Command;

/** {@code shardgate reshard ...}: move slots between shards. */
@Command(name = "reshard", description = "Move slots between shards (so far: plan the moves).",
        subcommands = {ReshardPlanCommand.class})
final class ReshardCommand extends CommandGroup {
}

package io.shardgate.cli;

import picocli.CommandLine.Command;

/** {@code shardgate cluster ...}: create and change a cluster's definition. */
@Command(name = "cluster", description = "Create or change a cluster's definition.",
        subcommands = {ClusterInitCommand.class, ClusterAdoptCommand.class})
final class ClusterCommand extends CommandGroup {
}

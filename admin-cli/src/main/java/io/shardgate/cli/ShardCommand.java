package io.shardgate.cli;

import picocli.CommandLine.Command;

/** {@code shardgate shard ...}: register backend databases with the cluster. */
@Command(name = "shard", description = "Add shards (backend databases) to a cluster's definition.",
        subcommands = {ShardAddCommand.class})
final class ShardCommand extends CommandGroup {
}

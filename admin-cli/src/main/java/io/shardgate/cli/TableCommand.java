package io.shardgate.cli;

import picocli.CommandLine.Command;

/** {@code shardgate table ...}: declare how tables are placed. */
@Command(name = "table",
        description = "Declare tables (sharded, broadcast or single), list and show them, drop declarations, and shard single tables online.",
        subcommands = {TableAddCommand.class, TableListCommand.class, TableShowCommand.class, TableDropCommand.class,
            TableShardCommand.class})
final class TableCommand extends CommandGroup {
}

package io.shardgate.cli;

import picocli.CommandLine.Command;

/** {@code shardgate sequence ...}: the cluster sequences that fill sharded tables' AUTO_INCREMENT / serial columns. */
@Command(name = "sequence",
        description = {
            "Cluster sequences: the proxies fill a sharded table's AUTO_INCREMENT, serial or identity column from one, so ids",
            "are unique across shards, proxies and restarts. CREATE TABLE through the proxy, 'table add' and 'table shard'",
            "declare them; 'sequence add' declares one for a table created elsewhere."
        },
        subcommands = {SequenceAddCommand.class, SequenceShowCommand.class})
final class SequenceCommand extends CommandGroup {
}

package io.shardgate.cli;

import picocli.CommandLine.Command;

/** {@code shardgate hotkey ...}: find the hottest shard keys (and, later, split and merge them). */
@Command(name = "hotkey",
        description = "Find the shard-key values written most, as the live proxies count them.",
        subcommands = {
            HotKeyTopCommand.class
        })
final class HotKeyCommand extends CommandGroup {
}

package io.shardgate.cli;

import picocli.CommandLine.Command;

/** {@code shardgate hotkey ...}: find hot keys and split them over several shards. */
@Command(name = "hotkey",
        description = "Hot keys: list the keys written most (as the live proxies count them), split one key over k sub-keys "
                + "on several shards, merge it back, list the split keys.",
        subcommands = {
            HotKeyTopCommand.class,
            HotKeySplitCommand.class,
            HotKeyMergeCommand.class,
            HotKeyListCommand.class
        })
final class HotKeyCommand extends CommandGroup {
}

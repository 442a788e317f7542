package io.shardgate.cli;

import io.shardgate.migrator.Migrations.Request;
import picocli.CommandLine.Command;

/** {@code shardgate reshard abort}. */
@Command(name = "abort", description = "Ask the migrator worker to abort: stop, keep the source, remove the target's copies. Possible before cleanup (also after a failure).")
final class ReshardAbortCommand extends ReshardRequestCommand {
    @Override
    Request request() {
        return Request.ABORT;
    }
}

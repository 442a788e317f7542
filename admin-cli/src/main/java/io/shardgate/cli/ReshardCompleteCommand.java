package io.shardgate.cli;

import io.shardgate.migrator.Migrations.Request;
import picocli.CommandLine.Command;

/** {@code shardgate reshard complete}. */
@Command(name = "complete", description = "Confirm migrations waiting in reverse-dual-write: the worker ends the rollback window and deletes the moved rows from the source.")
final class ReshardCompleteCommand extends ReshardRequestCommand {
    @Override
    Request request() {
        return Request.COMPLETE;
    }
}

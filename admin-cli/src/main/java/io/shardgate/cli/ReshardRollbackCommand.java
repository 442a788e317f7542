package io.shardgate.cli;

import io.shardgate.migrator.Migrations.Request;
import picocli.CommandLine.Command;

/** {@code shardgate reshard rollback}. */
@Command(name = "rollback", description = "Give slots in reverse-dual-write back to their source (no copy needed, the source got every write); the worker removes the target's copies.")
final class ReshardRollbackCommand extends ReshardRequestCommand {
    @Override
    Request request() {
        return Request.ROLLBACK;
    }
}

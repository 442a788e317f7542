package io.shardgate.cli;

import io.shardgate.cli.reshard.MigrationView;
import io.shardgate.cli.reshard.RequestRules;
import io.shardgate.migrator.Migrations;
import io.shardgate.migrator.Migrations.Request;
import io.shardgate.migrator.Migrations.Status;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.StoreException;
import io.shardgate.state.Versioned;
import java.util.Map;
import java.util.Optional;

/**
 * Sets a migration's {@link Migrations#REQUEST}, the one detail the CLI writes after creation, by
 * compare-and-set: the worker rewrites the record all the time, so a conflict means re-read,
 * re-check against the new status, and try again.
 */
final class MigrationRequests {
    static final int CAS_ATTEMPTS = 20;

    private MigrationRequests() {}

    /**
     * Asks migration {@code id} for {@code request}.
     *
     * @throws CliException naming the migration and its status when the request does not fit it, when
     *         it does not exist, or when the record kept changing for {@link #CAS_ATTEMPTS} attempts
     */
    static RequestRules.Verdict request(ClusterStore store, String id, Request request) {
        for (int attempt = 1; ; attempt++) {
            Versioned<MigrationRecord> current = store.readMigration(id)
                    .orElseThrow(() -> new CliException("no migration '" + id + "' in cluster '" + store.clusterName()
                            + "'; 'shardgate reshard status' lists them"));
            RequestRules.Verdict verdict = check(current.value(), request);
            if (verdict == RequestRules.Verdict.ALREADY_REQUESTED) {
                return verdict;
            }
            MigrationRecord asked = Migrations.withDetails(current.value(), Map.of(Migrations.REQUEST, request.value()),
                    System.currentTimeMillis());
            try {
                store.casMigration(asked, current.version());
                return verdict;
            } catch (StoreException.VersionConflict e) {
                if (attempt == CAS_ATTEMPTS) {
                    throw new CliException("migration " + id + " kept changing; " + CAS_ATTEMPTS + " attempts to request "
                            + request.value() + " failed, retry", e);
                }
            }
        }
    }

    /** The verdict for {@code request} on {@code record}; a refusal is a one-line CliException. */
    static RequestRules.Verdict check(MigrationRecord record, Request request) {
        Optional<Status> status = MigrationView.statusOf(record);
        if (status.isEmpty()) {
            throw new CliException("cannot " + request.value() + " migration " + record.id() + ": its phase '" + record.phase()
                    + "' is unknown to this CLI (a newer migrator?)");
        }
        Optional<Request> pending;
        try {
            pending = Request.of(record);
        } catch (IllegalArgumentException e) {
            pending = Optional.empty(); // an unreadable request is overwritten
        }
        try {
            return RequestRules.check(request, status.get(), pending);
        } catch (IllegalArgumentException e) {
            throw new CliException("cannot " + request.value() + " migration " + record.id() + " (" + record.source() + " -> "
                    + record.target() + "): " + e.getMessage(), e);
        }
    }
}

package io.shardgate.cli.reshard;

import io.shardgate.migrator.Migrations.Request;
import io.shardgate.migrator.Migrations.Status;
import java.util.Optional;

/**
 * Which operator requests a migration accepts in which status (the {@code Migrations} contract):
 * abort before cleanup while not ended, complete and rollback only in reverse-dual-write, and one
 * request at a time.
 */
public final class RequestRules {
    private RequestRules() {}

    /** What became of asking {@code wanted}. */
    public enum Verdict {
        /** Valid: set the request. */
        REQUEST,
        /** The same request is pending already: nothing to write. */
        ALREADY_REQUESTED
    }

    /**
     * Whether {@code wanted} may be asked of a migration in {@code status} with {@code pending}
     * already asked.
     *
     * @throws IllegalArgumentException with the reason ("it is in cleanup: ...") when it may not
     */
    public static Verdict check(Request wanted, Status status, Optional<Request> pending) {
        refusal(wanted, status).ifPresent(reason -> {
            throw new IllegalArgumentException(reason);
        });
        if (pending.isPresent()) {
            if (pending.get() == wanted) {
                return Verdict.ALREADY_REQUESTED;
            }
            throw new IllegalArgumentException("'" + pending.get().value() + "' is requested already and the worker has not acted on it yet");
        }
        return Verdict.REQUEST;
    }

    /** Why {@code wanted} does not fit {@code status}, or empty if it does. */
    public static Optional<String> refusal(Request wanted, Status status) {
        String is = "it is " + MigrationView.spell(status);
        return switch (wanted) {
            case ABORT -> switch (status) {
                case PENDING, DUAL_WRITE, BACKFILL, VERIFY, CUTOVER_PAUSE, REVERSE_DUAL_WRITE, FAILED -> Optional.empty();
                case CLEANUP -> Optional.of(is + ": the moved rows are being deleted from the source, too late to abort");
                case ABORTING -> Optional.of(is + " already");
                case ROLLING_BACK -> Optional.of(is + ", which undoes it already");
                case DONE, ABORTED, ROLLED_BACK -> Optional.of(is + ": it has ended");
            };
            case COMPLETE, ROLLBACK -> switch (status) {
                case REVERSE_DUAL_WRITE -> Optional.empty();
                case PENDING, DUAL_WRITE, BACKFILL, VERIFY, CUTOVER_PAUSE -> Optional.of(is + " and has not cut over yet; "
                        + wanted.value() + " is for reverse-dual-write (before it, 'reshard abort')");
                case CLEANUP, ABORTING, ROLLING_BACK, FAILED -> Optional.of(is + "; " + wanted.value() + " is only for reverse-dual-write");
                case DONE, ABORTED, ROLLED_BACK -> Optional.of(is + ": it has ended");
            };
        };
    }

    /** The status a request ends in once the worker has carried it out. */
    public static Status outcome(Request request) {
        return switch (request) {
            case ABORT -> Status.ABORTED;
            case COMPLETE -> Status.DONE;
            case ROLLBACK -> Status.ROLLED_BACK;
        };
    }
}

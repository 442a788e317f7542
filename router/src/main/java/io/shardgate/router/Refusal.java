package io.shardgate.router;

import io.shardgate.router.plan.RejectReason;

/**
 * Thrown inside analysis when a statement must be rejected; caught once at the top and turned into a
 * {@link io.shardgate.router.plan.RoutePlan.Rejected}. Carries no stack trace: it is an answer, not a bug.
 */
final class Refusal extends RuntimeException {
    private final RejectReason reason;

    Refusal(RejectReason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    RejectReason reason() {
        return reason;
    }
}

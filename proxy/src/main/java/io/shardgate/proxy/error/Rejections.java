package io.shardgate.proxy.error;

import io.shardgate.router.plan.RoutePlan;

/**
 * The router's reasons for refusing a statement, mapped to the catalogue's codes: the one place that says which
 * {@link io.shardgate.router.plan.RejectReason} a client sees as which error, and with which words.
 */
public final class Rejections {
    private Rejections() {}

    /** The error a client gets for a refused statement; the message names the reason and the router's explanation. */
    public static ProxyException of(RoutePlan.Rejected r) {
        ErrorCode code = switch (r.reason()) {
            case PARSE_ERROR -> ErrorCode.PARSE_ERROR;
            case STATEMENT_TOO_COMPLEX -> ErrorCode.STATEMENT_TOO_COMPLEX;
            case UNSUPPORTED_STATEMENT, HOT_KEY_WRITE_UNSUPPORTED, HOT_KEY_READ_UNSUPPORTED -> ErrorCode.UNSUPPORTED;
            case UNKNOWN_TABLE, CROSS_SHARD_JOIN, UNSUPPORTED_SUBQUERY, UNSUPPORTED_SCATTER, MISSING_SHARD_KEY_ON_INSERT,
                    INSERT_WITHOUT_COLUMN_LIST,
                    UNSUPPORTED_INSERT_SELECT, SHARD_KEY_UPDATE, BAD_SHARD_KEY_VALUE, MISSING_PARAMETER -> ErrorCode.UNROUTABLE_STATEMENT;
        };
        String prefix = code == ErrorCode.PARSE_ERROR || code == ErrorCode.STATEMENT_TOO_COMPLEX
                ? "Shardgate cannot parse this statement (" : "Shardgate cannot route this statement (";
        return new ProxyException(code, prefix + r.reason() + "): " + r.message());
    }
}

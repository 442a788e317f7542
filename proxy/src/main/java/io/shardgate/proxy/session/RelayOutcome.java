package io.shardgate.proxy.session;

/** What became of a statement offered to the relayed hot path ({@code backend.native}). */
public enum RelayOutcome {
    /** Nothing ran: run it the usual way. */
    NOT_RELAYED,
    /** The shard's answer went to the client. */
    ANSWERED,
    /** The shard's answer, an ErrorResponse, went to the client (an extended-protocol batch then skips to its Sync). */
    FAILED,
    /**
     * As {@link #FAILED}, the error in place of the client's own Parse, which the shard answered: the statement does not
     * exist now, as on a server.
     */
    PARSE_FAILED
}

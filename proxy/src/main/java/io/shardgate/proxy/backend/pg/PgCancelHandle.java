package io.shardgate.proxy.backend.pg;

/**
 * Lets a client's CancelRequest reach the statement a session relays right now: the relay names its native connection
 * here while the request runs, and {@link #cancel} (from the CancelRequest's thread) sends the shard a CancelRequest
 * for that connection. Once the reply has ended the connection is forgotten before it goes back to the pool, so a late
 * cancel does not reach another session's statement (a CancelRequest already on its way may, as with any server).
 */
public final class PgCancelHandle {
    private volatile PgBackendConnection running;

    void running(PgBackendConnection c) {
        running = c;
    }

    void done() {
        running = null;
    }

    /** Asks the shard to cancel the relayed statement running now, if any. */
    public void cancel() {
        PgBackendConnection c = running;
        if (c != null) {
            c.cancelRequest();
        }
    }
}

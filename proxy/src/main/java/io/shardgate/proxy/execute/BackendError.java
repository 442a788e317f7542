package io.shardgate.proxy.execute;

import io.shardgate.proxy.error.ProxyException;

/**
 * A statement failed on a backend: the server's error or a lost connection (see {@link BackendConnection}). Carries the
 * error the client sees, and the backend's own errno and SQLSTATE, which say whether a lock conflict ended it.
 */
public final class BackendError extends Exception {
    private static final int DEADLOCK = 1213;
    private static final String PG_DEADLOCK = "40P01";
    private static final int LOCK_WAIT_TIMEOUT = 1205;
    private static final String PG_LOCK_NOT_AVAILABLE = "55P03";

    private final transient ProxyException error;
    private final int errno;
    private final String sqlState;

    public BackendError(ProxyException error, int errno, String sqlState) {
        super(error.getMessage(), error, false, false);
        this.error = error;
        this.errno = errno;
        this.sqlState = sqlState;
    }

    /** What the client sees. */
    public ProxyException error() {
        return error;
    }

    /** The backend's error number (MySQL), 0 when it gave none. */
    public int errno() {
        return errno;
    }

    /** The backend's SQLSTATE, null when it gave none. */
    public String sqlState() {
        return sqlState;
    }

    /** The shard ended the statement's transaction to break a deadlock (it rolled back its part). */
    public boolean deadlock() {
        return errno == DEADLOCK || PG_DEADLOCK.equals(sqlState);
    }

    /** The statement waited for a lock longer than the shard allows. */
    public boolean lockWaitTimeout() {
        return errno == LOCK_WAIT_TIMEOUT || PG_LOCK_NOT_AVAILABLE.equals(sqlState);
    }
}

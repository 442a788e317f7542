package io.shardgate.proxy.exec;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.TimeUnit;

/**
 * Turns a backend's SQLException into what the client sees: a server error is passed through
 * unchanged (errno, SQLSTATE, text); a lost or unreachable connection becomes SHARD_UNAVAILABLE with
 * the shard, its address, how long it took, the root cause and the pool's counts.
 */
public final class BackendErrors {
    private BackendErrors() {}

    public static ProxyException translate(SQLException e, ShardPool pool, long startNanos) {
        if (isConnectionFailure(e)) {
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
            return new ProxyException(ErrorCode.SHARD_UNAVAILABLE, pool.describe() + " unavailable after " + millis + " ms: "
                    + rootMessage(e) + "; " + pool.counts(), e);
        }
        return ProxyException.backend(e.getErrorCode(), e.getSQLState(), serverMessage(e), e);
    }

    /**
     * What the client sees when something other than the server's error (a driver or proxy bug) broke off a statement
     * on {@code pool}'s shard; the connection it used has been discarded (see {@link ShardPool#discard}).
     */
    public static ProxyException unexpected(Throwable e, ShardPool pool) {
        return unexpected(e, pool.describe());
    }

    /** As {@link #unexpected(Throwable, ShardPool)}, for the shard {@code shard} describes (its name and address). */
    public static ProxyException unexpected(Throwable e, String shard) {
        return new ProxyException(ErrorCode.INTERNAL, "internal error in Shardgate on " + shard + ": " + e
                + "; its connection was closed, not returned to the pool; see the proxy log", e);
    }

    /**
     * The server's own text. pgJDBC's message adds "ERROR: " and the detail and hint lines around it; a
     * PostgreSQL client gets the severity and fields in their own places, so only the primary text is kept.
     */
    private static String serverMessage(SQLException e) {
        if (e instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null
                && p.getServerErrorMessage().getMessage() != null) {
            return p.getServerErrorMessage().getMessage();
        }
        if (e instanceof org.postgresql.util.PSQLException) {
            return e.getMessage();
        }
        // the server's text in the session's character_set_results, as Connector/J decoded it: back to its bytes
        return BackendUrl.serverText(e.getMessage());
    }

    /** The connection is gone or could not be made; the statement's fate on the server may be unknown. */
    public static boolean isConnectionFailure(SQLException e) {
        return e instanceof SQLTransientConnectionException || e instanceof SQLNonTransientConnectionException
                || e instanceof com.mysql.cj.jdbc.exceptions.CommunicationsException
                || (e.getSQLState() != null && e.getSQLState().startsWith("08"));
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        StringBuilder out = new StringBuilder(String.valueOf(e.getMessage()));
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        if (t != e) {
            out.append(" (cause: ").append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append(')');
        }
        return out.toString().replaceAll("\\s+", " ");
    }
}

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
        return ProxyException.backend(e.getErrorCode(), serverSqlState(e), serverMessage(e), e);
    }

    /**
     * The server's SQLSTATE. Connector/J turns every server error of SQLSTATE class 22 (data exceptions: out of range,
     * too long, incorrect value, division by zero …) into a {@link com.mysql.cj.jdbc.exceptions.MysqlDataTruncation},
     * whose SQLSTATE {@link java.sql.DataTruncation} fixes at 22001 whatever the server said; the server's own comes
     * back from the error number: Connector/J's MySQL table where it gives a class-22 state, else MariaDB's
     * ({@link #MARIADB_DATA_EXCEPTIONS}).
     */
    static String serverSqlState(SQLException e) {
        if (!(e instanceof com.mysql.cj.jdbc.exceptions.MysqlDataTruncation)) {
            return e.getSQLState();
        }
        String mysql = com.mysql.cj.exceptions.MysqlErrorNumbers.mysqlToSqlstate(e.getErrorCode());
        if (mysql != null && mysql.startsWith("22")) {
            return mysql;
        }
        return MARIADB_DATA_EXCEPTIONS.getOrDefault(e.getErrorCode(), e.getSQLState());
    }

    /** MariaDB's errors of SQLSTATE class 22 (from its errmsg-utf8.txt, 10.11), by error number. */
    private static final java.util.Map<Integer, String> MARIADB_DATA_EXCEPTIONS = java.util.Map.ofEntries(
            java.util.Map.entry(1138, "22004"), java.util.Map.entry(1263, "22004"), java.util.Map.entry(1264, "22003"),
            java.util.Map.entry(1292, "22007"), java.util.Map.entry(1365, "22012"), java.util.Map.entry(1366, "22007"),
            java.util.Map.entry(1367, "22007"), java.util.Map.entry(1406, "22001"), java.util.Map.entry(1416, "22003"),
            java.util.Map.entry(1441, "22008"), java.util.Map.entry(1690, "22003"), java.util.Map.entry(1916, "22003"),
            java.util.Map.entry(1917, "22003"), java.util.Map.entry(1918, "22007"), java.util.Map.entry(1921, "22007"),
            java.util.Map.entry(1978, "22007"), java.util.Map.entry(3020, "2201E"), java.util.Map.entry(3037, "22023"));

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
        return BackendUrl.serverText(connectorJMessage(e));
    }

    /**
     * The server's text from a Connector/J exception. Connector/J passes the server's message on as it came, except in a
     * {@link com.mysql.cj.jdbc.exceptions.MysqlDataTruncation} (SQLSTATE 22001, e.g. "Data too long for column"), whose
     * message is {@link java.sql.DataTruncation}'s fixed "Data truncation" + ": " + the server's. (Its other subclasses
     * keep the server's text: MySQLTransactionRollbackException, MySQLQueryInterruptedException; those with texts of their
     * own, MySQLStatementCancelledException and MySQLTimeoutException, come from the driver's own timers and cancel,
     * which the proxy does not use.)
     */
    static String connectorJMessage(SQLException e) {
        String message = e.getMessage();
        if (e instanceof com.mysql.cj.jdbc.exceptions.MysqlDataTruncation && message != null
                && message.startsWith(DATA_TRUNCATION_PREFIX)) {
            return message.substring(DATA_TRUNCATION_PREFIX.length());
        }
        return message;
    }

    private static final String DATA_TRUNCATION_PREFIX = new java.sql.DataTruncation(0, false, false, 0, 0).getMessage() + ": ";

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

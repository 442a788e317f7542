package io.shardgate.proxy.error;

/**
 * The catalogue of Shardgate's own errors (STYLE.md #5). Each code has a category, the MySQL errno
 * and SQLSTATE sent to MySQL clients, and the PostgreSQL SQLSTATE sent to PostgreSQL clients. Where
 * MySQL has a standard errno with the same meaning (1045 access denied, 1049 unknown database,
 * 1153 packet too large, ...) it is used, so drivers react as they would to a server; the
 * proxy-specific conditions use errnos 7000–7099 (user), 7100–7199 (unavailable) and 7900+ (internal).
 * Errors that come from a backend are not in this catalogue: they reach the client unchanged.
 */
public enum ErrorCode {
    ACCESS_DENIED(ErrorCategory.USER, 1045, "28000", "28P01"),
    UNKNOWN_DATABASE(ErrorCategory.USER, 1049, "42000", "3D000"),
    PARSE_ERROR(ErrorCategory.USER, 1064, "42000", "42601"),
    /** A query message without a statement (only white space or semicolons), as a server reports it. */
    EMPTY_QUERY(ErrorCategory.USER, 1065, "42000", "42601"),
    UNKNOWN_COMMAND(ErrorCategory.USER, 1047, "08S01", "08P01"),
    UNKNOWN_PREPARED_STATEMENT(ErrorCategory.USER, 1243, "HY000", "26000"),
    WRONG_PARAMETER_COUNT(ErrorCategory.USER, 1210, "HY000", "08P01"),
    PACKET_TOO_LARGE(ErrorCategory.USER, 1153, "08S01", "54000"),
    MALFORMED_PACKET(ErrorCategory.USER, 1835, "HY000", "08P01"),
    TOO_MANY_CONNECTIONS(ErrorCategory.UNAVAILABLE, 1040, "08004", "53300"),
    /** The client did not finish the handshake and authentication in time (MySQL's ER_HANDSHAKE_ERROR, "Bad handshake"). */
    HANDSHAKE_TIMEOUT(ErrorCategory.USER, 1043, "08S01", "08P01"),
    /** The statement cannot be routed so that its result is correct; the message names the reason. */
    UNROUTABLE_STATEMENT(ErrorCategory.USER, 7001, "42000", "0A000"),
    /** A feature the proxy does not support (yet); the message says what to do instead. */
    UNSUPPORTED(ErrorCategory.USER, 7002, "42000", "0A000"),
    /**
     * The statement is too deep or too large to analyse (a {@code limits.max-statement-*} key, named in the message);
     * refused before anything ran. PostgreSQL's own code for this is 54001 statement_too_complex.
     */
    STATEMENT_TOO_COMPLEX(ErrorCategory.USER, 7020, "HY000", "54001"),
    /** A shard could not be reached or did not answer in time. */
    SHARD_UNAVAILABLE(ErrorCategory.UNAVAILABLE, 7101, "HY000", "08006"),
    /** Writes to moving slots are fenced while the proxy's ZooKeeper session is suspended; retry. */
    FENCED(ErrorCategory.UNAVAILABLE, 7102, "HY000", "40001"),
    /** A write was held for a cutover longer than allowed; retry. */
    WRITE_HOLD_TIMEOUT(ErrorCategory.UNAVAILABLE, 7103, "HY000", "40001"),
    /**
     * Every connection of a shard's pool stayed in use by other sessions for the whole pool wait; the message names the
     * pool size, the sessions waiting and the wait (PostgreSQL's too_many_connections).
     */
    SHARD_BUSY(ErrorCategory.UNAVAILABLE, 7106, "HY000", "53300"),
    /** The proxy has no routing snapshot yet (cluster not initialised or ZooKeeper unreachable). */
    NOT_READY(ErrorCategory.UNAVAILABLE, 7104, "HY000", "57P03"),
    /** No ids could be reserved from a table's cluster sequence (ZooKeeper unreachable); nothing ran, retry. */
    SEQUENCE_UNAVAILABLE(ErrorCategory.UNAVAILABLE, 7105, "HY000", "57P03"),
    /**
     * A statement would pin one more backend connection of a shard to its session (session state such as a temporary
     * table, a named lock, user variables) and the proxy's limit of pinned connections per shard is reached.
     */
    TOO_MANY_PINNED(ErrorCategory.UNAVAILABLE, 7108, "HY000", "53300"),
    /**
     * The statement ran past {@code limits.statement-timeout-ms} and was cancelled on its shards: MariaDB's
     * ER_STATEMENT_TIMEOUT (max_statement_time), PostgreSQL's query_canceled (statement_timeout).
     */
    STATEMENT_TIMEOUT(ErrorCategory.UNAVAILABLE, 1969, "70100", "57014"),
    /** The statement was cancelled by {@code KILL QUERY} from another connection (ER_QUERY_INTERRUPTED). */
    QUERY_INTERRUPTED(ErrorCategory.USER, 1317, "70100", "57014"),
    /** {@code KILL} of a connection id that no session of this proxy has (ER_NO_SUCH_THREAD). */
    NO_SUCH_THREAD(ErrorCategory.USER, 1094, "HY000", "42704"),
    /** {@code KILL} of another user's connection (ER_KILL_DENIED_ERROR: the proxy grants no SUPER). */
    KILL_DENIED(ErrorCategory.USER, 1095, "HY000", "42501"),
    INTERNAL(ErrorCategory.INTERNAL, 7900, "HY000", "XX000");

    private final ErrorCategory category;
    private final int mysqlErrno;
    private final String mysqlSqlState;
    private final String pgSqlState;

    ErrorCode(ErrorCategory category, int mysqlErrno, String mysqlSqlState, String pgSqlState) {
        this.category = category;
        this.mysqlErrno = mysqlErrno;
        this.mysqlSqlState = mysqlSqlState;
        this.pgSqlState = pgSqlState;
    }

    public ErrorCategory category() {
        return category;
    }

    public int mysqlErrno() {
        return mysqlErrno;
    }

    public String mysqlSqlState() {
        return mysqlSqlState;
    }

    public String pgSqlState() {
        return pgSqlState;
    }
}

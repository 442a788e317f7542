package io.shardgate.proxy.session;

/**
 * What a front end reports to its client after each command (MySQL status flags, PostgreSQL
 * ReadyForQuery status).
 *
 * @param schema        current logical database, or null when none is selected
 * @param autocommit    autocommit mode
 * @param inTransaction a transaction is open
 * @param modeStatus    the MySQL status flags the session's sql_mode sets in every OK and EOF a server sends
 *                      (SERVER_STATUS_NO_BACKSLASH_ESCAPES 0x0200, MariaDB's SERVER_STATUS_ANSI_QUOTES 0x8000): a client
 *                      escapes its strings by them
 */
public record SessionState(String schema, boolean autocommit, boolean inTransaction, int modeStatus) {
    /** SERVER_STATUS_NO_BACKSLASH_ESCAPES. */
    public static final int NO_BACKSLASH_ESCAPES = 0x0200;
    /** MariaDB's SERVER_STATUS_ANSI_QUOTES. */
    public static final int ANSI_QUOTES = 0x8000;

    /** A session whose sql_mode sets no status flag. */
    public SessionState(String schema, boolean autocommit, boolean inTransaction) {
        this(schema, autocommit, inTransaction, 0);
    }

    /** The status flags of {@code sqlMode} (as {@code @@SESSION.sql_mode} spells it, ANSI expanded). */
    public static int modeStatus(String sqlMode) {
        int flags = 0;
        for (String mode : sqlMode.toUpperCase(java.util.Locale.ROOT).split(",")) {
            switch (mode.strip()) {
                case "NO_BACKSLASH_ESCAPES" -> flags |= NO_BACKSLASH_ESCAPES;
                case "ANSI_QUOTES" -> flags |= ANSI_QUOTES;
                default -> { }
            }
        }
        return flags;
    }
}

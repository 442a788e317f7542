package io.shardgate.proxy.session;

/**
 * What a front end reports to its client after each command (MySQL status flags, PostgreSQL
 * ReadyForQuery status).
 *
 * @param schema        current logical database, or null when none is selected
 * @param autocommit    autocommit mode
 * @param inTransaction a transaction is open
 */
public record SessionState(String schema, boolean autocommit, boolean inTransaction) {}

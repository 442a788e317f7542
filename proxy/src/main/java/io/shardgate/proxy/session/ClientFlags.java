package io.shardgate.proxy.session;

/**
 * The capability flags of a MySQL client that change what the server answers or the session it starts with; the
 * proxy's backend connections must follow them, or the client sees another server's numbers.
 *
 * @param foundRows   {@code CLIENT_FOUND_ROWS}: an UPDATE (and an upsert) counts the rows it found, not the rows it
 *                    changed, in the OK packet and in {@code ROW_COUNT()}; the server fixes this per connection at login
 * @param ignoreSpace {@code CLIENT_IGNORE_SPACE}: the session's sql_mode starts with {@code IGNORE_SPACE} added
 * @param interactive {@code CLIENT_INTERACTIVE}: the session's {@code wait_timeout} starts as the global
 *                    {@code interactive_timeout}
 */
public record ClientFlags(boolean foundRows, boolean ignoreSpace, boolean interactive) {
    /**
     * What the proxy's backend connections have always had, and what a PostgreSQL session means (its row counts are
     * the rows a statement touched): found rows, nothing else.
     */
    public static final ClientFlags DEFAULT = new ClientFlags(true, false, false);
}

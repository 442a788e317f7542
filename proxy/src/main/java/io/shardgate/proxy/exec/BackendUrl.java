package io.shardgate.proxy.exec;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A shard's JDBC URL as given in the cluster definition, and the driver URL the proxy connects with
 * (Connector/J for {@code jdbc:mysql:}/{@code jdbc:mariadb:}, pgJDBC for {@code jdbc:postgresql:}).
 * The Connector/J settings make results byte-exact and connections cheap to lend:
 * <ul>
 *   <li>{@code useServerPrepStmts=false}: results come in the text protocol, so {@code getBytes} is the
 *       server's own text of each value, passed to clients unchanged;</li>
 *   <li>{@code useLocalSessionState}, {@code elideSetAutoCommits}, {@code cacheServerConfiguration},
 *       {@code maintainTimeStats=false}: no round trips the proxy does not need;</li>
 *   <li>{@code jdbcCompliantTruncation=false}: the driver must not add STRICT_TRANS_TABLES to the
 *       session's sql_mode; clients get the server's defaults;</li>
 *   <li>escape processing off: the client's SQL is sent as written ({@code {fn …}} is not rewritten);</li>
 *   <li>{@code tinyInt1isBit=false}; statements are sent as the client's bytes, results come in utf8mb4 unless the
 *       session set another character set ({@link #RESULTS_UTF8MB4});</li>
 *   <li>{@code characterSetResults=ISO8859_1}: column names and error texts reach the proxy as the server's bytes
 *       (one char per byte), whatever character set the session's SET NAMES put on the connection;</li>
 *   <li>{@code enableQueryTimeouts=false}, {@code useLocalTransactionState}, {@code dontTrackOpenResources}:
 *       less work per statement on the proxy's hot path;</li>
 *   <li>{@code useAffectedRows}: false (Connector/J's default, {@code CLIENT_FOUND_ROWS} on) for the pools of clients
 *       that asked for found rows, true for the others, so the shard counts an UPDATE's rows as it would for the client
 *       ({@link #connectorUrl(Duration, int, boolean)});</li>
 *   <li>{@code allowMultiQueries=false}, whatever the shard's URL says: the front end runs a client's multi-statement
 *       message statement by statement, and text that still holds two statements is sent to one shard so that it
 *       answers with the server's syntax error, which it must never run instead.</li>
 * </ul>
 * The pgJDBC settings do the same for PostgreSQL shards:
 * <ul>
 *   <li>{@code binaryTransfer=false}: results always come in the text format, so the bytes of each value
 *       are PostgreSQL's own text output, passed to clients unchanged;</li>
 *   <li>{@code stringtype=unspecified}: a parameter a client sent as text is bound with an unknown type,
 *       so the server infers it as it would for the client ({@code id = '42'} on an integer column works);</li>
 *   <li>{@code ApplicationName=shardgate}: the proxy's connections are recognisable in {@code pg_stat_activity}.</li>
 * </ul>
 */
public record BackendUrl(String jdbcUrl, String hostPort, String database) {
    private static final Pattern URL = Pattern.compile("^jdbc:(?:mysql|mariadb|postgresql)://([^/?]*)(?:/([^?]*))?(?:\\?.*)?$");

    /**
     * Run on every new or reset MySQL connection: results (values, column names, error texts) in utf8mb4, the
     * character set of a connection whose session has no SET NAMES of its own.
     */
    public static final String RESULTS_UTF8MB4 = "SET character_set_results = utf8mb4";

    /** The Java encoding Connector/J decodes column names and error texts with (see {@code characterSetResults}). */
    static final java.nio.charset.Charset METADATA_BYTES = java.nio.charset.StandardCharsets.ISO_8859_1;

    /**
     * A column name or error text as Connector/J decoded it (one char per byte, see {@code characterSetResults}) turned
     * into the wire form of {@link io.shardgate.proxy.session.ColumnInfo}: the server's bytes, decoded losslessly as
     * UTF-8, so a utf8mb4 session gets ordinary text and any other session exactly the bytes the server sent. Text with
     * a char above U+00FF was not decoded from the server's bytes (the driver wrote it) and stays as it is.
     */
    public static String serverText(String decoded) {
        if (decoded == null) {
            return null;
        }
        boolean ascii = true;
        for (int i = 0; i < decoded.length(); i++) {
            char c = decoded.charAt(i);
            if (c > 0xFF) {
                return decoded;
            }
            ascii &= c < 0x80;
        }
        return ascii ? decoded : io.shardgate.proxy.session.ClientCharset.UTF8MB4.decode(decoded.getBytes(METADATA_BYTES));
    }

    public static BackendUrl parse(String jdbcUrl) {
        Matcher m = URL.matcher(jdbcUrl);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a MySQL/MariaDB or PostgreSQL JDBC URL: " + jdbcUrl);
        }
        String database = m.group(2) == null ? "" : m.group(2);
        return new BackendUrl(jdbcUrl, m.group(1), database);
    }

    /** A PostgreSQL shard (pgJDBC), else MySQL/MariaDB (Connector/J). */
    public boolean postgres() {
        return jdbcUrl.startsWith("jdbc:postgresql:");
    }

    /** The driver URL with the proxy's settings appended, for clients that count found rows. */
    public String connectorUrl(Duration connectTimeout, int statementCacheSize) {
        return connectorUrl(connectTimeout, statementCacheSize, true);
    }

    /**
     * The driver URL with the proxy's settings appended; {@code foundRows}: whether the connection logs in with
     * {@code CLIENT_FOUND_ROWS} (MySQL shards; PostgreSQL has no such choice).
     */
    public String connectorUrl(Duration connectTimeout, int statementCacheSize, boolean foundRows) {
        if (postgres()) {
            return pgJdbcUrl(connectTimeout, statementCacheSize);
        }
        Map<String, String> p = new LinkedHashMap<>();
        p.put("useServerPrepStmts", "false");
        p.put("cachePrepStmts", "true");
        p.put("prepStmtCacheSize", Integer.toString(statementCacheSize));
        p.put("prepStmtCacheSqlLimit", "65536");
        p.put("useLocalSessionState", "true");
        p.put("elideSetAutoCommits", "true");
        p.put("cacheServerConfiguration", "true");
        p.put("maintainTimeStats", "false");
        p.put("sslMode", "DISABLED");
        p.put("allowPublicKeyRetrieval", "true");
        p.put("connectTimeout", Long.toString(connectTimeout.toMillis()));
        p.put("tinyInt1isBit", "false");
        p.put("characterEncoding", "UTF-8");
        // Connector/J decodes column names and error texts with this encoding, fixed at connect, whatever SET NAMES a
        // session runs later: ISO-8859-1 maps each byte to one char, so the proxy gets the server's bytes back exactly
        // (see METADATA_BYTES). The SET character_set_results = latin1 the driver sends for it is undone by
        // RESULTS_UTF8MB4 on every new or reset connection: results are converted to utf8mb4, as for a direct
        // utf8mb4 client, and a session in another character set replaces that with its own SET NAMES.
        p.put("characterSetResults", "ISO8859_1");
        p.put("jdbcCompliantTruncation", "false");
        p.put("enableEscapeProcessing", "false");
        p.put("processEscapeCodesForPrepStmts", "false");
        p.put("autoReconnect", "false");
        // per-statement work the proxy never needs: timeout timers (it sets none), commit/rollback
        // round trips when the server says no transaction is open, and bookkeeping of open statements
        // and result sets (the executor closes each one itself)
        p.put("enableQueryTimeouts", "false");
        p.put("useLocalTransactionState", "true");
        p.put("dontTrackOpenResources", "true");
        p.put("useAffectedRows", Boolean.toString(!foundRows));
        p.put("allowMultiQueries", "false");
        return withParameters(jdbcUrl.replaceFirst("^jdbc:mariadb:", "jdbc:mysql:"), p);
    }

    /**
     * The URL of a short-lived side connection to a MySQL shard that runs one {@code KILL QUERY} (see {@link MySqlKill}):
     * every wait (connect, login, the KILL's answer) ends within {@code timeout}, so a hung shard cannot hold it.
     */
    public String killUrl(Duration timeout) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("sslMode", "DISABLED");
        p.put("allowPublicKeyRetrieval", "true");
        p.put("connectTimeout", Long.toString(timeout.toMillis()));
        p.put("socketTimeout", Long.toString(timeout.toMillis()));
        p.put("autoReconnect", "false");
        p.put("cacheServerConfiguration", "true");
        return withParameters(jdbcUrl.replaceFirst("^jdbc:mariadb:", "jdbc:mysql:"), p);
    }

    private String pgJdbcUrl(Duration connectTimeout, int statementCacheSize) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("binaryTransfer", "false");
        p.put("stringtype", "unspecified");
        p.put("ApplicationName", "shardgate");
        p.put("preparedStatementCacheQueries", Integer.toString(statementCacheSize));
        // pgJDBC counts its connect timeout in whole seconds
        p.put("connectTimeout", Long.toString(Math.max(1, (connectTimeout.toMillis() + 999) / 1000)));
        p.put("sslmode", "disable");
        // a statement's cancel (CancelRequest on a new connection) waits this long at most for a hung server
        p.put("cancelSignalTimeout", "2");
        return withParameters(jdbcUrl, p);
    }

    private static String withParameters(String base, Map<String, String> p) {
        StringBuilder url = new StringBuilder(base);
        char sep = url.indexOf("?") >= 0 ? '&' : '?';
        for (var e : p.entrySet()) {
            url.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = '&';
        }
        return url.toString();
    }
}

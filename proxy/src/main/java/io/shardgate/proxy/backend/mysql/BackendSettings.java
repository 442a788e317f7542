package io.shardgate.proxy.backend.mysql;

import java.time.Duration;
import java.util.Objects;

/**
 * How to open one native connection to a MySQL/MariaDB shard.
 *
 * @param shard          the shard's name, for messages
 * @param host           host name or address
 * @param port           TCP port
 * @param user           login
 * @param password       password ({@code mysql_native_password}); empty for none
 * @param database       the database to select at login; empty for none
 * @param collation      the connection's character set and collation, as the handshake's collation id (45:
 *                       utf8mb4_general_ci)
 * @param deprecateEof   ask for {@code CLIENT_DEPRECATE_EOF} (result sets end with an OK packet, no EOF after the
 *                       columns); used only if the server offers it, see {@link MySqlBackendConnection#deprecateEof()}
 * @param foundRows      ask for {@code CLIENT_FOUND_ROWS}: UPDATE reports matched rows, not changed ones. A relayed
 *                       reply must come from a connection whose flag matches the client's
 * @param multiStatements ask for {@code CLIENT_MULTI_STATEMENTS}
 * @param connectTimeout how long the TCP connect may take
 * @param replyTimeout   how long a command (or the login) may wait for the server's next bytes before the connection
 *                       is declared hung, failed and closed; time the sink keeps reading paused does not count
 */
public record BackendSettings(String shard, String host, int port, String user, String password, String database,
        int collation, boolean deprecateEof, boolean foundRows, boolean multiStatements, Duration connectTimeout,
        Duration replyTimeout) {
    /** utf8mb4_general_ci, what the proxy's JDBC connections use. */
    public static final int UTF8MB4_GENERAL_CI = 45;

    public BackendSettings {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(user, "user");
        password = password == null ? "" : password;
        database = database == null ? "" : database;
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(replyTimeout, "replyTimeout");
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port");
        }
        if (collation <= 0 || collation > 255) {
            throw new IllegalArgumentException("collation id " + collation + " does not fit the handshake's one byte");
        }
        if (replyTimeout.isNegative() || replyTimeout.isZero()) {
            throw new IllegalArgumentException("replyTimeout must be positive, was " + replyTimeout);
        }
    }

    /** The same with another database. */
    public BackendSettings withDatabase(String db) {
        return new BackendSettings(shard, host, port, user, password, db, collation, deprecateEof, foundRows, multiStatements,
                connectTimeout, replyTimeout);
    }

    /** The same with other capability choices. */
    public BackendSettings withFlags(boolean deprecateEof, boolean foundRows, boolean multiStatements) {
        return new BackendSettings(shard, host, port, user, password, database, collation, deprecateEof, foundRows,
                multiStatements, connectTimeout, replyTimeout);
    }

    /** The same with another reply timeout. */
    public BackendSettings withReplyTimeout(Duration timeout) {
        return new BackendSettings(shard, host, port, user, password, database, collation, deprecateEof, foundRows,
                multiStatements, connectTimeout, timeout);
    }

    /** {@code shard s0 (127.0.0.1:3306)}, the start of every message about this connection. */
    public String describe() {
        return "shard " + shard + " (" + host + ":" + port + ")";
    }
}

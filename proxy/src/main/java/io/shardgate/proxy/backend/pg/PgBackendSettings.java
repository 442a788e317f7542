package io.shardgate.proxy.backend.pg;

import java.time.Duration;
import java.util.Objects;

/**
 * How to open one native connection to a PostgreSQL shard.
 *
 * @param shard           the shard's name, for messages
 * @param host            host name or address
 * @param port            TCP port
 * @param user            login role
 * @param password        password (cleartext, md5 or SCRAM-SHA-256, as the server asks); empty for none
 * @param database        the database to connect to
 * @param applicationName {@code application_name} in the StartupMessage
 * @param timeZone        {@code TimeZone} in the StartupMessage: the same as the proxy's pgJDBC connections send, so a
 *                        relayed {@code timestamptz} prints as on the JDBC path
 * @param connectTimeout  how long the TCP connect may take
 * @param replyTimeout    how long a request (or the login) may wait for the server's next bytes before the connection is
 *                        declared hung, failed and closed; time the sink keeps reading paused does not count
 */
public record PgBackendSettings(String shard, String host, int port, String user, String password, String database,
        String applicationName, String timeZone, Duration connectTimeout, Duration replyTimeout) {
    public PgBackendSettings {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(user, "user");
        password = password == null ? "" : password;
        Objects.requireNonNull(database, "database");
        applicationName = applicationName == null ? "" : applicationName;
        Objects.requireNonNull(timeZone, "timeZone");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(replyTimeout, "replyTimeout");
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port");
        }
        if (replyTimeout.isNegative() || replyTimeout.isZero()) {
            throw new IllegalArgumentException("replyTimeout must be positive, was " + replyTimeout);
        }
    }

    /**
     * The time zone pgJDBC puts in its StartupMessage for this JVM (its {@code ConnectionFactoryImpl}): the default
     * zone's id, with the sign of a {@code GMT±hh:mm} id inverted (POSIX zone names count the other way).
     */
    public static String jdbcTimeZone() {
        String tz = java.util.TimeZone.getDefault().getID();
        if (tz.length() <= 3 || !tz.startsWith("GMT")) {
            return tz;
        }
        return switch (tz.charAt(3)) {
            case '+' -> "GMT-" + tz.substring(4);
            case '-' -> "GMT+" + tz.substring(4);
            default -> tz;
        };
    }

    /** The same with another reply timeout. */
    public PgBackendSettings withReplyTimeout(Duration timeout) {
        return new PgBackendSettings(shard, host, port, user, password, database, applicationName, timeZone, connectTimeout,
                timeout);
    }

    /** {@code shard s0 (127.0.0.1:5432)}, the start of every message about this connection. */
    public String describe() {
        return "shard " + shard + " (" + host + ":" + port + ")";
    }
}

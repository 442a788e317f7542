package io.shardgate.proxy.exec;

import com.mysql.cj.jdbc.JdbcConnection;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Which session settings each pooled physical connection carries, so settings are replayed only when
 * a connection is lent to a session whose settings differ. A clean connection serves a session without
 * settings as it is (no round trip); a connection with other settings is reset with
 * COM_RESET_CONNECTION (Connector/J {@code resetServerState}, MariaDB ≥ 10.2, MySQL ≥ 5.7) and then
 * given the session's SETs; a connection whose settings are a prefix of the session's only gets the
 * missing SETs.
 *
 * <p>Keyed weakly by the driver's physical connection: when the pool retires a connection, its entry goes.
 */
public final class ConnectionStates {
    /** A connection whose session state is not known (a SET failed halfway): the next borrower resets it. */
    private static final SessionSettings UNKNOWN = new SessionSettings(java.util.List.of("/* unknown */"));

    private final Map<JdbcConnection, SessionSettings> states = new WeakHashMap<>();

    /** Brings {@code c} to {@code wanted}; a no-op when it is already there. */
    public void ensure(Connection c, SessionSettings wanted) throws SQLException {
        JdbcConnection physical = c.unwrap(JdbcConnection.class);
        SessionSettings current = current(physical);
        if (current.equals(wanted)) {
            return;
        }
        record(physical, UNKNOWN);
        int from;
        if (wanted.extendsSettings(current)) {
            from = current.statements().size();
        } else {
            physical.resetServerState();
            from = 0;
        }
        for (String sql : wanted.statements().subList(from, wanted.statements().size())) {
            ShardExecutor.execute(c, sql);
        }
        record(physical, wanted);
    }

    /** Notes that {@code c} now carries {@code settings} (after the session ran a SET on it directly). */
    public void record(Connection c, SessionSettings settings) throws SQLException {
        record(c.unwrap(JdbcConnection.class), settings);
    }

    private SessionSettings current(JdbcConnection physical) {
        synchronized (states) {
            return states.getOrDefault(physical, SessionSettings.NONE);
        }
    }

    private void record(JdbcConnection physical, SessionSettings settings) {
        synchronized (states) {
            if (settings.isEmpty()) {
                states.remove(physical);
            } else {
                states.put(physical, settings);
            }
        }
    }
}

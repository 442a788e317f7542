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
 * missing SETs. A PostgreSQL connection is reset with {@code RESET ALL}, which restores every run-time
 * parameter but keeps pgJDBC's server-side prepared statements (DISCARD ALL would drop them under the driver).
 *
 * <p>Keyed weakly by the driver's physical connection: when the pool retires a connection, its entry goes.
 */
public final class ConnectionStates {
    /** A connection whose session state is not known (a SET failed halfway): the next borrower resets it. */
    private static final SessionSettings UNKNOWN = new SessionSettings(java.util.List.of("/* unknown */"));

    private final Map<Connection, SessionSettings> states = new WeakHashMap<>();

    /** Brings {@code c} to {@code wanted}; a no-op when it is already there. */
    public void ensure(Connection c, SessionSettings wanted) throws SQLException {
        Connection physical = c.unwrap(Connection.class);
        SessionSettings current = current(physical);
        if (current.equals(wanted)) {
            return;
        }
        remember(physical, UNKNOWN);
        int from;
        if (wanted.extendsSettings(current)) {
            from = current.statements().size();
        } else {
            reset(physical);
            from = 0;
        }
        for (String sql : wanted.statements().subList(from, wanted.statements().size())) {
            ShardExecutor.execute(c, sql);
        }
        remember(physical, wanted);
    }

    /** Notes that {@code c} now carries {@code settings} (after the session ran a SET on it directly). */
    public void record(Connection c, SessionSettings settings) throws SQLException {
        remember(c.unwrap(Connection.class), settings);
    }

    /**
     * Takes away whatever session state {@code c} carries (settings, and state a session left on it: temporary tables,
     * named locks, user variables): COM_RESET_CONNECTION on MySQL; on PostgreSQL what DISCARD ALL does but DEALLOCATE
     * ALL, which would drop pgJDBC's prepared statements under it. The caller discards a connection this fails on.
     */
    public void clear(Connection c) throws SQLException {
        Connection physical = c.unwrap(Connection.class);
        remember(physical, UNKNOWN);
        if (physical instanceof JdbcConnection mysql) {
            resetMySql(mysql);
        } else {
            ShardExecutor.execute(physical, PG_DISCARD_ALL_BUT_PREPARED);
        }
        remember(physical, SessionSettings.NONE);
    }

    /** PostgreSQL's DISCARD ALL, as its documentation spells it out, without DEALLOCATE ALL. */
    private static final String PG_DISCARD_ALL_BUT_PREPARED = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *;"
            + " SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES";

    /** Notes that {@code c}'s session state is not known any more: its next borrower resets it. */
    public void forget(Connection c) {
        try {
            remember(c.unwrap(Connection.class), UNKNOWN);
        } catch (SQLException e) {
            // not a wrapper of a driver connection: nothing is tracked for it
        }
    }

    private static void reset(Connection physical) throws SQLException {
        if (physical instanceof JdbcConnection mysql) {
            resetMySql(mysql);
        } else {
            ShardExecutor.execute(physical, "RESET ALL");
        }
    }

    /** COM_RESET_CONNECTION, after which Connector/J sets its own character_set_results again: back to utf8mb4. */
    private static void resetMySql(JdbcConnection mysql) throws SQLException {
        mysql.resetServerState();
        ShardExecutor.execute(mysql, BackendUrl.RESULTS_UTF8MB4);
    }

    private SessionSettings current(Connection physical) {
        synchronized (states) {
            return states.getOrDefault(physical, SessionSettings.NONE);
        }
    }

    private void remember(Connection physical, SessionSettings settings) {
        synchronized (states) {
            if (settings.isEmpty()) {
                states.remove(physical);
            } else {
                states.put(physical, settings);
            }
        }
    }
}

package io.shardgate.proxy.exec;

import io.shardgate.cluster.ShardDefinition;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * {@code KILL QUERY <thread id>} on a side connection to a MySQL/MariaDB shard: how the proxy stops a statement one of
 * its connections runs, as Connector/J's {@code Statement.cancel()} and the {@code mysql} client's Ctrl-C do. The side
 * connection logs in as the shard's user, which owns the thread, so no SUPER or CONNECTION ADMIN is needed. A KILL
 * QUERY for an idle thread does nothing (the thread's next statement runs normally, checked on MariaDB 10.11).
 */
public final class MySqlKill {
    /** Longest the side connection waits for the shard at each step (connect, login, the KILL's answer). */
    public static final Duration TIMEOUT = Duration.ofSeconds(2);

    private MySqlKill() {}

    /** The statement text for {@code threadId}. */
    static String statement(long threadId) {
        if (threadId <= 0) {
            throw new IllegalArgumentException("a server thread id is positive, was " + threadId);
        }
        return "KILL QUERY " + threadId;
    }

    /** Runs {@code KILL QUERY threadId} on {@code shard}; a thread that ended meanwhile (1094) is not an error. */
    public static void query(ShardDefinition shard, long threadId) throws SQLException {
        String sql = statement(threadId);
        try (Connection c = DriverManager.getConnection(BackendUrl.parse(shard.jdbcUrl()).killUrl(TIMEOUT), shard.user(),
                shard.password()); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            if (e.getErrorCode() != 1094) { // ER_NO_SUCH_THREAD: the connection is gone, nothing runs on it
                throw e;
            }
        }
    }
}

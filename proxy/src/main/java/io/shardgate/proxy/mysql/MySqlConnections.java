package io.shardgate.proxy.mysql;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The logged-in connections of one MySQL listener by the id each was given in the handshake (what
 * {@code CONNECTION_ID()} answers), so that {@code KILL [QUERY] <id>} from another connection reaches the session it
 * names, as on a server.
 */
final class MySqlConnections {
    /** What a KILL can do to a connection. */
    interface Killable {
        /** The user it logged in as: a KILL of another user's connection is refused (the proxy grants no SUPER). */
        String user();

        /** KILL QUERY: cancels its running statement on its shards (it then fails with 1317); returns at once. */
        void killQuery();

        /** KILL [CONNECTION]: closes it (its transaction is rolled back). */
        void killConnection();
    }

    private final Map<Long, Killable> open = new ConcurrentHashMap<>();

    void register(long id, Killable connection) {
        open.put(id, connection);
    }

    void unregister(long id) {
        open.remove(id);
    }

    /** The connection with {@code id}, or null. */
    Killable get(long id) {
        return open.get(id);
    }
}

package io.shardgate.proxy.pg;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open sessions of one PostgreSQL listener by the process id and secret key each was given in BackendKeyData, so
 * a CancelRequest (which arrives on a new connection) reaches the session it names. A request whose key does not match
 * is ignored, as a server does.
 */
final class CancelKeys {
    private record Entry(int secretKey, Runnable cancel) {}

    private final Map<Integer, Entry> sessions = new ConcurrentHashMap<>();

    void register(int processId, int secretKey, Runnable cancel) {
        sessions.put(processId, new Entry(secretKey, cancel));
    }

    void unregister(int processId) {
        sessions.remove(processId);
    }

    /** Runs the named session's cancel if the key matches; whether it did. */
    boolean cancel(int processId, int secretKey) {
        Entry e = sessions.get(processId);
        if (e == null || e.secretKey() != secretKey) {
            return false;
        }
        e.cancel().run();
        return true;
    }
}

package io.shardgate.proxy.backend.pg;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The named statements the proxy keeps prepared on one native connection, so that a client's named statement relayed
 * there is parsed and planned by the shard once per connection, not once per execution (issue 15: re-parsing it
 * unnamed each time cost the shard 78–86 µs per point select instead of 48). A client statement is known by its text,
 * its declared parameter types and the session settings the connection carried when it was parsed (a statement parsed
 * under other settings, {@code standard_conforming_strings} say, may read its text otherwise); the connection's name
 * for it is the proxy's own, {@code sg_<n>}, never reused, so a client's names never meet the shard.
 *
 * <p>The first relayed execution sends Parse with Bind (one round trip); the entry counts only once the shard's
 * ParseComplete came ({@link #settle}). At most {@link #CAPACITY} entries: the least recently used one is closed on the
 * shard with the next request (a Close before its Bind). DISCARD ALL on the connection (the pool's reset) drops every
 * entry ({@link #clear}).
 *
 * <p>A schema change that alters a statement's result columns makes a server refuse the statements prepared before it
 * ({@code 0A000 cached plan must not change result type}, at Bind), for good, while one prepared after it runs. When the
 * shard refuses an entry so, the entry is kept aside as stale: a client statement the client prepared before the entry
 * was parsed was prepared before the change too, and is bound to the stale entry again (the shard's own error, as a
 * server keeps failing it); a client statement prepared later gets a new entry, parsed afresh. (A connection whose
 * entry was parsed after the change cannot tell: there an older client statement runs with the new columns.)
 *
 * <p>Used by one borrower at a time, like its connection (the pool's lock orders the borrowers).
 */
public final class PgPreparedStatements {
    /** How many statements a connection keeps prepared. */
    public static final int CAPACITY = 256;
    /** PostgreSQL's error for a prepared statement whose result columns a schema change altered (plancache.c). */
    static final String PLAN_CHANGED_STATE = "0A000";
    static final String PLAN_CHANGED_MESSAGE = "cached plan must not change result type";

    /** A client statement as the shard sees it: its text, its Parse's parameter types, the connection's settings then. */
    record Key(String sql, List<Integer> parameterTypes, String session) {}

    /**
     * How one request uses the cache: the statement's name on this connection, whether the request parses it first,
     * the names it closes first, and when it was made (a parse's entry dates from then).
     */
    record Use(Key key, String name, boolean parse, List<String> closed, long nanos) {
        Use(Key key, String name, boolean parse, List<String> closed) {
            this(key, name, parse, closed, System.nanoTime());
        }
    }

    /** A statement prepared on the connection: its name and when its Parse was sent. */
    private record Entry(String name, long parsedNanos) {}

    private final int capacity;
    private final LinkedHashMap<Key, Entry> names = new LinkedHashMap<>(16, 0.75f, true);
    /** Entries the shard refused after a schema change, kept for the client statements prepared before them. */
    private final LinkedHashMap<Key, Entry> stale = new LinkedHashMap<>();
    private final List<String> toClose = new ArrayList<>();
    private long next;

    public PgPreparedStatements() {
        this(CAPACITY);
    }

    PgPreparedStatements(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
    }

    /**
     * What a request for the statement {@code sql} with parameter types {@code parameterTypes}, which the client
     * prepared at {@code clientParsedNanos} ({@link System#nanoTime}), on a connection carrying the session
     * {@code session}, sends: the known name, or a new one parsed first. The names waiting to be closed go with it (they
     * are the request's to close now).
     */
    Use use(String sql, List<Integer> parameterTypes, String session, long clientParsedNanos) {
        Key key = new Key(sql, parameterTypes, session);
        List<String> closing = toClose.isEmpty() ? List.of() : List.copyOf(toClose);
        toClose.clear();
        Entry old = stale.get(key);
        if (old != null && clientParsedNanos - old.parsedNanos() < 0) {
            return new Use(key, old.name(), false, closing);
        }
        Entry entry = names.get(key);
        return entry != null ? new Use(key, entry.name(), false, closing) : new Use(key, "sg_" + (++next), true, closing);
    }

    /**
     * After the request's reply: a statement the shard parsed ({@code parsed}: its ParseComplete came) is remembered;
     * one whose cached plan the shard refused is set aside as stale (the one it replaces there is closed with the next
     * request).
     */
    void settle(Use use, boolean parsed, PgServerError error) {
        if (use.parse()) {
            if (parsed) {
                names.put(use.key(), new Entry(use.name(), use.nanos()));
                evictBeyond(names, capacity);
            }
            return;
        }
        Entry entry = names.get(use.key());
        if (error != null && PLAN_CHANGED_STATE.equals(error.sqlState()) && PLAN_CHANGED_MESSAGE.equals(error.message())
                && entry != null && entry.name().equals(use.name())) {
            names.remove(use.key());
            Entry replaced = stale.put(use.key(), entry);
            if (replaced != null) {
                toClose.add(replaced.name());
            }
            evictBeyond(stale, capacity);
        }
    }

    private void evictBeyond(LinkedHashMap<Key, Entry> entries, int limit) {
        for (Iterator<Map.Entry<Key, Entry>> it = entries.entrySet().iterator(); entries.size() > limit && it.hasNext(); ) {
            toClose.add(it.next().getValue().name());
            it.remove();
        }
    }

    /** The connection's session dropped its prepared statements (DISCARD ALL): so does the cache. */
    public void clear() {
        names.clear();
        stale.clear();
        toClose.clear();
    }

    /** How many statements are prepared on the connection (as far as the cache knows). */
    public int size() {
        return names.size();
    }
}

package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.router.IdSource;
import io.shardgate.state.SequenceBlocks;
import io.shardgate.state.StoreException;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A session's ids from the cluster sequences, for one statement at a time: remembers the first id the
 * statement took (the OK packet's last insert id and {@code LAST_INSERT_ID()}, as MySQL gives the first id of a
 * multi-row INSERT) and whether it wrote a sequence column at all (explicit ids leave {@code LAST_INSERT_ID()}
 * alone, as on MySQL). Whether a 0 asks for an id depends on the session's sql_mode (NO_AUTO_VALUE_ON_ZERO),
 * which only a backend carrying the session's settings knows exactly ({@code SET sql_mode = CONCAT(@@sql_mode, …)}):
 * it is read from one once per settings, and only when a statement gives 0.
 */
final class SessionIds implements IdSource {
    /** Reads {@code @@SESSION.sql_mode} on a backend connection carrying the session's settings. */
    interface SqlModeReader {
        String sqlMode();
    }

    private final SequenceBlocks blocks;
    private final Supplier<String> settingsFingerprint;
    private final SqlModeReader sqlMode;
    private long first;
    private final java.util.List<Long> issued = new java.util.ArrayList<>();
    private boolean generated;
    private boolean touched;
    private String zeroCheckedFor;
    private boolean zeroGenerates;
    /** Ids a route took for a statement that then ran another way (see {@link #keepForRetry}): given to its next route. */
    private String keptTable;
    private int keptCount;
    private long keptFirst;

    SessionIds(SequenceBlocks blocks, Supplier<String> settingsFingerprint, SqlModeReader sqlMode) {
        this.blocks = blocks;
        this.settingsFingerprint = settingsFingerprint;
        this.sqlMode = sqlMode;
    }

    /** Starts a statement (or routes one again after a hold: ids taken by the abandoned route are a gap). */
    void begin() {
        first = 0;
        if (!issued.isEmpty()) {
            issued.clear();
        }
        generated = false;
        touched = false;
        reservedTable = null;
        if (keptFresh) {
            keptFresh = false; // the route this begins may take them
        } else {
            keptTable = null;
        }
    }

    boolean generated() {
        return generated;
    }

    /** The statement wrote a sequence column (generated or explicit ids). */
    boolean touched() {
        return touched;
    }

    long first() {
        return first;
    }

    /** The ids this statement took, in order. */
    java.util.List<Long> issued() {
        return java.util.Collections.unmodifiableList(issued);
    }

    /** The client's parameters followed by the ids this statement took, in order: what the plan binds (see {@link IdSource}). */
    java.util.List<Object> withIds(java.util.List<Object> parameters) {
        if (parameters instanceof SourceLiterals literals) {
            return literals.withIds(issued); // sent as the client spelled them, introducers and all
        }
        java.util.List<Object> all = new java.util.ArrayList<>(parameters.size() + issued.size());
        all.addAll(parameters);
        all.addAll(issued);
        return all;
    }

    /**
     * The statement routed since {@link #begin} will not run as routed (the native relay passed it on to the JDBC path,
     * which routes it again): the ids it took are kept for the next {@link #reserve} of the same table and count, so that
     * passing a statement on costs no ids. Kept for that route only; a reserve of another table or count, an explicit id
     * at or past them, or a later statement drops them (a gap, as after a hold).
     */
    void keepForRetry() {
        if (reservedTable != null) {
            keptTable = reservedTable;
            keptCount = issued.size();
            keptFirst = first;
            keptFresh = true;
        }
    }

    /** The kept ids were kept by the statement now passed on: the next {@link #begin} (its route on the JDBC path) keeps them. */
    private boolean keptFresh;

    /** The table of the statement's one reserve, null when it made none or several. */
    private String reservedTable;

    @Override
    public long reserve(String table, int count) {
        touched = true;
        long id;
        if (keptTable != null && keptTable.equals(table) && keptCount == count && !generated) {
            id = keptFirst;
            keptTable = null;
        } else {
            keptTable = null;
            try {
                id = blocks.reserve(table, count);
            } catch (StoreException e) {
                throw unavailable(table, e);
            }
        }
        reservedTable = generated ? null : table;
        if (!generated) {
            first = id;
            generated = true;
        }
        for (int i = 0; i < count; i++) {
            issued.add(id + i);
        }
        return id;
    }

    @Override
    public void given(String table, long value) {
        touched = true;
        if (table.equals(keptTable) && value >= keptFirst) {
            keptTable = null; // an explicit id at or past them: the sequence moves past it, and so must the next id
        }
        try {
            blocks.movePast(table, value);
        } catch (StoreException e) {
            throw unavailable(table, e);
        }
    }

    @Override
    public boolean zeroGenerates() {
        String fingerprint = settingsFingerprint.get();
        if (!fingerprint.equals(zeroCheckedFor)) {
            zeroGenerates = !sqlMode.sqlMode().toUpperCase(Locale.ROOT).contains("NO_AUTO_VALUE_ON_ZERO");
            zeroCheckedFor = fingerprint;
        }
        return zeroGenerates;
    }

    private static ProxyException unavailable(String table, StoreException e) {
        return new ProxyException(ErrorCode.SEQUENCE_UNAVAILABLE, "Shardgate could not take ids from the cluster sequence of "
                + table + " (" + e.getClass().getSimpleName() + ": " + e.getMessage() + "); nothing was run, retry", e);
    }
}

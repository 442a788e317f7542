package io.shardgate.proxy.core;

import io.shardgate.cluster.Dialect;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.exec.BackendErrors;
import io.shardgate.proxy.exec.ConnectionStates;
import io.shardgate.proxy.exec.SessionSettings;
import io.shardgate.proxy.exec.ShardExecutor;
import io.shardgate.proxy.exec.ShardPool;
import io.shardgate.proxy.exec.ShardPools;
import io.shardgate.proxy.session.StatementResult;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The backend connections of one session. Outside a transaction each statement borrows a connection and
 * gives it back. Inside one, a connection per shard is pinned on first use ({@code autocommit=0}) and kept
 * until COMMIT or ROLLBACK, which go to every pinned shard in turn.
 *
 * <p>A statement that leaves state on a server connection (a temporary table, a named lock, user variables) has the
 * connection it ran on <b>reserved</b> for the session ({@link #reserve}): every later statement of the session on that
 * shard, in or out of a transaction, runs on it, until the session ends ({@link #endSession}), when the connection is
 * reset (COM_RESET_CONNECTION) before it goes back to the pool, or discarded. This is the session's choice of connection,
 * not the pool's: any backend connection type can serve it. The session's user variables are kept here as SQL literals
 * and set on every reserved connection, so a statement reads the same {@code @x} on whichever shard it runs.
 *
 * <p>A multi-shard COMMIT is not atomic: shards commit one after another and a failure after the first
 * leaves the earlier shards committed (the error names them). Until a two-phase commit exists this is
 * the guarantee: each shard's part is atomic, the whole is not.
 */
final class SessionBackends {
    private final ShardPools pools;
    private final ConnectionStates states;
    private final Map<String, Lease> pinned = new LinkedHashMap<>();
    private final List<String> savepoints = new ArrayList<>();
    /** Pinned shards on which the open transaction ran a statement that changes rows (so its INSERTs' nextval calls). */
    private final java.util.Set<String> wrote = new java.util.HashSet<>();
    /** Pinned shards that received dual-write copies in this transaction: they commit before the others. */
    private final java.util.Set<String> shadows = new java.util.HashSet<>();
    /** The snapshots this transaction's dual writes routed with and the shards it wrote on, held until it ends (see {@link SnapshotGate}). */
    private final SnapshotGate.TransactionHold held;
    private final Dialect dialect;
    /**
     * Connections lent to this session right now (borrowed, pinned or reserved), each tracked by the session's running
     * statement so another thread can cancel what runs on it (see {@link RunningStatement}).
     */
    private final Map<Object, io.shardgate.proxy.exec.ShardWork.Tracked> lent = new java.util.concurrent.ConcurrentHashMap<>();
    private final io.shardgate.proxy.exec.ShardWork.Tracker tracker;
    /** Lent connections whose protocol state is unknown (see {@link #markBroken}): discarded, never given back to the pool. */
    private final java.util.Set<Connection> broken = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private SessionSettings settings = SessionSettings.NONE;
    /** Connections reserved for the session's server state, by shard. */
    private final Map<String, Reserved> reserved = new LinkedHashMap<>();
    /** The session's user variables as SQL literals, by lower-case name, set on every reserved connection. */
    private final Map<String, String> variables = new LinkedHashMap<>();
    private final PinnedConnections pinnedCount;
    /** The client's CLIENT_FOUND_ROWS: which of a shard's pools its connections come from (see {@link ShardPools}). */
    private final boolean foundRows;
    /**
     * PostgreSQL: the settings when the open transaction began, and at each of its savepoints. A SET (or RESET) is
     * transactional there: a ROLLBACK undoes it, a ROLLBACK TO SAVEPOINT undoes those made since the savepoint.
     * Null outside a transaction and on MySQL, where SET outlives a rollback.
     */
    private SessionSettings atBegin;
    private final Map<String, SessionSettings> atSavepoint = new java.util.HashMap<>();

    /**
     * A connection reserved for the session's state; {@code reason} is what reserved it (for the metrics), {@code uses} all
     * uses since. A native one (the transaction's, see {@link #natives}) has {@code nat} and no JDBC connection.
     */
    private record Reserved(ShardPool pool, Connection connection, String reason, java.util.Set<String> uses,
            NativeBackendConnection nat) {
        Lease lease() {
            return new Lease(pool, connection, false, nat == null ? null : nat.withPinned(false));
        }
    }

    /**
     * A connection lent for one statement, or pinned to the session's transaction: a JDBC {@code connection}, or a native
     * one ({@code nat}, with {@code connection} null; {@code pool} is then the shard's JDBC pool, named for messages).
     */
    record Lease(ShardPool pool, Connection connection, boolean pinned, NativeBackendConnection nat) {
        Lease(ShardPool pool, Connection connection, boolean pinned) {
            this(pool, connection, pinned, null);
        }

        String shard() {
            return pool.name();
        }

        /** What identifies the connection behind the lease (the JDBC connection, or the native one lent). */
        Object key() {
            return nat != null ? nat.lent() : connection;
        }
    }

    /**
     * Lends native MySQL connections for the session's transactions (issue 15; {@code backend.native} with the switch of
     * {@link ProxyCore#nativeTransactions}), or null when they run on JDBC connections.
     */
    interface NativeLender {
        /** A native connection of {@code shard} carrying {@code settings}; null when this one must be a JDBC connection. */
        io.shardgate.proxy.backend.mysql.LentConnection lend(String shard, SessionSettings settings);

        /** What the session learns from its native connections. */
        NativeBackendConnection.Owner owner();
    }

    private NativeLender natives;

    /** Pins native connections for transactions from now on (see {@link NativeLender}). */
    void natives(NativeLender lender) {
        this.natives = lender;
    }

    SessionBackends(ShardPools pools, ConnectionStates states, Dialect dialect, PinnedConnections pinnedCount, boolean foundRows,
            io.shardgate.proxy.exec.ShardWork.Tracker tracker, SnapshotGate.TransactionHold held) {
        this.pools = pools;
        this.tracker = tracker;
        this.held = held;
        this.foundRows = foundRows;
        this.states = states;
        this.dialect = dialect;
        this.pinnedCount = pinnedCount;
    }

    SessionSettings settings() {
        return settings;
    }

    boolean hasPinned() {
        return !pinned.isEmpty();
    }

    Lease pinnedLease(String shard) {
        return pinned.get(shard);
    }

    /**
     * A connection to {@code shard} carrying the session's settings: the pinned one inside a transaction
     * (pinning it now, after running {@code transactionStart}), else a borrowed one.
     */
    Lease acquire(String shard, boolean transactional, List<String> transactionStart) {
        if (!transactional) {
            return borrow(shard);
        }
        Lease lease = pinned.get(shard);
        return lease != null ? lease : pin(shard, transactionStart);
    }

    /** A connection outside the transaction (borrowed even when one is pinned), the reserved one if the shard has one. */
    Lease borrow(String shard) {
        Reserved r = reserved.get(shard);
        if (r != null) {
            return r.lease();
        }
        ShardPool pool = pools.pool(shard, foundRows);
        Connection c = pool.borrow();
        lent.put(c, tracker.track(new JdbcWork(pool, c)));
        long start = System.nanoTime();
        try {
            states.ensure(c, settings);
        } catch (SQLException e) {
            close(pool, c);
            throw BackendErrors.translate(e, pool, start);
        } catch (RuntimeException | Error e) {
            untrack(c);
            pool.discard(c);
            throw BackendErrors.unexpected(e, pool);
        }
        return new Lease(pool, c, false);
    }

    private Lease pin(String shard, List<String> transactionStart) {
        if (natives != null && !reserved.containsKey(shard)) {
            io.shardgate.proxy.backend.mysql.LentConnection connection = natives.lend(shard, settings);
            if (connection != null) {
                return pinNative(shard, connection, transactionStart);
            }
        }
        Lease borrowed = borrow(shard);
        long start = System.nanoTime();
        try {
            Connection c = borrowed.connection();
            c.setAutoCommit(false);
            for (String sql : transactionStart) {
                ShardExecutor.execute(c, sql);
            }
            for (String savepoint : savepoints) {
                ShardExecutor.execute(c, "SAVEPOINT " + quote(savepoint));
            }
        } catch (SQLException e) {
            release(borrowed);
            throw BackendErrors.translate(e, borrowed.pool(), start);
        } catch (RuntimeException | Error e) {
            untrack(borrowed.connection());
            borrowed.pool().discard(borrowed.connection());
            throw BackendErrors.unexpected(e, borrowed.pool());
        }
        Lease lease = new Lease(borrowed.pool(), borrowed.connection(), true);
        pinned.put(shard, lease);
        return lease;
    }

    /** The transaction's connection on a native connection: autocommit off, then as {@link #pin} for JDBC. */
    private Lease pinNative(String shard, io.shardgate.proxy.backend.mysql.LentConnection connection, List<String> transactionStart) {
        ShardPool pool = pools.pool(shard, foundRows);
        NativeBackendConnection c = new NativeBackendConnection(connection, true, natives.owner());
        lent.put(connection, tracker.track(connection.work()));
        try {
            c.begin();
            for (String sql : transactionStart) {
                c.execute(sql);
            }
            for (String savepoint : savepoints) {
                c.execute("SAVEPOINT " + quote(savepoint));
            }
        } catch (io.shardgate.proxy.execute.BackendError e) {
            c.restoreAutocommit();
            giveBackNative(c, false);
            throw e.error();
        } catch (RuntimeException | Error e) {
            c.discard();
            untrack(connection);
            throw BackendErrors.unexpected(e, pool);
        }
        Lease lease = new Lease(pool, null, true, c);
        pinned.put(shard, lease);
        return lease;
    }

    /** The shard's JDBC pool for this session's client flags (named in messages about its connections of either kind). */
    ShardPool poolOf(String shard) {
        return pools.pool(shard, foundRows);
    }

    /** Gives a native connection back (reset first when {@code reset}: it carried session state), or discards it. */
    private void giveBackNative(NativeBackendConnection c, boolean reset) {
        io.shardgate.proxy.exec.ShardWork.Tracked t = lent.remove(c.lent());
        boolean settled = t == null || t.close();
        if (c.discarded() || !settled) {
            c.discard(); // a cancel still in flight would interrupt its next borrower's statement
        } else if (reset) {
            c.lent().giveBackReset();
        } else {
            c.lent().giveBack();
        }
    }

    /** Gives a borrowed connection back (or discards it if it is broken); pinned and reserved ones stay. */
    void release(Lease lease) {
        if (!lease.pinned() && !isReserved(lease)) {
            if (lease.nat() != null) {
                giveBackNative(lease.nat(), false);
            } else {
                close(lease.pool(), lease.connection());
            }
        }
    }

    /** Whether {@code lease}'s connection stays with the session after its statement (pinned, or reserved for its state). */
    boolean keeps(Lease lease) {
        return lease.pinned() || isReserved(lease);
    }

    private boolean isReserved(Lease lease) {
        if (reserved.isEmpty()) {
            return false;
        }
        Object key = lease.key();
        for (Reserved r : reserved.values()) {
            if (r.lease().key() == key) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs {@code sql} with {@code parameters} outside the transaction on {@code shard} (its reserved connection if it has
     * one) and reads the whole result: the proxy's own questions (a session function, a collation, a column's largest value).
     */
    StatementResult query(String shard, String sql, List<Object> parameters, String database) {
        Lease lease = borrow(shard);
        try {
            return queryOn(lease, sql, parameters, database);
        } finally {
            release(lease);
        }
    }

    private StatementResult queryOn(Lease lease, String sql, List<Object> parameters, String database) {
        if (lease.nat() != null) {
            try {
                return lease.nat().run(sql, parameters);
            } catch (io.shardgate.proxy.execute.BackendError e) {
                throw e.error();
            }
        }
        long start = System.nanoTime();
        try {
            return ShardExecutor.run(lease.connection(), sql, parameters, database);
        } catch (SQLException e) {
            throw BackendErrors.translate(e, lease.pool(), start);
        } catch (RuntimeException | Error e) {
            markBroken(lease);
            throw BackendErrors.unexpected(e, lease.pool());
        }
    }

    // ---- connections reserved for session state

    boolean hasReserved(String shard) {
        return reserved.containsKey(shard);
    }

    /** Reserved shards and what the session keeps on each, for diagnostics. */
    Map<String, java.util.Set<String>> reservedUses() {
        Map<String, java.util.Set<String>> out = new LinkedHashMap<>();
        reserved.forEach((shard, r) -> out.put(shard, java.util.Set.copyOf(r.uses())));
        return out;
    }

    /**
     * Reserves a connection of each of {@code shards} for the session because of {@code reason} (the transaction's
     * connection where one is pinned, else one from the pool, given the session's user variables). Checks the limit of
     * every shard first, so a statement that cannot have all its connections is refused before anything runs.
     */
    void reserve(List<String> shards, String reason) {
        for (String shard : shards) {
            if (!reserved.containsKey(shard) && pinnedCount.pinned(shard) >= pinnedCount.limitPerShard()) {
                pinnedCount.acquire(shard, reason); // throws TOO_MANY_PINNED with the numbers
            }
        }
        for (String shard : shards) {
            reserve(shard, reason);
        }
    }

    private void reserve(String shard, String reason) {
        Reserved r = reserved.get(shard);
        if (r != null) {
            r.uses().add(reason);
            return;
        }
        pinnedCount.acquire(shard, reason);
        Lease lease;
        try {
            Lease inTransaction = pinned.get(shard);
            lease = inTransaction != null ? inTransaction : borrow(shard);
        } catch (RuntimeException e) {
            pinnedCount.release(shard, reason);
            throw e;
        }
        reserved.put(shard, new Reserved(lease.pool(), lease.connection(), reason, new java.util.LinkedHashSet<>(List.of(reason)),
                lease.nat()));
        if (!variables.isEmpty()) {
            runOn(lease, setVariables(variables.keySet()));
        }
    }

    /**
     * Gives back the reservations of {@code shards} whose uses are all among {@code brief} (made for one statement, or
     * whose state is gone): the connection is reset, as at the end of a session, when it may carry the session's
     * variables or temporary tables; otherwise it carries nothing but the session's settings, like any borrowed one.
     */
    void unreserveIfOnly(List<String> shards, java.util.Set<String> brief) {
        for (String shard : shards) {
            Reserved r = reserved.get(shard);
            if (r != null && brief.containsAll(r.uses()) && !pinned.containsKey(shard)) {
                reserved.remove(shard);
                if (variables.isEmpty() && !brief.contains("temporary table")) {
                    if (r.nat() != null) {
                        giveBackNative(r.nat(), false);
                    } else {
                        close(r.pool(), r.connection());
                    }
                    pinnedCount.release(shard, r.reason());
                } else {
                    giveBack(shard, r);
                }
            }
        }
    }

    private void giveBack(String shard, Reserved r) {
        if (r.nat() != null) {
            giveBackNative(r.nat(), true); // COM_RESET_CONNECTION before it serves another session; discarded if that fails
            pinnedCount.release(shard, r.reason());
            return;
        }
        try {
            states.clear(r.connection());
            close(r.pool(), r.connection());
        } catch (SQLException | RuntimeException failed) {
            // its state cannot be taken away: it must not serve another session
            org.slf4j.LoggerFactory.getLogger(SessionBackends.class).warn("{}: discarding a connection pinned for session state ({}):"
                    + " resetting it failed: {}", r.pool().describe(), r.uses(), failed.toString());
            r.pool().discard(r.connection());
            untrack(r.connection());
        } finally {
            pinnedCount.release(shard, r.reason());
        }
    }

    /** The literals of the session's user variables (names lower-case). */
    Map<String, String> variables() {
        return java.util.Collections.unmodifiableMap(variables);
    }

    /**
     * Records user variables the session assigned on {@code shard}'s reserved connection: reads their values there and
     * sets them on every other reserved connection, so all of them agree.
     */
    void variablesAssigned(String shard, List<String> names, java.util.function.Function<StatementResult.Rows, List<String>> literals) {
        Reserved r = reserved.get(shard);
        if (r == null || names.isEmpty()) {
            throw internal("user variables assigned on shard " + shard + " without a reserved connection there");
        }
        StringBuilder read = new StringBuilder("SELECT ");
        for (int i = 0; i < names.size(); i++) {
            read.append(i == 0 ? "" : ", ").append(variable(names.get(i)));
        }
        StatementResult result = queryOn(r.lease(), read.toString(), List.of(), "");
        List<String> values = literals.apply((StatementResult.Rows) result);
        for (int i = 0; i < names.size(); i++) {
            variables.put(names.get(i), values.get(i));
        }
        String set = setVariables(names);
        for (Reserved other : reserved.values()) {
            if (other != r) {
                runOn(other.lease(), set);
            }
        }
    }

    /** Assigns user variables the proxy computed itself: kept, and set on every reserved connection. */
    void assign(List<String> names, List<String> literals) {
        for (int i = 0; i < names.size(); i++) {
            variables.put(names.get(i), literals.get(i));
        }
        String set = setVariables(names);
        for (Reserved r : reserved.values()) {
            runOn(r.lease(), set);
        }
    }

    private String setVariables(java.util.Collection<String> names) {
        StringBuilder set = new StringBuilder("SET ");
        boolean first = true;
        for (String name : names) {
            set.append(first ? "" : ", ").append(variable(name)).append(" = ").append(variables.get(name));
            first = false;
        }
        return set.toString();
    }

    private static String variable(String name) {
        return "@`" + name.replace("`", "``") + "`";
    }

    /**
     * The session ends (or is reset): every reserved connection goes back to its pool only after its session state is
     * gone. A MySQL connection gets COM_RESET_CONNECTION (drops temporary tables, releases named locks, clears user
     * variables and settings; one round trip, no new connection); a PostgreSQL one the parts of DISCARD ALL that keep the
     * driver's prepared statements (see {@link ConnectionStates#clear}). One whose reset fails is discarded.
     */
    void endSession() {
        rollback();
        reserved.forEach(this::giveBack);
        reserved.clear();
        variables.clear();
    }

    /**
     * Something other than the server's own error (a driver or proxy bug, an Error) broke off work on {@code lease}'s
     * connection: the driver may have stopped halfway through a reply, so the next statement on it would read the
     * rest. The connection is discarded now (closed physically, so the server rolls back what it ran) and never goes
     * back to the pool; a pinned one stays in the session as a closed connection, so the transaction's next use of it
     * fails as a broken connection does and ends the transaction. Safe from any thread.
     */
    void markBroken(Lease lease) {
        if (lease.nat() != null) {
            lease.nat().discard();
            return;
        }
        broken.add(lease.connection());
        lease.pool().discard(lease.connection());
    }

    boolean isBroken(Lease lease) {
        if (lease.nat() != null) {
            return lease.nat().discarded();
        }
        return broken.contains(lease.connection());
    }

    /**
     * The settings a new session starts with before any statement (what the server does for the client's capability
     * flags, see {@link SessionCommands#clientFlags}): taken on by each connection when it is next lent, like any
     * setting, without a round trip now.
     */
    void startWith(SessionSettings initial) {
        if (!pinned.isEmpty() || !reserved.isEmpty() || !settings.isEmpty()) {
            throw new IllegalStateException("the session's starting settings come before anything else");
        }
        settings = initial;
    }

    /**
     * Adopts new settings: runs {@code statement} on every pinned connection (a reset would end their
     * transaction), or, with none pinned, validates the settings on a borrowed connection of {@code validationShard}.
     */
    void changeSettings(SessionSettings next, String statement, String validationShard) {
        if (pinned.isEmpty() && reserved.isEmpty()) {
            SessionSettings previous = settings;
            settings = next;
            try {
                release(borrow(validationShard));
            } catch (RuntimeException e) {
                settings = previous;
                throw e;
            }
            return;
        }
        for (Lease lease : pinned.values()) {
            runOn(lease, statement);
            record(lease, next);
        }
        for (Reserved r : reserved.values()) {
            // a reserved connection is never reset to take new settings (that would drop its state): it runs the SET itself
            if (!pinned.containsKey(r.pool().name())) {
                Lease lease = r.lease();
                runOn(lease, statement);
                record(lease, next);
            }
        }
        settings = next;
    }

    /**
     * Adopts settings that {@code reset} (a PostgreSQL RESET) brings the session to. With no connection kept, the RESET
     * runs on a borrowed connection carrying the current settings, so the server checks the parameter name as it would
     * for a direct client, and that connection then carries {@code next}; otherwise as {@link #changeSettings}.
     */
    void resetSettings(SessionSettings next, String reset, String validationShard) {
        if (!pinned.isEmpty() || !reserved.isEmpty()) {
            changeSettings(next, reset, validationShard);
            return;
        }
        Lease lease = borrow(validationShard);
        try {
            runOn(lease, reset);
            record(lease, next);
        } finally {
            release(lease);
        }
        settings = next;
    }

    /**
     * PostgreSQL {@code DISCARD ALL} outside a transaction: every connection kept for the session's state goes back to
     * its pool without that state (temporary tables, advisory locks; see {@link #giveBack}), and the settings go.
     */
    void discardAll() {
        if (!pinned.isEmpty()) {
            throw internal("DISCARD ALL with connections pinned to a transaction");
        }
        reserved.forEach(this::giveBack);
        reserved.clear();
        variables.clear();
        settings = SessionSettings.NONE;
    }

    /** Runs {@code sql} on every connection kept for the session (reserved for its state, or pinned to its transaction). */
    void runOnKept(String sql) {
        java.util.Set<Object> done = new java.util.HashSet<>();
        for (Lease lease : pinned.values()) {
            runOn(lease, sql);
            done.add(lease.key());
        }
        for (Reserved r : reserved.values()) {
            if (done.add(r.lease().key())) {
                runOn(r.lease(), sql);
            }
        }
    }

    /** The shards with a connection reserved for the session's state. */
    List<String> reservedShards() {
        return List.copyOf(reserved.keySet());
    }

    private void record(Lease lease, SessionSettings next) {
        if (lease.nat() != null) {
            lease.nat().lent().connection().sessionTag(next.fingerprint());
            return;
        }
        try {
            states.record(lease.connection(), next);
        } catch (SQLException e) {
            throw BackendErrors.translate(e, lease.pool(), System.nanoTime());
        }
    }

    // ---- savepoints

    /** The client began a transaction (BEGIN): on PostgreSQL its settings from now on are undone by a ROLLBACK. */
    void transactionBegins() {
        if (dialect == Dialect.POSTGRES && atBegin == null) {
            atBegin = settings;
        }
    }

    void savepoint(String name) {
        forEachPinned("SAVEPOINT " + quote(name));
        savepoints.remove(name);
        savepoints.add(name);
        if (atBegin != null) {
            atSavepoint.put(name, settings);
        }
    }

    void rollbackToSavepoint(String name) {
        requireSavepoint(name);
        forEachPinned("ROLLBACK TO SAVEPOINT " + quote(name));
        List<String> later = savepoints.subList(savepoints.indexOf(name) + 1, savepoints.size());
        later.forEach(atSavepoint::remove);
        later.clear();
        SessionSettings then = atSavepoint.get(name);
        if (then != null && !then.equals(settings)) {
            // the server undid the SETs made since the savepoint on connections pinned before it, but not on those
            // pinned after it (they took the session's settings before their BEGIN): bring every kept one to `then`
            settings = then;
            for (Lease lease : pinned.values()) {
                bringTo(lease, then);
            }
            forEachReservedUnpinned(lease -> bringTo(lease, then));
        }
    }

    void releaseSavepoint(String name) {
        requireSavepoint(name);
        forEachPinned("RELEASE SAVEPOINT " + quote(name));
        List<String> released = savepoints.subList(savepoints.indexOf(name), savepoints.size());
        released.forEach(atSavepoint::remove);
        released.clear();
    }

    /**
     * After a PostgreSQL rollback of the whole transaction: the settings are those it began with. A pinned connection
     * goes back to its pool with its state unknown (the server undid some SETs, kept those it got before its BEGIN);
     * a reserved one, which stays the session's, is brought to the restored settings now.
     */
    private void settingsRolledBack() {
        SessionSettings before = atBegin;
        if (before == null || before.equals(settings)) {
            return;
        }
        for (Lease lease : pinned.values()) {
            states.forget(lease.connection());
        }
        settings = before;
    }

    private void reservedToSettings() {
        forEachReservedUnpinned(lease -> bringTo(lease, settings));
    }

    private void forEachReservedUnpinned(java.util.function.Consumer<Lease> action) {
        for (Reserved r : reserved.values()) {
            if (!pinned.containsKey(r.pool().name())) {
                action.accept(r.lease());
            }
        }
    }

    /** Brings a connection the session keeps to {@code wanted} (RESET ALL and the settings' SETs), whatever it carries now. */
    private void bringTo(Lease lease, SessionSettings wanted) {
        long start = System.nanoTime();
        states.forget(lease.connection());
        try {
            states.ensure(lease.connection(), wanted);
        } catch (SQLException e) {
            throw BackendErrors.translate(e, lease.pool(), start);
        }
    }

    private void requireSavepoint(String name) {
        if (!savepoints.contains(name)) {
            throw ProxyException.backend(1305, "42000", "SAVEPOINT " + name + " does not exist", null);
        }
    }

    /** Runs {@code sql} on every pinned connection (a statement about the open transaction). */
    void runOnPinned(String sql) {
        forEachPinned(sql);
    }

    private void forEachPinned(String sql) {
        for (Lease lease : pinned.values()) {
            runOn(lease, sql);
        }
    }

    private void runOn(Lease lease, String sql) {
        if (lease.nat() != null) {
            try {
                lease.nat().execute(sql);
            } catch (io.shardgate.proxy.execute.BackendError e) {
                throw e.error();
            }
            return;
        }
        long start = System.nanoTime();
        try {
            ShardExecutor.execute(lease.connection(), sql);
        } catch (SQLException e) {
            throw BackendErrors.translate(e, lease.pool(), start);
        } catch (RuntimeException | Error e) {
            markBroken(lease);
            throw BackendErrors.unexpected(e, lease.pool());
        }
    }

    // ---- ending the transaction

    /** The open transaction ran a statement that changes rows on {@code shards} (PostgreSQL: see {@link #keepsSequenceValues}). */
    void transactionWrote(List<String> shards) {
        for (String shard : shards) {
            if (pinned.containsKey(shard)) {
                wrote.add(shard);
            }
        }
    }

    /**
     * Whether PostgreSQL's lastval()/currval() on {@code shard} answer for this session: only inside a transaction that
     * holds that shard alone and has written on it, so that the connection's last nextval is this transaction's (a
     * pooled connection otherwise keeps another session's, or none).
     */
    boolean keepsSequenceValues(String shard) {
        return pinned.size() == 1 && pinned.containsKey(shard) && wrote.contains(shard);
    }

    /**
     * Marks a pinned shard as holding copies of rows whose authoritative shard is another: at COMMIT it goes first.
     * Otherwise a later transaction on the same key could start on the authoritative shard before this copy commits
     * and replace the copy with its own (delete, insert) while this one is still uncommitted: PostgreSQL's delete does
     * not see a row inserted by a transaction that commits meanwhile, and the insert then fails as a duplicate.
     */
    void receivesCopies(String shard) {
        shadows.add(shard);
    }

    /**
     * A dual write of the client's transaction is about to run with {@code ticket}'s snapshot: its copies (and its write)
     * stay uncommitted until the transaction ends, so the snapshot stays held for cleanup barriers until then.
     */
    void holdCopiesUntilTransactionEnds(SnapshotGate.Ticket ticket) {
        held.copied(ticket);
    }

    /**
     * A write of the client's transaction is about to run on {@code shards} with {@code ticket}'s snapshot: its rows stay
     * uncommitted until the transaction ends, so a move of their slots must not start copying before then.
     */
    void holdWritesUntilTransactionEnds(SnapshotGate.Ticket ticket, List<String> shards) {
        held.wrote(ticket, shards);
    }

    /**
     * Commits every pinned shard in turn, those holding dual-write copies first (see {@link #receivesCopies}); on a
     * failure rolls back the rest and says exactly which shards committed.
     */
    void commit() {
        for (Lease lease : pinned.values()) {
            if (isBroken(lease)) {
                List<String> rolledBack = rollbackAll(List.of(), lease.shard());
                releaseAll();
                throw new ProxyException(ErrorCode.INTERNAL, "COMMIT refused: the transaction's connection to shard " + lease.shard()
                        + " was discarded after an internal error; nothing was committed"
                        + (rolledBack.isEmpty() ? "" : ", rolled back on " + rolledBack));
            }
        }
        List<String> committed = new ArrayList<>();
        List<Lease> order = new ArrayList<>(pinned.values());
        order.sort(java.util.Comparator.comparing(l -> !shadows.contains(l.shard())));
        try {
            for (Lease lease : order) {
                long start = System.nanoTime();
                try {
                    if (lease.nat() != null) {
                        lease.nat().commit();
                    } else {
                        lease.connection().commit();
                    }
                    committed.add(lease.shard());
                } catch (io.shardgate.proxy.execute.BackendError e) {
                    List<String> rolledBack = rollbackAll(committed, lease.shard());
                    throw commitFailure(e.error(), lease.shard(), committed, rolledBack);
                } catch (SQLException e) {
                    ProxyException cause = BackendErrors.translate(e, lease.pool(), start);
                    List<String> rolledBack = rollbackAll(committed, lease.shard());
                    throw commitFailure(cause, lease.shard(), committed, rolledBack);
                } catch (RuntimeException | Error e) {
                    markBroken(lease);
                    List<String> rolledBack = rollbackAll(committed, lease.shard());
                    throw commitFailure(BackendErrors.unexpected(e, lease.pool()), lease.shard(), committed, rolledBack);
                }
            }
        } finally {
            releaseAll();
        }
    }

    private static ProxyException commitFailure(ProxyException cause, String failed, List<String> committed, List<String> rolledBack) {
        if (committed.isEmpty()) {
            String message = "COMMIT failed on shard " + failed + ": " + cause.getMessage() + "; nothing was committed"
                    + (rolledBack.isEmpty() ? "" : ", rolled back on " + rolledBack);
            return rewrap(cause, message);
        }
        String message = "COMMIT failed on shard " + failed + " after shards " + committed + " had committed: " + cause.getMessage()
                + "; rolled back on " + (rolledBack.isEmpty() ? "no other shard" : rolledBack)
                + ". A transaction over several shards commits shard by shard (no two-phase commit yet), so its changes on "
                + committed + " stay; check and repair the others";
        return rewrap(cause, message);
    }

    private static ProxyException rewrap(ProxyException cause, String message) {
        return cause.code() == null
                ? ProxyException.backend(cause.error().mysqlErrno(), cause.error().sqlState(), message, cause)
                : new ProxyException(cause.code(), message, cause);
    }

    /** Rolls back every pinned shard and returns the connections; failures are ignored (the server rolls back on disconnect). */
    void rollback() {
        rollbackAll(List.of(), null);
        boolean reverted = atBegin != null && !atBegin.equals(settings);
        settingsRolledBack();
        releaseAll();
        if (reverted) {
            reservedToSettings();
        }
    }

    /**
     * Ends the transaction after a pinned connection to {@code broken} failed: rolls back the others and
     * returns the error to report, saying so.
     */
    ProxyException abandon(ProxyException cause, String broken) {
        List<String> rolledBack = rollbackAll(List.of(), broken);
        boolean reverted = atBegin != null && !atBegin.equals(settings);
        settingsRolledBack();
        releaseAll();
        if (reverted) {
            reservedToSettings();
        }
        String message = cause.getMessage() + "; the transaction is over: its connection to shard " + broken + " broke"
                + (rolledBack.isEmpty() ? "" : ", and it was rolled back on shards " + rolledBack);
        return rewrap(cause, message);
    }

    private List<String> rollbackAll(List<String> skip, String failed) {
        List<String> rolledBack = new ArrayList<>();
        for (Lease lease : pinned.values()) {
            if (skip.contains(lease.shard()) || isBroken(lease)) {
                continue;
            }
            try {
                if (lease.nat() != null) {
                    lease.nat().rollback();
                } else if (dialect == Dialect.POSTGRES) {
                    lease.connection().rollback();
                } else {
                    // sent whatever Connector/J believes (useLocalTransactionState): after an interrupted statement's
                    // error packet it takes the transaction for ended and skips rollback(), and the pool's reset to
                    // autocommit=1 would then commit what the client rolled back
                    ShardExecutor.execute(lease.connection(), "ROLLBACK");
                }
                if (!lease.shard().equals(failed)) {
                    rolledBack.add(lease.shard());
                }
            } catch (SQLException | io.shardgate.proxy.execute.BackendError ignored) {
                // a broken connection: the server rolls back when it notices the disconnect
            }
        }
        return rolledBack;
    }

    private void releaseAll() {
        for (Lease l : pinned.values()) {
            if (isReserved(l)) {
                restoreAutocommit(l); // the transaction is over; the connection stays the session's
            } else if (l.nat() != null) {
                if (!l.nat().discarded()) {
                    l.nat().restoreAutocommit(); // discards it if that fails
                }
                giveBackNative(l.nat(), false);
            } else {
                close(l.pool(), l.connection());
            }
        }
        pinned.clear();
        savepoints.clear();
        shadows.clear();
        wrote.clear();
        atBegin = null;
        atSavepoint.clear();
        held.release(); // the transaction is over: its writes and copies are committed or gone
    }

    /**
     * One lent connection's work, as the session's {@link RunningStatement} sees it: interrupted with a CancelRequest
     * (pgJDBC's {@code cancelQuery}, bounded by {@code cancelSignalTimeout}) or {@code KILL QUERY} of its thread id on a side
     * connection, and cut by discarding it (see {@link #markBroken}).
     */
    private final class JdbcWork implements io.shardgate.proxy.exec.ShardWork {
        private final ShardPool pool;
        private final Connection connection;

        JdbcWork(ShardPool pool, Connection connection) {
            this.pool = pool;
            this.connection = connection;
        }

        @Override
        public String shard() {
            return pool.describe();
        }

        @Override
        public void interrupt() throws SQLException {
            if (connection.isWrapperFor(org.postgresql.PGConnection.class)) {
                connection.unwrap(org.postgresql.PGConnection.class).cancelQuery();
            } else {
                io.shardgate.proxy.exec.MySqlKill.query(pool.definition(),
                        connection.unwrap(com.mysql.cj.jdbc.JdbcConnection.class).getId());
            }
        }

        @Override
        public void abort() {
            broken.add(connection);
            pool.discard(connection);
        }
    }

    private void restoreAutocommit(Lease l) {
        if (l.nat() != null) {
            l.nat().restoreAutocommit();
            return;
        }
        try {
            l.connection().setAutoCommit(true);
        } catch (SQLException ignored) {
            // a broken connection: its next statement reports it
        }
    }

    private void untrack(Object c) {
        io.shardgate.proxy.exec.ShardWork.Tracked t = lent.remove(c);
        if (t != null) {
            t.close();
        }
    }

    private void close(ShardPool pool, Connection c) {
        io.shardgate.proxy.exec.ShardWork.Tracked t = lent.remove(c);
        // a cancel still in flight for this connection would interrupt its next borrower's statement
        boolean settled = t == null || t.close();
        if (broken.remove(c)) {
            return; // discarded already
        }
        if (!settled) {
            pool.discard(c);
            return;
        }
        try {
            c.close();
        } catch (SQLException ignored) {
            // returning to the pool failed: the pool discards the connection
        }
    }

    private String quote(String identifier) {
        return dialect == Dialect.POSTGRES ? "\"" + identifier.replace("\"", "\"\"") + "\""
                : "`" + identifier.replace("`", "``") + "`";
    }

    static ProxyException internal(String message) {
        return new ProxyException(ErrorCode.INTERNAL, message);
    }
}

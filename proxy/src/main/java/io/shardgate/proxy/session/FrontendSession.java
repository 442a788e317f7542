package io.shardgate.proxy.session;

import java.util.List;

/**
 * The protocol-neutral face of a client session (STYLE.md #2): a front end decodes its wire
 * protocol into these calls and encodes what they return. Nothing here knows MySQL or PostgreSQL
 * packets, and the front end knows nothing of shards.
 *
 * <p>Calls come one at a time, in the client's order, on a virtual thread owned by the session
 * (never on a Netty event loop). Every method reports failure by throwing
 * {@link io.shardgate.proxy.error.ProxyException}, carrying either a catalogue code or a backend's
 * error unchanged; the session stays usable after an error unless the front end closes it.
 */
public interface FrontendSession extends AutoCloseable {

    /** Selects the current logical database (MySQL COM_INIT_DB / USE); unknown → UNKNOWN_DATABASE. */
    void initDb(String schema);

    /**
     * The notices and warnings the shards sent while the statements run since the last call (PostgreSQL's
     * NoticeResponse: {@code DROP TABLE IF EXISTS} of a missing table, RAISE NOTICE, …), each distinct one once, in order.
     */
    default List<BackendNotice> takeNotices() {
        return List.of();
    }

    /** Runs one statement of the text protocol. */
    StatementResult query(String sql);

    /**
     * Runs one statement with bound parameters ({@code ?} or PostgreSQL {@code $n}) without a prepared-statement id:
     * the PostgreSQL extended protocol binds unnamed statements every time. Parameters are the same Java values as for
     * {@link #execute}; the statement's analysis is cached by its text.
     */
    default StatementResult query(String sql, List<Object> parameters) {
        throw new io.shardgate.proxy.error.ProxyException(io.shardgate.proxy.error.ErrorCode.UNSUPPORTED,
                "this session does not run statements with parameters outside prepared statements");
    }

    /** Prepares a statement with {@code ?} parameters. */
    PreparedInfo prepare(String sql);

    /**
     * A MySQL text-protocol statement as the client's bytes, in the session's client character set: the shard gets
     * these bytes wherever the statement is not rewritten, and the client's own literal bytes where it is.
     */
    default StatementResult query(byte[] sql) {
        return query(ClientCharset.UTF8MB4.decode(sql));
    }

    /**
     * MySQL only: runs a text statement by relaying the shard's reply packets straight to the client, when the
     * statement and the session qualify (the {@code backend.native} hot path, see {@code core.NativeRelay}). True: the
     * client has its answer; false: nothing ran, run it with {@link #query(byte[])}.
     */
    default boolean relay(byte[] sql, io.shardgate.proxy.backend.mysql.RelayTarget target) {
        return false;
    }

    /**
     * PostgreSQL only: runs a simple-protocol Query message {@code text} whose one statement is {@code sql} by relaying
     * the text to its shard and the shard's reply messages, ReadyForQuery included, straight to {@code client}, when the
     * statement and the session qualify (the {@code backend.native} hot path, see {@code core.PgNativeRelay}). True: the
     * client has its whole answer; false: nothing ran, run it the usual way.
     */
    default boolean relayPg(String sql, String text, io.netty.channel.Channel client) {
        return false;
    }

    /**
     * PostgreSQL only: as {@link #relayPg}, called on {@code client}'s event loop while the session runs nothing, for a
     * statement that can be relayed from there without waiting for anything (its analysis cached, an idle connection
     * on that loop carrying the session's settings). True: the relay has begun, and {@code done} is called once, on
     * that loop, when the client has its answer (or the error to send it: nothing had reached the client); until then
     * the session must be given nothing else. False: nothing ran and {@code done} is never called.
     */
    default boolean relayPgOnLoop(String sql, String text, io.netty.channel.Channel client, LoopRelayDone done) {
        return false;
    }

    /** The end of a relay {@link #relayPgOnLoop} began. */
    interface LoopRelayDone {
        /**
         * @param outcome ANSWERED or FAILED (the shard's answer went to the client), or null with {@code error}
         * @param error   the statement's error when nothing of the answer reached the client (the caller sends it)
         */
        void done(RelayOutcome outcome, io.shardgate.proxy.error.ProxyException error);
    }

    /**
     * PostgreSQL only: runs an extended-protocol execution of the statement {@code sql} with {@code parameters} (decoded
     * for routing) by relaying {@code request} (the client's Parse, Bind, Describe and Execute; a named statement bound
     * to the shard connection's own) to its shard and the reply's RowDescription or NoData, DataRows and CommandComplete
     * or ErrorResponse straight to {@code client}, when the statement and the session qualify (see
     * {@code core.PgNativeRelay}).
     */
    default RelayOutcome relayPgExtended(String sql, List<Object> parameters,
            io.shardgate.proxy.backend.pg.PgExtendedRequest request, io.netty.channel.Channel client) {
        return RelayOutcome.NOT_RELAYED;
    }

    /**
     * PostgreSQL only: {@link #relayPgExtended} called on {@code client}'s event loop while the session runs nothing, as
     * {@link #relayPgOnLoop} is for a Query: true when the relay has begun ({@code done} then follows, on the loop).
     */
    default boolean relayPgExtendedOnLoop(String sql, List<Object> parameters,
            io.shardgate.proxy.backend.pg.PgExtendedRequest request, io.netty.channel.Channel client, LoopRelayDone done) {
        return false;
    }

    /** Whether {@link #relayPgExtended} may relay at all ({@code backend.native} is on for this PostgreSQL session). */
    default boolean relaysPg() {
        return false;
    }

    /**
     * MySQL only: runs COM_STMT_EXECUTE of a statement prepared with {@link #prepare(byte[])} by relaying it (its
     * {@code packet}, see {@code ClientMessage.StmtExecute#relayPacket}) and the shard's reply, as {@link #relay} does;
     * {@code parameters} (decoded as for {@link #execute}) route it. False: nothing ran, run it with {@link #execute}.
     */
    default boolean relayExecute(int statementId, List<Object> parameters, byte[] packet,
            io.shardgate.proxy.backend.mysql.RelayTarget target) {
        return false;
    }

    /**
     * MySQL only: {@link #relay} or, with {@code statementId >= 0}, {@link #relayExecute} called on the client's event
     * loop, which must not wait: starts the relay only when nothing it takes needs waiting (a cached analysis, a ready
     * backend connection, on that loop when one is). Null: nothing ran, run it on the session's thread. Else a future completing once
     * the client has its answer and the session's bookkeeping is done; it fails with the error to answer when nothing
     * reached the client (as relay throws). Work that may wait in rare cases runs on {@code blocking}, which must not be
     * the session's thread (a command queued there waits for this one). The caller hands the session no other command
     * until the future completes.
     */
    default java.util.concurrent.CompletableFuture<Void> relayFromLoop(byte[] sql, int statementId, List<Object> parameters,
            byte[] packet, io.shardgate.proxy.backend.mysql.RelayTarget target, java.util.concurrent.Executor blocking) {
        return null;
    }

    /** COM_STMT_PREPARE's statement as the client's bytes, in the session's client character set. */
    default PreparedInfo prepare(byte[] sql) {
        return prepare(ClientCharset.UTF8MB4.decode(sql));
    }

    /**
     * Executes a prepared statement. Parameters are Java values decoded by the front end: null,
     * Long, BigInteger (unsigned 64-bit), Double, Float, BigDecimal, String, byte[], LocalDate,
     * LocalDateTime, Duration (MySQL TIME).
     */
    StatementResult execute(int statementId, List<Object> parameters);

    void closeStatement(int statementId);

    /**
     * PostgreSQL: a server's answer to a Describe of the statement {@code sql} parsed with {@code parameterTypes} (0:
     * inferred) by the client at {@code parsedNanos}, asked of the shard the statement would be described on: its
     * ParameterDescription and RowDescription or NoData, whole messages to write to the client as they are. Null when it
     * is not to be had so (no native connections, a pinned connection or a transaction whose changes another connection
     * would not see, the shard's error): the caller describes the statement the usual way.
     */
    default byte[] describePgStatement(String sql, List<Integer> parameterTypes, long parsedNanos) {
        return null;
    }

    /**
     * PostgreSQL {@code PREPARE name [(declaredTypes)] AS sql}: checks {@code sql} as a server would at PREPARE (its
     * errors are the server's) and returns what {@link #executeSql} needs. The front end keeps the name, which shares
     * one namespace with the extended protocol's named statements.
     */
    default SqlPreparedStatement prepareSql(String sql, List<String> declaredTypes) {
        throw new io.shardgate.proxy.error.ProxyException(io.shardgate.proxy.error.ErrorCode.UNSUPPORTED,
                "this session does not keep SQL PREPARE statements");
    }

    /**
     * PostgreSQL {@code EXECUTE name [(arguments)]} of {@code statement}: the arguments (SQL expressions) are evaluated and
     * coerced to the parameter types as the server does, and the statement runs with them, routed by their values.
     */
    default StatementResult executeSql(String name, SqlPreparedStatement statement, List<String> arguments) {
        throw new io.shardgate.proxy.error.ProxyException(io.shardgate.proxy.error.ErrorCode.UNSUPPORTED,
                "this session does not keep SQL PREPARE statements");
    }

    /** Clears data sent for a prepared statement's long parameters; the statement stays prepared. */
    void resetStatement(int statementId);

    SessionState state();

    /**
     * A client asked to cancel what this session's statement is running now (PostgreSQL CancelRequest, MySQL
     * {@code KILL QUERY}): the shards are asked to stop it, and it then fails with the shard's error (57014 on
     * PostgreSQL, 1317 on MySQL). Called from another thread than the session's; returns at once; does nothing when no
     * statement runs.
     */
    default void cancel() {}

    /**
     * The client's connection closed: the statement running now, if any, is cancelled on its shards (and its
     * connections cut if a shard does not take the cancel), so the session's thread can close the session. Called from
     * another thread than the session's; returns at once.
     */
    default void clientGone() {}

    /**
     * A text the proxy wrote itself (its own error messages) in the wire form of names and error texts (see
     * {@link ColumnInfo}): as the client's character_set_results holds it, as a server would send it.
     */
    default String ownText(String text) {
        return text;
    }

    /** Releases backend connections (rolling back an open transaction). Idempotent. */
    @Override
    void close();
}

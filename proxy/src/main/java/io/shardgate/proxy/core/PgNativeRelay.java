package io.shardgate.proxy.core;

import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.backend.pg.PgExtendedRequest;
import io.shardgate.proxy.backend.pg.PgNativeBackends;
import io.shardgate.proxy.backend.pg.PgRelaySink;
import io.shardgate.proxy.backend.pg.PgRelayTarget;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.router.SqlTemplate;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShardStatement;
import io.shardgate.proxy.session.RelayOutcome;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * The relayed hot path for PostgreSQL clients (issue 15 item 3, {@code backend.native}), the twin of
 * {@link NativeRelay}: a simple-protocol Query message holding one SELECT that one shard answers exactly as it is
 * written goes out as the client's text on a native connection, and the shard's reply messages (RowDescription,
 * DataRows, CommandComplete or ErrorResponse, NoticeResponses, ReadyForQuery) go back to the client as they come, never
 * decoded into rows. An extended-protocol execution in the unnamed portal ({@link #tryRelayExtended}) goes out as the
 * client's Parse, Bind, Describe and Execute with a Sync, under the same conditions, routed by its bound values; a
 * client's named statement is bound to the shard connection's own prepared statement instead of being parsed again
 * ({@code PgPreparedStatements}). Both are relayed from the client's event loop when nothing needs waiting for
 * ({@link #tryRelayOnLoop}, {@link #tryRelayExtendedOnLoop}). Everything else takes the JDBC path, so a statement
 * qualifies only when nothing the proxy does on that path could change the answer:
 * <ul>
 *   <li>the session is idle: no transaction block (the front end checks that, and that no error is pending), no pinned
 *       or reserved connection, no cursor; its settings (SET …, and the startup parameters the front end replays) are
 *       given to the native connection first, as the JDBC path does;</li>
 *   <li>the statement is a SELECT that modifies nothing, uses no server state the proxy tracks (advisory locks, SQL
 *       PREPARE …) and calls no {@code set_config} (which would change the pooled connection's session unseen);</li>
 *   <li>the router sends it to one shard, unchanged: the shard statement is the analysed statement, its parameters the
 *       statement's own literals in order (not rewritten, no sequence ids, no dual write, not held).</li>
 * </ul>
 * The RowDescription keeps the shard's table OIDs only from the catalog shard, as on the JDBC path
 * ({@code JdbcBackendConnection#catalogTables}). The ErrorResponse is the shard's own, which for an unchanged statement
 * is what the JDBC path rebuilds from pgJDBC's fields (the same fields in the server's order, POSITION unmapped because
 * the text is the client's).
 */
final class PgNativeRelay {
    private PgNativeRelay() {}

    /**
     * Relays the query message {@code text}, whose one statement is {@code sql} (the front end's split of it: without
     * the final semicolon), if it qualifies and returns true; false: nothing ran, the caller runs it the usual way.
     */
    static boolean tryRelay(ProxyCore core, ProxySession session, SessionBackends backends, ServerStateRules rules, String sql,
            String text, io.netty.channel.Channel client, io.shardgate.proxy.exec.ShardWork.Tracker tracker) {
        PgNativeBackends natives = core.pgNativeBackends();
        if (!mayRelay(core, backends, sql, text)) {
            return false;
        }
        AnalysedStatement statement;
        List<Object> literals;
        try {
            Optional<SqlTemplate> template = SqlTemplate.of(sql, Dialect.POSTGRES);
            AnalysedStatement templated = template.map(t -> core.analyse(t.template(), Dialect.POSTGRES)).orElse(null);
            if (templated != null && templated.parameterCount() == template.get().literals().size()) {
                statement = templated;
                literals = template.get().literals();
            } else {
                statement = core.analyse(sql, Dialect.POSTGRES);
                literals = List.of();
            }
        } catch (RuntimeException e) {
            return false; // the usual path reports it
        }
        return routeAndRelay(core, session, rules, statement, literals,
                (shard, target) -> natives.relay(shard, text.getBytes(StandardCharsets.UTF_8), backends.settings(), target),
                client, tracker) != RelayOutcome.NOT_RELAYED;
    }

    /**
     * As {@link #tryRelay}, from the client's event loop, for a statement that needs no waiting there: its template's
     * analysis is cached and an idle connection living on that loop, carrying the session's settings, has a place in
     * the shard's budget ({@link PgNativeBackends#tryLease}). The shard's reply is then read and written to the client on
     * that loop, with no thread of the session's in between (issue 15: each hand-off between threads cost more than the
     * relay's own work). False when anything is missing: nothing ran, the caller takes the usual way. Once true,
     * {@code done} is called on the loop when the reply has ended; a cancelled statement ends on a virtual thread of its
     * own first (its interrupts may need waiting for), then {@code done} is called on the loop.
     */
    static boolean tryRelayOnLoop(ProxyCore core, ProxySession session, SessionBackends backends, ServerStateRules rules,
            RunningStatement deadline, String sql, String text, io.netty.channel.Channel client,
            io.shardgate.proxy.session.FrontendSession.LoopRelayDone done) {
        if (!mayRelay(core, backends, sql, text)) {
            return false;
        }
        AnalysedStatement statement;
        List<Object> literals;
        try {
            Optional<SqlTemplate> template = SqlTemplate.of(sql, Dialect.POSTGRES);
            AnalysedStatement templated = template.map(t -> core.analysedIfCached(t.template())).orElse(null);
            if (templated != null && templated.parameterCount() == template.get().literals().size()) {
                statement = templated;
                literals = template.get().literals();
            } else {
                return false; // the usual path analyses it (and caches it for the next time)
            }
        } catch (RuntimeException e) {
            return false;
        }
        byte[] message = text.getBytes(StandardCharsets.UTF_8);
        return relayOnLoop(core, session, backends, rules, deadline, statement, literals, client, done,
                (lease, target) -> lease.start(message, target));
    }

    /**
     * As {@link #tryRelayOnLoop} for an extended-protocol execution ({@link #tryRelayExtended}) of {@code sql}, whose
     * analysis must be cached already, bound to {@code parameters}.
     */
    static boolean tryRelayExtendedOnLoop(ProxyCore core, ProxySession session, SessionBackends backends, ServerStateRules rules,
            RunningStatement deadline, String sql, List<Object> parameters, PgExtendedRequest request,
            io.netty.channel.Channel client, io.shardgate.proxy.session.FrontendSession.LoopRelayDone done) {
        if (!mayRelay(core, backends, sql, sql)) {
            return false;
        }
        AnalysedStatement statement = core.analysedIfCached(sql);
        if (statement == null) {
            return false; // the usual path analyses it (and caches it for the next time)
        }
        return relayOnLoop(core, session, backends, rules, deadline, statement, parameters, client, done,
                (lease, target) -> lease.start(request, target));
    }

    /** How a relay from the event loop sends its request on the connection it leased. */
    private interface LoopStart {
        java.util.concurrent.CompletableFuture<PgRelaySink.Outcome> start(PgNativeBackends.LoopLease lease, PgRelayTarget target);
    }

    private static boolean relayOnLoop(ProxyCore core, ProxySession session, SessionBackends backends, ServerStateRules rules,
            RunningStatement deadline,
            AnalysedStatement statement, List<Object> literals, io.netty.channel.Channel client,
            io.shardgate.proxy.session.FrontendSession.LoopRelayDone done, LoopStart starter) {
        PgNativeBackends natives = core.pgNativeBackends();
        if (!statement.serverState().none() || statement.modifiesRows() || !SqlPrepared.isSelect(statement.sql())
                || statement.parameterCount() != literals.size()) {
            return false;
        }
        SnapshotGate.Ticket ticket = core.enter();
        boolean started = false;
        try {
            RoutingSnapshot snapshot = ticket.snapshot();
            RoutePlan plan;
            try {
                plan = core.router().route(statement, literals, snapshot);
            } catch (RuntimeException e) {
                return false;
            }
            if (!(plan instanceof RoutePlan.SingleShard single) || !unchanged(single.statement(), statement)) {
                return false;
            }
            ShardDefinition shard = snapshot.cluster().shard(single.statement().shard()).orElse(null);
            if (shard == null) {
                return false;
            }
            PgNativeBackends.LoopLease lease = natives.tryLease(shard, client.eventLoop(), backends.settings());
            if (lease == null) {
                return false;
            }
            if (!deadline.beginDetached()) {
                lease.giveBack();
                return false;
            }
            if (!statement.touchesShardedRows(snapshot.cluster())) {
                ticket.close(); // as on the usual path: reads of other tables never delay an acknowledgement
            }
            PgRelayTarget target = new PgRelayTarget(client, JdbcBackendConnection.isCatalogShard(shard.name(), core), deadline);
            long start = System.nanoTime();
            java.util.concurrent.CompletableFuture<PgRelaySink.Outcome> reply;
            try {
                reply = starter.start(lease, target);
            } catch (RuntimeException e) {
                // the connection was lost before the Query left: nothing ran
                lease.finish();
                if (!deadline.endDetached()) {
                    deadline.settleCancelled();
                }
                return false;
            }
            started = true;
            core.metrics().statement("single");
            SnapshotGate.Ticket held = ticket;
            reply.whenComplete((outcome, failure) -> {
                held.close();
                if (deadline.endDetached()) {
                    lease.finish();
                    ended(core, session, rules, deadline, shard, start, outcome, failure, lease, target, done);
                    return;
                }
                Thread.ofVirtual().name("shardgate-relay-end").start(() -> {
                    deadline.settleCancelled();
                    lease.finish();
                    client.eventLoop().execute(() -> ended(core, session, rules, deadline, shard, start, outcome, failure, lease,
                            target, done));
                });
            });
            return true;
        } finally {
            if (!started) {
                ticket.close();
            }
        }
    }

    /** The bookkeeping of a relay from the event loop once its connection is back, as {@link #relay} does it; then {@code done}. */
    private static void ended(ProxyCore core, ProxySession session, ServerStateRules rules, RunningStatement deadline,
            ShardDefinition shard, long start, PgRelaySink.Outcome outcome, Throwable failure, PgNativeBackends.LoopLease lease,
            PgRelayTarget target, io.shardgate.proxy.session.FrontendSession.LoopRelayDone done) {
        core.metrics().shardCall(shard.name(), System.nanoTime() - start, failure == null);
        if (failure != null) {
            rules.failed();
            done.done(null, deadline.answer(lease.failure(failure, target)));
            return;
        }
        session.relayed(shard.name(), 0, null);
        if (outcome.error() != null) {
            rules.failed();
            core.metrics().error("backend-" + outcome.error().sqlState()); // as the front end counts the errors it sends
            done.done(outcome.clientParseFailed() ? RelayOutcome.PARSE_FAILED : RelayOutcome.FAILED, null);
            return;
        }
        rules.seenRows(outcome.rows());
        done.done(RelayOutcome.ANSWERED, null);
    }

    /**
     * Relays an extended-protocol execution of the unnamed statement {@code sql} bound to {@code parameters} (decoded as
     * the front end decodes them, for routing), sent as {@code request}, when it qualifies as a simple query does (see
     * above) and the session has no open cursor or pinned connection.
     */
    static RelayOutcome tryRelayExtended(ProxyCore core, ProxySession session, SessionBackends backends, ServerStateRules rules,
            String sql, List<Object> parameters, PgExtendedRequest request, io.netty.channel.Channel client,
            io.shardgate.proxy.exec.ShardWork.Tracker tracker) {
        PgNativeBackends natives = core.pgNativeBackends();
        if (!mayRelay(core, backends, sql, sql)) {
            return RelayOutcome.NOT_RELAYED;
        }
        AnalysedStatement statement;
        try {
            statement = core.analyse(sql, Dialect.POSTGRES);
        } catch (RuntimeException e) {
            return RelayOutcome.NOT_RELAYED; // the usual path reports it
        }
        return routeAndRelay(core, session, rules, statement, parameters,
                (shard, target) -> natives.relayExtended(shard, request, backends.settings(), target), client, tracker);
    }

    /** How a qualifying statement reaches its shard. */
    private interface Relay {
        PgRelaySink.Outcome run(ShardDefinition shard, PgRelayTarget target);
    }

    private static RelayOutcome routeAndRelay(ProxyCore core, ProxySession session, ServerStateRules rules,
            AnalysedStatement statement, List<Object> parameters, Relay relay, io.netty.channel.Channel client,
            io.shardgate.proxy.exec.ShardWork.Tracker tracker) {
        if (!statement.serverState().none() || statement.modifiesRows() || !SqlPrepared.isSelect(statement.sql())
                || statement.parameterCount() != parameters.size()) {
            return RelayOutcome.NOT_RELAYED;
        }
        SnapshotGate.Ticket ticket = core.enter();
        try {
            RoutingSnapshot snapshot = ticket.snapshot();
            RoutePlan plan;
            try {
                plan = core.router().route(statement, parameters, snapshot);
            } catch (RuntimeException e) {
                return RelayOutcome.NOT_RELAYED;
            }
            if (!(plan instanceof RoutePlan.SingleShard single) || !unchanged(single.statement(), statement)) {
                return RelayOutcome.NOT_RELAYED;
            }
            ShardDefinition shard = snapshot.cluster().shard(single.statement().shard()).orElse(null);
            if (shard == null) {
                return RelayOutcome.NOT_RELAYED;
            }
            if (!statement.touchesShardedRows(snapshot.cluster())) {
                ticket.close(); // as on the usual path: reads of other tables never delay an acknowledgement
            }
            return relay(core, session, rules, shard, relay,
                    new PgRelayTarget(client, JdbcBackendConnection.isCatalogShard(shard.name(), core), tracker));
        } finally {
            ticket.close();
        }
    }

    /**
     * The router left the statement as the client wrote it: the same text (in the JDBC form the router hands on, {@code ?}
     * for {@code $n}), the literals in their order.
     */
    private static boolean unchanged(ShardStatement routed, AnalysedStatement statement) {
        if (!routed.sql().equals(statement.jdbcSql()) || routed.parameters().size() != statement.parameterCount()) {
            return false;
        }
        for (int i = 0; i < routed.parameters().size(); i++) {
            if (routed.parameters().get(i) != i) {
                return false;
            }
        }
        return true;
    }

    private static RelayOutcome relay(ProxyCore core, ProxySession session, ServerStateRules rules, ShardDefinition shard,
            Relay relay, PgRelayTarget target) {
        core.metrics().statement("single");
        long start = System.nanoTime();
        boolean ok = false;
        try {
            PgRelaySink.Outcome outcome = relay.run(shard, target);
            ok = true;
            if (outcome == null) {
                return RelayOutcome.NOT_RELAYED; // the connection could not take the session's settings; nothing ran
            }
            session.relayed(shard.name(), 0, null);
            if (outcome.error() != null) {
                rules.failed();
                core.metrics().error("backend-" + outcome.error().sqlState()); // as the front end counts the errors it sends
                return outcome.clientParseFailed() ? RelayOutcome.PARSE_FAILED : RelayOutcome.FAILED;
            }
            rules.seenRows(outcome.rows());
            return RelayOutcome.ANSWERED;
        } catch (RuntimeException e) {
            rules.failed();
            throw e;
        } finally {
            core.metrics().shardCall(shard.name(), System.nanoTime() - start, ok);
        }
    }

    /**
     * The session and the statement {@code sql} (sent as {@code text}) may be relayed at all: native connections are on, no
     * connection is pinned or reserved, no cursor, no {@code set_config} (which would change the pooled connection's
     * session unseen).
     */
    private static boolean mayRelay(ProxyCore core, SessionBackends backends, String sql, String text) {
        return core.pgNativeBackends() != null && !backends.hasPinned() && backends.reservedUses().isEmpty()
                && !PgCursors.isCursorStatement(sql) && !containsIgnoreCase(text, "set_config");
    }

    private static boolean containsIgnoreCase(String text, String word) {
        int n = word.length();
        for (int i = 0; i + n <= text.length(); i++) {
            if (text.regionMatches(true, i, word, 0, n)) {
                return true;
            }
        }
        return false;
    }
}

package io.shardgate.proxy.core;

import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.backend.mysql.NativeBackends;
import io.shardgate.proxy.backend.mysql.RelayTarget;
import io.shardgate.proxy.session.ClientCharset;
import io.shardgate.proxy.session.ClientSql;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.router.plan.ShardStatement;
import io.shardgate.router.SqlTemplate;
import java.util.Arrays;
import java.util.Optional;

/**
 * The relayed hot path (issue 15 item 3, {@code backend.native}): a MySQL text statement (or a server-side prepared
 * statement's execute, {@link #tryRelayExecute}) that one shard answers exactly
 * as it is written goes out as the client's bytes on a native connection, and the shard's reply packets go back to the
 * client as they come, never decoded into rows. Everything else takes the JDBC path, so a statement qualifies only when
 * nothing the proxy does on that path could change the answer:
 * <ul>
 *   <li>the session is in autocommit with no transaction, no pinned or reserved connection, no user variables, and
 *       the utf8mb4 client character set; its settings (SET …) are given to the native connection first, as the JDBC
 *       path does, so a pooled connection's session is the session's own;</li>
 *   <li>the statement is a SELECT that modifies nothing and uses no server state the proxy tracks (LAST_INSERT_ID(),
 *       FOUND_ROWS(), SQL PREPARE, user variables …), or a write that {@link NativeWriteRelay} relays;</li>
 *   <li>the router sends it to one shard, unchanged (not rewritten, no sequence ids, no dual write, not held), and
 *       that shard's database has the logical database's name (the column definitions name it).</li>
 * </ul>
 * Deciding costs an analysis and a routing, both of which the JDBC path would do anyway (the analysis is cached).
 */
final class NativeRelay {
    private NativeRelay() {}

    /** Relays {@code sql} if it qualifies and returns true; false: nothing ran, the caller runs it the usual way. */
    static boolean tryRelay(ProxyCore core, ProxySession session, SessionBackends backends, ServerStateRules rules, byte[] sql,
            RelayTarget target, io.shardgate.proxy.exec.ShardWork.Tracker tracker) {
        NativeBackends natives = core.nativeBackends();
        if (natives == null || !sessionQualifies(backends)) {
            return false;
        }
        Analysed analysed = analyse(sql, text -> core.analyse(text, Dialect.MYSQL));
        if (analysed == null) {
            return false;
        }
        if (analysed.statement().modifiesRows()) {
            return NativeWriteRelay.tryRelay(core, session, rules, analysed.statement(), analysed.literals(), sql, target, tracker);
        }
        if (!qualifies(analysed.statement())) {
            return false;
        }
        SnapshotGate.Ticket ticket = core.enter();
        try {
            ShardStatement shardStatement = routedAsWritten(core, analysed, sql, ticket.snapshot());
            if (shardStatement == null) {
                return false;
            }
            return relayRouted(core, session, rules, analysed.statement(), ticket, shardStatement,
                    shard -> natives.relay(shard, sql, backends.settings(), target, tracker));
        } finally {
            ticket.close();
        }
    }

    /** A text statement's analysis and where its literals are in the client's bytes. */
    private record Analysed(AnalysedStatement statement, SourceLiterals literals) {}

    private static boolean sessionQualifies(SessionBackends backends) {
        return !backends.hasPinned() && backends.reservedUses().isEmpty() && backends.variables().isEmpty();
    }

    private static boolean qualifies(AnalysedStatement statement) {
        return statement.serverState().none() && !statement.modifiesRows() && SqlPrepared.isSelect(statement.sql());
    }

    /** {@code sql} analysed by {@code analyser} (its template's analysis when it has one); null when that fails. */
    private static Analysed analyse(byte[] sql, java.util.function.Function<String, AnalysedStatement> analyser) {
        ClientSql client = ClientSql.of(sql, ClientCharset.UTF8MB4);
        try {
            Optional<SqlTemplate> template = SqlTemplate.of(client.text(), Dialect.MYSQL);
            AnalysedStatement templated = template.map(t -> analyser.apply(t.template())).orElse(null);
            if (templated != null && templated.parameterCount() == template.get().literals().size()) {
                return new Analysed(templated, new SourceLiterals(client, template.get()));
            }
            AnalysedStatement statement = analyser.apply(client.text());
            return statement == null ? null : new Analysed(statement, new SourceLiterals(client, null));
        } catch (RuntimeException e) {
            return null; // the usual path reports it
        }
    }

    /** The statement for the one shard that answers {@code sql} as the client wrote it; null when no such shard. */
    private static ShardStatement routedAsWritten(ProxyCore core, Analysed analysed, byte[] sql, RoutingSnapshot snapshot) {
        if (!(core.router().route(analysed.statement(), analysed.literals(), snapshot) instanceof RoutePlan.SingleShard single)) {
            return null;
        }
        ShardStatement shardStatement = single.statement();
        return Arrays.equals(analysed.literals().bytesFor(shardStatement), sql) ? shardStatement : null;
    }

    /**
     * {@link #tryRelay} from the client's event loop, where nothing may wait: relays {@code sql} when it qualifies as
     * there, its analysis is cached already (parsing a new statement is left to the session's thread), and its shard can
     * start it at once ({@link NativeBackends#relayFromLoop}). Null when nothing ran (the caller runs it the usual way);
     * else a future that completes, on an event loop, once the reply reached the client and the session's bookkeeping is
     * done, or fails with the exception to answer (when nothing reached the client) as tryRelay throws it.
     */
    static java.util.concurrent.CompletableFuture<Void> relayFromLoop(ProxyCore core, ProxySession session, SessionBackends backends,
            ServerStateRules rules, byte[] sql, RelayTarget target, RunningStatement running, java.util.concurrent.Executor blocking) {
        NativeBackends natives = core.nativeBackends();
        if (natives == null || !sessionQualifies(backends)) {
            return null;
        }
        Analysed analysed = analyse(sql, core::analysedIfCached);
        if (analysed == null || !qualifies(analysed.statement())) {
            return null;
        }
        return startFromLoop(core, session, rules, analysed.statement(), running, blocking, snapshot -> routedAsWritten(core, analysed, sql, snapshot),
                shard -> natives.relayFromLoop(shard, sql, backends.settings(), target, running, blocking));
    }

    /** {@link #tryRelayExecute} from the client's event loop, as {@link #relayFromLoop}. */
    static java.util.concurrent.CompletableFuture<Void> relayExecuteFromLoop(ProxyCore core, ProxySession session,
            SessionBackends backends, ServerStateRules rules, AnalysedStatement statement, byte[] sql, java.util.List<Object> parameters,
            byte[] packet, RelayTarget target, RunningStatement running, java.util.concurrent.Executor blocking) {
        NativeBackends natives = core.nativeBackends();
        if (natives == null || !sessionQualifies(backends) || !qualifies(statement)) {
            return null;
        }
        return startFromLoop(core, session, rules, statement, running, blocking, snapshot -> routedAsPrepared(core, statement, parameters, snapshot),
                shard -> natives.relayExecuteFromLoop(shard, sql, packet, backends.settings(), target, running, blocking));
    }

    /** Ends a detached statement before anything was sent for it: no connection of its was interrupted, nothing waits. */
    private static void endUnsent(RunningStatement running) {
        if (!running.endDetached()) {
            running.settleCancelled(); // tracks no connection yet: returns at once
        }
    }

    /** The statement for the one shard that runs the prepared {@code statement} as the client prepared it; else null. */
    private static ShardStatement routedAsPrepared(ProxyCore core, AnalysedStatement statement, java.util.List<Object> parameters,
            RoutingSnapshot snapshot) {
        RoutePlan plan;
        try {
            plan = core.router().route(statement, parameters, snapshot);
        } catch (RuntimeException e) {
            return null; // the usual path reports it
        }
        if (!(plan instanceof RoutePlan.SingleShard single) || !single.statement().sql().equals(statement.sql())
                || !inOrder(single.statement().parameters(), statement.parameterCount())) {
            return null;
        }
        return single.statement();
    }

    private static java.util.concurrent.CompletableFuture<Void> startFromLoop(ProxyCore core, ProxySession session,
            ServerStateRules rules, AnalysedStatement statement, RunningStatement running, java.util.concurrent.Executor blocking,
            java.util.function.Function<RoutingSnapshot, ShardStatement> route,
            java.util.function.Function<ShardDefinition, java.util.concurrent.CompletableFuture<io.shardgate.proxy.backend.mysql.RelaySink.Outcome>> relay) {
        SnapshotGate.Ticket ticket = core.enter();
        boolean started = false;
        try {
            RoutingSnapshot snapshot = ticket.snapshot();
            ShardStatement shardStatement = route.apply(snapshot);
            if (shardStatement == null) {
                return null;
            }
            ShardDefinition shard = snapshot.cluster().shard(shardStatement.shard()).orElse(null);
            if (shard == null || !NativeBackends.database(shard).equals(core.topology().logicalDatabase())
                    || !running.beginDetached()) {
                return null;
            }
            long start = System.nanoTime();
            java.util.concurrent.CompletableFuture<io.shardgate.proxy.backend.mysql.RelaySink.Outcome> relayed;
            try {
                relayed = relay.apply(shard);
            } catch (RuntimeException e) {
                endUnsent(running);
                throw e;
            }
            if (relayed == null) {
                endUnsent(running);
                return null;
            }
            started = true;
            if (!statement.touchesShardedRows(snapshot.cluster())) {
                ticket.close(); // as on the usual path: reads of other tables never delay an acknowledgement
            }
            core.metrics().statement("single");
            core.metrics().relayed(true);
            var done = new java.util.concurrent.CompletableFuture<Void>();
            relayed.whenComplete((outcome, failure) -> {
                ticket.close();
                core.metrics().shardCall(shardStatement.shard(), System.nanoTime() - start, failure == null);
                if (failure == null) {
                    session.relayed(shardStatement.shard(), outcome.warnings(), outcome.warningRows());
                    if (outcome.error() != null) {
                        rules.failed();
                        core.metrics().error("backend-" + outcome.error().errno());
                    } else {
                        rules.seenRows(outcome.rows());
                    }
                } else {
                    rules.failed();
                }
                Runnable answer = () -> {
                    if (failure == null) {
                        done.complete(null);
                    } else {
                        Throwable cause = failure instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null
                                ? ce.getCause() : failure;
                        done.completeExceptionally(cause instanceof RuntimeException e ? running.answerDetached(e) : cause);
                    }
                };
                if (running.endDetached()) {
                    answer.run();
                } else {
                    blocking.execute(() -> { // settling the cancel's interrupts may wait
                        running.settleCancelled();
                        answer.run();
                    });
                }
            });
            return done;
        } finally {
            if (!started) {
                ticket.close();
            }
        }
    }

    /**
     * Relays a COM_STMT_EXECUTE ({@code packet}) of the prepared statement {@code statement} (the client prepared
     * {@code sql}) when it qualifies as a text statement does (see above), routed by its {@code parameters}, and the
     * router sends it to one shard unchanged: the client's text and parameters, in their order. Returns false when
     * nothing ran.
     */
    static boolean tryRelayExecute(ProxyCore core, ProxySession session, SessionBackends backends, ServerStateRules rules,
            AnalysedStatement statement, byte[] sql, java.util.List<Object> parameters, byte[] packet, RelayTarget target,
            io.shardgate.proxy.exec.ShardWork.Tracker tracker) {
        NativeBackends natives = core.nativeBackends();
        if (natives == null || !sessionQualifies(backends)) {
            return false;
        }
        if (statement.modifiesRows()) {
            return NativeWriteRelay.tryRelayExecute(core, session, rules, statement, sql, parameters, packet, target, tracker);
        }
        if (!qualifies(statement)) {
            return false;
        }
        SnapshotGate.Ticket ticket = core.enter();
        try {
            ShardStatement shardStatement = routedAsPrepared(core, statement, parameters, ticket.snapshot());
            if (shardStatement == null) {
                return false;
            }
            return relayRouted(core, session, rules, statement, ticket, shardStatement,
                    shard -> natives.relayExecute(shard, sql, packet, backends.settings(), target, tracker));
        } finally {
            ticket.close();
        }
    }

    private static boolean inOrder(java.util.List<Integer> picked, int count) {
        if (picked.size() != count) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            if (picked.get(i) != i) {
                return false;
            }
        }
        return true;
    }

    /** The common tail: the shard's database must have the logical name; the relay runs and its outcome is recorded. */
    private static boolean relayRouted(ProxyCore core, ProxySession session, ServerStateRules rules, AnalysedStatement statement,
            SnapshotGate.Ticket ticket, ShardStatement shardStatement,
            java.util.function.Function<ShardDefinition, io.shardgate.proxy.backend.mysql.RelaySink.Outcome> relay) {
        RoutingSnapshot snapshot = ticket.snapshot();
        ShardDefinition shard = snapshot.cluster().shard(shardStatement.shard()).orElse(null);
        if (shard == null || !NativeBackends.database(shard).equals(core.topology().logicalDatabase())) {
            return false;
        }
        if (!statement.touchesShardedRows(snapshot.cluster())) {
            ticket.close(); // as on the usual path: reads of other tables never delay an acknowledgement
        }
        core.metrics().statement("single");
        long start = System.nanoTime();
        boolean ok = false;
        try {
            var outcome = relay.apply(shard);
            ok = true;
            if (outcome == null) {
                return false; // the connection could not take the session's settings; nothing ran
            }
            core.metrics().relayed(false);
            session.relayed(shardStatement.shard(), outcome.warnings(), outcome.warningRows());
            if (outcome.error() != null) {
                rules.failed();
                core.metrics().error("backend-" + outcome.error().errno()); // as the front end counts the errors it sends
            } else {
                rules.seenRows(outcome.rows());
            }
            return true;
        } catch (RuntimeException e) {
            rules.failed();
            throw e;
        } finally {
            core.metrics().shardCall(shardStatement.shard(), System.nanoTime() - start, ok);
        }
    }
}

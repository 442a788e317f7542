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
        if (natives == null || backends.hasPinned() || !backends.reservedUses().isEmpty() || !backends.variables().isEmpty()) {
            return false;
        }
        ClientSql client = ClientSql.of(sql, ClientCharset.UTF8MB4);
        AnalysedStatement statement;
        SourceLiterals literals;
        try {
            Optional<SqlTemplate> template = SqlTemplate.of(client.text(), Dialect.MYSQL);
            AnalysedStatement templated = template.map(t -> core.analyse(t.template(), Dialect.MYSQL)).orElse(null);
            if (templated != null && templated.parameterCount() == template.get().literals().size()) {
                statement = templated;
                literals = new SourceLiterals(client, template.get());
            } else {
                statement = core.analyse(client.text(), Dialect.MYSQL);
                literals = new SourceLiterals(client, null);
            }
        } catch (RuntimeException e) {
            return false; // the usual path reports it
        }
        if (statement.modifiesRows()) {
            return NativeWriteRelay.tryRelay(core, session, rules, statement, literals, sql, target, tracker);
        }
        if (!statement.serverState().none() || !SqlPrepared.isSelect(statement.sql())) {
            return false;
        }
        SnapshotGate.Ticket ticket = core.enter();
        try {
            RoutingSnapshot snapshot = ticket.snapshot();
            if (!(core.router().route(statement, literals, snapshot) instanceof RoutePlan.SingleShard single)) {
                return false;
            }
            ShardStatement shardStatement = single.statement();
            if (!Arrays.equals(literals.bytesFor(shardStatement), sql)) {
                return false;
            }
            return relayRouted(core, session, rules, statement, ticket, shardStatement,
                    shard -> natives.relay(shard, sql, backends.settings(), target, tracker));
        } finally {
            ticket.close();
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
        if (natives == null || backends.hasPinned() || !backends.reservedUses().isEmpty() || !backends.variables().isEmpty()) {
            return false;
        }
        if (statement.modifiesRows()) {
            return NativeWriteRelay.tryRelayExecute(core, session, rules, statement, sql, parameters, packet, target, tracker);
        }
        if (!statement.serverState().none() || !SqlPrepared.isSelect(statement.sql())) {
            return false;
        }
        SnapshotGate.Ticket ticket = core.enter();
        try {
            RoutePlan plan;
            try {
                plan = core.router().route(statement, parameters, ticket.snapshot());
            } catch (RuntimeException e) {
                return false; // the usual path reports it
            }
            if (!(plan instanceof RoutePlan.SingleShard single) || !single.statement().sql().equals(statement.sql())
                    || !inOrder(single.statement().parameters(), statement.parameterCount())) {
                return false;
            }
            return relayRouted(core, session, rules, statement, ticket, single.statement(),
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

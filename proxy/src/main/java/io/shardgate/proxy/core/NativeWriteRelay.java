package io.shardgate.proxy.core;

import io.shardgate.cluster.ShardDefinition;
import io.shardgate.proxy.backend.mysql.NativeBackends;
import io.shardgate.proxy.backend.mysql.RelaySink;
import io.shardgate.proxy.backend.mysql.RelayTarget;
import io.shardgate.proxy.backend.mysql.WriteReply;
import io.shardgate.proxy.exec.ShardWork;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.RoutedStatement;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShardStatement;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Writes on the relayed path (issue 15, {@code backend.native}): an INSERT, REPLACE, UPDATE or DELETE in autocommit
 * that the router sends to one shard goes out on a native connection, and the shard's OK (or error) goes back to the
 * client as the shard sent it. It qualifies as a read does in {@link NativeRelay} (autocommit, no transaction, no pinned
 * or reserved connection, no user variables, utf8mb4), and further:
 * <ul>
 *   <li>it uses no server state the proxy tracks ({@code LAST_INSERT_ID()}, user variables …) and returns no rows
 *       ({@code RETURNING});</li>
 *   <li>the router plans it as one plain shard statement ({@link RoutePlan.SingleShard}): dual writes to moving slots,
 *       held writes (slots in cutover, keys being split or merged), counter writes to split hot keys (several
 *       statements), broadcast writes, rejected statements and INSERTs without a column list take the JDBC path, which
 *       runs any other single-shard plan exactly as this does (one statement on one connection, nothing more);</li>
 *   <li>the shard statement is the client's bytes, or, for a text INSERT whose ids the proxy filled from a cluster
 *       sequence, the client's text with the ids written in (every literal spelled as the client spelled it), sent as a
 *       COM_QUERY. Its OK then carries the first generated id as its last insert id (see {@link WriteReply}), as the
 *       JDBC path reports it. A prepared statement's execute qualifies only unchanged (no generated ids).</li>
 * </ul>
 * The routing is the session's own (see {@link ProxySession}'s {@code run}): under a held snapshot, with the session's
 * ids, the fence checked and the written keys counted for hot keys once the statement runs. A write the relay passes on
 * after its route took ids keeps them for the JDBC path's route ({@link SessionIds#keepForRetry}). Afterwards the session
 * knows what it knows after the JDBC path: {@code ROW_COUNT()} (the affected rows of the client's
 * {@code CLIENT_FOUND_ROWS} flag: the native pools are kept per flag), {@code LAST_INSERT_ID()}, the warnings (listed
 * on the same connection) and the shard that answered.
 */
final class NativeWriteRelay {
    private static final Pattern RETURNING = Pattern.compile("(?i)\\bRETURNING\\b");

    private NativeWriteRelay() {}

    /** What is sent for the routed shard statement: its bytes and how, or null when it cannot go out on the relay. */
    @FunctionalInterface
    private interface Send {
        Function<ShardDefinition, RelaySink.Outcome> prepare(ShardStatement statement, SessionIds ids, WriteReply reply);
    }

    /** A text write ({@code sql}, the client's bytes, analysed as {@code statement} with {@code literals}). */
    static boolean tryRelay(ProxyCore core, ProxySession session, ServerStateRules rules, AnalysedStatement statement,
            SourceLiterals literals, byte[] sql, RelayTarget target, ShardWork.Tracker tracker) {
        NativeBackends natives = core.nativeBackends();
        return qualifies(statement) && relay(core, session, rules, statement, literals, (shardStatement, ids, reply) -> {
            byte[] bytes = ids.generated() ? literals.bytesFor(shardStatement, ids.issued()) : literals.bytesFor(shardStatement);
            if (!ids.generated() && !Arrays.equals(bytes, sql)) {
                return null; // rewritten otherwise: the JDBC path sends what it sends
            }
            return shard -> natives.relay(shard, bytes, session.backends().settings(), target, tracker, reply);
        });
    }

    /** A prepared write's COM_STMT_EXECUTE ({@code packet}), relayed only as the client prepared it. */
    static boolean tryRelayExecute(ProxyCore core, ProxySession session, ServerStateRules rules, AnalysedStatement statement,
            byte[] sql, List<Object> parameters, byte[] packet, RelayTarget target, ShardWork.Tracker tracker) {
        NativeBackends natives = core.nativeBackends();
        return qualifies(statement) && relay(core, session, rules, statement, parameters, (shardStatement, ids, reply) -> {
            if (ids.generated() || !shardStatement.sql().equals(statement.sql())
                    || !inOrder(shardStatement.parameters(), statement.parameterCount())) {
                return null;
            }
            return shard -> natives.relayExecute(shard, sql, packet, session.backends().settings(), target, tracker, reply);
        });
    }

    private static boolean qualifies(AnalysedStatement statement) {
        return statement.modifiesRows() && statement.serverState().none() && !RETURNING.matcher(statement.sql()).find();
    }

    private static boolean inOrder(List<Integer> picked, int count) {
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

    private static boolean relay(ProxyCore core, ProxySession session, ServerStateRules rules, AnalysedStatement statement,
            List<Object> parameters, Send send) {
        SessionIds ids = session.ids();
        SnapshotGate.Ticket ticket = core.enter();
        try {
            var snapshot = ticket.snapshot();
            ids.begin();
            RoutedStatement routed;
            try {
                routed = core.router().routeStatement(statement, parameters, snapshot, session.nextSpread(), ids);
            } catch (RuntimeException e) {
                ids.keepForRetry();
                return false; // the usual path reports it
            }
            WriteReply reply = ids.generated() ? WriteReply.withInsertId(ids.first()) : WriteReply.asSent();
            Function<ShardDefinition, RelaySink.Outcome> relay = routed.plan() instanceof RoutePlan.SingleShard single
                    && !routed.writesMovingSlots() ? send.prepare(single.statement(), ids, reply) : null;
            ShardDefinition shard = relay == null ? null
                    : snapshot.cluster().shard(((RoutePlan.SingleShard) routed.plan()).statement().shard()).orElse(null);
            if (shard == null || !NativeBackends.database(shard).equals(core.topology().logicalDatabase())) {
                ids.keepForRetry();
                return false;
            }
            if (routed.writesShardedRows()) {
                session.checkFence(routed); // refused before anything runs, as on the usual path
            }
            return run(core, session, rules, routed, shard, relay, reply);
        } catch (RuntimeException e) {
            rules.failed();
            throw e;
        } finally {
            ticket.close(); // held until the write is answered: a newer slot map is acknowledged only after it
        }
    }

    private static boolean run(ProxyCore core, ProxySession session, ServerStateRules rules, RoutedStatement routed,
            ShardDefinition shard, Function<ShardDefinition, RelaySink.Outcome> relay, WriteReply reply) {
        SessionIds ids = session.ids();
        long start = System.nanoTime();
        boolean ok = false;
        RelaySink.Outcome outcome;
        try {
            outcome = relay.apply(shard);
            ok = true;
        } catch (RuntimeException e) {
            ran(core, routed); // it may have reached the shard
            throw e;
        } finally {
            core.metrics().shardCall(shard.name(), System.nanoTime() - start, ok);
        }
        if (outcome == null) {
            ids.keepForRetry();
            return false; // the connection could not take the session's settings, or the shard refused the prepare: nothing ran
        }
        ran(core, routed);
        session.relayed(shard.name(), outcome.warnings(), outcome.warningRows());
        if (outcome.error() != null) {
            rules.failed();
            core.metrics().error("backend-" + outcome.error().errno());
            ids.begin();
            return true;
        }
        WriteReply.Ok answer = reply.ok();
        if (answer == null) {
            rules.seenRows(outcome.rows()); // not an OK: a result set went to the client as it came
            ids.begin();
            return true;
        }
        long previous = session.lastInsertId();
        if (answer.lastInsertId() != 0) {
            session.lastInsertId(answer.lastInsertId()); // the shard's own AUTO_INCREMENT, as the JDBC path remembers it
        }
        if (ids.generated()) {
            session.lastInsertId(ids.first());
        } else if (ids.touched()) {
            session.lastInsertId(previous); // explicit ids leave LAST_INSERT_ID() as it was
        }
        ids.begin();
        rules.seen(StatementResult.Update.of(answer.affectedRows()));
        return true;
    }

    /** Counted as the usual path counts a statement it ran: in the metrics, and its written keys for hot keys. */
    private static void ran(ProxyCore core, RoutedStatement routed) {
        core.metrics().statement("single");
        if (routed.writesShardedRows()) {
            routed.writtenKeys().forEach(core.countWrite());
        }
    }
}

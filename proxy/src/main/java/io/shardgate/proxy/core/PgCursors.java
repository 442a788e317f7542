package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.error.Rejections;
import io.shardgate.proxy.execute.PlanExecutor;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShardStatement;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PostgreSQL SQL cursors of one session ({@code DECLARE … CURSOR FOR query}, FETCH, MOVE, CLOSE), as psycopg2's named
 * cursors use them. A cursor lives on one backend connection, so one is served when its query runs on one shard (a
 * single-shard or table-less query): the DECLARE runs, as the client wrote it, on that shard's connection of the open
 * transaction, and every FETCH, MOVE and CLOSE naming the cursor runs there, so rows, counts and errors are the
 * server's. Refused with the reason, before anything runs: a cursor over a query that reads several shards (the proxy
 * would have to merge every FETCH), {@code WITH HOLD} (it outlives the transaction, which would need the connection
 * reserved), and {@code BINARY} (the proxy reads rows as text).
 *
 * <p>Outside a transaction block DECLARE fails with the server's 25P01, as on one server; the cursors go when the
 * transaction ends. A cursor this session does not know gets the server's 34000.
 */
final class PgCursors {
    private static final String NAME = "(\"(?:[^\"]|\"\")+\"|[\\p{L}_][\\p{L}\\p{N}_$]*)";
    private static final Pattern DECLARE = Pattern.compile("(?is)^\\s*DECLARE\\s+" + NAME
            + "\\s+((?:(?:BINARY|ASENSITIVE|INSENSITIVE|SCROLL|NO\\s+SCROLL)\\s+)*)CURSOR\\s+(?:(WITH|WITHOUT)\\s+HOLD\\s+)?FOR\\s+(.+?)[\\s;]*$");
    /** FETCH / MOVE [direction] [FROM | IN] name, CLOSE name | ALL: the name is the last word. */
    private static final Pattern NAMED = Pattern.compile("(?is)^\\s*(FETCH|MOVE|CLOSE)\\b(.*?)\\s*" + NAME + "[\\s;]*$");

    private final ProxySession session;
    private final ProxyCore core;
    private final PlanExecutor executor;
    /** The shard each open cursor runs on, by name. */
    private final Map<String, String> shards = new HashMap<>();

    PgCursors(ProxySession session, ProxyCore core, PlanExecutor executor) {
        this.session = session;
        this.core = core;
        this.executor = executor;
    }

    /** Whether {@code sql} is a cursor statement this class serves (PostgreSQL, by its first word). */
    static boolean isCursorStatement(String sql) {
        String s = sql.stripLeading();
        int end = 0;
        while (end < s.length() && Character.isLetter(s.charAt(end))) {
            end++;
        }
        return switch (s.substring(0, end).toUpperCase(Locale.ROOT)) {
            case "DECLARE", "FETCH", "MOVE", "CLOSE" -> true;
            default -> false;
        };
    }

    StatementResult run(String sql) {
        if (!session.inTransaction()) {
            shards.clear(); // cursors without HOLD end with their transaction
        }
        Matcher declare = DECLARE.matcher(sql);
        if (declare.matches()) {
            return declare(sql, name(declare.group(1)), declare.group(2), declare.group(3), declare.group(4));
        }
        if (sql.stripLeading().toUpperCase(Locale.ROOT).startsWith("DECLARE")) {
            throw new ProxyException(ErrorCode.PARSE_ERROR, "Shardgate cannot read this DECLARE; write DECLARE name [NO SCROLL]"
                    + " CURSOR [WITHOUT HOLD] FOR query");
        }
        Matcher named = NAMED.matcher(sql);
        if (!named.matches()) {
            throw new ProxyException(ErrorCode.PARSE_ERROR, "Shardgate cannot read the cursor name of this statement");
        }
        String verb = named.group(1).toUpperCase(Locale.ROOT);
        String name = name(named.group(3));
        if (verb.equals("CLOSE") && named.group(2).isBlank() && named.group(3).equalsIgnoreCase("ALL")) {
            return closeAll(sql);
        }
        String shard = shards.get(name);
        if (shard == null) {
            throw ProxyException.backend(0, "34000", "cursor \"" + name + "\" does not exist", null);
        }
        StatementResult result = executor.single(new ShardStatement(shard, sql, List.of()), List.of());
        if (verb.equals("CLOSE")) {
            shards.remove(name);
        }
        return result;
    }

    /**
     * The result columns of a cursor statement, as a server describes it: a FETCH the cursor's columns (described on its
     * shard's connection, where the cursor is), DECLARE, MOVE and CLOSE none.
     */
    List<io.shardgate.proxy.session.ColumnInfo> describe(String sql) {
        if (!session.inTransaction()) {
            shards.clear();
        }
        Matcher named = NAMED.matcher(sql);
        if (!named.matches() || !named.group(1).equalsIgnoreCase("FETCH")) {
            return List.of();
        }
        String name = name(named.group(3));
        String shard = shards.get(name);
        if (shard == null) {
            throw ProxyException.backend(0, "34000", "cursor \"" + name + "\" does not exist", null);
        }
        return executor.describe(sql, shard);
    }

    /** The transaction ended: so did its cursors. */
    void transactionEnded() {
        shards.clear();
    }

    private StatementResult declare(String sql, String name, String options, String hold, String query) {
        if (options.toUpperCase(Locale.ROOT).contains("BINARY")) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "DECLARE … BINARY CURSOR is not supported by Shardgate: the proxy"
                    + " reads a shard's rows as text; declare the cursor without BINARY");
        }
        if (hold != null && hold.equalsIgnoreCase("WITH")) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "DECLARE … CURSOR WITH HOLD is not supported by Shardgate yet: the"
                    + " cursor would outlive the transaction on one backend connection, which the proxy does not keep for it;"
                    + " declare it WITHOUT HOLD inside the transaction");
        }
        if (!session.inTransaction()) {
            throw ProxyException.backend(0, "25P01", "DECLARE CURSOR can only be used in transaction blocks", null);
        }
        if (shards.containsKey(name)) {
            throw ProxyException.backend(0, "42P03", "cursor \"" + name + "\" already exists", null);
        }
        String shard = shardOf(query);
        StatementResult result = executor.single(new ShardStatement(shard, sql, List.of()), List.of());
        shards.put(name, shard);
        return result;
    }

    /** The one shard {@code query} runs on, or a refusal with the reason. */
    private String shardOf(String query) {
        RoutingSnapshot snapshot = core.snapshot();
        AnalysedStatement statement = core.analyse(query, snapshot.cluster().dialect());
        if (statement.parameterCount() > 0) {
            throw new ProxyException(ErrorCode.UNSUPPORTED, "DECLARE … CURSOR with parameters ($n) is not supported by Shardgate;"
                    + " write the values into the query");
        }
        RoutePlan plan = core.router().route(statement, List.of(), snapshot);
        return switch (plan) {
            case RoutePlan.SingleShard s -> s.statement().shard();
            case RoutePlan.AnyShard a -> a.statement().shard();
            case RoutePlan.Rejected r -> throw Rejections.of(r);
            case RoutePlan.MultiShard m -> throw severalShards();
            case RoutePlan.Broadcast b -> throw severalShards();
            case RoutePlan.DualWrite d -> throw severalShards();
            case RoutePlan.Held h -> throw severalShards();
            case RoutePlan.Session c -> throw new ProxyException(ErrorCode.UNSUPPORTED, "DECLARE … CURSOR FOR a session statement"
                    + " is not supported by Shardgate");
        };
    }

    private static ProxyException severalShards() {
        return new ProxyException(ErrorCode.UNSUPPORTED, "DECLARE … CURSOR is supported by Shardgate over a query"
                    + " that runs on one shard only (restrict it to one shard key value): a cursor lives on one backend"
                    + " connection, and this query reads several shards, whose rows the proxy would have to merge at every FETCH");
    }

    private StatementResult closeAll(String sql) {
        Set<String> open = new LinkedHashSet<>(shards.values());
        StatementResult result = StatementResult.Update.of(0);
        for (String shard : open) {
            result = executor.single(new ShardStatement(shard, sql, List.of()), List.of());
        }
        shards.clear();
        return result;
    }

    /** A cursor name as the server folds it: unquoted lower-case, quoted as written. */
    private static String name(String written) {
        if (written.startsWith("\"")) {
            return written.substring(1, written.length() - 1).replace("\"\"", "\"");
        }
        return written.toLowerCase(Locale.ROOT);
    }
}

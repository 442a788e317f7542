package io.shardgate.proxy.core;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The warnings of one client statement, gathered from every shard call that reported some: the count (the sum of the
 * shards' counts, what the client's OK or EOF packet carries) and the rows each shard's {@code SHOW WARNINGS} listed
 * right after the call, on the same connection, before the connection went back to the pool. A later SHOW WARNINGS (or
 * SHOW COUNT(*) WARNINGS, SHOW ERRORS) of the client is answered from them, as the server would from its list. When
 * warnings came from several shard calls, the count is exact but their order is not one a server would give (it lists
 * them as it met them, row by row), so listing them is refused with the reason; SHOW COUNT(*) WARNINGS still answers.
 * Mutable; a scatter's shard calls may add from several threads at once, so its methods lock.
 */
final class StatementWarnings {
    private static final Pattern SHOW = Pattern.compile(
            "(?is)\\s*SHOW\\s+(?:(COUNT\\s*\\(\\s*\\*\\s*\\))\\s+)?(WARNINGS|ERRORS)(?:\\s+LIMIT\\s+(\\d+)(?:\\s*,\\s*(\\d+))?)?\\s*;?\\s*");

    private long count;
    /** The shards whose calls reported warnings, one entry per call. */
    private final List<String> sources = new ArrayList<>();
    private List<ColumnInfo> columns;
    private boolean unlisted;
    private final List<byte[][]> rows = new ArrayList<>();

    /** The statement's warning count so far. */
    synchronized long count() {
        return count;
    }

    /** A call on {@code shard} reported {@code warnings} and its connection listed {@code shown} (its SHOW WARNINGS). */
    synchronized void add(String shard, int warnings, StatementResult.Rows shown) {
        count += warnings;
        sources.add(shard);
        if (columns == null) {
            columns = shown.columns();
        }
        rows.addAll(shown.rows());
    }

    /**
     * A statement relayed from {@code shard} on a native connection told the client of {@code warnings} warnings, which
     * the relay did not read: counted, and listing them is refused.
     */
    synchronized void addUnlisted(String shard, int warnings) {
        count += warnings;
        sources.add(shard);
        unlisted = true;
    }

    /** {@code result} with the statement's warning count in place of the one shard's or the merge's. */
    synchronized StatementResult withCount(StatementResult result) {
        int wire = (int) Math.min(count, 0xFFFF);
        return switch (result) {
            case StatementResult.Update u when u.warnings() != wire ->
                    new StatementResult.Update(u.affectedRows(), u.lastInsertId(), wire, u.info(), u.queryStatus());
            case StatementResult.Rows r when r.warnings() != wire -> new StatementResult.Rows(r.columns(), r.rows(), wire);
            default -> result;
        };
    }

    /**
     * The answer to a SHOW WARNINGS / ERRORS statement {@code sql} from these warnings, listing at most
     * {@code maxErrorCount} (the session's {@code max_error_count}, each shard kept that many; asked only for a list); empty when there are none
     * to answer from or the statement has a form this does not know.
     */
    synchronized Optional<StatementResult> answer(String sql, java.util.function.LongSupplier maxErrorCount) {
        Matcher m = SHOW.matcher(sql);
        if (count == 0 || columns == null && !unlisted || !m.matches()) {
            return Optional.empty();
        }
        boolean errors = m.group(2).toUpperCase(Locale.ROOT).equals("ERRORS");
        List<byte[][]> listed = new ArrayList<>();
        for (byte[][] row : rows) {
            if (!errors || "Error".equals(new String(row[0], StandardCharsets.UTF_8))) {
                listed.add(row);
            }
        }
        if (m.group(1) != null) {
            long n = errors ? listed.size() : count;
            return Optional.of(new StatementResult.Rows(List.of(ColumnInfo.computedCounter("@@session." + (errors ? "error_count"
                    : "warning_count"))),
                    List.<byte[][]>of(new byte[][] {Long.toString(n).getBytes(StandardCharsets.US_ASCII)}), 0));
        }
        if (unlisted) {
            throw new io.shardgate.proxy.error.ProxyException(io.shardgate.proxy.error.ErrorCode.UNSUPPORTED, sql.strip()
                    + ": the previous statement's " + count + " warnings were relayed from shard " + sources.getFirst()
                    + " with its reply (backend.native), which does not keep them; SHOW COUNT(*) WARNINGS gives their"
                    + " number, or turn backend.native off to list them");
        }
        if (sources.size() > 1) {
            throw new io.shardgate.proxy.error.ProxyException(io.shardgate.proxy.error.ErrorCode.UNSUPPORTED, sql.strip()
                    + ": the previous statement's " + count + " warnings came from " + sources.size() + " shard calls (shards "
                    + String.join(", ", new java.util.LinkedHashSet<>(sources)) + "), so Shardgate cannot list them in the"
                    + " order one server would; SHOW COUNT(*) WARNINGS gives their number, or run the statement on one shard"
                    + " (with its shard key) to see them");
        }
        listed = listed.subList(0, (int) Math.min(listed.size(), maxErrorCount.getAsLong()));
        long offset = 0;
        long limit = Long.MAX_VALUE;
        if (m.group(3) != null) {
            limit = Long.parseLong(m.group(3));
            if (m.group(4) != null) {
                offset = limit;
                limit = Long.parseLong(m.group(4));
            }
        }
        int from = (int) Math.min(offset, listed.size());
        int to = (int) Math.min(listed.size(), from + Math.min(limit, Integer.MAX_VALUE));
        return Optional.of(new StatementResult.Rows(columns, listed.subList(from, to), 0));
    }
}

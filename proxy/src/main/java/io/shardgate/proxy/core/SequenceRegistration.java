package io.shardgate.proxy.core;

import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.RoutingSnapshot;
import io.shardgate.state.SequenceDeclaration;
import io.shardgate.state.StoreException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After a CREATE TABLE of a sharded table with an AUTO_INCREMENT / serial / identity column has run on every
 * shard, registers the table's cluster sequence (DESIGN.md, "Generated ids"), so that the proxies fill the column
 * and the shards' own counters never generate an id. The sequence starts above the column's largest value on every
 * shard (1 for a new table; CREATE TABLE IF NOT EXISTS may meet one with rows), and the CREATE TABLE answers once every
 * live proxy routes with the declaration, so the application's next INSERT, through any proxy, takes cluster ids.
 */
final class SequenceRegistration {
    private static final Logger LOG = LoggerFactory.getLogger(SequenceRegistration.class);
    static final Duration BARRIER_TIMEOUT = Duration.ofSeconds(10);

    private SequenceRegistration() {}

    static StatementResult afterDdl(ProxyCore core, SessionBackends backends, AnalysedStatement statement, RoutingSnapshot snapshot,
            StatementResult result) {
        var found = statement.sequenceToRegister(snapshot.cluster());
        if (found.isEmpty()) {
            return result;
        }
        String table = found.get().getKey();
        String column = found.get().getValue();
        try {
            long start = Math.addExact(largestValue(core, backends, snapshot, table, column), 1);
            SequenceDeclaration.Declared d = SequenceDeclaration.declare(core.store(), table, column, Math.max(start, 1),
                    BARRIER_TIMEOUT);
            core.sequences().forget(table);
            if (!d.live()) {
                LOG.warn("sequence of {}.{} registered (next id {}), but not every live proxy applied epoch {} within {} s",
                        table, column, d.next(), d.epoch(), BARRIER_TIMEOUT.toSeconds());
            } else {
                LOG.info("sequence of {}.{} registered, next id {}, epoch {}", table, column, d.next(), d.epoch());
            }
            return result;
        } catch (StoreException | IllegalArgumentException e) {
            throw new ProxyException(ErrorCode.SEQUENCE_UNAVAILABLE, "table " + table + " was created on every shard, but the"
                    + " cluster sequence of its column " + column + " could not be registered (" + e.getMessage() + "); run"
                    + " 'shardgate sequence add " + table + " --column " + column + "' before inserting rows", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProxyException(ErrorCode.SEQUENCE_UNAVAILABLE, "interrupted while registering the cluster sequence of "
                    + table + "; run 'shardgate sequence add " + table + " --column " + column + "'", e);
        }
    }

    /** The largest value of the column over every shard (0 where the table is empty). */
    private static long largestValue(ProxyCore core, SessionBackends backends, RoutingSnapshot snapshot, String table,
            String column) {
        long max = 0;
        for (String shard : snapshot.cluster().shardNames()) {
            StatementResult r = backends.query(shard, "SELECT MAX(" + column + ") FROM " + table, List.of(),
                    core.topology().logicalDatabase());
            if (r instanceof StatementResult.Rows rows && !rows.rows().isEmpty() && rows.rows().getFirst()[0] != null) {
                max = Math.max(max, Long.parseLong(new String(rows.rows().getFirst()[0], StandardCharsets.UTF_8)));
            }
        }
        return max;
    }
}

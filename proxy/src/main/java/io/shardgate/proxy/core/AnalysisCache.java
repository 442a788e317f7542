package io.shardgate.proxy.core;

import io.shardgate.cluster.Dialect;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.Router;
import io.shardgate.router.StatementLimits;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Analysed statements by SQL text, least recently used evicted first, shared by every session: a
 * statement is parsed and analysed once however many clients send it. Router.analyse is thread-safe
 * and an AnalysedStatement caches its analysis per cluster definition.
 */
final class AnalysisCache {
    /**
     * Longer statements (big IN lists, bulk INSERTs) are analysed each time instead: they are rarely sent twice, and
     * a cache of 2,048 entries of up to max-packet-bytes each could hold gigabytes.
     */
    static final int MAX_CACHED_SQL_CHARS = 64 * 1024;

    private final Map<String, AnalysedStatement> entries;
    private final StatementLimits limits;

    AnalysisCache(int capacity, StatementLimits limits) {
        this.limits = java.util.Objects.requireNonNull(limits, "limits");
        this.entries = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, AnalysedStatement> eldest) {
                return size() > capacity;
            }
        };
    }

    AnalysedStatement get(String sql, Dialect dialect, io.shardgate.router.MySqlLexer.Gate gate) {
        synchronized (entries) {
            AnalysedStatement hit = entries.get(sql);
            if (hit != null) {
                return hit;
            }
        }
        AnalysedStatement analysed = Router.analyse(sql, dialect, gate, limits); // outside the lock: parsing is the slow part
        if (sql.length() > MAX_CACHED_SQL_CHARS) {
            return analysed;
        }
        synchronized (entries) {
            entries.put(sql, analysed);
        }
        return analysed;
    }

    /** The cached analysis of {@code sql}, or null: never parses (for callers that must not spend long, an event loop). */
    AnalysedStatement cached(String sql) {
        synchronized (entries) {
            return entries.get(sql);
        }
    }

    /** Forgets every analysis: the shards' version, which decides what executable comments mean, became known. */
    void clear() {
        synchronized (entries) {
            entries.clear();
        }
    }
}

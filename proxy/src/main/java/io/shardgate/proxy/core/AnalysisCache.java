package io.shardgate.proxy.core;

import io.shardgate.cluster.Dialect;
import io.shardgate.router.AnalysedStatement;
import io.shardgate.router.Router;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Analysed statements by SQL text, least recently used evicted first, shared by every session: a
 * statement is parsed and analysed once however many clients send it. Router.analyse is thread-safe
 * and an AnalysedStatement caches its analysis per cluster definition.
 */
final class AnalysisCache {
    private final Map<String, AnalysedStatement> entries;

    AnalysisCache(int capacity) {
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
        AnalysedStatement analysed = Router.analyse(sql, dialect, gate); // outside the lock: parsing is the slow part
        synchronized (entries) {
            entries.put(sql, analysed);
        }
        return analysed;
    }

    /** Forgets every analysis: the shards' version, which decides what executable comments mean, became known. */
    void clear() {
        synchronized (entries) {
            entries.clear();
        }
    }
}

package io.shardgate.router;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import java.util.Objects;

/**
 * A statement parsed once and analysed per cluster definition, for the proxy to keep with a prepared
 * statement (or in a statement cache) so that routing at execute time neither parses nor analyses.
 * Thread-safe; the analysis for the last cluster definition seen is cached.
 */
public final class AnalysedStatement {
    private final ParsedStatement parsed;
    private volatile Cached cached;

    private record Cached(ClusterDefinition cluster, Analysis analysis) {}

    AnalysedStatement(ParsedStatement parsed) {
        this.parsed = Objects.requireNonNull(parsed, "parsed");
    }

    /** The client's SQL (without a trailing semicolon). */
    public String sql() {
        return parsed.sql();
    }

    public Dialect dialect() {
        return parsed.dialect();
    }

    /** How many parameters the statement takes: MySQL {@code ?} count, or PostgreSQL's highest {@code $n}. */
    public int parameterCount() {
        return parsed.parameterCount();
    }

    /**
     * Whether the statement may change rows of sharded tables under {@code cluster} (a keyed UPDATE or
     * DELETE, or an INSERT): the statements a proxy must let finish before it acknowledges a new slot map.
     */
    public boolean writesShardedRows(ClusterDefinition cluster) {
        return switch (analysisFor(cluster)) {
            case Analysis.Keyed k -> k.write();
            case Analysis.Insert i -> true;
            case Analysis.Fixed f -> false;
        };
    }

    /** Whether the statement reads or writes rows of sharded tables under {@code cluster}. */
    public boolean touchesShardedRows(ClusterDefinition cluster) {
        return !(analysisFor(cluster) instanceof Analysis.Fixed);
    }

    Analysis analysisFor(ClusterDefinition cluster) {
        Cached c = cached;
        if (c != null && (c.cluster() == cluster || c.cluster().equals(cluster))) {
            return c.analysis();
        }
        Analysis analysis = Analyzer.analyse(parsed, cluster);
        cached = new Cached(cluster, analysis);
        return analysis;
    }

    @Override
    public String toString() {
        return "AnalysedStatement[" + parsed.sql() + "]";
    }
}

package io.shardgate.router;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.TableDefinition;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import net.sf.jsqlparser.statement.create.table.CreateTable;

/**
 * A statement parsed once and analysed per cluster definition, for the proxy to keep with a prepared
 * statement (or in a statement cache) so that routing at execute time neither parses nor analyses.
 * Thread-safe; the analysis for the last cluster definition seen is cached.
 */
public final class AnalysedStatement {
    private static final int SMALL_KEY_LIST = 16;

    private final ParsedStatement parsed;
    private volatile Cached cached;
    private volatile ServerState serverState;
    private volatile String jdbcSql;

    private record Cached(ClusterDefinition cluster, Analysis analysis) {}

    AnalysedStatement(ParsedStatement parsed) {
        this.parsed = Objects.requireNonNull(parsed, "parsed");
    }

    /** The client's SQL (without a trailing semicolon). */
    public String sql() {
        return parsed.sql();
    }

    /**
     * The client's SQL with JDBC {@code ?} placeholders, as a backend driver takes it: PostgreSQL's {@code $n} become
     * {@code ?} (pgJDBC sends its own {@code $n} for them; left as {@code $n}, the server would describe parameters
     * the driver does not know of).
     */
    public String jdbcSql() {
        if (parsed.dialect() == Dialect.MYSQL) {
            return parsed.sql();
        }
        String s = jdbcSql;
        if (s == null) {
            s = SqlText.toJdbc(parsed.sql(), parsed.dialect()).sql(); // once: the relay compares it per statement
            jdbcSql = s;
        }
        return s;
    }

    public Dialect dialect() {
        return parsed.dialect();
    }

    /** What was blanked for the parser (charset introducers, COLLATE); unchanged for a statement read as it is. */
    public ParseCopy parseCopy() {
        return parsed.copy();
    }

    /** The per-connection server state the statement touches (temporary tables, named locks, user variables, …). */
    public ServerState serverState() {
        ServerState s = serverState;
        if (s == null) {
            s = ServerState.of(parsed.sql(), parsed.dialect());
            serverState = s;
        }
        return s;
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

    /**
     * Whether the statement changes rows of any table (INSERT, REPLACE, UPDATE, DELETE), whatever its placement.
     * A proxy lets such statements finish before it acknowledges a new epoch too: a single table that
     * {@code table shard} turns into a sharded one must not still be written as single once its rows start moving.
     */
    public boolean modifiesRows() {
        return parsed.form() instanceof ParsedStatement.Parsed p
                && (p.statement() instanceof net.sf.jsqlparser.statement.insert.Insert
                        || p.statement() instanceof net.sf.jsqlparser.statement.update.Update
                        || p.statement() instanceof net.sf.jsqlparser.statement.delete.Delete
                        || p.statement() instanceof net.sf.jsqlparser.statement.upsert.Upsert);
    }

    /** Whether the statement is a query (SELECT, a set operation, VALUES, TABLE, WITH … SELECT): it only returns rows. */
    public boolean isQuery() {
        return parsed.form() instanceof ParsedStatement.Parsed p && p.statement() instanceof net.sf.jsqlparser.statement.select.Select;
    }

    /**
     * The string shard-key column this statement creates, when it is a {@code CREATE TABLE} of a table {@code cluster}
     * declares sharded by a string key: the proxy checks its collation before the table exists (see
     * {@link io.shardgate.cluster.StringKeyCollation}).
     */
    public Optional<CreatedStringKey> createdStringKey(ClusterDefinition cluster) {
        return parsed.form() instanceof ParsedStatement.Parsed p && p.statement() instanceof CreateTable create
                ? CreatedStringKey.of(create, cluster) : Optional.empty();
    }

    /** Whether the statement reads or writes rows of sharded tables under {@code cluster}. */
    public boolean touchesShardedRows(ClusterDefinition cluster) {
        return !(analysisFor(cluster) instanceof Analysis.Fixed);
    }

    /**
     * For a CREATE TABLE of a sharded table that has no cluster sequence yet under {@code cluster}: the table and its
     * AUTO_INCREMENT / serial / identity column, whose sequence the proxy registers once the table exists.
     */
    public Optional<Map.Entry<String, String>> sequenceToRegister(ClusterDefinition cluster) {
        if (!(parsed.form() instanceof ParsedStatement.Parsed p
                && p.statement() instanceof net.sf.jsqlparser.statement.create.table.CreateTable create)) {
            return Optional.empty();
        }
        TableScope.TableRef ref;
        try {
            ref = TableScope.resolve(cluster, create.getTable());
        } catch (Refusal undeclared) {
            return Optional.empty();
        }
        if (ref.definition().kind() != io.shardgate.cluster.TableKind.SHARDED || ref.definition().sequence() != null) {
            return Optional.empty();
        }
        return GeneratedColumns.of(create).map(f -> Map.entry(ref.definition().name(), f.column()));
    }

    /** Receives the (table, normalised shard-key value) pairs a write touches. */
    @FunctionalInterface
    public interface WrittenKeySink {
        void written(String table, String normalizedKey);
    }

    /**
     * Calls {@code sink} once per distinct (table, normalised key) this statement writes with
     * {@code parameters} under {@code cluster}: each key of a keyed UPDATE or DELETE ({@code key = v},
     * {@code key IN (…)}) and each row key of an INSERT, normalised as the router places it (REPLACE is not routed;
     * a key the proxy generates from a cluster sequence is not counted: it is new).
     * Reads, writes without a key restriction (scatter) and statements about other tables give nothing,
     * and so does a value that does not normalise (the router rejects that statement). Cheap enough for
     * every write: a one-key statement allocates only what normalising a bound parameter does.
     */
    public void forEachWrittenKey(ClusterDefinition cluster, List<?> parameters, WrittenKeySink sink) {
        Objects.requireNonNull(sink, "sink");
        switch (analysisFor(cluster)) {
            case Analysis.Keyed k when k.write() && k.keys() instanceof KeyRestriction.OneOf oneOf ->
                    writtenKeys(k.table(), oneOf.values(), null, parameters, sink);
            case Analysis.Insert i -> writtenKeys(i.table(), null, i.rows(), parameters, sink);
            case Analysis.Keyed k -> { } // a read, or a write without a key: nothing to count
            case Analysis.Fixed f -> { }
        }
    }

    /** Exactly one of {@code values} and {@code rows} is given. */
    private static void writtenKeys(TableDefinition table, List<KeyValue> values, List<Analysis.InsertRow> rows,
            List<?> parameters, WrittenKeySink sink) {
        int n = values != null ? values.size() : rows.size();
        // the usual write names one key, or a few: compare with the earlier ones instead of building a set
        String[] earlier = n > 1 && n <= SMALL_KEY_LIST ? new String[n] : null;
        Set<String> seen = n > SMALL_KEY_LIST ? new HashSet<>() : null;
        int distinct = 0;
        for (int i = 0; i < n; i++) {
            String key = normalized(table, values != null ? values.get(i) : rows.get(i).key(), parameters);
            if (key == null || (seen != null && !seen.add(key)) || (earlier != null && contains(earlier, distinct, key))) {
                continue;
            }
            if (earlier != null) {
                earlier[distinct++] = key;
            }
            sink.written(table.name(), key);
        }
    }

    private static boolean contains(String[] keys, int count, String key) {
        for (int i = 0; i < count; i++) {
            if (keys[i].equals(key)) {
                return true;
            }
        }
        return false;
    }

    private static String normalized(TableDefinition table, KeyValue value, List<?> parameters) {
        if (value == null) {
            return null; // an id the proxy generates: new, so never a hot key
        }
        try {
            return value.normalize(table.keyType(), parameters, table::shardKey);
        } catch (Refusal refused) {
            return null;
        }
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

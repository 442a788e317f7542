package io.shardgate.migrator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.slot.KeyNormalizationException;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import io.shardgate.state.BarrierTimeoutException;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.Leadership;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Splits one hot key over k sub-keys and merges it back (DESIGN.md, "Hot keys").
 *
 * <p>Both directions run the same three steps: publish the key as held ({@code SPLITTING} or
 * {@code MERGING}) and wait until every proxy routes with that map, so no statement on the key is in
 * flight and new ones wait; move the key's rows; publish the final map (the key split, or gone), which
 * releases the held statements to it. Other keys never wait. The data step:
 * <ul>
 *   <li><b>counter</b> split: a zeroed copy of the home row (non-counter columns as home has them) on
 *       every other distinct sub-key shard. Counter merge: the sums of every sub-row's counters are
 *       written to an operation document in ZooKeeper first, then set on home (absolute values) and the
 *       other sub-rows deleted; a rerun after a crash applies the same document, so nothing is added
 *       twice.</li>
 *   <li><b>append</b> split: each home row moves to the shard of its sub-key
 *       ({@code slot(split_by text) mod k}); merge moves every row back home. Moves are upsert on the
 *       receiving shard, committed, then delete on the giving one, so a rerun finishes the job.</li>
 * </ul>
 * The held window therefore grows with the key's rows for append tables (a copy of each row) and is
 * a few statements for counter tables. A barrier timeout before any data moved undoes the first
 * publication and fails with the reason; after that a rerun of the same command resumes.
 *
 * <p>Operators take the {@code hotkey-operator} leader latch, so two never work at once, and refuse a
 * key whose sub-key slots are moving (a migration's preflight refuses the converse).
 */
public final class HotKeyOperator {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String ROLE = "hotkey-operator";

    /** What a split or merge did. */
    public record Result(SplitKey key, List<String> shards, long rowsMoved, long heldMillis) {}

    /** @param chunkRows rows moved per transaction; @param lockWaitTimeout how long a row lock may be waited for */
    public record Settings(Duration barrierTimeout, Duration connectTimeout, Duration lockWaitTimeout, int chunkRows,
            Duration leadershipTimeout) {
        public static Settings defaults() {
            return new Settings(Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(10), 1000, Duration.ofSeconds(30));
        }
    }

    private final ClusterStore store;
    private final Settings settings;
    private final Consumer<String> progress;

    public HotKeyOperator(ClusterStore store, Settings settings, Consumer<String> progress) {
        this.store = store;
        this.settings = settings;
        this.progress = progress;
    }

    /** Splits {@code key} of {@code table} over {@code k} sub-keys; resumes a split that stopped half-way. */
    public Result split(String table, String key, int k) throws InterruptedException {
        return led(() -> {
            Target t = target(table, key);
            SplitKey wanted = new SplitKey(t.table.name(), t.key, k, SplitKey.State.SPLITTING);
            SlotMap map = store.readSlotMap().value();
            Optional<SplitKey> existing = map.splitKey(t.table.name(), t.key);
            if (existing.isPresent() && existing.get().state() != SplitKey.State.SPLITTING) {
                throw new HotKeyException("key " + t.key + " of " + t.table.name() + " is already " + describe(existing.get())
                        + "; merge it first to split it again");
            }
            if (existing.isPresent() && existing.get().k() != k) {
                throw new HotKeyException("key " + t.key + " of " + t.table.name() + " is being split over " + existing.get().k()
                        + " sub-keys (a split stopped half-way); rerun with --k " + existing.get().k());
            }
            requireSettled(map, wanted);
            List<String> shards = map.shardsOf(wanted);
            try (Open open = open(t, shards)) {
                return split(t, wanted, shards, open, existing.isPresent());
            }
        });
    }

    /** @param resumed the key was SPLITTING already: rows may have moved, so a barrier timeout must not undo the hold */
    private Result split(Target t, SplitKey wanted, List<String> shards, Open open, boolean resumed) throws InterruptedException {
        {
            long started = System.nanoTime();
            long heldEpoch = publish(m -> m.splitKey(wanted.table(), wanted.key()).filter(wanted::equals).isPresent(),
                    m -> requireSettled(m, wanted), (m, epoch) -> m.withSplitKey(epoch, wanted));
            progress.accept("holding key " + t.key + " of " + t.table.name() + " (epoch " + heldEpoch + ")");
            try {
                store.awaitEpoch(heldEpoch, settings.barrierTimeout());
            } catch (BarrierTimeoutException e) {
                if (resumed) {
                    throw new HotKeyException("split of key " + t.key + " of " + t.table.name() + ": the proxies did not all apply"
                            + " the hold within " + settings.barrierTimeout().toMillis() + " ms; rerun to resume (" + e.getMessage() + ")", e);
                }
                publish(m -> m.splitKey(wanted.table(), wanted.key()).isEmpty(), m -> {}, (m, epoch) -> m.withoutSplitKey(epoch, wanted.id()));
                throw new HotKeyException("split of key " + t.key + " of " + t.table.name() + " undone: the proxies did not all"
                        + " apply the hold within " + settings.barrierTimeout().toMillis() + " ms (" + e.getMessage() + ")", e);
            }
            long moved = switch (t.table.hotKey()) {
                case HotKeyMode.Counter c -> createSubRows(t, c, shards, open);
                case HotKeyMode.Append a -> spreadRows(t, a, wanted, shards, open);
                case HotKeyMode.None n -> throw new IllegalStateException("checked in target()");
            };
            SplitKey done = wanted.withState(SplitKey.State.SPLIT);
            long epoch = publish(m -> m.splitKey(done.table(), done.key()).filter(done::equals).isPresent(), m -> {},
                    (m, e) -> m.withSplitKey(e, done));
            long held = (System.nanoTime() - started) / 1_000_000;
            awaitRelease(epoch);
            progress.accept("split key " + t.key + " of " + t.table.name() + " over " + wanted.k() + " sub-keys on " + shards
                    + " (epoch " + epoch + ", " + moved + " rows moved, key held " + held + " ms)");
            return new Result(done, shards, moved, held);
        }
    }

    /** Merges a split key back into home; resumes a merge that stopped half-way. */
    public Result merge(String table, String key) throws InterruptedException {
        return led(() -> {
            Target t = target(table, key);
            SplitKey split = store.readSlotMap().value().splitKey(t.table.name(), t.key)
                    .orElseThrow(() -> new HotKeyException("key " + t.key + " of " + t.table.name() + " is not split"));
            if (split.state() == SplitKey.State.SPLITTING) {
                throw new HotKeyException("key " + t.key + " of " + t.table.name() + " is half-way through a split; rerun"
                        + " 'hotkey split' with --k " + split.k() + " to finish it, then merge");
            }
            SplitKey merging = split.withState(SplitKey.State.MERGING);
            List<String> shards = store.readSlotMap().value().shardsOf(split);
            try (Open open = open(t, shards)) {
                return merge(t, split, shards, open);
            }
        });
    }

    private Result merge(Target t, SplitKey split, List<String> shards, Open open) throws InterruptedException {
        SplitKey merging = split.withState(SplitKey.State.MERGING);
        {
            long started = System.nanoTime();
            long heldEpoch = publish(m -> m.splitKey(merging.table(), merging.key()).filter(merging::equals).isPresent(),
                    m -> requireSettled(m, merging), (m, epoch) -> m.withSplitKey(epoch, merging));
            progress.accept("holding key " + t.key + " of " + t.table.name() + " (epoch " + heldEpoch + ")");
            try {
                store.awaitEpoch(heldEpoch, settings.barrierTimeout());
            } catch (BarrierTimeoutException e) {
                if (split.state() == SplitKey.State.SPLIT) {
                    publish(m -> m.splitKey(split.table(), split.key()).filter(split::equals).isPresent(), m -> {},
                            (m, epoch) -> m.withSplitKey(epoch, split));
                    throw new HotKeyException("merge of key " + t.key + " of " + t.table.name() + " undone: the proxies did not"
                            + " all apply the hold within " + settings.barrierTimeout().toMillis() + " ms (" + e.getMessage() + ")", e);
                }
                throw new HotKeyException("merge of key " + t.key + " of " + t.table.name() + ": the proxies did not all apply"
                        + " the hold within " + settings.barrierTimeout().toMillis() + " ms; rerun to resume (" + e.getMessage() + ")", e);
            }
            long moved = switch (t.table.hotKey()) {
                case HotKeyMode.Counter c -> foldSubRows(t, c, shards, open);
                case HotKeyMode.Append a -> gatherRows(t, shards, open);
                case HotKeyMode.None n -> throw new IllegalStateException("checked in target()");
            };
            long epoch = publish(m -> m.splitKey(split.table(), split.key()).isEmpty(), m -> {},
                    (m, e) -> m.withoutSplitKey(e, split.id()));
            long held = (System.nanoTime() - started) / 1_000_000;
            awaitRelease(epoch);
            progress.accept("merged key " + t.key + " of " + t.table.name() + " back into " + shards.getFirst() + " (epoch " + epoch
                    + ", " + moved + " rows folded or moved, key held " + held + " ms)");
            return new Result(merging, shards, moved, held);
        }
    }

    // ---- counter tables

    private long createSubRows(Target t, HotKeyMode.Counter mode, List<String> shards, Open open) {
        return open.run((shape, connections) -> {
            ChunkSql sql = new ChunkSql(shape);
            List<Row> home = sql.read(connections.get(shards.getFirst()), null, null, 2, ChunkSql.Lock.NONE, keyFilter(t, shape));
            long created = 0;
            for (String shard : shards.subList(1, shards.size())) {
                Connection c = connections.get(shard);
                List<Row> present = sql.read(c, null, null, 2, ChunkSql.Lock.UPDATE, keyFilter(t, shape));
                for (Row row : present) {
                    if (!zeroCounters(shape, mode, row)) {
                        throw new HotKeyException("shard " + shard + " already holds a row of key " + t.key + " of " + t.table.name()
                                + " with non-zero counters " + row + "; it is not a sub-row this operator made. Inspect it before splitting");
                    }
                }
                if (!home.isEmpty()) {
                    sql.upsert(c, List.of(zeroed(shape, mode, home.getFirst())));
                    created++;
                }
                c.commit();
            }
            return created;
        });
    }

    private long foldSubRows(Target t, HotKeyMode.Counter mode, List<String> shards, Open open) {
        String name = "fold." + t.table.name() + "." + HexFormat.of().formatHex(t.key.getBytes(StandardCharsets.UTF_8));
        return open.run((shape, connections) -> {
            ChunkSql sql = new ChunkSql(shape);
            FoldPlan plan = readPlan(name).orElse(null);
            if (plan == null) {
                Map<String, BigDecimal> totals = new LinkedHashMap<>();
                boolean homeExists = false;
                for (String shard : shards) {
                    for (Row row : sql.read(connections.get(shard), null, null, 2, ChunkSql.Lock.NONE, keyFilter(t, shape))) {
                        homeExists |= shard.equals(shards.getFirst());
                        for (String column : mode.counterColumns()) {
                            Object v = row.value(columnIndex(shape, column));
                            totals.merge(column, v == null ? BigDecimal.ZERO : new BigDecimal(Row.text(v)), BigDecimal::add);
                        }
                    }
                }
                plan = new FoldPlan(t.table.name(), t.key, shards, homeExists, totals.entrySet().stream()
                        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().toPlainString(), (a, b) -> a,
                                LinkedHashMap::new)));
                writePlan(name, plan);
            }
            progress.accept("folding key " + t.key + " of " + t.table.name() + ": " + plan.totals() + " onto " + shards.getFirst());
            if (plan.homeExists() && !plan.totals().isEmpty()) {
                String sets = plan.totals().entrySet().stream()
                        .map(e -> shape.quote(shape.columns().get(columnIndex(shape, e.getKey())).name()) + " = " + e.getValue())
                        .collect(java.util.stream.Collectors.joining(", "));
                Connection home = connections.get(shards.getFirst());
                try (Statement st = home.createStatement()) {
                    st.executeUpdate("UPDATE " + shape.quote(shape.name()) + " SET " + sets + " WHERE " + keyFilter(t, shape));
                }
                home.commit();
            }
            long deleted = 0;
            for (String shard : shards.subList(1, shards.size())) {
                Connection c = connections.get(shard);
                try (Statement st = c.createStatement()) {
                    deleted += st.executeUpdate("DELETE FROM " + shape.quote(shape.name()) + " WHERE " + keyFilter(t, shape));
                }
                c.commit();
            }
            store.deleteOperation(name);
            return deleted;
        });
    }

    private static boolean zeroCounters(TableShape shape, HotKeyMode.Counter mode, Row row) {
        for (String column : mode.counterColumns()) {
            Object v = row.value(columnIndex(shape, column));
            if (v != null && new BigDecimal(Row.text(v)).signum() != 0) {
                return false;
            }
        }
        return true;
    }

    private static Row zeroed(TableShape shape, HotKeyMode.Counter mode, Row home) {
        Object[] values = home.values().clone();
        for (String column : mode.counterColumns()) {
            values[columnIndex(shape, column)] = "0";
        }
        return new Row(values);
    }

    // ---- append tables

    /** Moves each home row of the key to the shard of its sub-key. */
    private long spreadRows(Target t, HotKeyMode.Append mode, SplitKey split, List<String> shards, Open open) {
        SlotMap map = store.readSlotMap().value();
        String home = shards.getFirst();
        return open.run((shape, connections) -> {
            ChunkSql sql = new ChunkSql(shape);
            int by = columnIndex(shape, mode.splitBy());
            Connection source = connections.get(home);
            long moved = 0;
            Object[] after = null;
            while (true) {
                List<Row> rows = sql.read(source, after, null, settings.chunkRows(), ChunkSql.Lock.UPDATE, keyFilter(t, shape));
                if (rows.isEmpty()) {
                    break;
                }
                after = rows.getLast().primaryKey(shape);
                Map<String, List<Row>> byShard = new LinkedHashMap<>();
                for (Row row : rows) {
                    Object v = row.value(by);
                    if (v == null) {
                        throw new HotKeyException("row " + row + " of " + t.table.name() + " has a NULL " + mode.splitBy()
                                + ", so it has no sub-key; give it a value before splitting key " + t.key);
                    }
                    int subKey = io.shardgate.slot.SlotFunction.slot(ShardKeys.splitByText(Row.text(v)), split.k());
                    String owner = map.owner(split.slot(subKey, map.slotCount()));
                    if (!owner.equals(home)) {
                        byShard.computeIfAbsent(owner, x -> new ArrayList<>()).add(row);
                    }
                }
                moved += move(sql, shape, source, connections, byShard);
            }
            source.commit();
            return moved;
        });
    }

    /** Moves every row of the key on the other sub-key shards back home. */
    private long gatherRows(Target t, List<String> shards, Open open) {
        String home = shards.getFirst();
        return open.run((shape, connections) -> {
            ChunkSql sql = new ChunkSql(shape);
            long moved = 0;
            for (String shard : shards.subList(1, shards.size())) {
                Connection source = connections.get(shard);
                while (true) {
                    List<Row> rows = sql.read(source, null, null, settings.chunkRows(), ChunkSql.Lock.UPDATE, keyFilter(t, shape));
                    if (rows.isEmpty()) {
                        break;
                    }
                    moved += move(sql, shape, source, connections, Map.of(home, rows));
                }
                source.commit();
            }
            return moved;
        });
    }

    /** Upserts each group on its shard and commits there, then deletes the rows from {@code source} and commits. */
    private long move(ChunkSql sql, TableShape shape, Connection source, Map<String, Connection> connections,
            Map<String, List<Row>> byShard) throws SQLException {
        long moved = 0;
        List<Object[]> keys = new ArrayList<>();
        for (var e : byShard.entrySet()) {
            Connection target = connections.get(e.getKey());
            sql.upsert(target, e.getValue());
            target.commit();
            e.getValue().forEach(r -> keys.add(r.primaryKey(shape)));
            moved += e.getValue().size();
        }
        sql.delete(source, keys);
        source.commit();
        if (moved > 0) {
            progress.accept("moved " + moved + " rows");
        }
        return moved;
    }

    // ---- plumbing

    private record Target(TableDefinition table, String key, ClusterDefinition cluster) {}

    private record FoldPlan(String table, String key, List<String> shards, boolean homeExists, Map<String, String> totals) {}

    @FunctionalInterface
    private interface DataStep {
        long run(TableShape shape, Map<String, Connection> connections) throws SQLException;
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws InterruptedException;
    }

    private <T> T led(Work<T> work) throws InterruptedException {
        Leadership leadership = store.lead(ROLE, "hotkey-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            if (!leadership.awaitLeadership(settings.leadershipTimeout())) {
                throw new HotKeyException("another hot-key operation is running (" + leadership.currentLeader().orElse("unknown")
                        + "); waited " + settings.leadershipTimeout().toSeconds() + " s");
            }
            return work.run();
        } finally {
            leadership.close();
        }
    }

    private Target target(String table, String rawKey) {
        ClusterDefinition cluster = store.readDefinition().value();
        TableDefinition definition = cluster.table(table.toLowerCase(Locale.ROOT))
                .orElseThrow(() -> new HotKeyException("table " + table + " is not declared in cluster " + store.clusterName()));
        if (definition.kind() != TableKind.SHARDED) {
            throw new HotKeyException("table " + definition.name() + " is " + definition.kind().name().toLowerCase(Locale.ROOT)
                    + "; only sharded tables have keys to split");
        }
        store.readSlotMap().value().tableSharding(definition.name()).ifPresent(t -> {
            throw new HotKeyException("table " + definition.name() + " is being sharded in place (its rows are leaving shard "
                    + t.home() + "); split its keys once 'table shard' has ended");
        });
        if (definition.hotKey() instanceof HotKeyMode.None) {
            throw new HotKeyException("table " + definition.name() + " declares no hot-key mode; add 'hot-key: {mode: append,"
                    + " split-by: COLUMN}' or '{mode: counter, counters: [COLUMNS]}' to its definition first");
        }
        String key;
        try {
            key = ShardKeys.normalize(definition.keyType(), rawKey);
        } catch (KeyNormalizationException e) {
            throw new HotKeyException("key '" + rawKey + "' is not a valid " + definition.keyType().name().toLowerCase(Locale.ROOT)
                    + " key of " + definition.name() + ": " + e.getMessage(), e);
        }
        return new Target(definition, key, cluster);
    }

    private static void requireSettled(SlotMap map, SplitKey key) {
        for (int slot : key.slots(map.slotCount())) {
            map.moving(slot).ifPresent(m -> {
                throw new HotKeyException("slot " + slot + " of key " + key.key() + " of " + key.table() + " is moving in migration "
                        + m.migrationId() + " (" + m.source() + " -> " + m.target() + "); wait until it is done");
            });
        }
    }

    private long publish(java.util.function.Predicate<SlotMap> done, Consumer<SlotMap> check, SlotMapPublisher.Change change) {
        return SlotMapPublisher.publish(store, () -> {}, done, check, change);
    }

    /** Waits for the proxies to apply the final map; a laggard only delays its own held statements. */
    private void awaitRelease(long epoch) throws InterruptedException {
        try {
            store.awaitEpoch(epoch, settings.barrierTimeout());
        } catch (BarrierTimeoutException e) {
            progress.accept("warning: not every proxy applied epoch " + epoch + " within " + settings.barrierTimeout().toMillis()
                    + " ms; their statements on the key stay held until they do (" + e.getMessage() + ")");
        }
    }

    /**
     * Connections to the key's shards and the table's shape, opened before the key is held so that the
     * hold covers only the data step (and an unreachable shard fails before anything is held).
     */
    private final class Open implements AutoCloseable {
        private final Target t;
        private final List<String> shards;
        private final Map<String, Connection> connections = new LinkedHashMap<>();
        private TableShape shape;

        Open(Target t, List<String> shards) {
            this.t = t;
            this.shards = shards;
        }

        long run(DataStep step) {
            long started = System.nanoTime();
            try {
                return step.run(shape, connections);
            } catch (SQLException e) {
                for (Connection c : connections.values()) {
                    try {
                        c.rollback();
                    } catch (SQLException ignored) {
                        // the connection is closed with the others; the error that matters is e
                    }
                }
                throw new HotKeyException("moving rows of key " + t.key + " of " + t.table.name() + " failed on shards " + shards
                        + " after " + (System.nanoTime() - started) / 1_000_000 + " ms: " + e.getMessage()
                        + "; the key stays held, rerun the command to resume", e);
            }
        }

        @Override
        public void close() {
            for (Connection c : connections.values()) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing is best effort
                }
            }
        }
    }

    private Open open(Target t, List<String> shards) {
        ShardConnections opener = new ShardConnections(settings.connectTimeout(), settings.lockWaitTimeout());
        Open open = new Open(t, shards);
        String current = shards.getFirst();
        try {
            for (String shard : shards) {
                current = shard;
                ShardDefinition definition = t.cluster.shard(shard)
                        .orElseThrow(() -> new HotKeyException("shard " + t.cluster + " is not declared"));
                Connection c = opener.open(definition);
                c.setAutoCommit(false);
                open.connections.put(shard, c);
            }
            current = shards.getFirst();
            open.shape = Catalog.read(open.connections.get(current), t.cluster).table(t.table.name())
                    .orElseThrow(() -> new HotKeyException("table " + t.table.name() + " does not exist on shard " + shards.getFirst()));
            return open;
        } catch (SQLException | RuntimeException e) {
            open.close();
            if (e instanceof HotKeyException h) {
                throw h;
            }
            throw new HotKeyException("cannot reach shard " + current + " for key " + t.key + " of " + t.table.name() + ": "
                    + e.getMessage() + "; nothing was held or changed", e);
        }
    }

    private static String keyFilter(Target t, TableShape shape) {
        String column = shape.quote(shape.columns().get(shape.shardKey()).name());
        if (t.table.keyType() == KeyType.INT) {
            return column + " = " + Long.parseLong(t.key);
        }
        return column + " = " + shape.sql().utf8Literal(HexFormat.of().formatHex(t.key.getBytes(StandardCharsets.UTF_8)));
    }

    private static int columnIndex(TableShape shape, String column) {
        for (int i = 0; i < shape.columns().size(); i++) {
            if (shape.columns().get(i).name().equalsIgnoreCase(column)) {
                return i;
            }
        }
        throw new HotKeyException("table " + shape.name() + " has no column " + column + " (named in its hot-key mode)");
    }

    private Optional<FoldPlan> readPlan(String name) {
        return store.readOperation(name).map(v -> {
            try {
                return JSON.readValue(v.value(), FoldPlan.class);
            } catch (IOException e) {
                throw new HotKeyException("operation document " + name + " is not a fold plan: " + e.getMessage(), e);
            }
        });
    }

    private void writePlan(String name, FoldPlan plan) {
        try {
            store.writeOperation(name, JSON.writeValueAsBytes(plan), -1);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot encode fold plan", e);
        }
    }

    private static String describe(SplitKey key) {
        return key.state() == SplitKey.State.SPLIT ? "split over " + key.k() + " sub-keys" : key.state().name().toLowerCase(Locale.ROOT);
    }

    /** A split or merge that cannot go on; the message says why and what to do. */
    public static final class HotKeyException extends RuntimeException {
        HotKeyException(String message) {
            super(message);
        }

        HotKeyException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}

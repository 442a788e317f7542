package io.shardgate.router;

import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShadowCopy;
import io.shardgate.router.plan.ShardStatement;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.SplitKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/** Routing of one statement execution: applies an {@link Analysis} to a snapshot and the bound parameters. */
final class RoutingRun {
    private final SnapshotIndex index;
    private final SlotMap slotMap;
    private final List<?> params;
    private final long epoch;
    private final int slotCount;
    private final int spread;
    private final IdSource ids;

    RoutingRun(SnapshotIndex index, List<?> params, int spread, IdSource ids) {
        this.index = index;
        this.spread = spread;
        this.ids = ids;
        this.slotMap = index.slotMap;
        this.params = params;
        this.epoch = index.snapshot.epoch();
        this.slotCount = slotMap.slotCount();
    }

    // ---- SELECT / UPDATE / DELETE

    RoutePlan keyed(Analysis.Keyed k) {
        return switch (k.keys()) {
            case KeyRestriction.Unrestricted u -> everywhere(k);
            case KeyRestriction.OneOf o -> byKeys(k, o.values());
        };
    }

    private RoutePlan everywhere(Analysis.Keyed k) {
        TableDefinition table = k.table();
        Optional<RoutePlan> held = heldTable(k.tables());
        if (held.isPresent()) {
            return held.get();
        }
        boolean splitCounter = table.hotKey() instanceof HotKeyMode.Counter && index.tablesWithSplitKeys.contains(table.name());
        if (splitCounter) {
            return k.write()
                    ? rejected(RejectReason.HOT_KEY_WRITE_UNSUPPORTED, "a write to " + table.name() + " without its shard key"
                            + " would treat the sub-rows of its split counter keys as separate rows; restrict it to one "
                            + table.shardKey())
                    : rejected(RejectReason.HOT_KEY_READ_UNSUPPORTED, "a read of " + table.name()
                            + " without its shard key would return the sub-rows of its split counter keys separately; restrict it by "
                            + table.shardKey());
        }
        if (!k.write()) {
            return scatter(k, index.owners, List.of());
        }
        if (!index.pausedSlots.isEmpty()) {
            return held(index.pausedSlots);
        }
        List<ShadowCopy> copies = new ArrayList<>();
        for (SnapshotIndex.Move m : index.dualWriteMoves) {
            SqlText.Jdbc lookup = k.lookupSql().orElseThrow(() -> new Refusal(RejectReason.UNSUPPORTED_STATEMENT,
                    "this write cannot find the keys it touches, and slots are moving"));
            copies.add(copy(m.move(), table, new ShadowCopy.LookupKeys(lookup.sql(), lookup.parameters(), table.keyType(),
                    slotCount, m.slots())));
        }
        return scatter(k, index.owners, copies);
    }

    private RoutePlan byKeys(Analysis.Keyed k, List<KeyValue> values) {
        TableDefinition table = k.table();
        Map<Integer, List<String>> keysBySlot = new LinkedHashMap<>();
        boolean counterFanOut = false;
        for (KeyValue v : values) {
            String key = v.normalize(table.keyType(), params, () -> "shard key " + table.name() + "." + table.shardKey());
            Optional<SplitKey> split = index.tablesWithSplitKeys.isEmpty() ? Optional.empty() : slotMap.splitKey(table.name(), key);
            Optional<RoutePlan> held = heldKey(k.tables(), key);
            if (held.isPresent()) {
                return held.get();
            }
            refuseJoinOnSplitKey(k, key);
            if (split.isPresent() && k.write() && table.hotKey() instanceof HotKeyMode.Counter) {
                if (values.size() > 1) {
                    return rejected(RejectReason.HOT_KEY_WRITE_UNSUPPORTED, "key " + key + " of " + table.name() + " is split over "
                            + split.get().k() + " sub-keys, and a write to several keys cannot keep its sub-rows exact; write the"
                            + " split key alone (" + table.shardKey() + " = " + key + ")");
                }
                return counterWrite(table, key, split.get(), k.counterWrite(), k.pointSql());
            }
            List<Integer> slots = split.isEmpty() ? List.of(SlotFunction.slot(key, slotCount)) : subKeySlots(k, key, split.get());
            counterFanOut |= split.isPresent() && table.hotKey() instanceof HotKeyMode.Counter;
            for (int slot : slots) {
                keysBySlot.computeIfAbsent(slot, s -> new ArrayList<>(1)).add(key);
            }
        }
        List<String> shards = ownersOf(keysBySlot.keySet());
        if (counterFanOut) {
            return counterRead(k, values, shards);
        }
        if (!k.write()) {
            return shards.size() == 1 ? new RoutePlan.SingleShard(epoch, on(shards.getFirst(), k.pointSql())) : scatter(k, shards, List.of());
        }
        List<Integer> paused = keysBySlot.keySet().stream().filter(this::paused).sorted().toList();
        if (!paused.isEmpty()) {
            return held(paused);
        }
        List<ShadowCopy> copies = knownKeyCopies(table, keysBySlot);
        if (shards.size() > 1) {
            return scatter(k, shards, copies);
        }
        ShardStatement st = on(shards.getFirst(), k.pointSql());
        return copies.isEmpty() ? new RoutePlan.SingleShard(epoch, st) : new RoutePlan.DualWrite(epoch, st, copies);
    }

    /** Slots of a split key that a statement touches: one sub-key when an append row's split-by value is known, else all. */
    private List<Integer> subKeySlots(Analysis.Keyed k, String key, SplitKey split) {
        TableDefinition table = k.table();
        return switch (table.hotKey()) {
            case HotKeyMode.None n -> List.of(SlotFunction.slot(key, slotCount));
            case HotKeyMode.Counter c -> allSubKeySlots(key, split.k()); // reads: writes went to counterWrite
            case HotKeyMode.Append a -> switch (k.splitBy()) {
                case KeyRestriction.Unrestricted u -> allSubKeySlots(key, split.k());
                case KeyRestriction.OneOf o -> o.values().stream()
                        .map(v -> SlotFunction.slot(key, subKey(v, split, table, a), split.k(), slotCount)).distinct().toList();
            };
        };
    }

    /**
     * The sub-key of an append row: {@code SlotFunction.slot(splitByText, k)}, i.e. CRC32C of the
     * split-by value's canonical text modulo k (integer text if it is an integer, else the string).
     */
    private int subKey(KeyValue splitBy, SplitKey split, TableDefinition table, HotKeyMode.Append mode) {
        String text = splitBy.normalize(null, params, () -> "split-by column " + table.name() + "." + mode.splitBy());
        return SlotFunction.slot(text, split.k());
    }

    private List<Integer> allSubKeySlots(String key, int k) {
        List<Integer> slots = new ArrayList<>(k);
        for (int i = 0; i < k; i++) {
            slots.add(SlotFunction.slot(key, i, k, slotCount));
        }
        return slots;
    }

    private void refuseJoinOnSplitKey(Analysis.Keyed k, String key) {
        if (k.tables().size() < 2 || index.tablesWithSplitKeys.isEmpty()) {
            return;
        }
        for (TableDefinition t : k.tables()) {
            if (slotMap.splitKey(t.name(), key).isPresent()) {
                throw new Refusal(RejectReason.HOT_KEY_READ_UNSUPPORTED, "key " + key + " of " + t.name()
                        + " is split over several shards, so a join on it per shard would miss rows; query " + t.name() + " alone");
            }
        }
    }

    private RoutePlan counterRead(Analysis.Keyed k, List<KeyValue> values, List<String> shards) {
        TableDefinition table = k.table();
        if (values.size() > 1) {
            return rejected(RejectReason.HOT_KEY_READ_UNSUPPORTED, "a read of several keys of " + table.name()
                    + " including a split counter key cannot be merged yet; read the split key alone");
        }
        return switch (k.counterRead()) {
            case Analysis.CounterRefused r -> rejected(RejectReason.HOT_KEY_READ_UNSUPPORTED, r.message());
            case Analysis.NotCounter n -> throw new IllegalStateException("counter fan-out for a table that is not a counter");
            case Analysis.CounterColumns c -> {
                String key = values.getFirst().normalize(table.keyType(), params, () -> "shard key");
                String home = slotMap.owner(SlotFunction.slot(key, slotCount));
                List<ShardStatement> statements = shards.stream().map(s -> on(s, k.pointSql())).toList();
                yield statements.size() == 1 ? new RoutePlan.SingleShard(epoch, statements.getFirst())
                        : new RoutePlan.MultiShard(epoch, statements, new MergePlan.CounterRow(c.columns(), home), List.of());
            }
        };
    }

    /**
     * A write to one split counter key (see {@link CounterWrites}): an increment to the sub-row {@link #spread}
     * picks, anything else at home first and, adjusted, on every other sub-row's shard.
     */
    private RoutePlan counterWrite(TableDefinition table, String key, SplitKey split, Analysis.CounterWrite write,
            SqlText.Jdbc homeSql) {
        List<Integer> slots = allSubKeySlots(key, split.k());
        List<Integer> paused = slots.stream().filter(this::paused).distinct().sorted().toList();
        if (!paused.isEmpty()) {
            return held(paused);
        }
        Optional<Integer> moving = slots.stream().filter(s -> slotMap.moving(s).isPresent()).findFirst();
        if (moving.isPresent()) {
            // DESIGN.md: a slot move that touches a split key merges it first; until then its sub-rows have no copies
            return rejected(RejectReason.HOT_KEY_WRITE_UNSUPPORTED, "key " + key + " of " + table.name() + " is split and slot "
                    + moving.get() + " of its sub-keys is moving; merge the key before moving its slots");
        }
        List<String> subRowShards = slots.stream().map(slotMap::owner).distinct().toList();
        String home = subRowShards.getFirst();
        return switch (write) {
            case Analysis.NotCounterWrite n -> throw new IllegalStateException("a counter write analysed as not one: " + table.name());
            case Analysis.CounterWriteRefused r -> rejected(RejectReason.HOT_KEY_WRITE_UNSUPPORTED, "key " + key + " of "
                    + table.name() + " is split over " + split.k() + " sub-keys: " + r.message());
            case Analysis.Increment i ->
                    new RoutePlan.SingleShard(epoch, on(subRowShards.get(Math.floorMod(spread, subRowShards.size())), homeSql));
            case Analysis.HomeAndOthers h -> {
                if (h.others().isEmpty() || subRowShards.size() == 1) {
                    yield new RoutePlan.SingleShard(epoch, on(home, homeSql));
                }
                SqlText.Jdbc others = h.others().get();
                List<ShardStatement> statements = subRowShards.stream()
                        .sorted(Comparator.comparingInt(index::order))
                        .map(s -> on(s, s.equals(home) ? homeSql : others)).toList();
                yield new RoutePlan.MultiShard(epoch, statements, new MergePlan.AffectedRowsOf(home), List.of());
            }
        };
    }

    private RoutePlan scatter(Analysis.Keyed k, List<String> shards, List<ShadowCopy> copies) {
        if (shards.size() == 1) {
            ShardStatement st = on(shards.getFirst(), k.pointSql());
            return copies.isEmpty() ? new RoutePlan.SingleShard(epoch, st) : new RoutePlan.DualWrite(epoch, st, copies);
        }
        return switch (k.scatter()) {
            case Analysis.ScatterRefused r -> rejected(r.reason(), r.message());
            case Analysis.ScatterWrite w -> new RoutePlan.MultiShard(epoch, onEach(shards, w.sql(), w.shadowFiltered(), null),
                    new MergePlan.AffectedRows(), copies);
            case Analysis.ScatterRead r -> scatterRead(r, shards);
        };
    }

    private RoutePlan scatterRead(Analysis.ScatterRead read, List<String> shards) {
        Analysis.RowsTemplate t = read.merge();
        OptionalLong limit = t.limit().map(v -> OptionalLong.of(count(v, "LIMIT"))).orElse(OptionalLong.empty());
        long offset = t.offset().map(v -> count(v, "OFFSET")).orElse(0L);
        String rows = t.pushDownLimit() ? Long.toString(Math.addExact(offset, limit.orElseThrow())) : null;
        MergePlan.Rows merge = new MergePlan.Rows(t.groupBy(), t.aggregates(), t.distinct(), t.orderBy(), limit, offset, t.hiddenColumns());
        return new RoutePlan.MultiShard(epoch, onEach(shards, read.sql(), read.shadowFiltered(), rows), merge, List.of());
    }

    private long count(KeyValue v, String clause) {
        String text = v.normalize(KeyType.INT, params, () -> clause + " value");
        long n = Long.parseLong(text);
        if (n < 0) {
            throw new Refusal(RejectReason.UNSUPPORTED_STATEMENT, clause + " must not be negative, was " + n);
        }
        return n;
    }

    // ---- INSERT

    RoutePlan insert(Analysis.Insert ins) {
        if (ins.generated().isPresent()) {
            List<Analysis.InsertRow> filled = new ArrayList<>(ins.rows().size());
            if (fillIds(ins, ins.generated().get(), filled)) {
                return insert(ins, filled, ins.generated().get().prefix(), ins.generated().get().suffix(), null);
            }
            return insert(ins, filled, ins.prefix(), ins.suffix(), ins.wholeSql());
        }
        return insert(ins, ins.rows(), ins.prefix(), ins.suffix(), ins.wholeSql());
    }

    /**
     * Fills the sequence column of the rows that ask for a new id (in row order, with consecutive ids: Connector/J
     * reads a multi-row INSERT's keys as the first id plus 1, 2, …), tells the id source the explicit ids, and puts the
     * rows as routed into {@code filled}. Returns whether any id was generated.
     */
    private boolean fillIds(Analysis.Insert ins, Analysis.Generated g, List<Analysis.InsertRow> filled) {
        TableDefinition table = ins.table();
        boolean[] generates = new boolean[ins.rows().size()];
        int count = 0;
        for (int i = 0; i < generates.length; i++) {
            Analysis.InsertRow row = ins.rows().get(i);
            int rowNumber = i + 1;
            generates[i] = switch (row.id()) {
                case Analysis.NoSequence n -> false;
                case Analysis.NewId n -> true;
                case Analysis.NullId n -> g.zeroGenerates(); // NULL asks for an id on MySQL only
                case Analysis.OtherId o -> false;
                case Analysis.GivenId given -> {
                    if (given.value() instanceof KeyValue.Param p && p.index() < params.size() && params.get(p.index()) == null) {
                        yield g.zeroGenerates();
                    }
                    long value = Long.parseLong(given.value().normalize(KeyType.INT, params, () -> g.column() + " of " + table.name()
                            + " in row " + rowNumber));
                    if (value == 0 && g.zeroGenerates() && ids.zeroGenerates()) {
                        yield true;
                    }
                    ids.given(table.name(), value);
                    yield false;
                }
            };
            count += generates[i] ? 1 : 0;
        }
        long next = count == 0 ? 0 : ids.reserve(table.name(), count);
        int generatedIndex = params.size();
        for (int i = 0; i < generates.length; i++) {
            Analysis.InsertRow row = ins.rows().get(i);
            if (!generates[i]) {
                if (row.key() == null) {
                    throw new Refusal(RejectReason.BAD_SHARD_KEY_VALUE, "row " + (i + 1) + " gives the shard key " + table.name() + "."
                            + table.shardKey() + " as NULL; a NULL shard key has no shard");
                }
                filled.add(row);
                continue;
            }
            String id = Long.toString(next++);
            KeyValue key = g.keyIsGenerated() ? new KeyValue.Literal(id) : row.key();
            int bound = generatedIndex++;
            List<Integer> parameters = row.generatedText().parameters().stream()
                    .map(p -> p == Analysis.Generated.ID_PARAMETER ? bound : p).toList();
            filled.add(new Analysis.InsertRow(key, row.splitBy(), new SqlText.Jdbc(row.generatedText().sql(), parameters), row.id(),
                    null));
        }
        return count > 0;
    }

    /** {@code wholeSql} is the client's statement, for when every row goes to one shard; null when it must be rebuilt. */
    private RoutePlan insert(Analysis.Insert ins, List<Analysis.InsertRow> rows, SqlText.Jdbc prefix, SqlText.Jdbc suffix,
            SqlText.Jdbc wholeSql) {
        TableDefinition table = ins.table();
        Map<String, List<Analysis.InsertRow>> rowsByShard = new LinkedHashMap<>();
        Map<Integer, List<String>> keysBySlot = new LinkedHashMap<>();
        List<String> rowShards = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Analysis.InsertRow row = rows.get(i);
            int rowNumber = i + 1;
            String key = row.key().normalize(table.keyType(), params, () -> "shard key " + table.name() + "."
                    + table.shardKey() + " in row " + rowNumber);
            Optional<RoutePlan> held = heldKey(List.of(table), key);
            if (held.isPresent()) {
                return held.get();
            }
            Optional<SplitKey> counterSplit = table.hotKey() instanceof HotKeyMode.Counter && !index.tablesWithSplitKeys.isEmpty()
                    ? slotMap.splitKey(table.name(), key) : Optional.empty();
            if (counterSplit.isPresent()) {
                if (wholeSql == null) {
                    return rejected(RejectReason.HOT_KEY_WRITE_UNSUPPORTED, "key " + key + " of " + table.name() + " is split, and"
                            + " an INSERT whose " + ins.generated().orElseThrow().column() + " the proxy fills cannot create its"
                            + " sub-rows; give " + ins.generated().orElseThrow().column());
                }
                return counterWrite(table, key, counterSplit.get(), ins.counterWrite(), wholeSql);
            }
            int slot = insertSlot(table, key, row, i);
            rowsByShard.computeIfAbsent(slotMap.owner(slot), s -> new ArrayList<>()).add(row);
            rowShards.add(slotMap.owner(slot));
            keysBySlot.computeIfAbsent(slot, s -> new ArrayList<>(1)).add(key);
        }
        List<Integer> paused = keysBySlot.keySet().stream().filter(this::paused).sorted().toList();
        if (!paused.isEmpty()) {
            return held(paused);
        }
        List<ShadowCopy> copies = knownKeyCopies(table, keysBySlot);
        if (rowsByShard.size() == 1) {
            String shard = rowsByShard.keySet().iterator().next();
            ShardStatement st = wholeSql != null ? on(shard, wholeSql) : insertOn(shard, prefix, suffix, rows);
            return copies.isEmpty() ? new RoutePlan.SingleShard(epoch, st) : new RoutePlan.DualWrite(epoch, st, copies);
        }
        List<ShardStatement> statements = rowsByShard.entrySet().stream()
                .sorted(Comparator.comparingInt(e -> index.order(e.getKey())))
                .map(e -> insertOn(e.getKey(), prefix, suffix, e.getValue())).toList();
        MergePlan merge = new MergePlan.AffectedRows(true);
        if (ins.returnsRows()) {
            if (ins.mayReturnFewerRows()) {
                return rejected(RejectReason.UNSUPPORTED_STATEMENT, "this INSERT … ON CONFLICT … RETURNING puts its rows on "
                        + statements.size() + " shards, and the rows it skips return nothing, so the proxy could not return the"
                        + " others in VALUES order as one server does; insert the rows of each shard key separately");
            }
            List<String> order = statements.stream().map(ShardStatement::shard).toList();
            merge = new MergePlan.InsertedRows(rowShards.stream().map(order::indexOf).toList());
        }
        return new RoutePlan.MultiShard(epoch, statements, merge, copies);
    }

    private int insertSlot(TableDefinition table, String key, Analysis.InsertRow row, int rowIndex) {
        Optional<SplitKey> split = index.tablesWithSplitKeys.isEmpty() ? Optional.empty() : slotMap.splitKey(table.name(), key);
        if (split.isEmpty()) {
            return SlotFunction.slot(key, slotCount);
        }
        return switch (table.hotKey()) {
            case HotKeyMode.None n -> SlotFunction.slot(key, slotCount);
            case HotKeyMode.Counter c -> throw new IllegalStateException("rows of split counter keys go to counterWrite");
            case HotKeyMode.Append a -> {
                KeyValue splitBy = row.splitBy().orElseThrow(() -> new Refusal(RejectReason.BAD_SHARD_KEY_VALUE, "key " + key + " of "
                        + table.name() + " is split over " + split.get().k() + " sub-keys; row " + (rowIndex + 1)
                        + " must give " + a.splitBy() + " as a literal or a parameter to pick one"));
                yield SlotFunction.slot(key, subKey(splitBy, split.get(), table, a), split.get().k(), slotCount);
            }
        };
    }

    private ShardStatement insertOn(String shard, SqlText.Jdbc prefix, SqlText.Jdbc suffix, List<Analysis.InsertRow> rows) {
        StringBuilder sql = new StringBuilder(prefix.sql());
        List<Integer> parameters = new ArrayList<>(prefix.parameters());
        for (int i = 0; i < rows.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(rows.get(i).text().sql());
            parameters.addAll(rows.get(i).text().parameters());
        }
        sql.append(suffix.sql());
        parameters.addAll(suffix.parameters());
        return new ShardStatement(shard, sql.toString(), parameters);
    }

    // ---- moving slots

    private boolean paused(int slot) {
        return slotMap.moving(slot).map(m -> m.phase() == MigrationPhase.CUTOVER_PAUSE).orElse(false);
    }

    /** Copies of the keys in dual-writing slots, one per move, keys typed for binding. */
    private List<ShadowCopy> knownKeyCopies(TableDefinition table, Map<Integer, List<String>> keysBySlot) {
        if (slotMap.movingSlots().isEmpty()) {
            return List.of();
        }
        Map<MovingSlot, Set<Object>> byMove = new LinkedHashMap<>();
        keysBySlot.forEach((slot, keys) -> slotMap.moving(slot).filter(m -> m.phase().dualWrites()).ifPresent(m -> {
            Set<Object> typed = byMove.computeIfAbsent(m, x -> new LinkedHashSet<>());
            keys.forEach(key -> typed.add(table.keyType() == KeyType.INT ? (Object) Long.valueOf(key) : key));
        }));
        return byMove.entrySet().stream()
                .map(e -> copy(e.getKey(), table, new ShadowCopy.KnownKeys(List.copyOf(e.getValue())))).toList();
    }

    private static ShadowCopy copy(MovingSlot m, TableDefinition table, ShadowCopy.KeySource keys) {
        return new ShadowCopy(m.authoritative(), m.shadow(), m.migrationId(), m.phase(), table.name(), table.shardKey(), keys);
    }

    /** Held while the key is being split or merged in any of the tables (a join names the key of each). */
    private Optional<RoutePlan> heldKey(List<TableDefinition> tables, String key) {
        if (index.heldKeysByTable.isEmpty()) {
            return Optional.empty();
        }
        for (TableDefinition t : tables) {
            Optional<SplitKey> split = slotMap.splitKey(t.name(), key).filter(s -> s.state().holds());
            if (split.isPresent()) {
                return Optional.of(new RoutePlan.Held(epoch, List.of(SlotFunction.slot(key, slotCount)), "key " + key + " of "
                        + t.name() + " is being " + movement(split.get()) + "; hold the statement until a newer slot map arrives, "
                        + "then route it again"));
            }
        }
        return Optional.empty();
    }

    /** A statement over every key of a table (scatter) could see the rows of a key being split or merged half-moved. */
    private Optional<RoutePlan> heldTable(List<TableDefinition> tables) {
        if (index.heldKeysByTable.isEmpty()) {
            return Optional.empty();
        }
        for (TableDefinition t : tables) {
            List<SplitKey> keys = index.heldKeysByTable.get(t.name());
            if (keys != null) {
                SplitKey first = keys.getFirst();
                return Optional.of(new RoutePlan.Held(epoch, List.of(SlotFunction.slot(first.key(), slotCount)), "key " + first.key()
                        + " of " + t.name() + " is being " + movement(first) + " and this statement is not restricted to other keys"
                        + " of " + t.name() + ", so it could see its rows half-moved; hold the statement until a newer slot map"
                        + " arrives, then route it again"));
            }
        }
        return Optional.empty();
    }

    private static String movement(SplitKey split) {
        return switch (split.state()) {
            case SPLITTING -> "split";
            case MERGING -> "merged";
            case SPLIT -> throw new IllegalStateException("a split key that holds nothing: " + split);
        };
    }

    private RoutePlan held(List<Integer> slots) {
        MovingSlot m = slotMap.moving(slots.getFirst()).orElseThrow();
        return new RoutePlan.Held(epoch, slots, "writes to slot" + (slots.size() > 1 ? "s " : " ")
                + slots.stream().map(String::valueOf).reduce((a, b) -> a + "," + b).orElseThrow()
                + " are paused for the cutover of migration " + m.migrationId() + " (" + m.source() + " -> " + m.target()
                + "); hold the statement until a newer slot map arrives, then route it again");
    }

    // ---- helpers

    private List<String> ownersOf(Set<Integer> slots) {
        if (slots.size() == 1) {
            // the point-statement path: no ordered set and copy for one owner
            return List.of(slotMap.owner(slots.iterator().next()));
        }
        Set<String> owners = new TreeSet<>(Comparator.comparingInt(index::order).thenComparing(Comparator.naturalOrder()));
        for (int slot : slots) {
            owners.add(slotMap.owner(slot));
        }
        return List.copyOf(owners);
    }

    private static ShardStatement on(String shard, SqlText.Jdbc sql) {
        return new ShardStatement(shard, sql.sql(), sql.parameters());
    }

    private static List<ShardStatement> onEach(List<String> shards, SqlText.Jdbc sql) {
        return shards.stream().map(s -> on(s, sql)).toList();
    }

    /**
     * {@code sql} on each shard; a shard that holds copies of moving slots gets {@code filtered} with those slots
     * excluded instead. {@code limitRows} replaces the pushed-down LIMIT sentinel when not null.
     */
    private List<ShardStatement> onEach(List<String> shards, SqlText.Jdbc sql, Optional<Analysis.ShadowFilter> filtered,
            String limitRows) {
        List<ShardStatement> out = new ArrayList<>(shards.size());
        for (String shard : shards) {
            SqlText.Jdbc text = sql;
            if (!index.shadowRanges.isEmpty() && index.shadowRanges.containsKey(shard)) {
                Analysis.ShadowFilter f = filtered.orElseThrow(() -> new Refusal(RejectReason.UNSUPPORTED_SCATTER,
                        "shard " + shard + " holds copies of moving slots and this statement cannot be restricted to the slots it owns"));
                String condition = index.shadowCondition(shard, f.keyExpression()).orElseThrow();
                text = new SqlText.Jdbc(f.sql().sql().replace(Analysis.ShadowFilter.SENTINEL, "(" + condition + ")"), f.sql().parameters());
            }
            if (limitRows != null) {
                text = new SqlText.Jdbc(text.sql().replace(ScatterRewriter.LIMIT_SENTINEL, limitRows), text.parameters());
            }
            out.add(on(shard, text));
        }
        return out;
    }

    private RoutePlan rejected(RejectReason reason, String message) {
        return new RoutePlan.Rejected(epoch, reason, message);
    }
}

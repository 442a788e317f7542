package io.shardgate.cli;

import io.shardgate.cli.reshard.BatchSettings;
import io.shardgate.cli.reshard.MigrationBatch;
import io.shardgate.cli.reshard.MigrationView;
import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.cluster.UnknownTablePolicy;
import io.shardgate.migrator.Migrations;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.TableSharding;
import io.shardgate.state.BarrierTimeoutException;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.StoreException;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code shardgate table shard}: turns single tables that have rows into sharded ones online. The rows stay on the
 * tables' old home for the slots it owns and move, with the migrator's dual write / backfill / verify / cutover, to
 * the owners of the other slots. Three steps, each safe to repeat (running the command again resumes):
 * <ol>
 *   <li>a table sharding in the slot map says the rows of every slot are still at home (proxies acknowledge it);</li>
 *   <li>the definition declares the tables sharded: they now route with the table sharding's view, which places
 *       every key at home, exactly where the single table's rows are;</li>
 *   <li>one table-scoped migration per owner shard moves that shard's slots; each cutover settles its slots, and
 *       the last one ends the table sharding.</li>
 * </ol>
 */
@Command(name = "shard",
        description = {
            "Shard single tables that have rows, online: the rows of slots that other shards own move there with dual "
                    + "writes, backfill, verify and cutover (run by the migrator worker), the rest stay; writes go on throughout.",
            "Co-located tables (the same key column) are sharded together in one command. Running it again resumes."
        })
final class TableShardCommand implements Callable<Integer> {

    @Mixin
    ZooKeeperOptions zk;

    @Parameters(arity = "1..*", paramLabel = "NAME", description = "The tables, single (declared or not) on one shard.")
    List<String> names;

    @Option(names = "--key", required = true, paramLabel = "COLUMN", description = "Shard-key column, the same in every table.")
    String key;

    @Option(names = "--key-type", paramLabel = "TYPE",
            description = "int or string (default: int for an integer column, else string).")
    String keyType;

    @Mixin
    CopyOptions copy;

    @Option(names = "--wait", description = "Follow the migrations until the tables are sharded, or one fails.")
    boolean waitForThem;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        List<String> tables = names.stream().map(n -> n.toLowerCase(Locale.ROOT)).collect(
                java.util.stream.Collectors.toCollection(TreeSet::new)).stream().toList();
        String column = key.toLowerCase(Locale.ROOT);
        BatchSettings settings = copy.settings(true);
        try (ClusterStore store = zk.openExistingStore()) {
            ClusterDefinition definition = store.readDefinition().value();
            SlotMap map = store.readSlotMap().value();
            Optional<TableSharding> resumed = existingSharding(map, tables);
            List<MigrationRecord> migrations = store.listMigrations();
            refuseOtherMigrations(migrations, tables);
            String home;
            KeyType type;
            if (resumed.isPresent()) {
                home = resumed.get().home();
                type = keyTypeForResume(definition, tables, column, home);
                out.println("resuming the sharding of " + String.join(", ", tables) + " from " + home);
            } else {
                if (!map.movingSlots().isEmpty()) {
                    throw new CliException("slots are moving (" + map.movingSlots().size() + " slots; see 'reshard status');"
                            + " shard tables once that ends");
                }
                home = homeOf(definition, tables);
                type = checkShards(definition, tables, column, home);
                Set<Integer> atHome = new TreeSet<>();
                for (int s = 0; s < map.slotCount(); s++) {
                    if (!map.owner(s).equals(home)) {
                        atHome.add(s);
                    }
                }
                if (!atHome.isEmpty()) {
                    TableSharding sharding = new TableSharding(tables, home, atHome, Map.of());
                    long epoch = DefinitionChange.publishSlotMap(store, (m, e) -> {
                        if (m.tableShardings().values().stream().anyMatch(t -> t.tables().stream().anyMatch(tables::contains))) {
                            throw new CliException("another 'table shard' of " + String.join(", ", tables) + " started meanwhile");
                        }
                        return m.withTableSharding(e, sharding);
                    });
                    await(store, epoch, "the table sharding of " + String.join(", ", tables));
                }
            }
            // an AUTO_INCREMENT column becomes a cluster sequence along with the declaration (DESIGN.md, "Generated ids"):
            // the sequence exists first, above the rows; once every proxy fills the column it is raised above rows the home
            // shard may have generated meanwhile
            java.util.Map<String, String> generated = new java.util.LinkedHashMap<>();
            ClusterDefinition before = store.readDefinition().value();
            for (String t : tables) {
                SequenceCatalog.generatedColumn(before, t).ifPresent(c -> {
                    generated.put(t, c);
                    io.shardgate.state.SequenceDeclaration.raiseTo(store, t, SequenceCatalog.startAboveRows(before, t, c));
                });
            }
            DefinitionChange.Applied applied = DefinitionChange.apply(store, "shard " + String.join(", ", tables), current -> {
                ClusterDefinition next = current;
                for (String t : tables) {
                    Optional<TableDefinition> now = current.table(t);
                    boolean asWanted = now.isPresent() && now.get().kind() == TableKind.SHARDED && now.get().shardKey().equals(column);
                    if (now.isPresent() && now.get().kind() == TableKind.SHARDED && !asWanted) {
                        throw new CliException("table " + t + " was declared sharded by " + now.get().shardKey() + " meanwhile");
                    }
                    String sequence = now.map(TableDefinition::sequence).orElse(null);
                    next = next.withTable(TableDefinition.sharded(t, column, type).withSequence(sequence != null ? sequence : generated.get(t)));
                }
                return next;
            });
            ClusterDefinition after = store.readDefinition().value();
            for (var g : generated.entrySet()) {
                long next = io.shardgate.state.SequenceDeclaration.raiseTo(store, g.getKey(), SequenceCatalog.startAboveRows(after, g.getKey(),
                        g.getValue()));
                out.println("cluster sequence of " + g.getKey() + "." + g.getValue() + ": next id " + next
                        + "; the proxies fill " + g.getValue() + " from it");
            }
            if (!applied.live()) {
                throw new CliException("the tables are declared sharded (epoch " + applied.epoch() + ") but not every live proxy"
                        + " applied it within " + DefinitionChange.BARRIER_TIMEOUT.toSeconds() + " s; run the command again to go on");
            }
            out.println("declared " + String.join(", ", tables) + " sharded by " + column + " (" + type.name().toLowerCase(Locale.ROOT)
                    + "), epoch " + applied.epoch() + ": every live proxy routes with it");
            Optional<TableSharding> sharding = store.readSlotMap().value().tableSharding(tables.getFirst());
            if (sharding.isEmpty()) {
                out.println("every slot belongs to " + home + ", so no row moves: the tables are sharded ('shardgate reshard start"
                        + " --rebalance' spreads them over more shards)");
                out.flush();
                return 0;
            }
            Set<String> ids = startMigrations(store, out, sharding.get(), definition, settings);
            out.flush();
            if (waitForThem && !ids.isEmpty()) {
                MigrationFollower.followOrFail(store, out, ids, MigrationFollower::settled);
                Optional<TableSharding> left = store.readSlotMap().value().tableSharding(tables.getFirst());
                if (left.isPresent()) {
                    throw new CliException("the migrations ended but " + left.get().atHome().size() + " slots of " + String.join(", ", tables)
                            + " are still on " + home + " (an abort?); run 'shardgate table shard' again to move them");
                }
                out.println(String.join(", ", tables) + (tables.size() == 1 ? " is" : " are") + " sharded over "
                        + String.join(", ", store.readSlotMap().value().slotCounts().keySet()));
                out.flush();
            }
        }
        return 0;
    }

    /** The table sharding these tables are in already (a resumed command), if any; it must be exactly these tables. */
    private static Optional<TableSharding> existingSharding(SlotMap map, List<String> tables) {
        Optional<TableSharding> found = Optional.empty();
        for (String t : tables) {
            Optional<TableSharding> s = map.tableSharding(t);
            if (s.isPresent()) {
                if (!s.get().tables().equals(tables)) {
                    throw new CliException("table " + t + " is being sharded together with " + String.join(", ", s.get().tables())
                            + "; run 'shardgate table shard " + String.join(" ", s.get().tables()) + " --key ...' to go on with it");
                }
                found = s;
            }
        }
        return found;
    }

    private static void refuseOtherMigrations(List<MigrationRecord> migrations, List<String> tables) {
        for (MigrationRecord r : migrations.stream().sorted(Migrations.RUN_ORDER).toList()) {
            if (MigrationView.terminal(r) || Migrations.tableScope(r).equals(tables)) {
                continue;
            }
            throw new CliException("migration " + r.id() + " (" + r.source() + " -> " + r.target() + ") is " + r.phase()
                    + " and has not ended; shard tables after it ends ('shardgate reshard status' follows it)");
        }
    }

    /** The one shard every table lives on as a single table (an undeclared one on the default shard). */
    private static String homeOf(ClusterDefinition definition, List<String> tables) {
        Map<String, String> homes = new LinkedHashMap<>();
        for (String t : tables) {
            Optional<TableDefinition> d = definition.table(t);
            if (d.isEmpty()) {
                if (definition.unknownTables() == UnknownTablePolicy.REJECT) {
                    throw new CliException("table " + t + " is not declared and unknown tables are rejected; 'table add " + t
                            + " --kind single --shard S' first");
                }
                homes.put(t, definition.defaultShard());
            } else if (d.get().kind() == TableKind.SINGLE) {
                homes.put(t, d.get().shard());
            } else {
                throw new CliException("table " + t + " is " + d.get().kind().name().toLowerCase(Locale.ROOT)
                        + (d.get().kind() == TableKind.SHARDED ? " already (by " + d.get().shardKey() + ")" : "")
                        + "; 'table shard' turns single tables into sharded ones");
            }
        }
        if (new LinkedHashSet<>(homes.values()).size() > 1) {
            throw new CliException("co-located tables must live on one shard to be sharded together: " + homes);
        }
        return homes.values().iterator().next();
    }

    /**
     * Checks on the shards: every table exists at home with a primary key and the key column, and no other shard
     * has rows of it (they would be hidden or doubled). Returns the key type (given, or from the column type).
     */
    private KeyType checkShards(ClusterDefinition definition, List<String> tables, String column, String home) {
        KeyType type = keyType == null ? null : parseKeyType(keyType);
        ShardDefinition homeShard = definition.shard(home).orElseThrow(() -> new CliException("shard " + home + " is not declared"));
        try (ShardDatabase db = ShardDatabase.connect(homeShard)) {
            for (String t : tables) {
                Map<String, String> columns = db.columns(t);
                if (columns.isEmpty()) {
                    throw new CliException("table " + t + " does not exist on " + home + "; 'table add " + t + " --kind sharded'"
                            + " declares a table that has no rows yet");
                }
                String dataType = columns.get(column);
                if (dataType == null) {
                    throw new CliException("table " + t + " on " + home + " has no column " + column + " (columns: "
                            + String.join(", ", columns.keySet()) + ")");
                }
                if (!db.hasPrimaryKey(t)) {
                    throw new CliException("table " + t + " on " + home + " has no primary key; the migrator copies rows in"
                            + " primary-key order, so add one first");
                }
                KeyType fromColumn = dataType.endsWith("int") ? KeyType.INT : KeyType.STRING;
                if (type == null) {
                    type = fromColumn;
                } else if (type == KeyType.INT && fromColumn != KeyType.INT) {
                    throw new CliException("--key-type int, but " + t + "." + column + " is " + dataType);
                }
                if (type == KeyType.STRING) {
                    java.util.Optional<String> refusal = db.stringKeyRefusal(t, column);
                    if (refusal.isPresent()) {
                        throw new CliException("cannot shard " + t + " by " + column + " on " + home + ": " + refusal.get());
                    }
                }
            }
        } catch (SQLException e) {
            throw new CliException("cannot check the tables on " + home + ": " + ShardDatabase.reason(e), e);
        }
        for (String t : tables) {
            List<TableRows.OnShard> found = TableRows.of(definition, t);
            List<String> problems = found.stream().filter(s -> !s.shard().equals(home))
                    .filter(s -> s.error() != null || s.exists() && s.rows() > 0)
                    .map(s -> s.error() != null ? s.shard() + " unreachable (" + s.error() + ")" : s.shard() + " " + s.rows() + " rows")
                    .toList();
            if (!problems.isEmpty()) {
                throw new CliException("table " + t + " has rows outside its home " + home + " or cannot be checked there: "
                        + String.join(", ", problems) + "; sharding it would hide or double them");
            }
        }
        return type;
    }

    private KeyType keyTypeForResume(ClusterDefinition definition, List<String> tables, String column, String home) {
        Optional<TableDefinition> declared = definition.table(tables.getFirst()).filter(d -> d.kind() == TableKind.SHARDED);
        if (declared.isPresent()) {
            if (!declared.get().shardKey().equals(column)) {
                throw new CliException("tables " + String.join(", ", tables) + " are being sharded by " + declared.get().shardKey()
                        + ", not " + column);
            }
            return declared.get().keyType();
        }
        return checkShards(definition, tables, column, home);
    }

    private static KeyType parseKeyType(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "int" -> KeyType.INT;
            case "string" -> KeyType.STRING;
            default -> throw new CliException("--key-type must be int or string, was '" + text + "'");
        };
    }

    /** One migration per owner of slots still at home (none while the tables' migrations run already). */
    private static Set<String> startMigrations(ClusterStore store, PrintWriter out, TableSharding sharding, ClusterDefinition definition,
            BatchSettings settings) {
        List<MigrationRecord> all = store.listMigrations();
        Set<String> running = new LinkedHashSet<>();
        all.stream().filter(r -> !MigrationView.terminal(r) && Migrations.tableScope(r).equals(sharding.tables()))
                .sorted(Migrations.RUN_ORDER).forEach(r -> running.add(r.id()));
        if (!running.isEmpty()) {
            out.println("migrations " + String.join(", ", running) + " are moving the rows already; follow with 'shardgate reshard status'");
            return running;
        }
        SlotMap map = store.readSlotMap().value();
        Map<String, List<Integer>> byOwner = new LinkedHashMap<>();
        definition.shardNames().forEach(s -> byOwner.put(s, new ArrayList<>()));
        for (int slot : sharding.atHome()) {
            byOwner.computeIfAbsent(map.owner(slot), s -> new ArrayList<>()).add(slot);
        }
        List<MigrationBatch.Slots> moves = byOwner.entrySet().stream().filter(e -> !e.getValue().isEmpty())
                .map(e -> new MigrationBatch.Slots(e.getValue(), sharding.home(), e.getKey())).toList();
        if (moves.isEmpty()) {
            out.println("no slot is left at home; the migrations that are moving the rest end the sharding");
            return Set.of();
        }
        List<MigrationRecord> records = MigrationBatch.createForTables(sharding.tables(), moves, settings, Instant.now(),
                all.stream().map(MigrationRecord::id).toList());
        for (MigrationRecord r : records) {
            try {
                store.createMigration(r);
            } catch (StoreException.AlreadyExists e) {
                throw new CliException("migration id " + r.id() + " was taken meanwhile; run the command again", e);
            }
        }
        out.println("moving the rows of " + String.join(", ", sharding.tables()) + " from " + sharding.home() + " to the owners of "
                + "their slots: " + records.size() + (records.size() == 1 ? " migration" : " migrations"));
        TextTable table = new TextTable("ID", "SLOTS", "FROM", "TO");
        for (MigrationRecord r : records) {
            table.row(r.id(), Integer.toString(r.slots().size()), r.source(), r.target());
        }
        table.print(out, "  ");
        out.println("  a migrator worker runs them (auto-complete on); follow with: shardgate reshard status --watch");
        records.forEach(r -> running.add(r.id()));
        return running;
    }

    private static void await(ClusterStore store, long epoch, String what) throws InterruptedException {
        try {
            store.awaitEpoch(epoch, DefinitionChange.BARRIER_TIMEOUT);
        } catch (BarrierTimeoutException e) {
            throw new CliException("not every live proxy applied " + what + " (epoch " + epoch + ") within "
                    + DefinitionChange.BARRIER_TIMEOUT.toSeconds() + " s: " + e.getMessage() + "; run the command again to go on", e);
        }
    }
}

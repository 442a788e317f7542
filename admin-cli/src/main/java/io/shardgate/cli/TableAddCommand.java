package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.HotKeyMode;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.TableKind;
import io.shardgate.state.ClusterStore;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code shardgate table add}: declare a table's placement; live on every proxy when the command returns. */
@Command(name = "add",
        description = {
            "Declare a table: sharded by a key column, broadcast (a copy on every shard) or single (on one shard).",
            "Refused when rows of the table already exist where the new placement would not find them (an undeclared table "
                    + "lives on the default shard); --force declares it anyway. The change is a new slot-map epoch: the command "
                    + "waits until every live proxy routes with it."
        })
final class TableAddCommand implements Callable<Integer> {
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_$]{0,63}");

    @Mixin
    ZooKeeperOptions zk;

    @Parameters(index = "0", paramLabel = "NAME", description = "Table name (lower-case letters, digits, '_' or '$').")
    String name;

    @Option(names = "--kind", required = true, paramLabel = "KIND", description = "sharded, broadcast or single.")
    String kind;

    @Option(names = "--key", paramLabel = "COLUMN", description = "Shard-key column (sharded tables).")
    String key;

    @Option(names = "--key-type", paramLabel = "TYPE", description = "int or string: how key values are normalised before hashing.")
    String keyType;

    @Option(names = "--shard", paramLabel = "SHARD", description = "The shard of a single table.")
    String shard;

    @Option(names = "--split-by", paramLabel = "COLUMN", description = "Hot-key mode append: rows of a split key spread by this column.")
    String splitBy;

    @Option(names = "--counters", paramLabel = "COLUMNS", split = ",",
            description = "Hot-key mode counter: the additive columns, comma-separated.")
    List<String> counters;

    @Option(names = "--force", description = "Declare the table even where existing rows would not be found, or a shard cannot be checked.")
    boolean force;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        String table = name.toLowerCase(Locale.ROOT);
        if (!NAME.matcher(table).matches()) {
            throw new CliException("'" + name + "' is not a table name Shardgate can declare: use letters, digits, '_' or '$'");
        }
        try (ClusterStore store = zk.openExistingStore()) {
            ClusterDefinition before = store.readDefinition().value();
            TableDefinition planned = definition(table, before);
            List<TableRows.OnShard> found = TableRows.of(before, table);
            checkRows(planned, found, before);
            checkKeyCollation(planned, found, before);
            List<String> created = createWhereMissing(planned, found, before);
            // an existing table's AUTO_INCREMENT column becomes a cluster sequence with the declaration, starting above its rows
            String generated = planned.kind() == TableKind.SHARDED && found.stream().anyMatch(TableRows.OnShard::exists)
                    ? SequenceCatalog.generatedColumn(before, table).orElse(null) : null;
            if (generated != null) {
                io.shardgate.state.SequenceDeclaration.raiseTo(store, table, SequenceCatalog.startAboveRows(before, table, generated));
            }
            TableDefinition declared = planned.withSequence(generated);
            DefinitionChange.Applied applied = DefinitionChange.apply(store, "declare table " + table, current -> {
                if (current.table(table).isPresent()) {
                    throw alreadyDeclared(table, store.clusterName());
                }
                return current.withTable(declared);
            });
            out.println("declared table " + TableListCommand.describe(declared) + " in cluster '" + store.clusterName() + "'");
            out.println("  where it exists now: " + TableRows.describe(found));
            if (!created.isEmpty()) {
                out.println("  created on " + String.join(", ", created) + " as " + source(found, before).orElseThrow()
                        + " defines it (a sharded or broadcast table must exist on every shard)");
            }
            out.println("  definition version " + applied.definitionVersion() + ", epoch " + applied.epoch()
                    + (applied.live() ? ": every live proxy routes with it" : ": not every live proxy applied it within "
                    + DefinitionChange.BARRIER_TIMEOUT.toSeconds() + " s; they will when they catch up"));
            if (generated != null) {
                long next = io.shardgate.state.SequenceDeclaration.raiseTo(store, table, SequenceCatalog.startAboveRows(before, table,
                        generated));
                out.println("  cluster sequence of " + table + "." + generated + ": next id " + next + "; the proxies fill "
                        + generated + " from it");
            }
            if (declared.kind() != TableKind.SINGLE && found.stream().noneMatch(TableRows.OnShard::exists)) {
                out.println("  next: CREATE TABLE " + table + " through the proxy creates it on every shard");
            }
            out.flush();
        }
        return 0;
    }

    private TableDefinition definition(String table, ClusterDefinition cluster) {
        if (cluster.table(table).isPresent()) {
            throw alreadyDeclared(table, "this");
        }
        TableKind k = switch (kind.toLowerCase(Locale.ROOT)) {
            case "sharded" -> TableKind.SHARDED;
            case "broadcast" -> TableKind.BROADCAST;
            case "single" -> TableKind.SINGLE;
            default -> throw new CliException("--kind must be sharded, broadcast or single, was '" + kind + "'");
        };
        if (k != TableKind.SHARDED && (key != null || keyType != null || splitBy != null || counters != null)) {
            throw new CliException("--key, --key-type, --split-by and --counters are for sharded tables; " + table + " is " + kind);
        }
        if (k != TableKind.SINGLE && shard != null) {
            throw new CliException("--shard is for single tables; " + table + " is " + kind);
        }
        return switch (k) {
            case SHARDED -> sharded(table);
            case BROADCAST -> TableDefinition.broadcast(table);
            case SINGLE -> {
                if (shard == null) {
                    throw new CliException("a single table needs --shard (shards: " + String.join(", ", cluster.shardNames()) + ")");
                }
                if (cluster.shard(shard).isEmpty()) {
                    throw new CliException("shard '" + shard + "' is not in the cluster (shards: " + String.join(", ", cluster.shardNames()) + ")");
                }
                yield TableDefinition.single(table, shard);
            }
        };
    }

    private TableDefinition sharded(String table) {
        if (key == null || keyType == null) {
            throw new CliException("a sharded table needs --key COLUMN and --key-type int|string");
        }
        KeyType type = switch (keyType.toLowerCase(Locale.ROOT)) {
            case "int" -> KeyType.INT;
            case "string" -> KeyType.STRING;
            default -> throw new CliException("--key-type must be int or string, was '" + keyType + "'");
        };
        String column = key.toLowerCase(Locale.ROOT);
        HotKeyMode mode = HotKeyMode.NONE;
        if (splitBy != null && counters != null) {
            throw new CliException("a table has one hot-key mode: --split-by (append) or --counters (counter), not both");
        }
        if (splitBy != null) {
            if (splitBy.equalsIgnoreCase(column)) {
                throw new CliException("--split-by must be another column than the shard key '" + column + "'");
            }
            mode = new HotKeyMode.Append(splitBy.toLowerCase(Locale.ROOT));
        } else if (counters != null) {
            List<String> columns = counters.stream().map(c -> c.strip().toLowerCase(Locale.ROOT)).toList();
            if (columns.isEmpty() || columns.contains(column) || columns.stream().anyMatch(String::isEmpty)) {
                throw new CliException("--counters must name the additive columns, not the shard key '" + column + "'");
            }
            mode = new HotKeyMode.Counter(columns);
        }
        return new TableDefinition(table, TableKind.SHARDED, column, type, null, mode);
    }

    /** Rows the new placement would not find: anywhere for sharded and broadcast, elsewhere than its shard for single. */
    private void checkRows(TableDefinition declared, List<TableRows.OnShard> found, ClusterDefinition cluster) {
        List<String> unreachable = found.stream().filter(s -> s.error() != null).map(TableRows.OnShard::shard).toList();
        List<TableRows.OnShard> misplaced = found.stream().filter(s -> s.exists() && s.rows() > 0)
                .filter(s -> declared.kind() != TableKind.SINGLE || !s.shard().equals(declared.shard())).toList();
        if (force) {
            return;
        }
        if (!unreachable.isEmpty()) {
            throw new CliException("cannot check table " + declared.name() + " on " + String.join(", ", unreachable) + " ("
                    + TableRows.describe(found) + "); --force declares it without that check");
        }
        if (!misplaced.isEmpty()) {
            String where = TableRows.describe(misplaced);
            throw new CliException("table " + declared.name() + " already has rows (" + where + ") that a "
                    + kind.toLowerCase(Locale.ROOT) + " declaration would not find: "
                    + (declared.kind() == TableKind.SHARDED ? "routing by " + declared.shardKey() + " looks for each row on its slot's shard"
                    : declared.kind() == TableKind.BROADCAST ? "reads go to the default shard " + cluster.defaultShard()
                    + " and every shard needs the same rows" : "its rows would be on " + declared.shard())
                    + ". 'shardgate table shard " + declared.name() + " --key COLUMN' shards a single table with rows online; --force if they are "
                    + "placed right already");
        }
    }

    /**
     * A sharded or broadcast table must exist on every shard: one created before its declaration (through the proxy it
     * then lived on the default shard only) is created on the shards that lack it, as the default shard (or else the
     * first shard that has it) defines it. Runs before the declaration is published, so a failure declares nothing.
     */
    private List<String> createWhereMissing(TableDefinition declared, List<TableRows.OnShard> found, ClusterDefinition cluster) {
        if (declared.kind() == TableKind.SINGLE) {
            return List.of();
        }
        List<String> missing = found.stream().filter(s -> s.error() == null && !s.exists()).map(TableRows.OnShard::shard).toList();
        var source = source(found, cluster);
        if (missing.isEmpty() || source.isEmpty()) {
            return List.of(); // nowhere yet: CREATE TABLE through the proxy creates it on every shard
        }
        List<String> created = new java.util.ArrayList<>();
        try (ShardDatabase from = ShardDatabase.connect(cluster.shard(source.get()).orElseThrow())) {
            for (String shard : missing) {
                try (ShardDatabase to = ShardDatabase.connect(cluster.shard(shard).orElseThrow())) {
                    to.createLike(from, declared.name());
                    created.add(shard);
                } catch (java.sql.SQLException e) {
                    throw new CliException("table " + declared.name() + " exists on " + source.get() + " but not on " + shard
                            + ", and creating it there as " + source.get() + " defines it failed: " + ShardDatabase.reason(e)
                            + (created.isEmpty() ? "" : " (it was created on " + String.join(", ", created) + ")")
                            + "; nothing was declared. Create it on " + shard + " and run the command again", e);
                }
            }
        } catch (java.sql.SQLException e) {
            throw new CliException("cannot read the definition of table " + declared.name() + " on " + source.get() + ": "
                    + ShardDatabase.reason(e) + "; nothing was declared", e);
        }
        return created;
    }

    /** The shard whose definition of the table is copied: the default shard if it has it, else the first that does. */
    private static java.util.Optional<String> source(List<TableRows.OnShard> found, ClusterDefinition cluster) {
        return found.stream().filter(TableRows.OnShard::exists).map(TableRows.OnShard::shard)
                .min(java.util.Comparator.comparing(s -> !s.equals(cluster.defaultShard())));
    }

    /**
     * A string key on a column whose collation holds different strings equal ('ada' and 'Ada' under a case-insensitive
     * one) would miss rows and let duplicates in: refused on every shard where the table exists already (not with
     * --force: it is not a check that could not be made but a placement that cannot be right). A table created later
     * through the proxy is checked at its CREATE TABLE.
     */
    private void checkKeyCollation(TableDefinition declared, List<TableRows.OnShard> found, ClusterDefinition cluster) {
        if (declared.kind() != TableKind.SHARDED || declared.keyType() != KeyType.STRING) {
            return;
        }
        for (TableRows.OnShard on : found) {
            if (!on.exists()) {
                continue;
            }
            try (ShardDatabase db = ShardDatabase.connect(cluster.shard(on.shard()).orElseThrow())) {
                java.util.Optional<String> refusal = db.stringKeyRefusal(declared.name(), declared.shardKey());
                if (refusal.isPresent()) {
                    throw new CliException("cannot declare " + declared.name() + " sharded by string key " + declared.shardKey()
                            + " (on " + on.shard() + "): " + refusal.get());
                }
            } catch (java.sql.SQLException e) {
                throw new CliException("cannot check the collation of " + declared.name() + "." + declared.shardKey() + " on "
                        + on.shard() + ": " + ShardDatabase.reason(e), e);
            }
        }
    }

    private static CliException alreadyDeclared(String table, String cluster) {
        return new CliException("table " + table + " is already declared in " + (cluster.equals("this") ? "this cluster"
                : "cluster '" + cluster + "'") + "; 'shardgate table show " + table + "' shows it, 'table drop' removes the declaration");
    }
}

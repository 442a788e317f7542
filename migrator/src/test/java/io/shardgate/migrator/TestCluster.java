package io.shardgate.migrator;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.KeyType;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.local.LocalMariaDb;
import io.shardgate.slot.MigrationPhase;
import io.shardgate.slot.MovingSlot;
import io.shardgate.slot.ShardKeys;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.ClusterStore;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.Versioned;
import io.shardgate.state.memory.InMemoryClusterStore;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A two-shard cluster for worker tests: shards s0 and s1 are two databases of one shared local
 * MariaDB server (started once per test JVM), 64 slots (s0 owns 0..31, s1 32..63), an in-memory
 * store, and three sharded tables seeded on the shard that owns each row:
 * {@code users} (int key), {@code orders} (composite primary key, int key), {@code tags} (string
 * key, binary column).
 */
final class TestCluster implements AutoCloseable {
    static final int SLOTS = 64;
    /** Slots that tests move from s0 to s1. */
    static final List<Integer> MOVING = List.of(3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
    static final Map<String, String> KEYS = Map.of("users", "id", "orders", "user_id", "tags", "tag");
    static final Map<String, KeyType> KEY_TYPES = Map.of("users", KeyType.INT, "orders", KeyType.INT, "tags", KeyType.STRING);
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static LocalMariaDb server;

    final String name;
    final InMemoryClusterStore store;
    final String db0;
    final String db1;
    private final List<ClusterStore> sessions = new ArrayList<>();

    private TestCluster(String extraTablesYaml) {
        name = "m" + CLUSTERS.incrementAndGet();
        db0 = name + "_s0";
        db1 = name + "_s1";
        server().createDatabase(db0);
        server().createDatabase(db1);
        String yaml = "dialect: mysql\nslots: " + SLOTS + "\nshards:\n"
                + "  - {name: s0, url: '" + server().jdbcUrl(db0) + "', user: root, password: ''}\n"
                + "  - {name: s1, url: '" + server().jdbcUrl(db1) + "', user: root, password: ''}\n"
                + "tables:\n"
                + "  - {name: users, kind: sharded, key: id, key-type: int}\n"
                + "  - {name: orders, kind: sharded, key: user_id, key-type: int}\n"
                + "  - {name: tags, kind: sharded, key: tag, key-type: string}\n"
                + "  - {name: countries, kind: broadcast}\n" + extraTablesYaml;
        ClusterDefinition definition = ClusterDefinitionCodec.parseYaml(yaml, "worker test");
        store = new InMemoryClusterStore(name);
        store.createCluster(definition, SlotMap.initial(SLOTS, List.of("s0", "s1")), false);
    }

    static synchronized LocalMariaDb server() {
        if (server == null) {
            server = LocalMariaDb.temporary();
            LocalMariaDb started = server;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "test-mariadb-stop"));
        }
        return server;
    }

    /** A cluster with the three tables on s0 (users and orders also on s1; tags is missing there) and seeded rows. */
    static TestCluster seeded() throws SQLException {
        return seeded("");
    }

    static TestCluster seeded(String extraTablesYaml) throws SQLException {
        TestCluster c = new TestCluster(extraTablesYaml);
        for (String db : List.of(c.db0, c.db1)) {
            c.exec(db, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, score INT NULL)");
            c.exec(db, "CREATE TABLE orders (user_id BIGINT NOT NULL, order_no INT NOT NULL, amount DECIMAL(10,2),"
                    + " note VARCHAR(100) NULL, PRIMARY KEY (user_id, order_no))");
            c.exec(db, "CREATE TABLE countries (code CHAR(2) PRIMARY KEY)");
        }
        c.exec(c.db0, "CREATE TABLE tags (tag VARCHAR(64) COLLATE utf8mb4_bin PRIMARY KEY, payload VARBINARY(16))");
        try (Connection s0 = c.connect(c.db0); Connection s1 = c.connect(c.db1); Statement st0 = s0.createStatement();
                Statement st1 = s1.createStatement()) {
            for (int id = 1; id <= 400; id++) {
                Statement st = c.onS0(KeyType.INT, Integer.toString(id)) ? st0 : st1;
                st.addBatch("INSERT INTO users VALUES (" + id + ", 'user " + id + "', " + (id % 7 == 0 ? "NULL" : id * 3) + ")");
                if (id <= 200) {
                    st.addBatch("INSERT INTO orders VALUES (" + id + ", 1, " + id + ".25, 'first'), (" + id + ", 2, 0.50, NULL)");
                }
            }
            for (int i = 1; i <= 150; i++) {
                if (c.onS0(KeyType.STRING, "tag-" + i)) {
                    st0.addBatch("INSERT INTO tags VALUES ('tag-" + i + "', X'" + String.format("%02x%02x", i % 256, 7) + "')");
                }
            }
            st0.executeBatch();
            st1.executeBatch();
        }
        return c;
    }

    private boolean onS0(KeyType type, String key) {
        return slot(type, key) < SLOTS / 2;
    }

    static int slot(KeyType type, String key) {
        return SlotFunction.slot(ShardKeys.normalize(type, key), SLOTS);
    }

    Connection connect(String db) throws SQLException {
        return DriverManager.getConnection(server().jdbcUrl(db) + "?user=root&password=&sslMode=DISABLED");
    }

    void exec(String db, String... sql) throws SQLException {
        try (Connection c = connect(db); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /** Every row of a table as text, sorted, split by whether its key's slot is moving (true) or not. */
    Map<Boolean, Set<String>> rows(String db, String table) throws SQLException {
        Map<Boolean, Set<String>> out = new HashMap<>(Map.of(true, new TreeSet<>(), false, new TreeSet<>()));
        try (Connection c = connect(db); Statement st = c.createStatement()) {
            if (!c.getMetaData().getTables(db, null, table, null).next()) {
                return out;
            }
            try (ResultSet rs = st.executeQuery("SELECT * FROM " + table)) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    List<String> values = new ArrayList<>();
                    for (int i = 1; i <= n; i++) {
                        values.add(rs.getString(i));
                    }
                    boolean moving = MOVING.contains(slot(KEY_TYPES.get(table), rs.getString(KEYS.get(table))));
                    out.get(moving).add(String.join("|", values));
                }
            }
        }
        return out;
    }

    /** Rows of every table on both shards: "db.table" to the split above. */
    Map<String, Map<Boolean, Set<String>>> snapshot() throws SQLException {
        Map<String, Map<Boolean, Set<String>>> out = new HashMap<>();
        for (String table : KEYS.keySet()) {
            out.put("s0." + table, rows(db0, table));
            out.put("s1." + table, rows(db1, table));
        }
        return out;
    }

    MigrationRecord newMigration(String id, Map<String, String> details) {
        return newScopedMigration(id, MOVING, details);
    }

    /** A pending migration of {@code slots} from s0 to s1 (table-scoped when {@code details} names {@link Migrations#TABLES}). */
    MigrationRecord newScopedMigration(String id, List<Integer> slots, Map<String, String> details) {
        Map<String, String> all = new HashMap<>(Map.of(Migrations.ORDER, "0", Migrations.BATCH, "b1",
                Migrations.CREATED_AT_MILLIS, Long.toString(System.currentTimeMillis()), Migrations.AUTO_COMPLETE, "true",
                Migrations.ROWS_PER_SECOND_LIMIT, "0", Migrations.CHUNK_ROWS, "37"));
        all.putAll(details);
        MigrationRecord r = new MigrationRecord(id, slots, "s0", "s1", Migrations.Status.PENDING.name(), Map.of(), all,
                System.currentTimeMillis());
        store.createMigration(r);
        return r;
    }

    /** A record as a crashed worker would have left it in {@code phase}, with the slot map to match. */
    MigrationRecord migrationIn(String id, Migrations.Status phase, Map<String, String> checkpoints, Map<String, String> details) {
        newMigration(id, details);
        Versioned<MigrationRecord> r = store.readMigration(id).orElseThrow();
        Map<String, String> cps = new HashMap<>(checkpoints);
        cps.put(Migrations.MOVE_PUBLISHED, "true");
        MigrationRecord moved = new MigrationRecord(id, MOVING, "s0", "s1", phase.name(), cps, r.value().details(),
                System.currentTimeMillis());
        store.casMigration(moved, r.version());
        Versioned<SlotMap> map = store.readSlotMap();
        MovingSlot move = new MovingSlot(id, MigrationPhase.valueOf(phase.name()), "s0", "s1");
        store.casSlotMap(map.value().withMoving(map.value().epoch() + 1, MOVING, move), map.version());
        return moved;
    }

    /** Copies the moving rows of s0 to s1, as dual writes and a backfill would have. */
    void copyMovingRowsToTarget() throws SQLException {
        exec(db1, "CREATE TABLE IF NOT EXISTS tags (tag VARCHAR(64) COLLATE utf8mb4_bin PRIMARY KEY, payload VARBINARY(16))");
        for (String table : KEYS.keySet()) {
            try (Connection c = connect(db0); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT * FROM " + table)) {
                int n = rs.getMetaData().getColumnCount();
                try (Connection t = connect(db1)) {
                    while (rs.next()) {
                        if (!MOVING.contains(slot(KEY_TYPES.get(table), rs.getString(KEYS.get(table))))) {
                            continue;
                        }
                        var insert = t.prepareStatement("INSERT INTO " + table + " VALUES (" + "?,".repeat(n - 1) + "?)");
                        for (int i = 1; i <= n; i++) {
                            insert.setObject(i, rs.getObject(i));
                        }
                        insert.executeUpdate();
                        insert.close();
                    }
                }
            }
        }
    }

    MigrationRecord record(String id) {
        return store.readMigration(id).orElseThrow().value();
    }

    Migrations.Status status(String id) {
        return Migrations.Status.of(record(id));
    }

    /** Sets the CLI's request on a record, as {@code reshard abort/complete/rollback} does. */
    void request(String id, Migrations.Request request) {
        Versioned<MigrationRecord> r = store.readMigration(id).orElseThrow();
        store.casMigration(Migrations.withDetails(r.value(), Map.of(Migrations.REQUEST, request.value()),
                System.currentTimeMillis()), r.version());
    }

    void awaitStatus(String id, Migrations.Status status, Duration timeout) throws InterruptedException {
        await(timeout, () -> "migration " + id + " in " + status + "; record: " + record(id), () -> status(id) == status);
    }

    static void await(Duration timeout, java.util.function.Supplier<String> what, BooleanSupplier condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what.get());
            }
            Thread.sleep(20);
        }
    }

    /** Fast worker settings for tests. */
    static WorkerSettings settings(String workerId) {
        return WorkerSettings.defaults(workerId).withPollInterval(Duration.ofMillis(50))
                .withCutoverRetryBackoff(Duration.ofMillis(200));
    }

    ClusterStore newSession() {
        ClusterStore s = store.newSession();
        sessions.add(s);
        return s;
    }

    static void assertMapSettled(SlotMap map, String owner) {
        for (int slot : MOVING) {
            assertThat(map.moving(slot)).as("slot %d moving", slot).isEmpty();
            assertThat(map.owner(slot)).as("owner of slot %d", slot).isEqualTo(owner);
        }
    }

    @Override
    public void close() throws SQLException {
        sessions.forEach(ClusterStore::close);
        store.close();
        exec(db0, "DROP DATABASE " + db0);
        exec(db1, "DROP DATABASE " + db1);
    }
}

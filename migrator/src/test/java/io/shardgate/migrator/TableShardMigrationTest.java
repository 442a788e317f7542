package io.shardgate.migrator;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.KeyType;
import io.shardgate.migrator.Migrations.Status;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.TableSharding;
import io.shardgate.state.Versioned;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Table-scoped migrations ({@code table shard}) on a real MariaDB: {@code notes} was single on s0 with rows of every
 * key, is declared sharded, and the slot map's table sharding says its rows of s1's slots (32-63) are still at home.
 * The migration moves exactly those rows of {@code notes} and nothing of the other sharded tables.
 */
class TableShardMigrationTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<Integer> S1_SLOTS = IntStream.range(TestCluster.SLOTS / 2, TestCluster.SLOTS).boxed().toList();

    @Test
    void aTableScopedMigrationMovesOnlyItsTablesRowsAndEndsTheSharding() throws Exception {
        try (TestCluster c = seeded()) {
            var others = c.snapshot();
            Set<String> notesBefore = notes(c, c.db0);
            c.newScopedMigration("t1", S1_SLOTS, Map.of(Migrations.TABLES, "notes"));

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("t1", Status.DONE, WAIT);
            }

            Set<String> onS0 = notes(c, c.db0);
            Set<String> onS1 = notes(c, c.db1);
            assertThat(onS1).isNotEmpty().allMatch(row -> slot(row) >= TestCluster.SLOTS / 2);
            assertThat(onS0).isNotEmpty().allMatch(row -> slot(row) < TestCluster.SLOTS / 2);
            Set<String> union = new TreeSet<>(onS0);
            union.addAll(onS1);
            assertThat(union).hasSize(onS0.size() + onS1.size()).isEqualTo(notesBefore);
            assertThat(c.snapshot()).as("the other sharded tables are not touched").isEqualTo(others);
            SlotMap map = c.store.readSlotMap().value();
            assertThat(map.tableShardings()).isEmpty();
            assertThat(map.movingSlots()).isEmpty();
            assertThat(c.record("t1").details()).containsEntry(Migrations.ROWS_COPIED + "notes", Integer.toString(onS1.size()))
                    .doesNotContainKey(Migrations.ROWS_COPIED + "users");
        }
    }

    @Test
    void anAbortedTableScopedMigrationLeavesTheRowsAtHomeForTheNextAttempt() throws Exception {
        try (TestCluster c = seeded()) {
            Set<String> notesBefore = notes(c, c.db0);
            c.newScopedMigration("t1", S1_SLOTS, Map.of(Migrations.TABLES, "notes", Migrations.ROWS_PER_SECOND_LIMIT, "40",
                    Migrations.CHUNK_ROWS, "10"));

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("t1", Status.BACKFILL, WAIT);
                TestCluster.await(WAIT, () -> "rows copied", () -> c.record("t1").details().containsKey(Migrations.ROWS_COPIED + "notes"));
                c.request("t1", Migrations.Request.ABORT);
                c.awaitStatus("t1", Status.ABORTED, WAIT);
            }

            assertThat(notes(c, c.db0)).isEqualTo(notesBefore);
            assertThat(notes(c, c.db1)).as("the target's copies are removed").isEmpty();
            TableSharding sharding = c.store.readSlotMap().value().tableSharding("notes").orElseThrow();
            assertThat(sharding.moving()).isEmpty();
            assertThat(sharding.atHome()).containsExactlyElementsOf(S1_SLOTS);
        }
    }

    /** The worker cluster plus {@code notes}: declared sharded, all its rows on s0, the table sharding of s1's slots. */
    private static TestCluster seeded() throws Exception {
        TestCluster c = TestCluster.seeded("  - {name: notes, kind: sharded, key: user_id, key-type: int}\n");
        c.exec(c.db0, "CREATE TABLE notes (user_id BIGINT NOT NULL, seq INT NOT NULL, body VARCHAR(40), PRIMARY KEY (user_id, seq))");
        try (Connection s0 = c.connect(c.db0); Statement st = s0.createStatement()) {
            for (int u = 1; u <= 120; u++) {
                st.addBatch("INSERT INTO notes VALUES (" + u + ", 1, 'note " + u + "'), (" + u + ", 2, NULL)");
            }
            st.executeBatch();
        }
        Versioned<SlotMap> map = c.store.readSlotMap();
        c.store.casSlotMap(map.value().withTableSharding(map.value().epoch() + 1,
                new TableSharding(List.of("notes"), "s0", Set.copyOf(S1_SLOTS), Map.of())), map.version());
        return c;
    }

    private static Set<String> notes(TestCluster c, String db) throws Exception {
        Set<String> rows = new TreeSet<>();
        try (Connection conn = c.connect(db)) {
            if (!conn.getMetaData().getTables(db, null, "notes", null).next()) {
                return rows;
            }
            try (Statement st = conn.createStatement(); var rs = st.executeQuery("SELECT user_id, seq, body FROM notes")) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3));
                }
            }
        }
        return rows;
    }

    private static int slot(String row) {
        return TestCluster.slot(KeyType.INT, row.substring(0, row.indexOf('|')));
    }
}

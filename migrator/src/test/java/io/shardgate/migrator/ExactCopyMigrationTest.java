package io.shardgate.migrator;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.migrator.Migrations.Status;
import io.shardgate.slot.SlotMap;
import io.shardgate.slot.TableSharding;
import io.shardgate.state.Versioned;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The backfill (and verify) copy every type's value exactly, on a real MariaDB: a table-scoped migration moves rows of
 * columns that a Java value or a short text form does not hold (fractional seconds, TIME beyond a day, FLOAT digits,
 * BIT, YEAR, latin1, binary), and each moved row reads on the target as on the source, column by column as the
 * server's text and bytes.
 */
class ExactCopyMigrationTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final List<Integer> S1_SLOTS = IntStream.range(TestCluster.SLOTS / 2, TestCluster.SLOTS).boxed().toList();
    private static final String COLUMNS = "user_id, dt3, dt6, t6, ts6, dc, dbl, CAST(dbl AS CHAR), flt, CAST(flt AS DOUBLE), HEX(bt),"
            + " j, HEX(vb), HEX(bl), e, st, l1, HEX(l1), y, d, u, tx, HEX(tx)";

    @Test
    void theBackfillCopiesEveryTypeExactly() throws Exception {
        try (TestCluster c = TestCluster.seeded("  - {name: wide, kind: sharded, key: user_id, key-type: int}\n")) {
            c.exec(c.db0, "CREATE TABLE wide (user_id BIGINT PRIMARY KEY, dt3 DATETIME(3), dt6 DATETIME(6), t6 TIME(6),"
                    + " ts6 TIMESTAMP(6) NULL DEFAULT NULL, dc DECIMAL(30,10), dbl DOUBLE, flt FLOAT, bt BIT(10), j JSON,"
                    + " vb VARBINARY(20), bl BLOB, e ENUM('a','b c'), st SET('x','y','z'), l1 VARCHAR(20) CHARACTER SET latin1,"
                    + " y YEAR, d DATE, u BIGINT UNSIGNED, tx TEXT CHARACTER SET utf8mb4)");
            try (Connection s0 = c.connect(c.db0); Statement st = s0.createStatement()) {
                for (int u = 1; u <= 60; u++) {
                    st.addBatch(switch (u % 3) {
                        case 0 -> "INSERT INTO wide VALUES (" + u + ", '2026-01-02 03:04:05.678', '2026-01-02 03:04:05.123456',"
                                + " '-838:59:58.999999', '2026-01-02 03:04:05.000001', '12345678901234567890.0123456789',"
                                + " 0.30000000000000004, 1.0000001, b'1011111111', '{\"a\": [1, 2.50, \"é\"]}', x'00FF80C3', x'FE00FF27',"
                                + " 'b c', 'x,z', 'Ærø ÿ', 2155, '1000-01-01', 18446744073709551615, 'één 💡 \\\\ ''q''')";
                        case 1 -> "INSERT INTO wide VALUES (" + u + ", '9999-12-31 23:59:59.999', '1000-01-01 00:00:00.000001',"
                                + " '838:59:59.000001', '2038-01-18 03:14:07.999999', '-0.0000000001', 4.9E-324, 3.40282e38, b'0',"
                                + " '[]', '', '', 'a', '', '', 1901, '9999-12-31', 0, '')";
                        default -> "INSERT INTO wide (user_id) VALUES (" + u + ")";
                    });
                }
                st.executeBatch();
            }
            Map<String, List<String>> before = rows(c, c.db0);
            Versioned<SlotMap> map = c.store.readSlotMap();
            c.store.casSlotMap(map.value().withTableSharding(map.value().epoch() + 1,
                    new TableSharding(List.of("wide"), "s0", Set.copyOf(S1_SLOTS), Map.of())), map.version());
            c.newScopedMigration("x1", S1_SLOTS, Map.of(Migrations.TABLES, "wide"));

            try (MigrationWorker worker = MigrationWorker.start(c.store, TestCluster.settings("w1"))) {
                c.awaitStatus("x1", Status.DONE, WAIT);
            }

            Map<String, List<String>> moved = rows(c, c.db1);
            assertThat(moved).hasSizeGreaterThan(10);
            for (var row : moved.entrySet()) {
                assertThat(row.getValue()).as("row %s (columns %s)", row.getKey(), COLUMNS).isEqualTo(before.get(row.getKey()));
            }
        }
    }

    private static Map<String, List<String>> rows(TestCluster c, String db) throws Exception {
        Map<String, List<String>> rows = new TreeMap<>();
        try (Connection conn = c.connect(db); Statement st = conn.createStatement();
                ResultSet rs = st.executeQuery("SELECT " + COLUMNS + " FROM wide")) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    byte[] b = rs.getBytes(i);
                    row.add(b == null ? null : new String(b, java.nio.charset.StandardCharsets.UTF_8));
                }
                rows.put(rs.getString(1), row);
            }
        }
        return rows;
    }
}

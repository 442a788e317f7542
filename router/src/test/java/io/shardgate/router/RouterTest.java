package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.UnknownTablePolicy;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.router.plan.ShardStatement;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Behaviour that golden files do not show: caching, parameter binding, snapshot changes. */
class RouterTest {
    private static final ClusterDefinition CLUSTER = new ClusterDefinition(Dialect.MYSQL, 16,
            List.of(shard("s0"), shard("s1")), Map.of("t", TableDefinition.sharded("t", "id", KeyType.INT)), "s0",
            UnknownTablePolicy.SINGLE);
    private static final RoutingSnapshot SNAPSHOT = new RoutingSnapshot(CLUSTER, SlotMap.initial(16, List.of("s0", "s1")));

    private final Router router = new Router();

    @Test
    void analysedStatementRoutesEachExecutionByItsBoundKey() {
        AnalysedStatement st = Router.analyse("SELECT c FROM t WHERE id = ?", Dialect.MYSQL);
        assertThat(st.parameterCount()).isEqualTo(1);
        for (long k = 0; k < 50; k++) {
            long key = k;
            RoutePlan plan = router.route(st, List.of(key), SNAPSHOT);
            String expected = SlotFunction.slot(Long.toString(key), 16) < 8 ? "s0" : "s1";
            assertThat(plan).isInstanceOfSatisfying(RoutePlan.SingleShard.class,
                    p -> assertThat(p.statement().shard()).as("shard of key %d", key).isEqualTo(expected));
        }
    }

    @Test
    void writesToAnyTableAreToldApartFromReadsAndOtherStatements() {
        for (String write : List.of("INSERT INTO notes VALUES (1)", "REPLACE INTO notes VALUES (1)", "UPDATE notes SET a = 1",
                "DELETE FROM notes WHERE a = 2", "INSERT INTO notes (a) VALUES (1) ON DUPLICATE KEY UPDATE a = a + 1")) {
            assertThat(Router.analyse(write, Dialect.MYSQL).modifiesRows()).as(write).isTrue();
        }
        for (String other : List.of("SELECT * FROM notes", "SELECT * FROM notes FOR UPDATE", "SET autocommit = 0", "COMMIT",
                "CREATE TABLE notes (a INT)", "SHOW TABLES", "this is not SQL")) {
            assertThat(Router.analyse(other, Dialect.MYSQL).modifiesRows()).as(other).isFalse();
        }
    }

    private static List<String> writtenKeys(RoutedStatement routed) {
        List<String> keys = new java.util.ArrayList<>();
        routed.writtenKeys().forEach((table, key) -> keys.add(table + "=" + key));
        return keys;
    }

    @Test
    void theRoutedStatementCarriesWhatRunningItNeedsToKnow() {
        RoutedStatement write = router.routeStatement(Router.analyse("UPDATE t SET c = 1 WHERE id IN (?, 7)", Dialect.MYSQL),
                List.of("3"), SNAPSHOT, 0, IdSource.NONE);
        assertThat(write.writesShardedRows()).isTrue();
        assertThat(write.holdsSnapshot()).isTrue();
        assertThat(write.writesMovingSlots()).isFalse();
        assertThat(writtenKeys(write)).containsExactly("t=3", "t=7");

        RoutedStatement read = router.routeStatement(Router.analyse("SELECT * FROM t WHERE id = 3", Dialect.MYSQL), List.of(),
                SNAPSHOT, 0, IdSource.NONE);
        assertThat(read.writesShardedRows()).isFalse();
        assertThat(read.holdsSnapshot()).as("a read of sharded rows waits for its snapshot").isTrue();
        assertThat(writtenKeys(read)).isEmpty();

        RoutedStatement other = router.routeStatement(Router.analyse("SELECT * FROM notes", Dialect.MYSQL), List.of(), SNAPSHOT, 0,
                IdSource.NONE);
        assertThat(other.holdsSnapshot()).as("reads of other tables never delay an acknowledgement").isFalse();
        RoutedStatement otherWrite = router.routeStatement(Router.analyse("DELETE FROM notes", Dialect.MYSQL), List.of(), SNAPSHOT, 0,
                IdSource.NONE);
        assertThat(otherWrite.writesShardedRows()).isFalse();
        assertThat(otherWrite.holdsSnapshot()).as("a single table may become sharded").isTrue();

        RoutedStatement refused = router.routeStatement(Router.analyse("UPDATE t SET c = 1 WHERE id IN (?, 7)", Dialect.MYSQL),
                List.of(), SNAPSHOT, 0, IdSource.NONE);
        assertThat(refused.plan()).isInstanceOf(RoutePlan.Rejected.class);
        assertThat(refused.writesShardedRows()).isTrue();
        assertThat(writtenKeys(refused)).as("a refused write counts no key, not even the literal 7").isEmpty();
    }

    @Test
    void aWriteToMovingSlotsSaysSo() {
        AnalysedStatement update = Router.analyse("UPDATE t SET c = 1 WHERE id = ?", Dialect.MYSQL);
        int slot = SlotFunction.slot("5", 16);
        String owner = slot < 8 ? "s0" : "s1";
        RoutingSnapshot moving = new RoutingSnapshot(CLUSTER, SNAPSHOT.slotMap().withMoving(2, List.of(slot),
                new io.shardgate.slot.MovingSlot("m1", io.shardgate.slot.MigrationPhase.DUAL_WRITE, owner, owner.equals("s0") ? "s1" : "s0")));
        RoutedStatement routed = router.routeStatement(update, List.of(5L), moving, 0, IdSource.NONE);
        assertThat(routed.plan()).isInstanceOf(RoutePlan.DualWrite.class);
        assertThat(routed.writesMovingSlots()).isTrue();
        assertThat(router.routeStatement(update, List.of(5L), SNAPSHOT, 0, IdSource.NONE).writesMovingSlots()).isFalse();
    }

    @Test
    void analysisIsReusedForTheSameClusterAndRedoneForAnother() {
        AnalysedStatement st = Router.analyse("SELECT c FROM t WHERE id = ?", Dialect.MYSQL);
        Analysis first = st.analysisFor(CLUSTER);
        assertThat(st.analysisFor(CLUSTER)).isSameAs(first);
        ClusterDefinition other = CLUSTER.withTable(TableDefinition.broadcast("u"));
        assertThat(st.analysisFor(other)).isNotSameAs(first);
    }

    @Test
    void planCarriesTheEpochOfTheSnapshot() {
        RoutingSnapshot later = new RoutingSnapshot(CLUSTER, SNAPSHOT.slotMap().withEpoch(9));
        assertThat(router.route("SELECT 1", List.of(), later).epoch()).isEqualTo(9);
        assertThat(router.route("SELECT * FROM t WHERE id = 1", List.of(), later).epoch()).isEqualTo(9);
        assertThat(router.route("SELECT * FROM t WHERE id = 'x'", List.of(), later).epoch()).isEqualTo(9);
    }

    @Test
    void splitInsertBindsEachShardsOwnParameters() {
        List<Object> params = List.of(1L, "a", 2L, "b", 4L, "c");
        RoutePlan plan = router.route("INSERT INTO t (id, name) VALUES (?, ?), (?, ?), (?, ?)", params, SNAPSHOT);
        assertThat(plan).isInstanceOf(RoutePlan.MultiShard.class);
        RoutePlan.MultiShard multi = (RoutePlan.MultiShard) plan;
        assertThat(multi.merge()).isInstanceOf(MergePlan.AffectedRows.class);
        int rows = 0;
        for (ShardStatement s : multi.statements()) {
            List<Object> bound = s.bind(params);
            assertThat(bound.size()).isEqualTo(s.sql().chars().filter(c -> c == '?').count());
            for (int i = 0; i < bound.size(); i += 2) {
                String key = bound.get(i).toString();
                assertThat(SlotFunction.slot(key, 16) < 8 ? "s0" : "s1").isEqualTo(s.shard());
                rows++;
            }
        }
        assertThat(rows).isEqualTo(3);
    }

    @Test
    void nullBoundKeyIsRejectedNotThrown() {
        RoutePlan plan = router.route("SELECT * FROM t WHERE id = ?", Arrays.asList((Object) null), SNAPSHOT);
        assertThat(plan).isInstanceOfSatisfying(RoutePlan.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.BAD_SHARD_KEY_VALUE));
    }

    @Test
    void negativeLimitParameterIsRejected() {
        RoutePlan plan = router.route("SELECT id FROM t ORDER BY id LIMIT ?", List.of(-1L), SNAPSHOT);
        assertThat(plan).isInstanceOf(RoutePlan.Rejected.class);
    }

    @Test
    void scatterOwnersFollowANewSlotMap() {
        RoutingSnapshot allOnS1 = new RoutingSnapshot(CLUSTER, SlotMap.initial(16, List.of("s1")).withEpoch(2));
        RoutePlan before = router.route("SELECT * FROM t", List.of(), SNAPSHOT);
        RoutePlan after = router.route("SELECT * FROM t", List.of(), allOnS1);
        assertThat(((RoutePlan.MultiShard) before).shards()).containsExactly("s0", "s1");
        assertThat(after).isInstanceOfSatisfying(RoutePlan.SingleShard.class, p -> assertThat(p.statement().shard()).isEqualTo("s1"));
    }

    private static ShardDefinition shard(String name) {
        return new ShardDefinition(name, "jdbc:mysql://localhost/" + name, "root", "", 2, false);
    }

    private static List<String> writtenKeys(String sql, List<?> params) {
        List<String> keys = new java.util.ArrayList<>();
        Router.analyse(sql, Dialect.MYSQL).forEachWrittenKey(CLUSTER, params, (table, key) -> keys.add(table + ":" + key));
        return keys;
    }

    @Test
    void writtenKeysAreTheDistinctNormalisedKeysOfAWrite() {
        assertThat(writtenKeys("UPDATE t SET c = c + 1 WHERE id = ?", List.of(42L))).containsExactly("t:42");
        assertThat(writtenKeys("UPDATE T SET c = 1 WHERE id = '42'", List.of())).containsExactly("t:42");
        assertThat(writtenKeys("DELETE FROM t WHERE id IN (?, 7, ?)", List.of("7", 8))).containsExactly("t:7", "t:8");
        assertThat(writtenKeys("INSERT INTO t (id, c) VALUES (?, 1), (?, 2), (5, 3)", List.of(5, "6")))
                .containsExactly("t:5", "t:6");
    }

    @Test
    void readsScatterWritesAndOtherTablesWriteNoKeys() {
        assertThat(writtenKeys("SELECT c FROM t WHERE id = 1", List.of())).isEmpty();
        assertThat(writtenKeys("UPDATE t SET c = 0 WHERE c > 3", List.of())).isEmpty();
        assertThat(writtenKeys("INSERT INTO other (id) VALUES (1)", List.of())).isEmpty();
        assertThat(writtenKeys("SET autocommit = 0", List.of())).isEmpty();
    }

    @Test
    void aKeyThatDoesNotNormaliseIsSkipped() {
        assertThat(writtenKeys("UPDATE t SET c = 1 WHERE id IN (?, 3)", List.of("not a number"))).containsExactly("t:3");
    }

    @Test
    void manyRowsOfFewKeysCountEachKeyOnce() {
        StringBuilder sql = new StringBuilder("INSERT INTO t (id, c) VALUES ");
        for (int i = 0; i < 40; i++) {
            sql.append(i == 0 ? "" : ", ").append("(").append(i % 3).append(", ").append(i).append(")");
        }
        assertThat(writtenKeys(sql.toString(), List.of())).containsExactly("t:0", "t:1", "t:2");
    }
}

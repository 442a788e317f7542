package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.UnknownTablePolicy;
import io.shardgate.router.plan.PlanPrinter;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.slot.SlotMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Filling a cluster-sequence column: what the golden cases cannot show (the session's sql_mode, the id source's calls). */
class SequenceRoutingTest {
    private static final ClusterDefinition CLUSTER = new ClusterDefinition(Dialect.MYSQL, 16,
            List.of(new ShardDefinition("s0", "jdbc:mysql://localhost/s0", "root", "", 4, false),
                    new ShardDefinition("s1", "jdbc:mysql://localhost/s1", "root", "", 4, false)),
            Map.of("t", TableDefinition.sharded("t", "id", KeyType.INT).withSequence("id")), "s0", UnknownTablePolicy.SINGLE);
    private static final RoutingSnapshot SNAPSHOT = new RoutingSnapshot(CLUSTER, SlotMap.initial(16, List.of("s0", "s1")));

    /** An id source that logs its calls. */
    private static final class LoggingIds implements IdSource {
        final List<String> log = new ArrayList<>();
        final boolean zeroGenerates;
        long next = 100;

        LoggingIds(boolean zeroGenerates) {
            this.zeroGenerates = zeroGenerates;
        }

        @Override
        public long reserve(String table, int count) {
            log.add("reserve " + table + " " + count);
            long first = next;
            next += count;
            return first;
        }

        @Override
        public void given(String table, long value) {
            log.add("given " + table + " " + value);
        }

        @Override
        public boolean zeroGenerates() {
            log.add("sql_mode asked");
            return zeroGenerates;
        }
    }

    private final Router router = new Router();

    @Test
    void noAutoValueOnZeroStoresZeroAndTheModeIsAskedOnlyWhenAZeroIsGiven() {
        AnalysedStatement st = Router.analyse("INSERT INTO t (id, v) VALUES (?, ?)", Dialect.MYSQL);

        LoggingIds off = new LoggingIds(false);
        RoutePlan zeroKept = router.route(st, List.of(0L, "a"), SNAPSHOT, 0, off);
        assertThat(PlanPrinter.print(zeroKept)).contains("VALUES (?, ?)");
        assertThat(off.log).containsExactly("sql_mode asked", "given t 0");

        LoggingIds on = new LoggingIds(true);
        RoutePlan zeroFilled = router.route(st, List.of(0L, "a"), SNAPSHOT, 0, on);
        assertThat(PlanPrinter.print(zeroFilled)).as("the id is bound after the client's two parameters").contains("params=[2,1]");
        assertThat(on.log).containsExactly("sql_mode asked", "reserve t 1");

        LoggingIds explicit = new LoggingIds(true);
        router.route(st, List.of(7L, "a"), SNAPSHOT, 0, explicit);
        assertThat(explicit.log).containsExactly("given t 7");
    }

    @Test
    void oneStatementTakesOneRunOfConsecutiveIds() {
        LoggingIds ids = new LoggingIds(true);
        RoutePlan plan = router.route(Router.analyse("INSERT INTO t (v) VALUES ('a'), ('b'), ('c'), ('d'), ('e')", Dialect.MYSQL),
                List.of(), SNAPSHOT, 0, ids);
        assertThat(ids.log).containsExactly("reserve t 5");
        assertThat(plan).isInstanceOfSatisfying(RoutePlan.MultiShard.class, m -> assertThat(m.statements().stream()
                .flatMap(s -> s.parameters().stream()).sorted().toList()).as("ids 100..104 bound as parameters 0..4")
                .containsExactly(0, 1, 2, 3, 4));
    }

    @Test
    void routingWithoutAnIdSourceRefusesAnInsertThatNeedsIdsAndLeavesOthersAlone() {
        RoutePlan needs = router.route(Router.analyse("INSERT INTO t (v) VALUES ('a')", Dialect.MYSQL), List.of(), SNAPSHOT);
        assertThat(needs).isInstanceOfSatisfying(RoutePlan.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.UNSUPPORTED_STATEMENT));
        RoutePlan explicit = router.route(Router.analyse("INSERT INTO t (id, v) VALUES (5, 'a')", Dialect.MYSQL), List.of(), SNAPSHOT);
        assertThat(explicit).isInstanceOf(RoutePlan.SingleShard.class);
    }

    @Test
    void createTableOfAShardedTableNamesTheSequenceToRegisterOnce() {
        ClusterDefinition without = CLUSTER.withTable(TableDefinition.sharded("t", "id", KeyType.INT));
        assertThat(Router.analyse("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)", Dialect.MYSQL)
                .sequenceToRegister(without)).hasValue(Map.entry("t", "id"));
        assertThat(Router.analyse("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)", Dialect.MYSQL)
                .sequenceToRegister(CLUSTER)).as("already registered").isEmpty();
        assertThat(Router.analyse("CREATE TABLE t (id BIGINT PRIMARY KEY, v INT)", Dialect.MYSQL).sequenceToRegister(without)).isEmpty();
        assertThat(Router.analyse("CREATE TABLE other (id BIGINT AUTO_INCREMENT PRIMARY KEY)", Dialect.MYSQL)
                .sequenceToRegister(without)).as("undeclared: a single table on the default shard").isEmpty();
        assertThat(Router.analyse("CREATE TABLE t (n int, id serial)", Dialect.POSTGRES).sequenceToRegister(without))
                .hasValue(Map.entry("t", "id"));
    }
}

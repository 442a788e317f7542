package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.UnknownTablePolicy;
import io.shardgate.router.plan.RejectReason;
import io.shardgate.router.plan.RoutePlan;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Statements too deep or too large to analyse are refused before they are parsed, naming the limit; long IN lists
 * are read in linear time and give the same tree and the same plan as a plain parse.
 */
class StatementLimitsTest {
    private static final ClusterDefinition CLUSTER = new ClusterDefinition(Dialect.MYSQL, 16,
            List.of(shard("s0"), shard("s1")), Map.of("t", TableDefinition.sharded("t", "id", KeyType.INT)), "s0",
            UnknownTablePolicy.SINGLE);
    private static final RoutingSnapshot SNAPSHOT = new RoutingSnapshot(CLUSTER, SlotMap.initial(16, List.of("s0", "s1")));

    private final Router router = new Router();

    @Test
    void deepParenthesesAreRefusedNamingTheLimit() {
        String select = "SELECT " + "(".repeat(5_000) + "1" + ")".repeat(5_000) + " FROM t";
        String where = "SELECT c FROM t WHERE " + "(".repeat(5_000) + "id = 1" + ")".repeat(5_000);
        for (String sql : List.of(select, where)) {
            assertRefused(sql, "deeper than 32 levels (limits.max-statement-depth)");
        }
    }

    @Test
    void longOperatorChainsAreRefusedNamingTheLimit() {
        assertRefused("SELECT c FROM t WHERE c = 0" + " OR c = 1".repeat(10_000), "(limits.max-statement-operators)");
        assertRefused("SELECT c FROM t WHERE c = 0" + " + 1".repeat(10_000), "(limits.max-statement-operators)");
    }

    @Test
    void aMillionItemInListIsRefusedNamingTheLimit() {
        String sql = inList(1_000_000, i -> "?");
        assertRefused(sql, "1000001 list items, more than 200000 (limits.max-statement-items)");
        // its parameters are counted all the same, so a client binding them gets this refusal, not a count mismatch
        assertThat(Router.analyse(sql, Dialect.MYSQL).parameterCount()).isEqualTo(1_000_000);
    }

    @Test
    void statementsWithinTheLimitsAreNotCounted() {
        StatementLimits limits = StatementLimits.DEFAULTS;
        // signs of values, strings and comments do not count as operators or items
        assertThat(limits.check("SELECT c FROM t WHERE id IN (" + "-1, ".repeat(5_000) + "-2)", Dialect.MYSQL)).isEmpty();
        assertThat(limits.check("SELECT '" + "((( OR , ".repeat(5_000) + "' FROM t /* ((((,,,, */", Dialect.MYSQL)).isEmpty();
        assertThat(new StatementLimits(2, 10, 10).check("SELECT ((1)) FROM t", Dialect.MYSQL)).isEmpty();
        assertThat(new StatementLimits(2, 10, 10).check("SELECT (((1))) FROM t", Dialect.MYSQL)).isPresent();
        assertThat(new StatementLimits(32, 1, 10).check("SELECT 1 FROM t WHERE a AND b or c", Dialect.MYSQL)).isPresent();
        assertThat(new StatementLimits(32, 2, 10).check("SELECT 1 FROM t WHERE a AND b or c", Dialect.MYSQL)).isEmpty();
    }

    @Test
    void fiftyThousandParametersRouteToTheShardsOfTheirKeys() {
        int n = 50_000;
        AnalysedStatement st = Router.analyse(inList(n, i -> "?"), Dialect.MYSQL);
        assertThat(st.parameterCount()).isEqualTo(n);
        List<Long> keys = new ArrayList<>();
        for (long k = 0; k < n; k++) {
            keys.add(k * 7);
        }
        assertThat(router.route(st, keys, SNAPSHOT)).isInstanceOfSatisfying(RoutePlan.MultiShard.class,
                p -> assertThat(p.statements().stream().map(s -> s.shard()).sorted().toList()).containsExactly("s0", "s1"));
        // a few keys of one shard only: one shard
        List<Long> sameShard = new ArrayList<>();
        for (long k = 0; sameShard.size() < n; k++) {
            if (SlotFunction.slot(Long.toString(k), 16) < 8) {
                sameShard.add(k);
            }
        }
        assertThat(router.route(st, sameShard, SNAPSHOT)).isInstanceOfSatisfying(RoutePlan.SingleShard.class,
                p -> assertThat(p.statement().shard()).isEqualTo("s0"));
    }

    @Test
    void longValueListsParseToTheTreeAPlainParseGives() throws Exception {
        List<String> kinds = List.of("?", "-5", "7", "1.25", "-0.5", "'a''b'", "99999999999999999999");
        for (String kind : kinds) {
            String sql = "SELECT id FROM t WHERE id IN (" + items(200, kind) + ") AND c NOT IN (" + items(100, kind)
                    + ") OR id IN (SELECT id FROM t WHERE c IN (" + items(64, kind) + "))";
            ParsedStatement p = ParsedStatement.parse(sql, Dialect.MYSQL);
            assertThat(p.form()).as(kind).isInstanceOf(ParsedStatement.Parsed.class);
            String plain = net.sf.jsqlparser.parser.CCJSqlParserUtil.newParser(p.parseText()).Statement().toString();
            assertThat(((ParsedStatement.Parsed) p.form()).statement().toString()).as(kind).isEqualTo(plain);
            assertThat(p.freshTree().toString()).as(kind).isEqualTo(plain);
        }
        // PostgreSQL $n parameters
        ParsedStatement pg = ParsedStatement.parse("SELECT id FROM t WHERE id IN (" + dollars(300) + ")", Dialect.POSTGRES);
        assertThat(pg.parameterCount()).isEqualTo(300);
        assertThat(((ParsedStatement.Parsed) pg.form()).statement().toString())
                .isEqualTo(net.sf.jsqlparser.parser.CCJSqlParserUtil.newParser(pg.parseText()).Statement().toString());
    }

    @Test
    void mixedListsAndOtherShapesTakeThePlainPath() {
        String mixed = "SELECT id FROM t WHERE id IN (" + items(40, "1") + ", 'x', ?)";
        ParsedStatement p = ParsedStatement.parse(mixed, Dialect.MYSQL);
        assertThat(p.form()).isInstanceOf(ParsedStatement.Parsed.class);
        assertThat(ValueLists.collapse(p.parseText(), Dialect.MYSQL).any()).isFalse();
        assertThat(ValueLists.collapse("SELECT 'IN (" + items(40, "1") + ")' FROM t", Dialect.MYSQL).any()).isFalse();
    }

    private void assertRefused(String sql, String message) {
        AnalysedStatement st = Router.analyse(sql, Dialect.MYSQL);
        RoutePlan plan = router.route(st, java.util.Collections.nCopies(st.parameterCount(), 1L), SNAPSHOT);
        assertThat(plan).isInstanceOfSatisfying(RoutePlan.Rejected.class, r -> {
            assertThat(r.reason()).isEqualTo(RejectReason.STATEMENT_TOO_COMPLEX);
            assertThat(r.message()).contains(message);
        });
    }

    private static String inList(int n, java.util.function.IntFunction<String> item) {
        StringBuilder sb = new StringBuilder("SELECT id, c FROM t WHERE id IN (");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ", ").append(item.apply(i));
        }
        return sb.append(')').toString();
    }

    private static String items(int n, String item) {
        return String.join(", ", java.util.Collections.nCopies(n, item));
    }

    private static String dollars(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            sb.append(i == 1 ? "" : ", ").append('$').append(i);
        }
        return sb.toString();
    }

    private static ShardDefinition shard(String name) {
        return new ShardDefinition(name, "jdbc:mysql://localhost/" + name, "root", "", 2, false);
    }
}

package io.shardgate.router.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.shardgate.router.IdSource;
import io.shardgate.router.Router;
import io.shardgate.router.plan.PlanPrinter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden routing cases: every {@code golden/*.txt} file under {@code src/test/resources}, one dynamic
 * test per case. Run with {@code -Dgolden.update=true} to rewrite the expected plans from the current
 * router (then review the diff); by default a difference fails the case.
 */
class GoldenPlanTest {
    private static final Path GOLDEN = Path.of(System.getProperty("basedir", System.getProperty("user.dir")),
            "src", "test", "resources", "golden");
    private static final boolean UPDATE = Boolean.getBoolean("golden.update");
    private static final ClusterFixtures CLUSTERS = new ClusterFixtures(GOLDEN.resolve("clusters"));

    @TestFactory
    Stream<DynamicNode> goldenCases() throws IOException {
        return files().stream().map(GoldenFile::read).map(GoldenPlanTest::container);
    }

    @Test
    void goldenFilesHoldAtLeastOneHundredCases() throws IOException {
        int total = files().stream().map(GoldenFile::read).mapToInt(f -> f.cases.size()).sum();
        assertThat(total).isGreaterThanOrEqualTo(100);
    }

    private static List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(GOLDEN)) {
            return s.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
    }

    private static DynamicContainer container(GoldenFile file) {
        Map<String, String> actual = new LinkedHashMap<>();
        Stream<DynamicNode> cases = file.cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            String plan = plan(c);
            actual.put(c.name(), plan);
            if (!UPDATE && !plan.equals(c.expected())) {
                fail("golden case '" + c.name() + "' in " + file.path.getFileName() + " (line " + (c.expectedLine() + 1) + ")\n"
                        + "sql:      " + c.sql() + "\nexpected: " + c.expected() + "\nactual:   " + plan);
            }
        }));
        Stream<DynamicNode> rewrite = UPDATE
                ? Stream.of(DynamicTest.dynamicTest("rewrite " + file.path.getFileName(), () -> Files.writeString(file.path,
                        file.rewritten(actual), StandardCharsets.UTF_8)))
                : Stream.empty();
        return DynamicContainer.dynamicContainer(file.path.getFileName().toString(), Stream.concat(cases, rewrite));
    }

    private static String plan(GoldenFile.Case c) {
        var snapshot = CLUSTERS.snapshot(c.cluster());
        var statement = Router.analyse(c.sql(), snapshot.cluster().dialect());
        Ids ids = new Ids();
        String plan = PlanPrinter.print(new Router().route(statement, c.params(), snapshot, c.spread(), ids));
        return plan + (ids.reserved.isEmpty() ? "" : "\n  ids reserved (bound after the client's parameters): " + ids.reserved)
                + (ids.given.isEmpty() ? "" : "\n  ids given: " + ids.given);
    }

    /** A cluster sequence whose next id is 1001, recording the explicit ids a statement gives. */
    private static final class Ids implements IdSource {
        private long next = 1001;
        private final List<String> given = new java.util.ArrayList<>();
        private final List<Long> reserved = new java.util.ArrayList<>();

        @Override
        public long reserve(String table, int count) {
            long first = next;
            for (long id = first; id < first + count; id++) {
                reserved.add(id);
            }
            next += count;
            return first;
        }

        @Override
        public void given(String table, long value) {
            given.add(table + "=" + value);
        }

        @Override
        public boolean zeroGenerates() {
            return true;
        }
    }
}

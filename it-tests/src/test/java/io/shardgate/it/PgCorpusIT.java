package io.shardgate.it;

import io.shardgate.it.corpus.CliCorpusDriver;
import io.shardgate.it.corpus.CorpusDriver;
import io.shardgate.it.corpus.CorpusFile;
import io.shardgate.it.corpus.CorpusRun;
import io.shardgate.it.corpus.JdbcCorpusDriver;
import io.shardgate.it.corpus.NodeModules;
import io.shardgate.it.corpus.ScriptCorpusDriver;
import io.shardgate.it.corpus.Target;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * The PostgreSQL half of the compatibility corpus ({@code it-tests/src/test/resources/corpus/postgres/*.txt}): every
 * case through the proxy on two PostgreSQL shards and on the reference server, with pgJDBC (its defaults, and
 * {@code prepareThreshold=-1}: every statement named, described before binding, binary results), {@code psql},
 * psycopg2 and node {@code pg}, transcripts compared
 * byte for byte. See {@link io.shardgate.it.corpus}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgCorpusIT {
    private PgShardedCluster cluster;
    private Target proxy;
    private Target reference;

    @BeforeAll
    void start() throws Exception {
        long started = System.nanoTime();
        cluster = PgShardedCluster.start(2, Corpora.resource("/corpus/postgres/cluster.yaml"), "scram-sha-256");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            Corpora.runSchema(Corpora.resource("/corpus/postgres/schema.sql"), p, r);
        }
        System.out.printf("corpus postgres: cluster and schema ready in %d ms%n", (System.nanoTime() - started) / 1_000_000);
        proxy = new Target("proxy", "127.0.0.1", cluster.proxyPort(), PgShardedCluster.USER, PgShardedCluster.PASSWORD,
                PgShardedCluster.DATABASE);
        reference = new Target("reference", "127.0.0.1", cluster.reference().port(), "postgres", "", PgShardedCluster.DATABASE);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @TestFactory
    Stream<DynamicNode> corpus() throws Exception {
        CorpusRun run = new CorpusRun("postgres", CorpusFile.load("postgres"), proxy, reference, Corpora.outputDir());
        List<CorpusDriver> drivers = new ArrayList<>();
        drivers.add(new JdbcCorpusDriver("pgjdbc", "postgres", ""));
        drivers.add(new JdbcCorpusDriver("pgjdbc-binary", "postgres", "prepareThreshold=-1"));
        drivers.add(new CliCorpusDriver("psql"));
        drivers.add(new ScriptCorpusDriver("psycopg2", List.of("/usr/bin/python3", Corpora.script("python/corpus_driver.py"),
                "psycopg2"), Map.of(), true));
        drivers.add(new ScriptCorpusDriver("pg", List.of("node", Corpora.script("node/corpus_driver.js"), "pg"),
                Map.of("NODE_PATH", NodeModules.install(Corpora.itTestsDir()).toString()), true));
        return run.runAll(drivers.stream().filter(d -> CorpusRun.selected(d.name())).toList()).stream().map(DynamicNode.class::cast);
    }
}

package io.shardgate.it;

import io.shardgate.it.corpus.CliCorpusDriver;
import io.shardgate.it.corpus.CorpusDriver;
import io.shardgate.it.corpus.CorpusFile;
import io.shardgate.it.corpus.CorpusRun;
import io.shardgate.it.corpus.HibernateCorpusDriver;
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
 * The MySQL half of the compatibility corpus ({@code it-tests/src/test/resources/corpus/mysql/*.txt}): every case through
 * the proxy on two MariaDB shards and on the reference server, with Connector/J (client-side and server-side prepared
 * statements), the {@code mariadb} client, PyMySQL, mysql2 and Hibernate ORM, transcripts compared byte for byte.
 * See {@link io.shardgate.it.corpus} for the rules and the README's "Compatibility corpus" for adding a case.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MySqlCorpusIT {
    private ShardedCluster cluster;
    private Target proxy;
    private Target reference;

    @BeforeAll
    void start() throws Exception {
        long started = System.nanoTime();
        cluster = ShardedCluster.start(2, Corpora.resource("/corpus/mysql/cluster.yaml"));
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            Corpora.runSchema(Corpora.resource("/corpus/mysql/schema.sql"), p, r);
        }
        System.out.printf("corpus mysql: cluster and schema ready in %d ms%n", (System.nanoTime() - started) / 1_000_000);
        proxy = new Target("proxy", "127.0.0.1", cluster.proxy().mysqlPort(), ShardedCluster.USER, ShardedCluster.PASSWORD,
                ShardedCluster.DATABASE);
        reference = new Target("reference", "127.0.0.1", cluster.reference().port(), "root", "", ShardedCluster.DATABASE);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @TestFactory
    Stream<DynamicNode> corpus() throws Exception {
        CorpusRun run = new CorpusRun("mysql", CorpusFile.load("mysql"), proxy, reference, Corpora.outputDir());
        List<CorpusDriver> drivers = new ArrayList<>();
        drivers.add(new JdbcCorpusDriver("connectorj", "mysql", ""));
        drivers.add(new JdbcCorpusDriver("connectorj-ps", "mysql", "useServerPrepStmts=true"));
        drivers.add(new CliCorpusDriver("mariadb"));
        drivers.add(new ScriptCorpusDriver("pymysql", List.of("/usr/bin/python3", Corpora.script("python/corpus_driver.py"), "pymysql"),
                Map.of(), true));
        drivers.add(new ScriptCorpusDriver("mysql2", List.of("node", Corpora.script("node/corpus_driver.js"), "mysql2"),
                Map.of("NODE_PATH", NodeModules.install(Corpora.itTestsDir()).toString()), true));
        if (CorpusRun.selected("hibernate")) {
            drivers.add(new HibernateCorpusDriver(proxy, reference));
        }
        return run.runAll(drivers.stream().filter(d -> CorpusRun.selected(d.name())).toList()).stream().map(DynamicNode.class::cast);
    }
}

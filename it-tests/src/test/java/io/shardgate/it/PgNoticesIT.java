package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Notices the shards send (PostgreSQL's NoticeResponse) reach the client: psql prints exactly what it prints against a
 * single server, a notice of DDL that went to every shard is printed once, and pgJDBC sees them as SQLWarnings.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgNoticesIT {
    private static final String TABLES = """
            tables:
              - {name: events, kind: sharded, key: id, key-type: int}
            """;

    private PgShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(2, TABLES, "md5");
        // functions are created on every shard by the operator (the proxy does not route CREATE FUNCTION)
        String shout = "CREATE FUNCTION shout(n INT) RETURNS INT LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'hello %', n;"
                + " RAISE WARNING 'careful'; RETURN n; END $$";
        for (Connection c : List.of(cluster.shardConnection(0), cluster.shardConnection(1), cluster.referenceConnection(""))) {
            try (c; Statement st = c.createStatement()) {
                st.execute(shout);
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void psqlPrintsTheNoticesASingleServerPrints() throws Exception {
        String script = """
                DROP TABLE IF EXISTS events;
                CREATE TABLE events (id INT PRIMARY KEY, what TEXT);
                CREATE TABLE IF NOT EXISTS events (id INT PRIMARY KEY, what TEXT);
                INSERT INTO events VALUES (1, 'a'), (2, 'b'), (3, 'c');
                SELECT shout(42);
                SELECT what FROM events ORDER BY id;
                DROP TABLE IF EXISTS no_such_table;
                """;
        String viaProxy = psql(cluster.proxyPort(), PgShardedCluster.USER, PgShardedCluster.PASSWORD, script);
        String direct = psql(cluster.reference().port(), "postgres", "", script);
        assertThat(viaProxy).isEqualTo(direct)
                .contains("NOTICE:  table \"events\" does not exist, skipping")
                .contains("NOTICE:  relation \"events\" already exists, skipping")
                .contains("NOTICE:  hello 42")
                .contains("WARNING:  careful")
                .contains("NOTICE:  table \"no_such_table\" does not exist, skipping");
        // DDL of a sharded table runs on both shards, each of which sends the notice; the client gets it once
        assertThat(viaProxy.split("already exists, skipping", -1)).hasSize(2);
    }

    @Test
    void pgJdbcSeesNoticesAsWarnings() throws Exception {
        for (String options : List.of("", "prepareThreshold=0")) {
            try (Connection c = cluster.proxyConnection(options); Statement st = c.createStatement()) {
                st.execute("DROP TABLE IF EXISTS never_created_" + (options.isEmpty() ? "a" : "b"));
                SQLWarning w = st.getWarnings();
                assertThat((Object) w).as(options).isNotNull();
                assertThat(w.getSQLState()).isEqualTo("00000");
                assertThat(w.getMessage()).contains("does not exist, skipping");
                assertThat((Object) w.getNextWarning()).isNull();
                st.execute("SELECT 1");
                assertThat((Object) st.getWarnings()).as("a notice belongs to its statement only").isNull();
            }
        }
    }

    private static String psql(int port, String user, String password, String script) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", user,
                "-d", PgShardedCluster.DATABASE).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", password);
        pb.environment().put("PGSSLMODE", "disable");
        Process p = pb.start();
        p.getOutputStream().write(script.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}

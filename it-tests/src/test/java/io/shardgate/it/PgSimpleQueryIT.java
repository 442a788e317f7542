package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * Details of the PostgreSQL simple-query protocol a client sees, compared with a single server through psql:
 * notices the shards send (NoticeResponse) reach the client, once for DDL that went to every shard, and pgJDBC sees
 * them as SQLWarnings; the statements of one message run in one implicit transaction that an error rolls back, across
 * shards too; COPY FROM STDIN (pgJDBC's CopyManager, psql's \copy) puts each row on its key's shard, and a bad row, a
 * CopyFail or a rollback leaves nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgSimpleQueryIT {
    private static final String TABLES = """
            tables:
              - {name: events, kind: sharded, key: id, key-type: int}
              - {name: loads, kind: sharded, key: id, key-type: int}
              - {name: csv_loads, kind: sharded, key: id, key-type: int}
            """;
    private static final String LOADS = "CREATE TABLE loads (id INT PRIMARY KEY, note TEXT, raw BYTEA, n NUMERIC(8,2))";

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

    @Test
    void theStatementsOfOneMessageCommitOrRollBackTogether() throws Exception {
        String setUp = "CREATE TABLE IF NOT EXISTS ledger (id INT PRIMARY KEY, amount INT NOT NULL)";
        for (String[] target : targets()) {
            psqlCommand(target, setUp);
        }
        // one message each (psql -c sends the whole string as one Query); ids 1..40 spread over both shards
        List<String> messages = List.of(
                "INSERT INTO ledger VALUES (1, 10); INSERT INTO ledger VALUES (2, 20); INSERT INTO ledger VALUES (3, 30)",
                "INSERT INTO ledger VALUES (4, 40); INSERT INTO ledger VALUES (5, 50); INSERT INTO ledger VALUES (1, 99)",
                "UPDATE ledger SET amount = amount + 1; SELECT 1 / 0",
                "DELETE FROM ledger WHERE id = 2; INSERT INTO ledger VALUES (6, 60); SELECT COUNT(*) FROM ledger",
                // COMMIT ends the client's transaction; the next two statements get an implicit one, which the error undoes
                "BEGIN; INSERT INTO ledger VALUES (7, 70); COMMIT; INSERT INTO ledger VALUES (8, 80); INSERT INTO ledger VALUES (7, 1)",
                // BEGIN turns the implicit transaction into the client's own, still open when psql disconnects
                "INSERT INTO ledger VALUES (9, 90); BEGIN; INSERT INTO ledger VALUES (10, 100)",
                "INSERT INTO ledger VALUES (11, 110); COMMIT; INSERT INTO ledger VALUES (12, 120)");
        String check = "SELECT id, amount FROM ledger ORDER BY id";
        for (String message : messages) {
            String viaProxy = psqlCommand(targets()[0], message) + psqlCommand(targets()[0], check);
            String direct = psqlCommand(targets()[1], message) + psqlCommand(targets()[1], check);
            assertThat(viaProxy).as(message).isEqualTo(direct);
        }
        // the failed messages left nothing: 4, 5 (duplicate 1), the +1 (division by zero), 8 (duplicate 7), and 9 and
        // 10 went with the transaction the client left open
        assertThat(psqlCommand(targets()[0], check)).isEqualTo("1|10\n3|30\n6|60\n7|70\n11|110\n12|120\n");
    }

    @Test
    void copyFromStdinPutsEachRowOnItsKeysShard() throws Exception {
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            Sql.update(p, LOADS);
            Sql.update(r, LOADS);
            StringBuilder data = new StringBuilder();
            for (int id = 1; id <= 3000; id++) {
                data.append(id).append('\t').append(switch (id % 4) {
                    case 0 -> "\\N";
                    case 1 -> "tab\\there, new\\nline, back\\\\slash, Zoë 日本 " + id;
                    case 2 -> "";
                    default -> "plain " + id;
                }).append('\t').append(id % 3 == 0 ? "\\\\x00ff" + String.format("%02x", id % 256) : "\\N")
                        .append('\t').append(id % 5 == 0 ? "\\N" : id + ".25").append('\n');
            }
            String copy = "COPY loads (id, note, raw, n) FROM STDIN";
            assertThat(copyIn(p, copy, data.toString())).isEqualTo(3000);
            assertThat(copyIn(r, copy, data.toString())).isEqualTo(3000);
            String all = "SELECT id, note, raw, n FROM loads ORDER BY id";
            assertThat(Sql.query(p, all)).isEqualTo(Sql.query(r, all)).hasSize(3000);
            // each row on the shard owning its key's slot, none on both
            SlotMap slots = SlotMap.initial(4096, List.of("s0", "s1"));
            long onS0 = java.util.stream.IntStream.rangeClosed(1, 3000)
                    .filter(id -> slots.owner(SlotFunction.slot(Integer.toString(id), 4096)).equals("s0")).count();
            try (Connection s0 = cluster.shardConnection(0); Connection s1 = cluster.shardConnection(1)) {
                assertThat(Sql.count(s0, "SELECT COUNT(*) FROM loads")).isEqualTo(onS0);
                assertThat(Sql.count(s1, "SELECT COUNT(*) FROM loads")).isEqualTo(3000 - onS0);
            }

            // a malformed row (line 3) fails the COPY and nothing of it stays, not even the rows before it
            assertThatThrownBy(() -> copyIn(p, copy, "5001\ta\t\\N\t1\n5002\tb\t\\N\t2\n5003\tc\n"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("missing data for column raw")
                    .hasMessageContaining("line 3");
            // a duplicate key fails on its shard with the server's error and detail, and nothing stays either
            assertThatThrownBy(() -> copyIn(p, copy, "5004\td\t\\N\t1\n7\tdup\t\\N\t1\n"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("duplicate key value")
                    .hasMessageContaining("Key (id)=(7) already exists");
            // the client gives up (CopyFail)
            CopyIn giveUp = new CopyManager(p.unwrap(BaseConnection.class)).copyIn(copy);
            byte[] row = "5005\te\t\\N\t1\n".getBytes(StandardCharsets.UTF_8);
            giveUp.writeToCopy(row, 0, row.length);
            giveUp.cancelCopy();
            // inside the client's transaction the COPY is part of it: rolled back with it
            p.setAutoCommit(false);
            assertThat(copyIn(p, copy, "5006\tf\t\\N\t1\n5007\tg\t\\N\t2\n")).isEqualTo(2);
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM loads WHERE id > 5000")).isEqualTo(2);
            p.rollback();
            p.setAutoCommit(true);
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM loads WHERE id > 5000")).isZero();
            assertThat(Sql.count(p, "SELECT COUNT(*) FROM loads")).isEqualTo(3000);
        }
    }

    @Test
    void psqlCopiesCsvAndRefusesWhatItCannotDo() throws Exception {
        String[] proxy = targets()[0];
        psqlCommand(proxy, "CREATE TABLE IF NOT EXISTS csv_loads (id INT PRIMARY KEY, note TEXT, raw BYTEA, n NUMERIC(8,2))");
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", proxy[0], "-U", proxy[1],
                "-d", PgShardedCluster.DATABASE).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", proxy[2]);
        pb.environment().put("PGSSLMODE", "disable");
        Process psql = pb.start();
        psql.getOutputStream().write("""
                \\copy csv_loads (id, note) from stdin with (format csv, header true)
                id,note
                9001,"comma, ""quote"" and
                newline"
                9002,
                9003,""
                \\.
                SELECT id, note IS NULL AS is_null, note FROM csv_loads WHERE id > 9000 ORDER BY id;
                """.getBytes(StandardCharsets.UTF_8));
        psql.getOutputStream().close();
        String out = new String(psql.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(psql.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(psql.exitValue()).as(out).isZero();
        assertThat(out).contains("COPY 3").contains(" 9001 | f       | comma, \"quote\" and+\n      |         | newline\n")
                .contains(" 9002 | t       | ").contains(" 9003 | f       | ");
        assertThat(psqlCommand(proxy, "COPY csv_loads TO STDOUT")).contains("COPY TO is not supported by Shardgate yet");
        assertThat(psqlCommand(proxy, "COPY csv_loads FROM '/etc/passwd'")).contains("would be read on one shard");
        assertThat(psqlCommand(proxy, "SELECT COUNT(*) FROM csv_loads WHERE id > 9000")).isEqualTo("3\n");
    }

    private static long copyIn(Connection c, String sql, String data) throws Exception {
        return new CopyManager(c.unwrap(BaseConnection.class)).copyIn(sql, new java.io.StringReader(data));
    }

    private String[][] targets() {
        return new String[][] {
            {Integer.toString(cluster.proxyPort()), PgShardedCluster.USER, PgShardedCluster.PASSWORD},
            {Integer.toString(cluster.reference().port()), "postgres", ""}};
    }

    /** psql -c: the whole string as one simple-query message; output and errors, whatever the exit status. */
    private static String psqlCommand(String[] target, String command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-At", "-h", "127.0.0.1", "-p", target[0], "-U", target[1],
                "-d", PgShardedCluster.DATABASE, "-c", command).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", target[2]);
        pb.environment().put("PGSSLMODE", "disable");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
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

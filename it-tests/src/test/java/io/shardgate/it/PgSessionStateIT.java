package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The PostgreSQL side of session state on a server: session advisory locks contend on one server (the default shard),
 * temporary tables are their session's own, and neither outlives the session on a pooled connection. Two pgJDBC
 * sessions through the proxy (two PostgreSQL shards) and two on the reference server, answers compared.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgSessionStateIT {
    private static final String TABLES = """
            tables:
              - {name: items, kind: sharded, key: id, key-type: int}
            """;

    private PgShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(2, TABLES, "md5");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (Connection c : List.of(p, r)) {
                Sql.update(c, "CREATE TABLE items (id INT PRIMARY KEY, name TEXT NOT NULL)");
                Sql.update(c, "INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e'), (6, 'f')");
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static String same(Connection proxy, Connection reference, String sql) {
        String expected = SessionStateIT.answer(reference, sql);
        String actual = SessionStateIT.answer(proxy, sql);
        assertThat(actual).as("through the proxy: %s", sql).isEqualTo(expected);
        return actual;
    }

    @Test
    void advisoryLocksContendAcrossSessions() throws SQLException {
        try (Connection pA = cluster.proxyConnection(""); Connection pB = cluster.proxyConnection("");
                Connection rA = cluster.referenceConnection(""); Connection rB = cluster.referenceConnection("")) {
            assertThat(same(pA, rA, "SELECT pg_try_advisory_lock(42)")).endsWith("[[t]]");
            assertThat(same(pB, rB, "SELECT pg_try_advisory_lock(42)")).endsWith("[[f]]");
            same(pA, rA, "SELECT count(*) FROM items");
            assertThat(same(pA, rA, "SELECT pg_advisory_unlock(42)")).endsWith("[[t]]");
            assertThat(same(pB, rB, "SELECT pg_try_advisory_lock(42)")).endsWith("[[t]]");
            same(pB, rB, "SELECT pg_advisory_unlock_all()");
        }
    }

    @Test
    void temporaryTableIsTheSessionsOwn() throws SQLException {
        try (Connection pA = cluster.proxyConnection(""); Connection pB = cluster.proxyConnection("");
                Connection rA = cluster.referenceConnection(""); Connection rB = cluster.referenceConnection("")) {
            same(pA, rA, "CREATE TEMP TABLE scratch (id INT PRIMARY KEY, v TEXT)");
            same(pA, rA, "INSERT INTO scratch VALUES (1, 'one'), (2, 'two')");
            same(pA, rA, "SELECT name FROM items ORDER BY id");
            assertThat(same(pA, rA, "SELECT * FROM scratch ORDER BY id")).isEqualTo("[id, v] [[1, one], [2, two]]");
            assertThat(SessionStateIT.answer(pB, "SELECT * FROM scratch")).startsWith("error 0 42P01");
            assertThat(SessionStateIT.answer(rB, "SELECT * FROM scratch")).startsWith("error 0 42P01");
        }
    }

    /**
     * SELECT pg_backend_pid() on its own (GUI tools ask for it) answers the pid the session got in BackendKeyData,
     * described as the reference server describes it (int4 named pg_backend_pid, no table), in pgJDBC's text and binary
     * extended protocol and in simple queries.
     */
    @Test
    void backendPidAloneIsTheSessionsOwn() throws SQLException {
        for (String options : List.of("", "prepareThreshold=-1", "preferQueryMode=simple")) {
            try (Connection p = cluster.proxyConnection(options); Connection r = cluster.referenceConnection(options)) {
                for (String sql : List.of("SELECT pg_backend_pid()", "select PG_BACKEND_PID ( ) ;")) {
                    assertThat(backendPid(p, sql)).as(options + ": " + sql).isEqualTo(backendPid(r, sql));
                }
            }
        }
    }

    /** The answer's column as pgJDBC describes it, and whether its value is the connection's BackendKeyData pid. */
    private static String backendPid(Connection c, String sql) throws SQLException {
        int pid = c.unwrap(org.postgresql.PGConnection.class).getBackendPID();
        try (java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(sql)) {
            java.sql.ResultSetMetaData md = rs.getMetaData();
            var pg = md.unwrap(org.postgresql.PGResultSetMetaData.class);
            StringBuilder out = new StringBuilder();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.append(md.getColumnLabel(i)).append(' ').append(md.getColumnTypeName(i)).append(" type=").append(md.getColumnType(i))
                        .append(" precision=").append(md.getPrecision(i)).append(" size=").append(md.getColumnDisplaySize(i))
                        .append(" nullable=").append(md.isNullable(i)).append(" table='").append(pg.getBaseTableName(i))
                        .append("' format=").append(pg.getFormat(i)).append('\n');
            }
            while (rs.next()) {
                out.append("row: ").append(rs.getInt(1) == pid ? "the session's pid" : rs.getInt(1) + " (the session's is " + pid + ")")
                        .append('\n');
            }
            return out.toString();
        }
    }

    /**
     * pg_backend_pid() in any statement but SELECT pg_backend_pid() on its own would be a pooled backend's pid, not the
     * one the session got in BackendKeyData, and pg_cancel_backend/pg_terminate_backend would signal a shard's process by a pid that names none of the proxy's
     * sessions: refused before anything runs (the reference server answers them for its own session).
     */
    @Test
    void backendPidAndSignalsAreRefused() throws SQLException {
        try (Connection p = cluster.proxyConnection("")) {
            int pid = p.unwrap(org.postgresql.PGConnection.class).getBackendPID();
            for (String sql : List.of("SELECT pg_backend_pid() AS pid", "SELECT pg_backend_pid() + 0", "SELECT id FROM items WHERE id = 1 AND"
                    + " pg_backend_pid() > 0", "SELECT count(*) FROM items WHERE id <> pg_backend_pid()")) {
                assertThat(SessionStateIT.answer(p, sql)).as(sql).startsWith("error ").contains("pg_backend_pid() would answer");
            }
            for (String sql : List.of("SELECT pg_cancel_backend(" + pid + ")", "SELECT pg_terminate_backend(" + pid + ")")) {
                assertThat(SessionStateIT.answer(p, sql)).as(sql).startsWith("error ").contains("would signal a backend process");
            }
            assertThat(SessionStateIT.answer(p, "SELECT count(*) FROM items")).as("the session lives on").endsWith("[[6]]");
        }
    }

    @Test
    void nothingOutlivesTheSession() throws Exception {
        String pid;
        try (Connection first = cluster.proxyConnection("")) {
            Sql.query(first, "SELECT pg_advisory_lock(77)");
            Sql.update(first, "CREATE TEMP TABLE leftover (id INT)");
            try (Connection s0 = cluster.shardConnection(0)) { // the pinned connection, which holds the lock
                pid = Sql.query(s0, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = 77 AND granted").getFirst()
                        .getFirst();
            }
        }
        try (Connection s0 = cluster.shardConnection(0)) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            String got;
            while (!(got = Sql.query(s0, "SELECT pg_try_advisory_lock(77)").getFirst().getFirst()).equals("t")
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(got).isEqualTo("t");
            Sql.query(s0, "SELECT pg_advisory_unlock(77)");
            // reset and back in the pool, not closed
            assertThat(Sql.query(s0, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)).containsExactly(List.of("1"));
        }
        for (int i = 0; i < 10; i++) {
            try (Connection next = cluster.proxyConnection("")) {
                assertThat(SessionStateIT.answer(next, "SELECT * FROM leftover")).startsWith("error 0 42P01");
            }
        }
    }

    /**
     * SET is transactional on PostgreSQL: ROLLBACK undoes the SETs and RESETs of the transaction, ROLLBACK TO SAVEPOINT
     * those made since the savepoint, COMMIT keeps them. Checked on every shard (a scatter read of current_setting) and on
     * the connections of a second proxy session, which must not inherit a rolled-back setting from the pool.
     */
    @Test
    void settingsFollowTheTransaction() throws SQLException {
        String perShard = "SELECT id, current_setting('application_name') AS app, current_setting('search_path') AS path"
                + " FROM items ORDER BY id";
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (String sql : List.of("SET application_name = 'before'", "BEGIN", "SET application_name = 'inside'",
                    "SET search_path = pg_catalog, public", "SELECT name FROM items WHERE id = 1", perShard, "ROLLBACK",
                    "SHOW application_name", "SHOW search_path", perShard,
                    // savepoints: only what came after the savepoint is undone, on connections pinned before and after it
                    "BEGIN", "SET application_name = 'one'", "SELECT name FROM items WHERE id = 2", "SAVEPOINT s",
                    "SET application_name = 'two'", "RESET search_path", "SELECT name FROM items WHERE id = 1", perShard,
                    "ROLLBACK TO SAVEPOINT s", "SHOW application_name", perShard, "SAVEPOINT t", "SET application_name = 'three'",
                    "RELEASE SAVEPOINT t", "COMMIT", "SHOW application_name", perShard,
                    // a RESET rolled back, and a transaction that changed nothing
                    "BEGIN", "RESET application_name", "ROLLBACK", "SHOW application_name", "BEGIN", "ROLLBACK", perShard)) {
                same(p, r, sql);
            }
        }
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            same(p, r, perShard); // pooled connections carry nothing of the first session's rolled-back settings
        }
    }

    /**
     * lastval()/currval() answer the last nextval() of the connection: right inside a transaction that wrote on the one
     * shard it holds (its INSERT's nextval ran on that connection), refused elsewhere, where a pooled connection would
     * answer for another session. A table the cluster does not declare lives on the default shard, as here.
     */
    @Test
    void sequenceValuesInsideATransactionOnOneShard() throws SQLException {
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (Connection c : List.of(p, r)) {
                Sql.update(c, "CREATE TABLE notes (id SERIAL PRIMARY KEY, t TEXT)");
            }
            try {
                for (String sql : List.of("BEGIN", "INSERT INTO notes (t) VALUES ('a'), ('b')", "SELECT lastval()",
                        "SELECT currval('notes_id_seq')", "SELECT id, t FROM notes ORDER BY id", "COMMIT")) {
                    same(p, r, sql);
                }
                for (String sql : List.of("SELECT lastval()", "SELECT currval('notes_id_seq')")) {
                    assertThat(SessionStateIT.answer(p, sql)).as("outside a transaction: %s", sql)
                            .startsWith("error 0 0A000").contains("pooled and shared");
                }
                // a transaction that has not written yet would read whatever the pooled connection did last
                same(p, r, "BEGIN");
                assertThat(SessionStateIT.answer(p, "SELECT lastval()")).startsWith("error 0 0A000");
                same(p, r, "ROLLBACK");
            } finally {
                for (Connection c : List.of(p, r)) {
                    Sql.update(c, "DROP TABLE notes");
                }
            }
        }
    }
}

package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.Dialect;
import io.shardgate.router.ServerState.Use;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServerStateTest {
    private static ServerState mysql(String sql) {
        return ServerState.of(sql, Dialect.MYSQL);
    }

    @Test
    void ordinaryStatementsTouchNothing() {
        assertThat(mysql("SELECT id, name FROM users WHERE id = ? AND note = '@x GET_LOCK(1)' -- @y")).isSameAs(ServerState.NONE);
        assertThat(mysql("SELECT @@session.time_zone, @@version")).isSameAs(ServerState.NONE);
        assertThat(mysql("INSERT INTO t (a) VALUES (/* @x */ 1)")).isSameAs(ServerState.NONE);
        assertThat(mysql("SELECT `@x` FROM t")).isSameAs(ServerState.NONE);
        assertThat(mysql("CREATE TABLE t (id INT)")).isSameAs(ServerState.NONE);
    }

    @Test
    void userVariablesReadAndAssigned() {
        ServerState s = mysql("SELECT @a, @B := name FROM t WHERE id = @`c d` OR x = @'e'");
        assertThat(s.uses()).containsExactly(Use.USER_VARIABLE);
        assertThat(s.variables()).containsExactly("a", "b", "c d", "e");
        assertThat(s.assigned()).containsExactly("b");
        assertThat(mysql("SET @x = 1, @y := @x + 1").assigned()).containsExactly("x", "y");
        assertThat(mysql("SELECT name, id INTO @n, @i FROM users WHERE id = 3").assigned()).containsExactly("n", "i");
        assertThat(mysql("SELECT @x = 1").assigned()).isEmpty();
        assertThat(ServerState.of("SELECT '@x' || @y", Dialect.POSTGRES).none()).isTrue();
    }

    @Test
    void functionsAndStatements() {
        assertThat(mysql("SELECT GET_LOCK('a', 1)").uses()).containsExactly(Use.NAMED_LOCK);
        assertThat(mysql("select release_all_locks ( )").uses()).containsExactly(Use.NAMED_LOCK);
        assertThat(mysql("SELECT get_lock FROM t").none()).isTrue();
        assertThat(mysql("SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 5").uses()).containsExactly(Use.CALC_FOUND_ROWS);
        assertThat(mysql("SELECT FOUND_ROWS(), ROW_COUNT()").uses()).containsExactlyInAnyOrder(Use.FOUND_ROWS, Use.ROW_COUNT);
        assertThat(mysql("SELECT LAST_INSERT_ID()").uses()).containsExactly(Use.LAST_INSERT_ID);
        assertThat(mysql("UPDATE s SET n = LAST_INSERT_ID(n + 1)").uses()).containsExactly(Use.LAST_INSERT_ID_EXPR);
        assertThat(mysql("CREATE TEMPORARY TABLE t (id INT)").uses()).containsExactly(Use.TEMPORARY_TABLE);
        assertThat(ServerState.of("CREATE TEMP TABLE t (id INT)", Dialect.POSTGRES).uses()).containsExactly(Use.TEMPORARY_TABLE);
        assertThat(ServerState.of("SELECT pg_try_advisory_lock(7)", Dialect.POSTGRES).uses()).containsExactly(Use.NAMED_LOCK);
        assertThat(ServerState.of("SELECT lastval()", Dialect.POSTGRES).uses()).containsExactly(Use.SEQUENCE_VALUE);
        assertThat(ServerState.of("SELECT CURRVAL ('t_id_seq')", Dialect.POSTGRES).uses()).containsExactly(Use.SEQUENCE_VALUE);
        assertThat(ServerState.of("SELECT nextval('t_id_seq'), 'lastval()'", Dialect.POSTGRES).none()).isTrue();
        assertThat(mysql("SELECT lastval()").none()).as("MySQL has no lastval").isTrue();
        for (String sql : List.of("PREPARE s FROM 'SELECT 1'", "EXECUTE s USING @a", "DEALLOCATE PREPARE s", "DROP PREPARE s")) {
            assertThat(mysql(sql).has(Use.SQL_PREPARE)).as(sql).isTrue();
        }
    }

    @Test
    void sessionIdsAndBackendSignals() {
        assertThat(mysql("SELECT CONNECTION_ID()").uses()).containsExactly(Use.SESSION_ID);
        assertThat(mysql("INSERT INTO t VALUES (5, connection_id ( ))").uses()).containsExactly(Use.SESSION_ID);
        assertThat(mysql("SELECT 'CONNECTION_ID()', connection_id FROM t -- CONNECTION_ID()").none()).isTrue();
        assertThat(ServerState.of("SELECT pg_backend_pid()", Dialect.POSTGRES).uses()).containsExactly(Use.SESSION_ID);
        assertThat(ServerState.of("SELECT PG_CANCEL_BACKEND(42)", Dialect.POSTGRES).uses()).containsExactly(Use.SIGNAL_BACKEND);
        assertThat(ServerState.of("SELECT pg_terminate_backend (pid) FROM pg_stat_activity", Dialect.POSTGRES).uses())
                .containsExactly(Use.SIGNAL_BACKEND);
        assertThat(ServerState.of("SELECT CONNECTION_ID()", Dialect.POSTGRES).none()).as("not a PostgreSQL function").isTrue();
        assertThat(mysql("SELECT pg_backend_pid()").none()).as("not a MySQL function").isTrue();
    }

    @Test
    void argumentLessCallsAreReplacedOutsideQuotes() {
        assertThat(ServerState.withCall("UPDATE t SET o = Connection_Id( ), n = 'CONNECTION_ID()' WHERE o <> CONNECTION_ID()",
                "CONNECTION_ID", "CAST(7 AS UNSIGNED)", 0))
                .isEqualTo("UPDATE t SET o = CAST(7 AS UNSIGNED), n = 'CONNECTION_ID()' WHERE o <> CAST(7 AS UNSIGNED)");
        assertThat(ServerState.withCall("SELECT CONNECTION_ID(1), CONNECTION_IDX()", "CONNECTION_ID", "7", 0))
                .isEqualTo("SELECT CONNECTION_ID(1), CONNECTION_IDX()");
    }

    @Test
    void temporaryTablesCreatedAndDropped() {
        assertThat(ServerState.temporaryTableCreated("CREATE TEMPORARY TABLE IF NOT EXISTS `my t` (id INT)")).contains("my t");
        assertThat(ServerState.temporaryTableCreated("create temp table shardgate.scratch AS SELECT 1")).contains("scratch");
        assertThat(ServerState.temporaryTableCreated("CREATE TABLE t (id INT)")).isEmpty();
        assertThat(ServerState.tablesDropped("DROP TEMPORARY TABLE IF EXISTS a, `b`, s.c")).containsExactly("a", "b", "c");
        assertThat(ServerState.tablesDropped("DROP TABLE scratch CASCADE")).containsExactly("scratch");
        assertThat(mysql("DROP TABLE t").uses()).containsExactly(Use.DROP_TABLE);
    }

    @Test
    void selectIntoIsCutOut() {
        assertThat(ServerState.selectInto("SELECT name, id INTO @n, @`i` FROM users WHERE id = 3"))
                .contains(new ServerState.SelectInto("SELECT name, id   FROM users WHERE id = 3", List.of("n", "i")));
        assertThat(ServerState.selectInto("SELECT COUNT(*) FROM users INTO @c"))
                .contains(new ServerState.SelectInto("SELECT COUNT(*) FROM users  ", List.of("c")));
        assertThat(ServerState.selectInto("INSERT INTO t SELECT 'INTO @x'")).isEmpty();
        assertThat(ServerState.selectInto("SELECT (SELECT 1 INTO @x)")).isEmpty();
    }

    @Test
    void placeholdersAndLastInsertIdAreReplacedOutsideQuotes() {
        assertThat(ServerState.bindPlaceholders("SELECT ?, '?', ? -- ?", List.of("1", "_utf8mb4 X'41'")))
                .isEqualTo("SELECT 1, '?', _utf8mb4 X'41' -- ?");
        assertThat(ServerState.withLastInsertId("INSERT INTO c VALUES (last_insert_id( ), 'LAST_INSERT_ID()', LAST_INSERT_ID(5))", "42"))
                .isEqualTo("INSERT INTO c VALUES (42, 'LAST_INSERT_ID()', LAST_INSERT_ID(5))");
        String select = "SELECT (SELECT 1 FROM d), 'FROM' FROM t WHERE id = LAST_INSERT_ID()";
        assertThat(ServerState.selectListEnd(select)).isEqualTo(select.indexOf("FROM t"));
        assertThat(ServerState.withLastInsertId(select, "7", ServerState.selectListEnd(select))).endsWith("WHERE id = 7");
        assertThat(ServerState.selectListEnd("SELECT LAST_INSERT_ID()")).isEqualTo(-1);
    }
}

package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Where the proxy may put the session's value in place of an argument-less function call (CONNECTION_ID()). */
class SqlPreparedTest {
    private static int from(String sql) {
        return SqlPrepared.callReplaceableFrom(sql, "CONNECTION_ID");
    }

    @Test
    void rowWritesAnywhere() {
        assertThat(from("INSERT INTO t VALUES (5, CONNECTION_ID())")).isZero();
        assertThat(from("UPDATE t SET owner = CONNECTION_ID() WHERE id = 5")).isZero();
        assertThat(from("delete from t where owner = connection_id()")).isZero();
        assertThat(from("REPLACE INTO t VALUES (5, CONNECTION_ID())")).isZero();
        assertThat(from("INSERT INTO t SELECT 5, CONNECTION_ID() FROM dual")).isZero();
    }

    @Test
    void selectsAfterTheirSelectListOnly() {
        String where = "SELECT id, 'CONNECTION_ID()' FROM t WHERE owner = CONNECTION_ID()";
        assertThat(from(where)).isEqualTo(where.indexOf("FROM t"));
        assertThat(from("SELECT id, CONNECTION_ID() FROM t WHERE id = 5")).as("labels its column").isEqualTo(-1);
        assertThat(from("SELECT CONNECTION_ID() + 0")).as("no FROM: all select list").isEqualTo(-1);
        assertThat(from("SELECT (SELECT CONNECTION_ID()) AS c FROM t")).isEqualTo(-1);
        assertThat(from("SELECT a FROM t UNION SELECT CONNECTION_ID() FROM t")).as("a later branch types the column").isEqualTo(-1);
    }

    @Test
    void neverWhereATypeWouldShow() {
        assertThat(from("INSERT INTO t VALUES (5, CONNECTION_ID()) RETURNING CONNECTION_ID()")).isEqualTo(-1);
        assertThat(from("CREATE TABLE c AS SELECT 1 AS a FROM t WHERE CONNECTION_ID() > 0")).isEqualTo(-1);
        assertThat(from("SET @c = CONNECTION_ID()")).isEqualTo(-1);
        assertThat(from("DO CONNECTION_ID()")).isEqualTo(-1);
    }

    @Test
    void isSelectAnswersAsItsRegexDoes() {
        java.util.List<String> cases = java.util.List.of("SELECT 1", "select * from t", " \t\n( (SeLeCt 1))", "WITH a AS (SELECT 1) SELECT *",
                "VALUES (1)", "TABLE t", "SELECTED", "select_x", "selectä", "SELECT", "(", "", "  ", "INSERT INTO t SELECT 1",
                "/* c */ SELECT 1", "ſELECT 1", "SELECT\u00a0x", "valuesx", "TABLE", "with\r\nx", "SELECT1", "\u000bSELECT 2");
        for (String sql : cases) {
            assertThat(SqlPrepared.isSelect(sql)).as(sql).isEqualTo(SqlPrepared.isSelectByPattern(sql));
        }
        assertThat(SqlPrepared.isSelect("(SELECT 1)")).isTrue();
        assertThat(SqlPrepared.isSelect("SELECTED")).isFalse();
    }
}

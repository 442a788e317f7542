package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.Dialect;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SqlTemplateTest {

    private static SqlTemplate t(String sql) {
        Optional<SqlTemplate> t = SqlTemplate.of(sql, Dialect.MYSQL);
        assertThat(t).as("a template for %s", sql).isPresent();
        return t.get();
    }

    private static void untouched(String sql) {
        assertThat(SqlTemplate.of(sql, Dialect.MYSQL)).as(sql).isEmpty();
    }

    @Test
    void sysbenchPointSelectAndWrites() {
        assertThat(t("SELECT c FROM sbtest1 WHERE id=5034")).isEqualTo(
                new SqlTemplate("SELECT c FROM sbtest1 WHERE id=?", List.of(5034L)));
        assertThat(t("UPDATE sbtest1 SET k=k+1 WHERE id=17")).isEqualTo(
                new SqlTemplate("UPDATE sbtest1 SET k=k+1 WHERE id=?", List.of(17L)));
        assertThat(t("UPDATE sbtest1 SET c='abc-12' WHERE id=17")).isEqualTo(
                new SqlTemplate("UPDATE sbtest1 SET c=? WHERE id=?", List.of("abc-12", 17L)));
        assertThat(t("DELETE FROM sbtest1 WHERE id=3")).isEqualTo(
                new SqlTemplate("DELETE FROM sbtest1 WHERE id=?", List.of(3L)));
        assertThat(t("INSERT INTO sbtest1 (id, k, c, pad) VALUES (3, 77, 'c', 'p')")).isEqualTo(
                new SqlTemplate("INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)", List.of(3L, 77L, "c", "p")));
    }

    /**
     * Keywords are recognised in any case, as upper-casing the word with {@code Locale.ROOT} recognises them: also when
     * spelled with a dotless i or a long s, which upper-case to I and S. A word that only contains a keyword does not count.
     */
    @Test
    void keywordsInAnyCase() {
        assertThat(t("select c from t where a like 'x%' and b between 1 aNd 2 and c In (3, 4) and d = 5")).isEqualTo(
                new SqlTemplate("select c from t where a like ? and b between ? aNd ? and c In (?, ?) and d = ?",
                        List.of("x%", 1L, 2L, 3L, 4L, 5L)));
        assertThat(t("SELECT c FROM t WHERE a l\u0131ke 'x' AND b \u017fELECT")).isEqualTo(
                new SqlTemplate("SELECT c FROM t WHERE a l\u0131ke ? AND b \u017fELECT", List.of("x")));
        assertThat(t("insert into t (a, b) values (1, 2)")).isEqualTo(
                new SqlTemplate("insert into t (a, b) values (?, ?)", List.of(1L, 2L)));
        assertThat(t("SELECT c FROM t WHERE likes IN (1) AND x = 2")).isEqualTo(
                new SqlTemplate("SELECT c FROM t WHERE likes IN (?) AND x = ?", List.of(1L, 2L)));
        untouched("SELECT c FROM t WHERE likes 'x' ORDER BY 1");
        untouched("SELECT c FROM t WHERE a LIKES 1");
    }

    /** Shard SQL made from a template carries each literal as the client spelled it: escapes, quotes, sign and all. */
    @Test
    void renderUsesTheLiteralsOriginalSpelling() {
        String sql = "INSERT INTO t (id, c) VALUES (1, 'it''s \\n\uDCFF'), (-2, \"q\"), (3, 'a?b')";
        SqlTemplate t = t(sql);
        assertThat(t.sources()).containsExactly("1", "'it''s \\n\uDCFF'", "-2", "3", "'a?b'");
        assertThat(t.render(t.template(), List.of(0, 1, 2, 3, 4))).isEqualTo(sql);
        // a split per shard keeps some rows, in another order of placeholders; '?' inside quotes is not a placeholder
        assertThat(t.render("INSERT INTO t (id, c) VALUES (?, '?'), (?, ?)", List.of(3, 0, 1)))
                .isEqualTo("INSERT INTO t (id, c) VALUES (3, '?'), (1, 'it''s \\n\uDCFF')");
    }

    /** mysqldump and PyMySQL write {@code _binary'…'}, which JSqlParser cannot parse: such values become parameters too. */
    @Test
    void introducedStringsInValuePositionsAreParameters() {
        SqlTemplate t = t("INSERT INTO b (id, v) VALUES (1, _binary'{\\0\uDCFF'), (2, _latin1 'x'), (3, N'y')");
        assertThat(t).isEqualTo(new SqlTemplate("INSERT INTO b (id, v) VALUES (?, ?), (?, ?), (?, ?)",
                List.of(1L, "{\0\uDCFF", 2L, "x", 3L, "y")));
        assertThat(t.sources()).containsExactly("1", "_binary'{\\0\uDCFF'", "2", "_latin1 'x'", "3", "N'y'");
        assertThat(t("SELECT id FROM b WHERE v = _binary'ab' AND id = 4")).isEqualTo(
                new SqlTemplate("SELECT id FROM b WHERE v = ? AND id = ?", List.of("ab", 4L)));
        // not a value position, or not a character set: left as written
        assertThat(t("SELECT _binary'ab', CONCAT(_utf8mb4'x', v) FROM b WHERE id = 5")).isEqualTo(
                new SqlTemplate("SELECT _binary'ab', CONCAT(_utf8mb4'x', v) FROM b WHERE id = ?", List.of(5L)));
        assertThat(t("SELECT _x 'alias' FROM b WHERE id = 6").template()).isEqualTo("SELECT _x 'alias' FROM b WHERE id = ?");
    }

    @Test
    void rangesInListsAndMultiRowValues() {
        assertThat(t("SELECT c FROM sbtest1 WHERE id BETWEEN 10 AND 109 ORDER BY c")).isEqualTo(
                new SqlTemplate("SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c", List.of(10L, 109L)));
        assertThat(t("SELECT * FROM t WHERE id IN (1, -2, 3.50) AND name LIKE 'a%'")).isEqualTo(
                new SqlTemplate("SELECT * FROM t WHERE id IN (?, ?, ?) AND name LIKE ?",
                        List.of(1L, -2L, new BigDecimal("3.50"), "a%")));
        assertThat(t("INSERT INTO t VALUES (1, 'a'), (2, NOW()), (3, 'c')")).isEqualTo(
                new SqlTemplate("INSERT INTO t VALUES (?, ?), (?, NOW()), (?, ?)", List.of(1L, "a", 2L, 3L, "c")));
        assertThat(t("SELECT 1 FROM t WHERE a BETWEEN 1 + 1 AND 5 AND b = 2")).isEqualTo(
                new SqlTemplate("SELECT 1 FROM t WHERE a BETWEEN ? + 1 AND ? AND b = ?", List.of(1L, 5L, 2L)));
    }

    @Test
    void keepsLiteralsWhoseMeaningIsNotAValue() {
        assertThat(t("SELECT a FROM t WHERE b = 1 ORDER BY 1 LIMIT 10 OFFSET 5")).isEqualTo(
                new SqlTemplate("SELECT a FROM t WHERE b = ? ORDER BY 1 LIMIT 10 OFFSET 5", List.of(1L)));
        assertThat(t("SELECT a FROM t WHERE d > NOW() - INTERVAL 1 DAY AND k = 2 GROUP BY 1")).isEqualTo(
                new SqlTemplate("SELECT a FROM t WHERE d > NOW() - INTERVAL 1 DAY AND k = ? GROUP BY 1", List.of(2L)));
        // an introduced string is a value too (see introducedStringsInValuePositionsAreParameters): shards get its spelling back
        assertThat(t("SELECT a FROM t WHERE s = _utf8mb4'x' AND h = X'0F' AND e = 1e5 AND k = 4")).isEqualTo(
                new SqlTemplate("SELECT a FROM t WHERE s = ? AND h = X'0F' AND e = 1e5 AND k = ?", List.of("x", 4L)));
        assertThat(t("SELECT a FROM t WHERE h = X'0F' AND e = 1e5 AND k = 4")).isEqualTo(
                new SqlTemplate("SELECT a FROM t WHERE h = X'0F' AND e = 1e5 AND k = ?", List.of(4L)));
        assertThat(t("SELECT f(1, 2) FROM t WHERE a = \"dq\" AND b = 3")).isEqualTo(
                new SqlTemplate("SELECT f(1, 2) FROM t WHERE a = \"dq\" AND b = ?", List.of(3L)));
    }

    @Test
    void unescapesStringsAndKeepsBigNumbersExact() {
        assertThat(t("SELECT 1 FROM t WHERE a = 'it''s' AND b = 'x\\'y\\\\z\\n' AND c = 'a\\%'").literals())
                .containsExactly("it's", "x'y\\z\n", "a\\%");
        assertThat(t("SELECT 1 FROM t WHERE u = 18446744073709551615 AND v = 9223372036854775807").literals())
                .containsExactly(new BigInteger("18446744073709551615"), 9223372036854775807L);
    }

    @Test
    void commentsAreSkippedAndExecutableCommentsDisableTemplating() {
        assertThat(t("/* mysql-connector-j */ SELECT c FROM t -- note\n WHERE id = 5 # end")).isEqualTo(
                new SqlTemplate("/* mysql-connector-j */ SELECT c FROM t -- note\n WHERE id = ? # end", List.of(5L)));
        untouched("SELECT /*+ MAX_EXECUTION_TIME(1) */ c FROM t WHERE id = 5");
        untouched("/*!40101 SELECT c FROM t WHERE id = 5 */");
    }

    @Test
    void onlyDmlWithoutParametersIsTemplated() {
        untouched("SET sql_mode = 'ANSI'");
        untouched("CREATE TABLE t (id INT DEFAULT '0')");
        untouched("ALTER TABLE t AUTO_INCREMENT = 5");
        untouched("SELECT c FROM t WHERE id = ? AND k = 5");
        untouched("SELECT c FROM t ORDER BY 1");
        untouched("SELECT c FROM t WHERE s = 'unterminated");
        assertThat(SqlTemplate.of("SELECT c FROM t WHERE id = $1", Dialect.POSTGRES)).isEmpty();
        assertThat(SqlTemplate.of("SELECT c FROM t WHERE s = 'a\\' AND id = 2", Dialect.POSTGRES).orElseThrow().literals())
                .containsExactly("a\\", 2L);
    }

    /** Under the PostgreSQL dialect a ? is an operator, so the template must number its parameters to be analysed with them. */
    @Test
    void postgresTemplatesUseNumberedParameters() {
        SqlTemplate t = SqlTemplate.of("SELECT c FROM t WHERE id = 5 AND s IN ('x', 'y')", Dialect.POSTGRES).orElseThrow();
        assertThat(t.template()).isEqualTo("SELECT c FROM t WHERE id = $1 AND s IN ($2, $3)");
        assertThat(t.literals()).containsExactly(5L, "x", "y");
        assertThat(Router.analyse(t.template(), Dialect.POSTGRES).parameterCount()).isEqualTo(3);
    }

    @Test
    void upsertAssignmentsAreValuesToo() {
        assertThat(t("INSERT INTO t (id, n) VALUES (1, 2) ON DUPLICATE KEY UPDATE n = n + 3, m = 4")).isEqualTo(
                new SqlTemplate("INSERT INTO t (id, n) VALUES (?, ?) ON DUPLICATE KEY UPDATE n = n + 3, m = ?",
                        List.of(1L, 2L, 4L)));
    }
}

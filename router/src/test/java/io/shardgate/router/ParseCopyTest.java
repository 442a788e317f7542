package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.Dialect;
import io.shardgate.router.ParseCopy.Introducer;
import io.shardgate.router.ParseCopy.Literal;
import org.junit.jupiter.api.Test;

class ParseCopyTest {
    private static ParseCopy copy(String sql) {
        ParseCopy c = ParseCopy.of(sql, Dialect.MYSQL);
        assertThat(c.text()).hasSameSizeAs(sql);
        assertThat(c.original()).isSameAs(sql);
        return c;
    }

    @Test
    void introducersBeforeEveryKindOfLiteralAreBlankedInPlace() {
        ParseCopy c = copy("SELECT _utf8mb4 X'C3A9', _latin1 x'E9', _binary 0x1F, _ascii B'01', _latin1'é', _utf8mb4 \"ab\", _binary 0b1");
        assertThat(c.text()).isEqualTo("SELECT          X'C3A9',         x'E9',         0x1F,        B'01',        'é',          \"ab\",         0b1");
        assertThat(c.introducers()).containsExactly(new Introducer("utf8mb4", Literal.HEX, false), new Introducer("latin1", Literal.HEX, false),
                new Introducer("binary", Literal.HEX, false), new Introducer("ascii", Literal.BIT, false),
                new Introducer("latin1", Literal.STRING, false), new Introducer("utf8mb4", Literal.STRING, true),
                new Introducer("binary", Literal.BIT, false));
        assertThat(c.collations()).isEmpty();
        assertThat(c.changed()).isTrue();
    }

    @Test
    void collateAndItsNameAreBlankedWhateverTheQuoting() {
        ParseCopy c = copy("SELECT 'a' COLLATE utf8mb4_bin, b collate `latin1_bin` FROM t WHERE c = 'x' Collate 'UTF8MB4_GENERAL_CI'");
        assertThat(c.text()).isEqualTo("SELECT 'a'" + " ".repeat(20) + ", b " + " ".repeat(20) + " FROM t WHERE c = 'x' " + " ".repeat(28));
        assertThat(c.collations()).containsExactly("utf8mb4_bin", "latin1_bin", "utf8mb4_general_ci");
        assertThat(c.introducers()).isEmpty();
    }

    @Test
    void quotedTextIdentifiersAndCommentsAreNeverTouched() {
        String sql = "SELECT '_latin1 x''41'' COLLATE a', `_latin1`, \"COLLATE x\" /* _latin1 'x' COLLATE y */ FROM t -- _utf8 'x'\n"
                + "WHERE t._latin1 = @_latin1 # COLLATE z";
        ParseCopy c = copy(sql);
        assertThat(c.text()).isSameAs(sql);
        assertThat(c.changed()).isFalse();
    }

    @Test
    void wordsThatAreNotIntroducersStay() {
        // an unknown character set, an introducer-like name without a literal after it, a column named like one
        for (String sql : new String[] {"SELECT _klingon 'x'", "SELECT _latin1 FROM t", "SELECT a_latin1 'x' FROM t",
                "SELECT _latin1, x FROM t", "SELECT collate_x FROM t", "SELECT x FROM t ORDER BY 1 COLLATE"}) {
            assertThat(copy(sql).text()).as(sql).isEqualTo(sql);
        }
    }

    @Test
    void onlyMySqlDataStatementsAreCopied() {
        for (String sql : new String[] {"CREATE TABLE t (a TEXT COLLATE utf8mb4_bin)", "SET NAMES latin1 COLLATE latin1_bin",
                "ALTER TABLE t CONVERT TO CHARACTER SET latin1 COLLATE latin1_bin"}) {
            assertThat(copy(sql).changed()).as(sql).isFalse();
        }
        assertThat(ParseCopy.of("SELECT 'a' COLLATE \"C\"", Dialect.POSTGRES).changed()).isFalse();
        for (String sql : new String[] {"insert into t values (_latin1 X'41')", "REPLACE INTO t VALUES (_latin1 X'41')",
                "UPDATE t SET a = _latin1 X'41'", "DELETE FROM t WHERE a = _latin1 X'41'", "WITH q AS (SELECT _latin1 X'41') SELECT * FROM q",
                "  /* lead */ SELECT _latin1 X'41'"}) {
            assertThat(copy(sql).changed()).as(sql).isTrue();
        }
    }

    @Test
    void placeholdersAndTheirNumbersStayWhereTheyWere() {
        ParseCopy c = copy("SELECT * FROM t WHERE k = ?1 COLLATE utf8mb4_bin AND v = _latin1 ?2");
        // an introducer before a placeholder is not one before a literal: the server would not take it either
        assertThat(c.text()).isEqualTo("SELECT * FROM t WHERE k = ?1                     AND v = _latin1 ?2");
    }
}

package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.Dialect;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlTextTest {

    @Test
    void mysqlPlaceholdersAreNumberedOutsideQuotesAndComments() {
        SqlText.Numbered n = SqlText.numberPlaceholders("SELECT '?', `a?`, \"?\" /* ? */ FROM t WHERE a = ? AND b = ? -- ?", Dialect.MYSQL);
        assertThat(n.sql()).isEqualTo("SELECT '?', `a?`, \"?\" /* ? */ FROM t WHERE a = ?1 AND b = ?2 -- ?");
        assertThat(n.parameterCount()).isEqualTo(2);
    }

    @Test
    void backslashEscapedQuoteDoesNotEndAMysqlString() {
        SqlText.Numbered n = SqlText.numberPlaceholders("SELECT 'it\\'s ?' , ?", Dialect.MYSQL);
        assertThat(n.parameterCount()).isEqualTo(1);
    }

    @Test
    void postgresParameterCountIsTheHighestDollarNumber() {
        SqlText.Numbered n = SqlText.numberPlaceholders("SELECT * FROM t WHERE a = $3 AND b ? 'k' AND c = $1", Dialect.POSTGRES);
        assertThat(n.parameterCount()).isEqualTo(3);
    }

    @Test
    void markersBecomeJdbcPlaceholdersWithZeroBasedIndexes() {
        SqlText.Jdbc jdbc = SqlText.toJdbc("UPDATE t SET a = ?3 WHERE id = ?1 AND s = 'x?2'", Dialect.MYSQL);
        assertThat(jdbc.sql()).isEqualTo("UPDATE t SET a = ? WHERE id = ? AND s = 'x?2'");
        assertThat(jdbc.parameters()).containsExactly(2, 0);
        SqlText.Jdbc pg = SqlText.toJdbc("SELECT $2, $1, price$1 FROM t", Dialect.POSTGRES);
        assertThat(pg.sql()).isEqualTo("SELECT ?, ?, price$1 FROM t");
        assertThat(pg.parameters()).isEqualTo(List.of(1, 0));
    }

    @Test
    void bareQuestionMarksTakeIndexesInOrder() {
        assertThat(SqlText.toJdbc("SELECT ? , ?", Dialect.MYSQL).parameters()).containsExactly(0, 1);
    }
}

package io.shardgate.proxy.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.error.ProxyException;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgCopyStatementTest {

    @Test
    void whatPgbenchAndPsqlSend() {
        PgCopyStatement pgbench = PgCopyStatement.parse("copy pgbench_accounts from stdin with (freeze on)");
        assertThat(pgbench).isEqualTo(new PgCopyStatement("pgbench_accounts", List.of(), false, '\t', "\\N", false, '"', '"'));
        PgCopyStatement psql = PgCopyStatement.parse("COPY public.\"Items\" (id, \"Name\") FROM STDIN");
        assertThat(psql.table()).isEqualTo("public.\"Items\"");
        assertThat(psql.columns()).containsExactly("id", "\"Name\"");
    }

    @Test
    void csvOptionsInBothSyntaxes() {
        PgCopyStatement modern = PgCopyStatement.parse("COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';',"
                + " NULL 'nil', QUOTE '''', ESCAPE '\\', ENCODING 'utf-8')");
        assertThat(modern).isEqualTo(new PgCopyStatement("t", List.of("a", "b"), true, ';', "nil", true, '\'', '\\'));
        PgCopyStatement legacy = PgCopyStatement.parse("COPY t FROM STDIN WITH CSV HEADER DELIMITER AS '|' NULL AS ''");
        assertThat(legacy).isEqualTo(new PgCopyStatement("t", List.of(), true, '|', "", true, '"', '"'));
        assertThat(PgCopyStatement.parse("copy t from stdin delimiter E'\\t' null ''").nullText()).isEmpty();
    }

    @Test
    void whatCannotWorkIsRefusedWithTheReason() {
        assertRefused("COPY t TO STDOUT", "0A000", "COPY TO is not supported");
        assertRefused("COPY t FROM '/tmp/x.csv'", "0A000", "would be read on one shard");
        assertRefused("COPY t FROM PROGRAM 'cat x'", "0A000", "would be read on one shard");
        assertRefused("COPY (SELECT 1) TO STDOUT", "0A000", "COPY of a query");
        assertRefused("COPY t FROM STDIN (FORMAT binary)", "0A000", "binary format");
        assertRefused("COPY t FROM STDIN BINARY", "0A000", "binary format");
        assertRefused("COPY t FROM STDIN WHERE a > 1", "0A000", "WHERE is not supported");
        assertRefused("COPY t FROM STDIN (ENCODING 'LATIN1')", "0A000", "send UTF8");
        assertRefused("COPY t FROM STDIN (FORCE_NULL (a))", "0A000", "FORCE_NULL");
        assertRefused("COPY t FROM STDIN (BOGUS 1)", "42601", "option \"bogus\" not recognized");
        assertRefused("COPY t FROM STDIN (DELIMITER ',,')", "42601", "single one-byte character");
        assertRefused("COPY t FROM STDIN (HEADER true)", "42601", "only in CSV mode");
        assertRefused("COPY t (a, FROM STDIN", "42601", "expected ) in COPY");
        assertRefused("COPY t (a) FROM", "42601", "COPY ends too early");
    }

    private static void assertRefused(String sql, String sqlState, String text) {
        assertThatThrownBy(() -> PgCopyStatement.parse(sql)).as(sql).isInstanceOf(ProxyException.class)
                .hasMessageContaining(text)
                .satisfies(e -> assertThat(PgFrontendHandler.sqlState(((ProxyException) e).error())).isEqualTo(sqlState));
    }
}

package io.shardgate.proxy.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.pg.PgPrepareStatement.Deallocate;
import io.shardgate.proxy.pg.PgPrepareStatement.Execute;
import io.shardgate.proxy.pg.PgPrepareStatement.Prepare;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PgPrepareStatementTest {

    @Test
    void prepareWithAndWithoutTypes() {
        assertThat(parse("PREPARE s (bigint) AS SELECT name FROM users WHERE id = $1"))
                .isEqualTo(new Prepare("s", List.of("bigint"), "SELECT name FROM users WHERE id = $1"));
        assertThat(parse("prepare Ins AS\n  INSERT INTO users (id, name) VALUES ($1, $2)"))
                .isEqualTo(new Prepare("ins", List.of(), "INSERT INTO users (id, name) VALUES ($1, $2)"));
        assertThat(parse("PREPARE \"My \"\"S\"\"\"(numeric(10, 2), character varying, int[]) AS VALUES ($1, $2, $3)"))
                .isEqualTo(new Prepare("My \"S\"", List.of("numeric(10, 2)", "character varying", "int[]"), "VALUES ($1, $2, $3)"));
        assertThat(parse("/* c */ PREPARE -- why\n s AS SELECT 1")).isEqualTo(new Prepare("s", List.of(), "SELECT 1"));
    }

    @Test
    void unquotedNamesFoldAsciiLettersOnlyAsAUtf8ServerDoes() {
        assertThat(parse("EXECUTE ÉtéS_1")).isEqualTo(new Execute("Étés_1", List.of()));
        assertThat(parse("EXECUTE \"ÉtéS_1\"")).isEqualTo(new Execute("ÉtéS_1", List.of()));
    }

    @Test
    void prepareTransactionIsTwoPhaseCommitNotAStatementName() {
        assertThat(PgPrepareStatement.parse("PREPARE TRANSACTION 'gid-1'")).isEmpty();
        assertThat(parse("PREPARE transaction AS SELECT 1")).isEqualTo(new Prepare("transaction", List.of(), "SELECT 1"));
    }

    @Test
    void executeArgumentsSplitOutsideQuotesAndBrackets() {
        assertThat(parse("EXECUTE s (3)")).isEqualTo(new Execute("s", List.of("3")));
        assertThat(parse("execute S")).isEqualTo(new Execute("s", List.of()));
        assertThat(parse("EXECUTE s ('a, b', \"f\"(1, 2), ARRAY[1,2], $q$x),y$q$, E'\\', ''', -- c)\n 4)"))
                .isEqualTo(new Execute("s", List.of("'a, b'", "\"f\"(1, 2)", "ARRAY[1,2]", "$q$x),y$q$", "E'\\', '''", "-- c)\n 4")));
        assertThat(parse("EXECUTE s(1+2, now())")).isEqualTo(new Execute("s", List.of("1+2", "now()")));
    }

    @Test
    void deallocateNameOrAll() {
        assertThat(parse("DEALLOCATE s")).isEqualTo(new Deallocate(Optional.of("s")));
        assertThat(parse("DEALLOCATE PREPARE S")).isEqualTo(new Deallocate(Optional.of("s")));
        assertThat(parse("deallocate all")).isEqualTo(new Deallocate(Optional.empty()));
        assertThat(parse("DEALLOCATE PREPARE ALL")).isEqualTo(new Deallocate(Optional.empty()));
        assertThat(parse("DEALLOCATE \"ALL\"")).isEqualTo(new Deallocate(Optional.of("ALL")));
        assertThat(parse("DEALLOCATE prepare")).isEqualTo(new Deallocate(Optional.of("prepare")));
    }

    @Test
    void otherStatementsAreNotThese() {
        assertThat(PgPrepareStatement.parse("SELECT 1")).isEmpty();
        assertThat(PgPrepareStatement.parse("EXPLAIN EXECUTE s (1)")).isEmpty();
    }

    /** Each message as PostgreSQL 15 words it for the same text. */
    @Test
    void unreadableCommandsAreTheServersSyntaxErrors() {
        assertSyntaxError("PREPARE s SELECT 1", "syntax error at or near \"SELECT\"");
        assertSyntaxError("PREPARE s AS", "syntax error at end of input");
        assertSyntaxError("PREPARE s () AS SELECT 1", "syntax error at or near \")\"");
        assertSyntaxError("EXECUTE", "syntax error at end of input");
        assertSyntaxError("EXECUTE s (1", "syntax error at end of input");
        assertSyntaxError("EXECUTE s (1,) ", "syntax error at or near \")\"");
        assertSyntaxError("EXECUTE s (1) x", "syntax error at or near \"x\"");
        assertSyntaxError("DEALLOCATE s t", "syntax error at or near \"t\"");
        // the server's own words differ here ("trailing junk after numeric literal"); the SQLSTATE is the same
        assertSyntaxError("EXECUTE 1s", "syntax error at or near \"1s\"");
        assertSyntaxError("DEALLOCATE \"\"", "zero-length delimited identifier at or near \"\"\"\"");
    }

    private static PgPrepareStatement parse(String sql) {
        return PgPrepareStatement.parse(sql).orElseThrow();
    }

    private static void assertSyntaxError(String sql, String message) {
        assertThatThrownBy(() -> PgPrepareStatement.parse(sql)).isInstanceOfSatisfying(ProxyException.class, e -> {
            assertThat(e.error().sqlState()).isEqualTo("42601");
            assertThat(e.getMessage()).isEqualTo(message);
        });
    }
}

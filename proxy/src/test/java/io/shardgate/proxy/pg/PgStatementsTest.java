package io.shardgate.proxy.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.session.StatementResult;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgStatementsTest {

    @Test
    void severalPlainStatementsShareAnImplicitTransaction() {
        assertThat(PgStatements.implicitTransactions(List.of("INSERT INTO t VALUES (1)", "update t set a = 2"))).isTrue();
        assertThat(PgStatements.implicitTransactions(List.of("CREATE TABLE t (a INT)", "INSERT INTO t VALUES (1)", "SELECT 1")))
                .isTrue();
        assertThat(PgStatements.implicitTransactions(List.of("ALTER TABLE t ADD b INT", "SELECT 1"))).isTrue();
    }

    @Test
    void oneStatementOrOneThatMustRunAloneDoesNot() {
        assertThat(PgStatements.implicitTransactions(List.of("INSERT INTO t VALUES (1)"))).isFalse();
        assertThat(PgStatements.implicitTransactions(List.of("BEGIN", "INSERT INTO t VALUES (1)", "COMMIT", "SELECT 1"))).isTrue();
        for (String alone : List.of("ROLLBACK TO SAVEPOINT a", "ROLLBACK PREPARED 'x'", "COMMIT PREPARED 'x'", "SAVEPOINT a",
                "RELEASE a", "PREPARE TRANSACTION 'x'", "SET search_path = x", "RESET ALL", "VACUUM t", "COPY t FROM STDIN",
                "DISCARD ALL", "ALTER SYSTEM SET work_mem = '8MB'", "CREATE DATABASE d", "DROP DATABASE d",
                "CREATE TABLESPACE s LOCATION '/x'", "CREATE INDEX CONCURRENTLY i ON t (a)", "DROP INDEX CONCURRENTLY i",
                "REINDEX DATABASE d", "REINDEX SYSTEM d")) {
            assertThat(PgStatements.implicitTransactions(List.of("INSERT INTO t VALUES (1)", alone))).as(alone).isFalse();
        }
    }

    @Test
    void transactionRoles() {
        assertThat(PgStatements.transactionRole("begin")).isEqualTo(PgStatements.TransactionRole.BEGIN);
        assertThat(PgStatements.transactionRole("START TRANSACTION ISOLATION LEVEL SERIALIZABLE"))
                .isEqualTo(PgStatements.TransactionRole.BEGIN);
        assertThat(PgStatements.transactionRole("COMMIT")).isEqualTo(PgStatements.TransactionRole.COMMIT);
        assertThat(PgStatements.transactionRole("end")).isEqualTo(PgStatements.TransactionRole.COMMIT);
        assertThat(PgStatements.transactionRole("ROLLBACK")).isEqualTo(PgStatements.TransactionRole.ROLLBACK);
        assertThat(PgStatements.transactionRole("abort")).isEqualTo(PgStatements.TransactionRole.ROLLBACK);
        assertThat(PgStatements.transactionRole("ROLLBACK TO SAVEPOINT a")).isEqualTo(PgStatements.TransactionRole.OTHER);
        assertThat(PgStatements.transactionRole("COMMIT PREPARED 'x'")).isEqualTo(PgStatements.TransactionRole.OTHER);
        assertThat(PgStatements.transactionRole("INSERT INTO t VALUES (1)")).isEqualTo(PgStatements.TransactionRole.OTHER);
    }

    @Test
    void firstWordIsSkipsCommentsAndSpaceAndWantsAWholeWord() {
        assertThat(PgStatements.firstWordIs("copy t from stdin", "COPY")).isTrue();
        assertThat(PgStatements.firstWordIs("  -- load\n/* rows */ COPY t FROM STDIN", "COPY")).isTrue();
        assertThat(PgStatements.firstWordIs("COPYRIGHT", "COPY")).isFalse();
        assertThat(PgStatements.firstWordIs("SELECT 'COPY'", "COPY")).isFalse();
        assertThat(PgStatements.firstWordIs("COP", "COPY")).isFalse();
        assertThat(PgStatements.firstWordIs("", "COPY")).isFalse();
    }

    @Test
    void tagsOfPrepareAndDeallocate() {
        StatementResult none = StatementResult.Update.of(0);
        assertThat(PgStatements.tag("PREPARE s AS SELECT 1", none)).isEqualTo("PREPARE");
        assertThat(PgStatements.tag("DEALLOCATE s", none)).isEqualTo("DEALLOCATE");
        assertThat(PgStatements.tag("deallocate prepare s", none)).isEqualTo("DEALLOCATE");
        assertThat(PgStatements.tag("DEALLOCATE all", none)).isEqualTo("DEALLOCATE ALL");
        assertThat(PgStatements.tag("DEALLOCATE PREPARE ALL", none)).isEqualTo("DEALLOCATE ALL");
        assertThat(PgStatements.tag("DEALLOCATE all_of_them", none)).isEqualTo("DEALLOCATE");
    }
}

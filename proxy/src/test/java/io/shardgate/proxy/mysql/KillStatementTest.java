package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class KillStatementTest {

    @Test
    void readsTheFormsMariaDbTakes() {
        assertThat(KillStatement.parse("KILL 12")).contains(new KillStatement(false, 12));
        assertThat(KillStatement.parse("kill connection 12;")).contains(new KillStatement(false, 12));
        assertThat(KillStatement.parse("  KILL QUERY 7 ")).contains(new KillStatement(true, 7));
        assertThat(KillStatement.parse("KILL HARD QUERY 7")).contains(new KillStatement(true, 7));
        assertThat(KillStatement.parse("KILL SOFT CONNECTION 3")).contains(new KillStatement(false, 3));
        assertThat(KillStatement.parse("KILL\n\tQUERY\n9")).contains(new KillStatement(true, 9));
    }

    @Test
    void otherStatementsAreNotKill() {
        assertThat(KillStatement.parse("SELECT 1")).isEmpty();
        assertThat(KillStatement.parse("KILLS")).isEmpty();
        assertThat(KillStatement.parse("SELECT 'KILL 1'")).isEmpty();
        assertThat(KillStatement.parse("")).isEqualTo(Optional.empty());
    }

    @Test
    void formsTheProxyDoesNotServeAreRefusedNotForwarded() {
        for (String sql : new String[] {"KILL QUERY ID 5", "KILL USER app", "KILL", "KILL QUERY", "KILL 5, 6", "KILL @id"}) {
            assertThatThrownBy(() -> KillStatement.parse(sql)).as(sql).isInstanceOf(KillStatement.Unsupported.class)
                    .hasMessageContaining("KILL [CONNECTION | QUERY] <id>");
        }
    }

    @Test
    void anIdTooLargeForAnyConnectionNamesNone() {
        assertThat(KillStatement.parse("KILL 9999999999999999999")).contains(new KillStatement(false, Long.MAX_VALUE));
    }
}

package io.shardgate.proxy.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class PgErrorFieldsTest {

    @Test
    void theClientsOwnTextKeepsEveryPosition() {
        String sql = "SELECT nosuch FROM users WHERE id = 1";
        assertThat(PgErrorFields.map(sql, 8, sql)).isEqualTo(OptionalInt.of(8));
        assertThat(PgErrorFields.map(sql, sql.length() + 1, sql)).isEqualTo(OptionalInt.of(sql.length() + 1));
    }

    @Test
    void aRenamedPreparedStatementKeepsPositionsInItsBodyShiftedByTheNamesLength() {
        String client = "PREPARE a3 AS SELECT nosuch FROM users";
        String shard = "PREPARE _sg_check_12 AS SELECT nosuch FROM users";
        assertThat(PgErrorFields.map(shard, shard.indexOf("nosuch") + 1, client)).isEqualTo(OptionalInt.of(client.indexOf("nosuch") + 1));
        assertThat(PgErrorFields.map("EXECUTE _sg_args_3 ('abc')", 20, "EXECUTE a1 ('abc')")).isEqualTo(OptionalInt.of(12));
    }

    @Test
    void aPositionInsideWhatTheProxyRewroteIsDropped() {
        String client = "SELECT AVG(nosuch) FROM users";
        String shard = "SELECT SUM(nosuch), COUNT(nosuch) FROM users";
        assertThat(PgErrorFields.map(shard, shard.indexOf("COUNT") + 1, client)).isEmpty();
        assertThat(PgErrorFields.map(shard, shard.indexOf("COUNT(nosuch") + 7, client)).isEqualTo(OptionalInt.of(client.indexOf("nosuch") + 1));
        assertThat(PgErrorFields.map(shard, 3, client)).isEqualTo(OptionalInt.of(3));
        assertThat(PgErrorFields.map(shard, shard.indexOf("users") + 1, client)).isEqualTo(OptionalInt.of(client.indexOf("users") + 1));
        assertThat(PgErrorFields.map("SELECT 1 LIMIT 5", 17, "SELECT 1 LIMIT 2")).isEmpty();
    }

    @Test
    void leadingWhiteSpaceIsNoPartOfTheStatement() {
        assertThat(PgErrorFields.map("SELECT nosuch FROM t WHERE id = $1", 8, " SELECT nosuch FROM t WHERE id = 1")).isEqualTo(OptionalInt.of(9));
        assertThat(PgErrorFields.map("  SELECT nosuch", 10, "SELECT nosuch")).isEqualTo(OptionalInt.of(8));
        assertThat(PgErrorFields.map("  SELECT nosuch", 1, "SELECT nosuch")).isEmpty();
    }

    @Test
    void positionsCountCharactersNotUtf16Units() {
        String client = "SELECT '😀', nosuch";
        String shard = "SELECT '😀', nosuch LIMIT 3";
        assertThat(PgErrorFields.map(shard, 13, client)).isEqualTo(OptionalInt.of(13));
        assertThat(PgErrorFields.map("SELECT '😀'  x", 13, "SELECT '😀' x")).isEqualTo(OptionalInt.of(12));
    }

    @Test
    void pgJdbcSendsQuestionMarksAsNumberedParameters() {
        assertThat(PgShardError.nativeSql("SELECT * FROM t WHERE a = ? AND b = ?", true)).isEqualTo("SELECT * FROM t WHERE a = $1 AND b = $2");
        assertThat(PgShardError.nativeSql("SELECT '?'", false)).isEqualTo("SELECT '?'");
        assertThat(PgShardError.nativeSql("SELECT 1; SELECT 2", false)).isNull();
    }
}

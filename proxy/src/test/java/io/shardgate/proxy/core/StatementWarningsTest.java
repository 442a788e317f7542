package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatementWarningsTest {
    private static final List<ColumnInfo> COLUMNS = List.of(ColumnInfo.computed("Level", ColumnType.VARCHAR, 28),
            ColumnInfo.computed("Code", ColumnType.INT, 4), ColumnInfo.computed("Message", ColumnType.VARCHAR, 2048));

    @Test
    void oneShardsWarningsAreListedCountedAndLimited() {
        StatementWarnings w = new StatementWarnings();
        w.add("s0", 3, shown("Warning", "Note", "Error"));
        assertThat(w.withCount(StatementResult.Update.of(1))).isEqualTo(new StatementResult.Update(1, 0, 3, ""));
        assertThat(levels(w.answer("SHOW WARNINGS", () -> 64).orElseThrow())).containsExactly("Warning", "Note", "Error");
        assertThat(levels(w.answer("show warnings limit 1, 1", () -> 64).orElseThrow())).containsExactly("Note");
        assertThat(levels(w.answer("SHOW WARNINGS LIMIT 2", () -> 64).orElseThrow())).containsExactly("Warning", "Note");
        assertThat(levels(w.answer("SHOW WARNINGS", () -> 2).orElseThrow())).containsExactly("Warning", "Note");
        assertThat(levels(w.answer("SHOW ERRORS", () -> 64).orElseThrow())).containsExactly("Error");
        assertThat(levels(w.answer("SHOW COUNT(*) WARNINGS", () -> 64).orElseThrow())).containsExactly("3");
        assertThat(levels(w.answer("SHOW COUNT(*) ERRORS", () -> 64).orElseThrow())).containsExactly("1");
    }

    /** Several shard calls: the count is their sum, the list has no server order and is refused with the reason. */
    @Test
    void severalShardsAreCountedButNotListed() {
        StatementWarnings w = new StatementWarnings();
        w.add("s0", 1, shown("Warning"));
        w.add("s1", 2, shown("Warning", "Warning"));
        assertThat(((StatementResult.Rows) w.withCount(new StatementResult.Rows(COLUMNS, List.of(), 0))).warnings()).isEqualTo(3);
        assertThat(levels(w.answer("SHOW COUNT(*) WARNINGS", () -> 64).orElseThrow())).containsExactly("3");
        assertThatThrownBy(() -> w.answer("SHOW WARNINGS", () -> 64)).isInstanceOf(ProxyException.class)
                .hasMessageContaining("3 warnings came from 2 shard calls (shards s0, s1)");
    }

    /** A relayed reply's warnings reached the client as a count only: counted, listing refused. */
    @Test
    void relayedWarningsAreCountedButNotListed() {
        StatementWarnings w = new StatementWarnings();
        w.addUnlisted("s1", 2);
        assertThat(levels(w.answer("SHOW COUNT(*) WARNINGS", () -> 64).orElseThrow())).containsExactly("2");
        assertThatThrownBy(() -> w.answer("SHOW WARNINGS", () -> 64)).isInstanceOf(ProxyException.class)
                .hasMessageContaining("relayed from shard s1");
    }

    @Test
    void nothingToAnswerFromWithoutWarnings() {
        assertThat(new StatementWarnings().answer("SHOW WARNINGS", () -> 64)).isEmpty();
    }

    private static StatementResult.Rows shown(String... levels) {
        return new StatementResult.Rows(COLUMNS, java.util.Arrays.stream(levels).map(l -> new byte[][] {
                l.getBytes(StandardCharsets.UTF_8), "1292".getBytes(StandardCharsets.UTF_8), "m".getBytes(StandardCharsets.UTF_8)}).toList(), 0);
    }

    private static List<String> levels(StatementResult r) {
        return ((StatementResult.Rows) r).rows().stream().map(row -> new String(row[0], StandardCharsets.UTF_8)).toList();
    }
}

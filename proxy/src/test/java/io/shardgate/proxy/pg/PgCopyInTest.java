package io.shardgate.proxy.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.PreparedInfo;
import io.shardgate.proxy.session.SessionState;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rows split from arbitrary chunks and decoded as PostgreSQL's COPY does, then sent as INSERTs with parameters. */
class PgCopyInTest {

    /** A hand-written session that records the INSERTs (the unit under test only formats and batches them). */
    private static final class RecordingSession implements FrontendSession {
        final List<String> sql = new ArrayList<>();
        final List<List<Object>> parameters = new ArrayList<>();

        @Override
        public StatementResult query(String s, List<Object> p) {
            sql.add(s);
            parameters.add(p);
            return StatementResult.Update.of(p.size() / 2);
        }

        @Override
        public StatementResult query(String s) {
            throw new AssertionError("unexpected " + s);
        }

        @Override
        public void initDb(String schema) { }

        @Override
        public PreparedInfo prepare(String s) {
            throw new AssertionError();
        }

        @Override
        public StatementResult execute(int id, List<Object> p) {
            throw new AssertionError();
        }

        @Override
        public void closeStatement(int id) { }

        @Override
        public void resetStatement(int id) { }

        @Override
        public SessionState state() {
            throw new AssertionError();
        }

        @Override
        public void close() { }
    }

    private static List<List<Object>> rows(RecordingSession s) {
        List<List<Object>> rows = new ArrayList<>();
        for (List<Object> p : s.parameters) {
            for (int i = 0; i < p.size(); i += 2) {
                rows.add(Arrays.asList(p.get(i), p.get(i + 1)));
            }
        }
        return rows;
    }

    private static RecordingSession copy(String statement, String... chunks) {
        RecordingSession session = new RecordingSession();
        PgCopyIn in = new PgCopyIn(PgCopyStatement.parse(statement), List.of("id", "note"), session);
        for (String chunk : chunks) {
            in.data(chunk.getBytes(StandardCharsets.UTF_8));
        }
        in.finish();
        return session;
    }

    @Test
    void textRowsAcrossChunksWithEscapesAndNulls() {
        RecordingSession s = copy("COPY t FROM STDIN", "1\tplain\n2\t\\N\n3\ttab\\there\\\\ and\\nnew", "line\r\n4\t",
                "Zoë \\x41\\101\n5\tlast without newline");
        assertThat(rows(s)).containsExactly(List.of("1", "plain"), Arrays.asList("2", null), List.of("3", "tab\there\\ and\nnewline"),
                List.of("4", "Zoë AA"), List.of("5", "last without newline"));
        assertThat(s.sql).containsExactly("INSERT INTO t (id, note) VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8), ($9, $10)");
    }

    @Test
    void theEndMarkerEndsTheData() {
        assertThat(rows(copy("COPY t FROM STDIN", "1\ta\n\\.\n2\tignored\n"))).containsExactly(List.of("1", "a"));
    }

    @Test
    void csvWithQuotesNewlinesHeaderAndNulls() {
        RecordingSession s = copy("COPY t FROM STDIN (FORMAT csv, HEADER)", "id,note\n1,\"a, \"\"quoted\"\"\n",
                "value\"\n2,\n3,\"\"\n");
        assertThat(rows(s)).containsExactly(List.of("1", "a, \"quoted\"\nvalue"), Arrays.asList("2", null), List.of("3", ""));
    }

    @Test
    void rowsGoInBatchesOfAtMostAThousand() {
        StringBuilder data = new StringBuilder();
        for (int i = 1; i <= 2500; i++) {
            data.append(i).append("\tn").append(i).append('\n');
        }
        RecordingSession s = copy("COPY t FROM STDIN", data.toString());
        assertThat(s.parameters).extracting(List::size).containsExactly(2000, 2000, 1000);
        assertThat(rows(s)).hasSize(2500).last().isEqualTo(List.of("2500", "n2500"));
    }

    @Test
    void aRowWithTooFewOrTooManyFieldsNamesItsLine() {
        assertThatThrownBy(() -> copy("COPY t FROM STDIN", "1\ta\n2\n")).isInstanceOf(ProxyException.class)
                .hasMessage("missing data for column note (COPY t, line 2)");
        assertThatThrownBy(() -> copy("COPY t FROM STDIN", "1\ta\tb\n")).hasMessage("extra data after last expected column (COPY t, line 1)");
        assertThatThrownBy(() -> copy("COPY t FROM STDIN (FORMAT csv)", "1,\"open\n")).hasMessageContaining("unterminated CSV quoted field");
    }
}

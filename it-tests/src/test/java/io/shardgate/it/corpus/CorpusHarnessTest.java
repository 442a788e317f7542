package io.shardgate.it.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The corpus harness without databases: the case grammar, id renaming, the diff, and the three verdicts. */
class CorpusHarnessTest {
    private static final String FILE = """
            # a comment
            == two-sessions
            drivers: connectorj pymysql
            pending: issue14-3 a lock lives on one backend connection
            pending-drivers: pymysql
            setup: DELETE FROM t
            A: SELECT GET_LOCK('k', 0)
            B: ps [1, "x", {"hex": "00ff"}]: SELECT ? FROM t WHERE a = ? AND b = ?
            batch [[1], [2]]: INSERT INTO t VALUES (?)

            == refused-join
            refused: shard key
            SELECT * FROM a JOIN b ON a.x = b.y
            """;

    @Test
    void readsTheGrammar() {
        List<CorpusCase> cases = CorpusFile.parse("f.txt", FILE);
        assertThat(cases).extracting(CorpusCase::name).containsExactly("two-sessions", "refused-join");
        CorpusCase c = cases.getFirst();
        assertThat(c.drivers()).containsExactlyInAnyOrder("connectorj", "pymysql");
        assertThat(c.pendingFor("pymysql")).hasValue("issue14-3 a lock lives on one backend connection");
        assertThat(c.pendingFor("connectorj")).isEmpty();
        assertThat(c.usesTwoConnections()).isTrue();
        assertThat(c.steps()).hasSize(4);
        assertThat(c.steps().get(0).setup()).isTrue();
        CorpusCase.Step ps = c.steps().get(2);
        assertThat(ps.connection()).isEqualTo("B");
        assertThat(ps.mode()).isEqualTo(CorpusCase.Mode.PREPARED);
        assertThat(ps.params()).hasSize(3);
        assertThat(ps.sql()).isEqualTo("SELECT ? FROM t WHERE a = ? AND b = ?");
        assertThat(c.steps().get(3).mode()).isEqualTo(CorpusCase.Mode.BATCH);
        assertThat(cases.get(1).refused()).hasValue("shard key");
    }

    @Test
    void refusesPendingWithoutAnItem() {
        assertThatThrownBy(() -> CorpusFile.parse("f.txt", "== x\npending: someday\nSELECT 1\n"))
                .hasMessageContaining("f.txt:2").hasMessageContaining("issue14-3");
    }

    @Test
    void renamesIdsByFirstAppearance() {
        String server = "column: id type=BIGINT\nrow: Long:'41' | String:'a'\nrow: Long:'42' | String:'b'\nok: insert_id=41\n";
        String proxy = "column: id type=BIGINT\nrow: Long:'7001' | String:'a'\nrow: Long:'7002' | String:'b'\nok: insert_id=7001\n";
        String duplicate = "column: id type=BIGINT\nrow: Long:'1' | String:'a'\nrow: Long:'1' | String:'b'\nok: insert_id=1\n";
        assertThat(Transcripts.renumberIds(proxy)).isEqualTo(Transcripts.renumberIds(server)).contains("Long:'#1'");
        assertThat(Transcripts.renumberIds(duplicate)).isNotEqualTo(Transcripts.renumberIds(server));
        assertThat(Transcripts.renumberIds("persisted customer id=7001\npersisted customer id=7002\n"))
                .isEqualTo(Transcripts.renumberIds("persisted customer id=1\npersisted customer id=2\n"))
                .isEqualTo("persisted customer id=#1\npersisted customer id=#2\n");
    }

    @Test
    void renamesIdsOfColumnsFollowedByTheirDetails() {
        String server = "column: id type=BIGINT\ncolumn-detail: length=20\ncolumn: name type=VARCHAR\ncolumn-detail: length=40\n"
                + "row: Long:'1' | String:'a'\n";
        String proxy = "column: id type=BIGINT\ncolumn-detail: length=20\ncolumn: name type=VARCHAR\ncolumn-detail: length=40\n"
                + "row: Long:'7001' | String:'a'\n";
        assertThat(Transcripts.renumberIds(proxy)).isEqualTo(Transcripts.renumberIds(server)).contains("Long:'#1'");
    }

    @Test
    void theCommandLineClientsInfoTextIsADetail() {
        assertThat(CliCorpusDriver.infoAsDetail("UPDATE t SET v = 1\n--------------\n\nQuery OK, 2 rows affected\n"
                + "Rows matched: 2  Changed: 2  Warnings: 0\n\nQuery OK, 1 row affected\n\n1 row in set\n"))
                .isEqualTo("UPDATE t SET v = 1\n--------------\n\nQuery OK, 2 rows affected\n"
                        + "ok-detail: info=Rows matched: 2  Changed: 2  Warnings: 0\n\nQuery OK, 1 row affected\n\n1 row in set\n");
    }

    @Test
    void diffsShowOnlyTheChangedLinesWithContext() {
        String diff = Transcripts.unifiedDiff("reference server", "a\nb\nc\nd\n", "proxy", "a\nb\nX\nd\n");
        assertThat(diff).contains("--- reference server").contains("+++ proxy").contains("-c\n+X\n");
        assertThat(Transcripts.unifiedDiff("r", "same\n", "p", "same\n")).isEmpty();
    }

    @Test
    void verdictsAreStrictBothWays() {
        List<CorpusCase> cases = CorpusFile.parse("f.txt", FILE);
        CorpusCase pending = cases.getFirst();
        CorpusRun.verdict(pending, "pymysql", "error: refused\n", "row: 1\n");
        assertThatThrownBy(() -> CorpusRun.verdict(pending, "pymysql", "row: 1\n", "row: 1\n"))
                .isInstanceOf(AssertionFailedError.class).hasMessageContaining("now passes: remove 'pending: issue14-3");
        assertThatThrownBy(() -> CorpusRun.verdict(pending, "connectorj", "row: 2\n", "row: 1\n"))
                .isInstanceOf(AssertionFailedError.class).hasMessageContaining("case 'two-sessions' (corpus file f.txt) with connectorj")
                .hasMessageContaining("-row: 1").hasMessageContaining("+row: 2");
        CorpusCase refused = cases.get(1);
        CorpusRun.verdict(refused, "connectorj", "error: 7001 42000 ... needs the shard key\n", "row: 1\n");
        assertThatThrownBy(() -> CorpusRun.verdict(refused, "connectorj", "row: 1\n", "row: 1\n"))
                .isInstanceOf(AssertionFailedError.class).hasMessageContaining("must refuse");
    }
}

package io.shardgate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.cli.reshard.RequestRules;
import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.migrator.Migrations;
import io.shardgate.migrator.Migrations.Request;
import io.shardgate.migrator.Migrations.Status;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.MigrationRecord;
import io.shardgate.state.Versioned;
import io.shardgate.state.memory.InMemoryClusterStore;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Setting a request by read-CAS-retry while a worker keeps rewriting the record. */
class MigrationRequestsTest {
    private final InMemoryClusterStore memory = new InMemoryClusterStore("requests");

    @BeforeEach
    void createCluster() {
        memory.createCluster(ClusterDefinitionCodec.parseYaml("""
                dialect: mysql
                slots: 16
                shards:
                  - {name: s0, url: "jdbc:mysql://127.0.0.1:1/x", user: root}
                  - {name: s1, url: "jdbc:mysql://127.0.0.1:1/x", user: root, spare: true}
                """, "test"), SlotMap.initial(16, List.of("s0")), false);
        memory.createMigration(new MigrationRecord("m-1", List.of(8, 9), "s0", "s1", Status.BACKFILL.name(), Map.of(),
                Map.of(Migrations.ROWS_COPIED + "users", "10"), 1L));
    }

    @Test
    void aConcurrentWorkerWriteIsRetriedAndKept() {
        // the worker writes progress between the CLI's read and its compare-and-set, three times in a row
        RacingClusterStore racing = new RacingClusterStore(memory, 3,
                r -> Migrations.withDetails(r, Map.of(Migrations.ROWS_COPIED + "users", "20"), 2L));

        assertThat(MigrationRequests.request(racing, "m-1", Request.ABORT)).isEqualTo(RequestRules.Verdict.REQUEST);

        Versioned<MigrationRecord> stored = memory.readMigration("m-1").orElseThrow();
        assertThat(racing.racesRun()).isEqualTo(3);
        assertThat(stored.version()).isEqualTo(4);
        assertThat(stored.value().details()).containsEntry(Migrations.REQUEST, "abort").containsEntry(Migrations.ROWS_COPIED + "users", "20");
    }

    @Test
    void aRetryChecksTheStatusTheWorkerMovedTo() {
        RacingClusterStore racing = new RacingClusterStore(memory, 1, r -> new MigrationRecord(r.id(), r.slots(), r.source(), r.target(),
                Status.CLEANUP.name(), r.checkpoints(), r.details(), 2L));

        assertThatThrownBy(() -> MigrationRequests.request(racing, "m-1", Request.ABORT))
                .isInstanceOf(CliException.class)
                .hasMessage("cannot abort migration m-1 (s0 -> s1): it is cleanup: the moved rows are being deleted from the source, "
                        + "too late to abort");
        assertThat(memory.readMigration("m-1").orElseThrow().value().details()).doesNotContainKey(Migrations.REQUEST);
    }

    @Test
    void aRecordThatNeverStopsChangingGivesUpWithOneLine() {
        RacingClusterStore racing = new RacingClusterStore(memory, Integer.MAX_VALUE, r -> r);
        assertThatThrownBy(() -> MigrationRequests.request(racing, "m-1", Request.ABORT))
                .isInstanceOf(CliException.class)
                .hasMessage("migration m-1 kept changing; " + MigrationRequests.CAS_ATTEMPTS + " attempts to request abort failed, retry");
    }

    @Test
    void theRulesFollowTheContract() {
        for (Status s : Status.values()) {
            boolean abortable = !s.terminal() && s != Status.CLEANUP && s != Status.ABORTING && s != Status.ROLLING_BACK;
            assertThat(RequestRules.refusal(Request.ABORT, s).isEmpty()).as("abort in %s", s).isEqualTo(abortable);
            assertThat(RequestRules.refusal(Request.COMPLETE, s).isEmpty()).as("complete in %s", s).isEqualTo(s == Status.REVERSE_DUAL_WRITE);
            assertThat(RequestRules.refusal(Request.ROLLBACK, s).isEmpty()).as("rollback in %s", s).isEqualTo(s == Status.REVERSE_DUAL_WRITE);
        }
        assertThat(RequestRules.check(Request.ABORT, Status.BACKFILL, java.util.Optional.of(Request.ABORT)))
                .isEqualTo(RequestRules.Verdict.ALREADY_REQUESTED);
        assertThatThrownBy(() -> RequestRules.check(Request.ROLLBACK, Status.REVERSE_DUAL_WRITE, java.util.Optional.of(Request.COMPLETE)))
                .hasMessage("'complete' is requested already and the worker has not acted on it yet");
    }
}

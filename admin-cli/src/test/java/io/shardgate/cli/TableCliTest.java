package io.shardgate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code table add | list | show | drop} against an in-process ZooKeeper. The example cluster's shards
 * are not running here, so these cases are about validation and the refusal to declare without
 * checking the rows; TableCommandsIT runs the commands against real shards and a proxy.
 */
class TableCliTest {
    @RegisterExtension
    static final ZooKeeperCli zk = new ZooKeeperCli();

    @Test
    void addValidatesItsOptionsAndRefusesWhenTheShardsCannotBeChecked() {
        String cluster = zk.exampleCluster("table-cli-");
        assertRefused(zk.run(cluster, "table", "add", "t1", "--kind", "sharded", "--key", "id"), "needs --key COLUMN and --key-type");
        assertRefused(zk.run(cluster, "table", "add", "t1", "--kind", "sharded", "--key", "id", "--key-type", "uuid"),
                "--key-type must be int or string");
        assertRefused(zk.run(cluster, "table", "add", "t1", "--kind", "weird"), "--kind must be sharded, broadcast or single");
        assertRefused(zk.run(cluster, "table", "add", "t1", "--kind", "single"), "a single table needs --shard");
        assertRefused(zk.run(cluster, "table", "add", "t1", "--kind", "single", "--shard", "s9"), "shard 's9' is not in the cluster");
        assertRefused(zk.run(cluster, "table", "add", "t1", "--kind", "broadcast", "--key", "id"), "are for sharded tables");
        assertRefused(zk.run(cluster, "table", "add", "t1", "--kind", "sharded", "--key", "id", "--key-type", "int",
                "--split-by", "id"), "--split-by must be another column");
        assertRefused(zk.run(cluster, "table", "add", "likes", "--kind", "broadcast"), "table likes is already declared");
        assertRefused(zk.run(cluster, "table", "add", "t1", "--kind", "broadcast"), "cannot check table t1 on s0");

        CliRun forced = zk.run(cluster, "table", "add", "T1", "--kind", "sharded", "--key", "Id", "--key-type", "string",
                "--counters", "a,b", "--force");
        assertThat(forced.exit()).as(forced.toString()).isZero();
        assertThat(forced.out()).contains("declared table t1 (sharded by id, string; hot keys counter a,b)")
                .contains("every live proxy routes with it");
        CliRun list = zk.run(cluster, "table", "list");
        assertThat(list.outLines()).anyMatch(l -> l.matches("t1\\s+sharded\\s+id\\s+string\\s+-\\s+counter a,b\\s+-"))
                .contains("undeclared tables: single on s0");
    }

    @Test
    void dropRefusesUnknownTablesAndUncheckedRowsUnlessForced() {
        String cluster = zk.exampleCluster("table-cli-");
        assertRefused(zk.run(cluster, "table", "drop", "nope"), "table nope is not declared");
        assertRefused(zk.run(cluster, "table", "drop", "countries"), "cannot check table countries on every shard");
        CliRun forced = zk.run(cluster, "table", "drop", "countries", "--force");
        assertThat(forced.exit()).as(forced.toString()).isZero();
        assertThat(forced.out()).contains("dropped the declaration of countries (broadcast)");
        CliRun show = zk.run(cluster, "table", "show", "countries");
        assertThat(show.out()).contains("countries is not declared: a single table on the default shard s0");
    }

    @Test
    void shardRefusesTablesThatAreNotSingleOnOneShardAndShardsItCannotCheck() {
        String cluster = zk.exampleCluster("table-cli-");
        assertRefused(zk.run(cluster, "table", "shard", "users", "--key", "id"), "table users is sharded already (by id)");
        assertRefused(zk.run(cluster, "table", "shard", "countries", "--key", "code"), "table countries is broadcast");
        CliRun single = zk.run(cluster, "table", "add", "audit", "--kind", "single", "--shard", "s1", "--force");
        assertThat(single.exit()).as(single.toString()).isZero();
        assertRefused(zk.run(cluster, "table", "shard", "settings", "audit", "--key", "id"),
                "co-located tables must live on one shard to be sharded together");
        assertRefused(zk.run(cluster, "table", "shard", "settings", "--key", "id", "--key-type", "uuid"),
                "--key-type must be int or string");
        assertRefused(zk.run(cluster, "table", "shard", "settings", "--key", "id"), "cannot check the tables on s0");
        assertThat(zk.run(cluster, "table", "show", "settings").out()).contains("single");
    }

    private static void assertRefused(CliRun run, String reason) {
        assertThat(run.exit()).as(run.toString()).isEqualTo(1);
        assertThat(run.err()).contains(reason);
    }
}

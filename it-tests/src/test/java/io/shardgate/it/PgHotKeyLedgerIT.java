package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link HotKeyLedgerIT} on a PostgreSQL cluster: a hot post's counter row and its likes are split over 8 sub-keys with
 * {@code shardgate hotkey split}, merged back and split again while clients increment, like and unlike through the
 * proxy's PostgreSQL port (half with server-prepared statements); nothing is lost or doubled, the counter never goes
 * down for a reader, and the rows on the shards add up to the ledger.
 */
class PgHotKeyLedgerIT {

    @Test
    void splitMergeAndSplitAgainUnderLoadLoseAndDoubleNothing() throws Exception {
        try (PgShardedCluster cluster = PgShardedCluster.start(3, HotKeyLedgerIT.TABLES, "md5")) {
            long post = HotKeyLedgerIT.postOverSeveralShards(cluster.store().readSlotMap().value());
            HotKeyLedgerIT.splitMergeAndSplitAgain(post, 1,
                    (index, prepared) -> cluster.proxyConnection(prepared ? "prepareThreshold=1" : "prepareThreshold=0"),
                    (verb, table, key, k) -> hotkey(cluster, verb, table, key, k),
                    countSql -> holders(cluster, countSql),
                    sql -> {
                        long sum = 0;
                        for (int i = 0; i < 3; i++) {
                            try (Connection c = cluster.shardConnection(i)) {
                                sum += Sql.count(c, sql);
                            }
                        }
                        return sum;
                    });
        }
    }

    private static void hotkey(PgShardedCluster cluster, String verb, String table, long key, int k) throws Exception {
        List<String> args = new ArrayList<>(List.of("hotkey", verb, "--table", table, "--key", Long.toString(key)));
        if (k > 0) {
            args.addAll(List.of("--k", Integer.toString(k)));
        }
        args.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", PgShardedCluster.CLUSTER));
        ShardgateProcess.Result r = ShardgateProcess.run(Duration.ofSeconds(60), args.toArray(String[]::new));
        assertThat(r.exitCode()).as("shardgate %s: %s%s", String.join(" ", args), r.stdout(), r.stderr()).isZero();
    }

    private static List<Integer> holders(PgShardedCluster cluster, String countSql) throws SQLException {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (Connection c = cluster.shardConnection(i)) {
                if (Sql.count(c, countSql) > 0) {
                    out.add(i);
                }
            }
        }
        return out;
    }
}

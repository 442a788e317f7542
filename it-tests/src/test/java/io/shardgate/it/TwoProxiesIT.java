package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.ProxyServer;
import io.shardgate.state.ProxyInfo;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Two proxies serve one cluster: each registers its own live node with the epoch it applied, a
 * write through one is read through the other, and a slot-map change reaches both (the barrier the
 * migrator will wait on).
 */
class TwoProxiesIT {

    @Test
    void twoProxiesRegisterApartServeTheSameDataAndBothAcknowledgeANewEpoch() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.start(2, """
                tables:
                  - {name: kv, kind: sharded, key: id, key-type: int}
                """)) {
            ProxyServer second = cluster.startProxy();
            List<ProxyInfo> live = cluster.store().liveProxies();
            assertThat(live).extracting(ProxyInfo::id).doesNotHaveDuplicates().hasSize(2)
                    .contains(cluster.proxy().proxyId(), second.proxyId());

            String viaSecond = "jdbc:mysql://127.0.0.1:" + second.mysqlPort() + "/" + ShardedCluster.DATABASE
                    + "?user=app&password=app&sslMode=DISABLED";
            try (Connection a = cluster.proxyConnection(""); Connection b = java.sql.DriverManager.getConnection(viaSecond)) {
                Sql.update(a, "CREATE TABLE kv (id BIGINT PRIMARY KEY, v VARCHAR(10))");
                Sql.update(a, "INSERT INTO kv (id, v) VALUES (1, 'one'), (2, 'two'), (3, 'three')");
                assertThat(Sql.query(b, "SELECT v FROM kv ORDER BY id")).containsExactly(List.of("one"), List.of("two"), List.of("three"));
            }

            var map = cluster.store().readSlotMap();
            cluster.store().casSlotMap(map.value().withEpoch(map.value().epoch() + 1), map.version());
            cluster.store().awaitEpoch(map.value().epoch() + 1, Duration.ofSeconds(20));
            assertThat(cluster.store().liveProxies()).allSatisfy(p -> assertThat(p.appliedEpoch()).isEqualTo(map.value().epoch() + 1));
        }
    }
}

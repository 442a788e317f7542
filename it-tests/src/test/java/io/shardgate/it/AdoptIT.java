package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An existing database, created directly on a MariaDB server (not through Shardgate), adopted with
 * {@code cluster adopt}: through the proxy it answers exactly as a copy of it on a plain server does,
 * and the cluster then grows with {@code shard add} and {@code table add}.
 */
class AdoptIT {
    private static final List<String> SCHEMA = List.of(
            "CREATE TABLE customers (id BIGINT PRIMARY KEY, name VARCHAR(32) NOT NULL, city VARCHAR(32))",
            "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, amount DECIMAL(10,2) NOT NULL)",
            "CREATE TABLE audit (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64))");

    @Test
    void anAdoptedDatabaseAnswersThroughTheProxyAsItDidDirectlyAndTheClusterGrows() throws Exception {
        try (ShardedCluster cluster = ShardedCluster.startWithoutCluster(2)) {
            try (Connection s0 = cluster.shardConnection(0); Connection ref = cluster.referenceConnection("")) {
                for (Connection c : List.of(s0, ref)) {
                    try (Statement st = c.createStatement()) {
                        for (String ddl : SCHEMA) {
                            st.execute(ddl);
                        }
                        for (int i = 1; i <= 40; i++) {
                            st.execute("INSERT INTO customers VALUES (" + i + ", 'c" + i + "', '" + (i % 3 == 0 ? "Oslo" : "Lima") + "')");
                            st.execute("INSERT INTO orders VALUES (" + i + ", " + (1 + i % 7) + ", " + i + ".50)");
                        }
                        st.execute("INSERT INTO audit (note) VALUES ('created'), ('seeded')");
                    }
                }
            }

            ShardgateProcess.Result adopted = cli(cluster, "cluster", "adopt", "--url", cluster.shard(0).jdbcUrl(ShardedCluster.DATABASE),
                    "--user", "root");
            assertThat(adopted.exitCode()).as(adopted.toString()).isZero();
            assertThat(adopted.stdout()).contains("adopted database 'shardgate'").containsPattern("customers\\s+40\\s+single on s0")
                    .containsPattern("orders\\s+40\\s+single on s0").containsPattern("audit\\s+2\\s+single on s0");
            cluster.startProxy();

            List<String> queries = List.of(
                    "SELECT * FROM customers ORDER BY id",
                    "SELECT c.city, COUNT(*), SUM(o.amount) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.city ORDER BY c.city",
                    "SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE amount > 30) ORDER BY name",
                    "SELECT * FROM audit ORDER BY id");
            List<String> writes = List.of(
                    "UPDATE customers SET city = 'Rome' WHERE id % 5 = 0",
                    "INSERT INTO audit (note) VALUES ('through the proxy')",
                    "DELETE FROM orders WHERE amount < 3");
            try (Connection proxy = cluster.proxyConnection(""); Connection ref = cluster.referenceConnection("")) {
                for (String q : queries) {
                    assertThat(Sql.query(proxy, q)).as(q).isEqualTo(Sql.query(ref, q));
                }
                for (String w : writes) {
                    try (Statement p = proxy.createStatement(); Statement r = ref.createStatement()) {
                        assertThat(p.executeUpdate(w)).as(w).isEqualTo(r.executeUpdate(w));
                    }
                }
                for (String q : queries) {
                    assertThat(Sql.query(proxy, q)).as("after the writes: " + q).isEqualTo(Sql.query(ref, q));
                }
            }

            ShardgateProcess.Result added = cli(cluster, "shard", "add", "s1", "--url", cluster.shard(1).jdbcUrl(ShardedCluster.DATABASE),
                    "--user", "root");
            assertThat(added.exitCode()).as(added.toString()).isZero();
            ShardgateProcess.Result declared = cli(cluster, "table", "add", "events", "--kind", "sharded", "--key", "customer_id",
                    "--key-type", "int");
            assertThat(declared.exitCode()).as(declared.toString()).isZero();
            try (Connection proxy = cluster.proxyConnection(""); Statement st = proxy.createStatement()) {
                st.execute("CREATE TABLE events (customer_id BIGINT NOT NULL, seq INT NOT NULL, PRIMARY KEY (customer_id, seq))");
                st.execute("INSERT INTO events VALUES (1, 1), (2, 1), (3, 1)");
                assertThat(Sql.query(proxy, "SELECT COUNT(*) FROM events")).containsExactly(List.of("3"));
            }
            try (Connection s1 = cluster.shardConnection(1)) {
                // the new shard got the sharded table's DDL (it is ready to receive slots) but not the single tables
                assertThat(Sql.query(s1, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'shardgate'"))
                        .containsExactly(List.of("events"));
            }
        }
    }

    private static ShardgateProcess.Result cli(ShardedCluster cluster, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        return ShardgateProcess.run(Duration.ofSeconds(60), all.toArray(String[]::new));
    }
}

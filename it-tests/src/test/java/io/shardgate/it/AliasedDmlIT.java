package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * UPDATE and DELETE of one table under an alias, as Hibernate 6 writes its bulk statements on MySQL
 * ({@code delete o1_0 from orders o1_0 where o1_0.user_id=?}), through the proxy on two shards and on a
 * reference server: the same rows counted as affected, the same rows left.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AliasedDmlIT {
    private static final String TABLES = """
            tables:
              - {name: orders, kind: sharded, key: user_id, key-type: int}
              - {name: countries, kind: broadcast}
            """;
    private static final List<String> DDL = List.of(
            "CREATE TABLE orders (user_id BIGINT NOT NULL, id BIGINT NOT NULL, status VARCHAR(16) NOT NULL,"
                    + " PRIMARY KEY (user_id, id)) ENGINE=InnoDB",
            "CREATE TABLE countries (code CHAR(2) NOT NULL PRIMARY KEY, name VARCHAR(64)) ENGINE=InnoDB");

    private ShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.start(2, TABLES);
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            for (String ddl : DDL) {
                Sql.update(p, ddl);
                Sql.update(r, ddl);
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @ParameterizedTest(name = "useServerPrepStmts={0}")
    @ValueSource(booleans = {false, true})
    void aliasedSingleTableWritesAffectTheSameRowsAsOnASingleServer(boolean serverPrepared) throws SQLException {
        String opts = "useServerPrepStmts=" + serverPrepared;
        long base = serverPrepared ? 1000 : 2000;
        try (Connection p = cluster.proxyConnection(opts); Connection r = cluster.referenceConnection(opts)) {
            for (Connection c : List.of(p, r)) {
                StringBuilder insert = new StringBuilder("INSERT INTO orders (user_id, id, status) VALUES ");
                for (int u = 0; u < 20; u++) {
                    for (int o = 0; o < 3; o++) {
                        insert.append(u + o == 0 ? "" : ",").append('(').append(base + u).append(", ").append(o).append(", '")
                                .append(o == 2 ? "old" : "new").append("')");
                    }
                }
                assertThat(Sql.update(c, insert.toString())).isEqualTo(60);
            }
            String bound = "update orders o1_0 set o1_0.status=? where o1_0.user_id=? and o1_0.id=?";
            String byKey = "delete o1_0 from orders o1_0 where o1_0.user_id=?";
            String scatter = "delete o1_0 from orders o1_0 where o1_0.status=? and o1_0.user_id between ? and ?";
            for (Connection c : List.of(p, r)) {
                String side = c == p ? "proxy" : "reference";
                assertThat(Sql.update(c, bound, "paid", base + 1, 0)).as("%s: %s", side, bound).isEqualTo(1);
                assertThat(Sql.update(c, "update orders o1_0 set o1_0.status='shipped' where o1_0.user_id=" + (base + 2)))
                        .as(side).isEqualTo(3);
                assertThat(Sql.update(c, byKey, base + 3)).as("%s: %s", side, byKey).isEqualTo(3);
                assertThat(Sql.update(c, "DELETE orders FROM orders WHERE user_id = " + (base + 4) + " AND id = 1")).as(side)
                        .isEqualTo(1);
                assertThat(Sql.update(c, "DELETE a FROM orders AS a WHERE a.user_id = " + (base + 5))).as(side).isEqualTo(3);
                assertThat(Sql.update(c, scatter, "old", base + 6, base + 19)).as("%s: %s", side, scatter).isEqualTo(14);
            }
            String check = "SELECT user_id, id, status FROM orders WHERE user_id >= " + base + " AND user_id < " + (base + 20)
                    + " ORDER BY user_id, id";
            assertThat(Sql.query(p, check)).isEqualTo(Sql.query(r, check)).hasSize(60 - 3 - 1 - 3 - 14);
        }
    }

    @ParameterizedTest(name = "useServerPrepStmts={0}")
    @ValueSource(booleans = {false, true})
    void anAliasedDeleteOfABroadcastTableReachesEveryCopy(boolean serverPrepared) throws SQLException {
        String opts = "useServerPrepStmts=" + serverPrepared;
        String code = serverPrepared ? "P" : "T";
        try (Connection p = cluster.proxyConnection(opts); Connection r = cluster.referenceConnection(opts)) {
            for (Connection c : List.of(p, r)) {
                Sql.update(c, "INSERT INTO countries (code, name) VALUES ('" + code + "1', 'one'), ('" + code + "2', 'two')");
                assertThat(Sql.update(c, "delete c1_0 from countries c1_0 where c1_0.code=?", code + "1")).isEqualTo(1);
            }
            String check = "SELECT code, name FROM countries WHERE code LIKE '" + code + "%' ORDER BY code";
            assertThat(Sql.query(p, check)).isEqualTo(Sql.query(r, check)).hasSize(1);
            for (int shard = 0; shard < cluster.shardCount(); shard++) {
                try (Connection s = cluster.shardConnection(shard)) {
                    assertThat(Sql.query(s, check)).as("the copy on s%d", shard).isEqualTo(Sql.query(r, check));
                }
            }
        }
    }
}

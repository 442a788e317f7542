package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.config.ClusterDefinitionCodec;
import io.shardgate.slot.SlotMap;
import io.shardgate.state.SequenceBlocks;
import io.shardgate.state.memory.InMemoryClusterStore;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Ids a route took for a statement the native relay passed on are given to the JDBC path's route, and only to it. */
class SessionIdsTest {
    private SessionIds ids;

    @BeforeEach
    void store() {
        var definition = ClusterDefinitionCodec.parseYaml("""
                dialect: mysql
                slots: 16
                shards:
                  - {name: s0, url: "jdbc:mysql://127.0.0.1:1/db", user: root, password: ""}
                tables:
                  - {name: items, kind: sharded, key: tenant, key-type: int}
                """, "test");
        InMemoryClusterStore store = new InMemoryClusterStore("test");
        store.createCluster(definition, SlotMap.initial(16, definition.activeShardNames()), false);
        store.writeSequence("items", 1, -1);
        store.writeSequence("other", 1, -1);
        ids = new SessionIds(new SequenceBlocks(store, 100), () -> "", () -> "");
    }

    @Test
    void keptIdsGoToTheNextRouteOfTheSameTableAndCount() {
        ids.begin();
        assertThat(ids.reserve("items", 2)).isEqualTo(1);
        ids.keepForRetry();
        ids.begin(); // the JDBC path routes the statement again
        assertThat(ids.reserve("items", 2)).isEqualTo(1);
        assertThat(ids.issued()).containsExactly(1L, 2L);
        ids.begin();
        assertThat(ids.reserve("items", 2)).as("used once").isEqualTo(3);
    }

    @Test
    void keptIdsAreDroppedByAnotherReserveAnExplicitIdOrALaterStatement() {
        ids.begin();
        ids.reserve("items", 1);
        ids.keepForRetry();
        ids.begin();
        assertThat(ids.reserve("items", 2)).as("another count").isEqualTo(2);
        ids.begin();
        ids.reserve("items", 1); // 4
        ids.keepForRetry();
        ids.begin();
        ids.given("items", 4);
        assertThat(ids.reserve("items", 1)).as("an explicit id took it").isEqualTo(5);
        ids.begin();
        ids.reserve("items", 1); // 6
        ids.keepForRetry();
        ids.begin();
        ids.begin(); // the statement routed without ids; the next one starts
        assertThat(ids.reserve("items", 1)).isEqualTo(7);
        ids.begin();
        ids.reserve("other", 1);
        ids.keepForRetry();
        ids.begin();
        assertThat(ids.reserve("items", 1)).as("another table").isEqualTo(8);
        assertThat(ids.issued()).isEqualTo(List.of(8L));
    }

    /**
     * A text statement's literals with the ids it took are still sent as the client spelled them: an INSERT whose
     * generated ids the router added keeps a {@code _binary'…'} introducer (it was rendered as a plain string).
     */
    @Test
    void theIdsOfATextStatementKeepItsLiteralsSpelling() {
        byte[] sql = "INSERT INTO items (tenant, label) VALUES (31, _binary'\u00c3\u00a9')".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        io.shardgate.proxy.session.ClientSql client = io.shardgate.proxy.session.ClientSql.of(sql, io.shardgate.proxy.session.ClientCharset.LATIN1);
        SourceLiterals literals = new SourceLiterals(client,
                io.shardgate.router.SqlTemplate.of(client.text(), io.shardgate.cluster.Dialect.MYSQL).orElseThrow());
        ids.begin();
        ids.reserve("items", 1);
        java.util.List<Object> bound = ids.withIds(literals);
        assertThat(bound).containsExactly(31L, "\u00c3\u00a9", 1L);
        var shard = new io.shardgate.router.plan.ShardStatement("s0", "INSERT INTO items (tenant, label, id) VALUES (?, ?, ?)",
                java.util.List.of(0, 1, 2));
        assertThat(bound).isInstanceOf(SourceLiterals.class);
        assertThat(new String(((SourceLiterals) bound).bytesFor(shard), java.nio.charset.StandardCharsets.ISO_8859_1))
                .isEqualTo("INSERT INTO items (tenant, label, id) VALUES (31, _binary'\u00c3\u00a9', 1)");
    }
}

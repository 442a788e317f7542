package io.shardgate.proxy.core;

import static io.shardgate.proxy.core.ShardedCluster.execute;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.StatementResult;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An exception that is not the shard's own error, thrown while a backend connection is in use (a driver bug halfway
 * through a reply, as pgJDBC's {@code ArrayIndexOutOfBoundsException} once was), leaves that connection in a state the
 * proxy does not know. It must be discarded, never lent to another session. The injected fault changes the connection's
 * state for real ({@code sql_select_limit = 1}) before throwing: a connection that went back to the pool would give the
 * next client one row instead of five.
 */
class BrokenBackendConnectionTest {
    private static final int ROWS = 5;
    private static ShardedCluster cluster;
    private static ProxyCore core;
    private static long onS0;
    private static long onS1;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        cluster = new ShardedCluster();
        core = ProxyCore.start(Map.of("app", "secret"), cluster.watcher,
                ProxyCoreSettings.defaults().withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(3)));
        onS0 = cluster.keyOn("s0", 1000);
        onS1 = cluster.keyOn("s1", 1000);
        try (FrontendSession s = open()) {
            s.query("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(20))");
            for (int i = 1; i <= ROWS; i++) {
                s.query("INSERT INTO orders (id, customer_id, status) VALUES (" + i + ", " + onS0 + ", 'new')");
                s.query("INSERT INTO orders (id, customer_id, status) VALUES (" + (100 + i) + ", " + onS1 + ", 'new')");
            }
        }
    }

    @AfterAll
    static void stop() {
        if (core != null) {
            core.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void noFault() {
        core.injectBackendFault(null);
    }

    private static FrontendSession open() {
        return WholeResults.of(core.open(new ClientInfo("app", ShardedCluster.DB, "127.0.0.1", Map.of())));
    }

    /** Leaves the connection answering at most one row, then fails as a driver bug would. */
    private static void breakNextStatementOn(String target) {
        core.injectBackendFault((shard, connection) -> {
            if (shard.equals(target)) {
                core.injectBackendFault(null);
                execute(connection, "SET SESSION sql_select_limit = 1");
                throw new ArrayIndexOutOfBoundsException("Index 0 out of bounds for length 0 (injected)");
            }
        });
    }

    private static int rowCount(FrontendSession s, long customer) {
        return ((StatementResult.Rows) s.query("SELECT * FROM orders WHERE customer_id = " + customer)).rows().size();
    }

    @Test
    void aConnectionBrokenMidStatementNeverServesAnotherClient() {
        try (FrontendSession crashed = open(); FrontendSession next = open()) {
            assertThat(rowCount(next, onS0)).isEqualTo(ROWS);
            breakNextStatementOn("s0");
            ProxyException e = catchThrowableOfType(ProxyException.class, () -> rowCount(crashed, onS0));
            assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
            assertThat(e.getMessage()).contains("shard s0", "ArrayIndexOutOfBoundsException",
                    "its connection was closed, not returned to the pool");
            // every connection the pool lends from here (twice its size) answers as the shard does
            for (int i = 0; i < 8; i++) {
                assertThat(rowCount(next, onS0)).as("statement %d of the next client", i).isEqualTo(ROWS);
            }
            assertThat(rowCount(crashed, onS0)).as("the crashed session goes on").isEqualTo(ROWS);
        }
    }

    @Test
    void aPinnedConnectionBrokenMidStatementEndsTheTransactionOnEveryShard() throws Exception {
        try (FrontendSession crashed = open(); FrontendSession next = open()) {
            crashed.query("BEGIN");
            crashed.query("UPDATE orders SET status = 'paid' WHERE customer_id = " + onS1);
            breakNextStatementOn("s0");
            ProxyException e = catchThrowableOfType(ProxyException.class,
                    () -> crashed.query("UPDATE orders SET status = 'paid' WHERE customer_id = " + onS0));
            assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
            assertThat(e.getMessage()).contains("shard s0", "the transaction is over", "rolled back on shards [s1]");
            assertThat(crashed.query("COMMIT")).isInstanceOf(StatementResult.Update.class);
            for (int i = 0; i < 8; i++) {
                assertThat(rowCount(next, onS0)).as("statement %d of the next client", i).isEqualTo(ROWS);
            }
            try (var direct = cluster.direct("s1")) {
                assertThat(ShardedCluster.rows(direct, "SELECT COUNT(*) FROM orders WHERE status = 'paid'"))
                        .as("the update before the failure was rolled back").containsExactly(java.util.List.of("0"));
            }
            try (var direct = cluster.direct("s0")) {
                execute(direct, "SELECT 1");
                assertThat(ShardedCluster.rows(direct, "SELECT COUNT(*) FROM orders WHERE status = 'paid'")).containsExactly(
                        java.util.List.of("0"));
            }
        }
    }
}

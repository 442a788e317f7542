package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalMariaDb;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.ClientInfo;
import io.shardgate.proxy.session.FrontendSession;
import io.shardgate.proxy.session.StatementResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transactions on native connections (issue 15 step 2, {@link ProxyCore#NATIVE_TRANSACTIONS}): a session's transaction
 * pins native connections, and its statements, savepoints, COMMIT and ROLLBACK run on them, on real MariaDB shards.
 */
class NativeTransactionsTest {
    private static ShardedCluster cluster;
    private static ProxyCore core;
    private static long onS0;
    private static long onS1;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(LocalMariaDb.isAvailable(), "MariaDB binaries are not installed");
        System.setProperty(ProxyCore.NATIVE_TRANSACTIONS, "true");
        cluster = new ShardedCluster();
        core = ProxyCore.start(Map.of("app", "secret"), cluster.watcher, ProxyCoreSettings.defaults().withNativeBackends(true)
                .withStatementTimeout(Duration.ofMillis(1500)));
        onS0 = cluster.keyOn("s0", 1000);
        onS1 = cluster.keyOn("s1", 1000);
        try (FrontendSession s = open()) {
            s.query("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, status VARCHAR(20))");
        }
    }

    @AfterAll
    static void stop() {
        System.clearProperty(ProxyCore.NATIVE_TRANSACTIONS);
        if (core != null) {
            core.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void empty() {
        try (FrontendSession s = open()) {
            s.query("DELETE FROM orders");
        }
    }

    private static FrontendSession open() {
        return WholeResults.of(core.open(new ClientInfo("app", ShardedCluster.DB, "127.0.0.1", Map.of())));
    }

    private static List<String> statuses(FrontendSession s) {
        List<String> out = new ArrayList<>();
        for (byte[][] row : ((StatementResult.Rows) s.query("SELECT id, status FROM orders ORDER BY id")).rows()) {
            out.add(new String(row[0], StandardCharsets.UTF_8) + ":" + new String(row[1], StandardCharsets.UTF_8));
        }
        return out;
    }

    private static ProxySession inside(FrontendSession s) {
        return (ProxySession) ((WholeResults) s).session();
    }

    @Test
    void aTransactionOverTwoShardsPinsNativeConnectionsAndCommitsOnBoth() {
        try (FrontendSession tx = open(); FrontendSession other = open()) {
            tx.query("BEGIN");
            tx.query("INSERT INTO orders VALUES (1, " + onS0 + ", 'new'), (2, " + onS1 + ", 'new')");
            SessionBackends backends = inside(tx).backends();
            assertThat(backends.pinnedLease("s0").nat()).as("s0's pinned connection is native").isNotNull();
            assertThat(backends.pinnedLease("s1").nat()).as("s1's pinned connection is native").isNotNull();
            tx.query("UPDATE orders SET status = 'paid' WHERE customer_id = " + onS0);
            assertThat(statuses(tx)).containsExactly("1:paid", "2:new");
            assertThat(statuses(other)).as("uncommitted rows are the transaction's own").isEmpty();
            tx.query("COMMIT");
            assertThat(statuses(other)).containsExactly("1:paid", "2:new");
            assertThat(backends.hasPinned()).isFalse();
            // the connections went back in autocommit mode: a later statement of another session commits by itself
            other.query("UPDATE orders SET status = 'done' WHERE id = 2");
            try (FrontendSession third = open()) {
                assertThat(statuses(third)).containsExactly("1:paid", "2:done");
            }
        }
    }

    @Test
    void rollbackAndSavepointsUndoOnEveryShard() {
        try (FrontendSession tx = open(); FrontendSession other = open()) {
            tx.query("BEGIN");
            tx.query("INSERT INTO orders VALUES (1, " + onS0 + ", 'a')");
            tx.query("SAVEPOINT sp");
            tx.query("INSERT INTO orders VALUES (2, " + onS1 + ", 'b')"); // pinned after the savepoint: it gets it too
            tx.query("UPDATE orders SET status = 'x' WHERE customer_id = " + onS0);
            tx.query("ROLLBACK TO SAVEPOINT sp");
            assertThat(statuses(tx)).containsExactly("1:a");
            tx.query("COMMIT");
            assertThat(statuses(other)).containsExactly("1:a");
            tx.query("BEGIN");
            tx.query("DELETE FROM orders");
            tx.query("ROLLBACK");
            assertThat(statuses(other)).containsExactly("1:a");
        }
    }

    @Test
    void aServerErrorInsideTheTransactionLeavesItOpen() {
        try (FrontendSession tx = open(); FrontendSession other = open()) {
            tx.query("BEGIN");
            tx.query("INSERT INTO orders VALUES (1, " + onS0 + ", 'a')");
            ProxyException e = catchThrowableOfType(ProxyException.class,
                    () -> tx.query("INSERT INTO orders VALUES (1, " + onS0 + ", 'again')"));
            assertThat(e.error().mysqlErrno()).isEqualTo(1062);
            assertThat(e.error().sqlState()).isEqualTo("23000");
            tx.query("COMMIT");
            assertThat(statuses(other)).containsExactly("1:a");
        }
    }

    @Test
    void theStatementDeadlineStopsAStatementOnAPinnedNativeConnection() {
        try (FrontendSession tx = open(); FrontendSession other = open()) {
            tx.query("BEGIN");
            tx.query("INSERT INTO orders VALUES (1, " + onS0 + ", 'a')");
            long start = System.nanoTime();
            ProxyException e = catchThrowableOfType(ProxyException.class,
                    () -> tx.query("SELECT SLEEP(20) FROM orders WHERE customer_id = " + onS0));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            assertThat(e).isNotNull();
            tx.query("ROLLBACK");
            assertThat(statuses(other)).isEmpty();
        }
    }

    @Test
    void sessionStateInsideATransactionStaysOnItsNativeConnection() {
        try (FrontendSession tx = open()) {
            tx.query("BEGIN");
            tx.query("INSERT INTO orders VALUES (1, " + onS0 + ", 'a')");
            tx.query("CREATE TEMPORARY TABLE scratch (v INT)");
            tx.query("INSERT INTO scratch VALUES (5)");
            tx.query("COMMIT");
            assertThat(((StatementResult.Rows) tx.query("SELECT v FROM scratch")).rows()).hasSize(1);
        }
    }
}

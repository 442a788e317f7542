package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.migrator.MigrationWorker;
import io.shardgate.migrator.WorkerSettings;
import io.shardgate.slot.SlotFunction;
import io.shardgate.slot.SlotMap;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Resharding on a PostgreSQL cluster: {@code reshard start --slots 0-1023 --to s2} (a spare) with the migration worker,
 * while clients move money between the checking and savings of an account in transactions through the proxy's
 * PostgreSQL port, logging each leg, and a reader checks the scatter totals throughout: the money and the logged legs
 * must always add up (during the move the spare holds copies of the moving rows, which the proxy's shadow filter, the
 * slot function installed on the shards, keeps out of the totals). Each transaction stays on one account, so one
 * shard: a scatter read is not a snapshot across shards, and only single-shard transactions keep its total exact.
 * Afterwards every balance and every logged move matches the clients' ledger exactly, and every row sits on the shard
 * that owns its slot, once.
 */
class PgReshardIT {
    private static final int ACCOUNTS = 400;
    private static final long OPENING = 1_000;
    private static final String TABLES = """
            tables:
              - {name: accounts, kind: sharded, key: id, key-type: int}
              - {name: moves, kind: sharded, key: account, key-type: int}
            """;

    @Test
    void movingSlotsUnderTransfersKeepsEveryBalanceAndMoveExact() throws Exception {
        try (PgShardedCluster cluster = PgShardedCluster.start(2, 1, TABLES, "md5")) {
            try (Connection p = cluster.proxyConnection("")) {
                Sql.update(p, "CREATE TABLE accounts (id INT PRIMARY KEY, checking BIGINT NOT NULL, savings BIGINT NOT NULL, owner TEXT)");
                Sql.update(p, "CREATE TABLE moves (account INT NOT NULL, id BIGINT NOT NULL, amount BIGINT NOT NULL,"
                        + " at TIMESTAMP NOT NULL DEFAULT now(), PRIMARY KEY (account, id))");
                StringBuilder insert = new StringBuilder("INSERT INTO accounts (id, checking, savings, owner) VALUES ");
                for (int id = 1; id <= ACCOUNTS; id++) {
                    insert.append(id > 1 ? ", " : "").append('(').append(id).append(", ").append(OPENING).append(", ")
                            .append(OPENING).append(", 'Zoë ")
                            .append(id).append("')");
                }
                Sql.update(p, insert.toString());
            }
            Map<Integer, AtomicLong> expected = new ConcurrentHashMap<>();
            for (int id = 1; id <= ACCOUNTS; id++) {
                expected.put(id, new AtomicLong());   // moved from checking to savings so far
            }
            List<String> loggedMoves = new CopyOnWriteArrayList<>();
            List<String> unexpected = new CopyOnWriteArrayList<>();
            AtomicLong committed = new AtomicLong();
            AtomicLong retried = new AtomicLong();
            AtomicLong totalsRead = new AtomicLong();
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong nextMove = new AtomicLong();
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < 3; c++) {
                long seed = 31 + c;
                clients.add(Thread.ofPlatform().start(() -> transfers(cluster, new Random(seed), running, expected, loggedMoves,
                        nextMove, committed, retried, unexpected)));
            }
            clients.add(Thread.ofPlatform().start(() -> {
                try (Connection r = cluster.proxyConnection("")) {
                    while (running.get()) {
                        long total = Sql.count(r, "SELECT SUM(checking + savings) FROM accounts");
                        if (total != 2 * ACCOUNTS * OPENING) {
                            unexpected.add("scatter total " + total + " instead of " + 2 * ACCOUNTS * OPENING);
                        }
                        // SUM over no rows is NULL, as on one server; the proxy refuses COALESCE(SUM(…)) over shards
                        String sum = Sql.query(r, "SELECT SUM(amount) FROM moves").getFirst().getFirst();
                        long legs = sum.equals("NULL") ? 0 : Long.parseLong(sum);
                        if (legs != 0) {
                            unexpected.add("logged legs add up to " + legs + " instead of 0");
                        }
                        totalsRead.incrementAndGet();
                    }
                } catch (SQLException | RuntimeException e) {
                    unexpected.add("reader: " + e);   // never a silent end: a dead reader would read no totals
                }
            }));
            Thread.sleep(500);
            long started = System.nanoTime();
            try (MigrationWorker worker = MigrationWorker.start(cluster.store(), WorkerSettings.defaults("pg-reshard-it"))) {
                ShardgateProcess.Result moved = ShardgateProcess.run(Duration.ofSeconds(180), "reshard", "start", "--slots", "0-1023",
                        "--to", "s2", "--auto-complete", "--wait", "--rows-per-second", "400", "--chunk-rows", "50",
                        "--zk", cluster.zooKeeperConnect(), "--cluster", PgShardedCluster.CLUSTER);
                assertThat(moved.exitCode()).as("reshard start: %s%s", moved.stdout(), moved.stderr()).isZero();
            }
            long movedMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();
            Thread.sleep(500);
            running.set(false);
            for (Thread t : clients) {
                t.join(30_000);
            }
            System.out.printf("PgReshardIT: move took %d ms; %d transfers committed, %d retried, %d scatter totals read%n",
                    movedMillis, committed.get(), retried.get(), totalsRead.get());
            assertThat(unexpected).isEmpty();
            assertThat(committed.get()).isPositive();
            assertThat(totalsRead.get()).isPositive();

            SlotMap map = cluster.store().readSlotMap().value();
            assertThat(map.movingSlots()).isEmpty();
            assertThat(map.owner(0)).isEqualTo("s2");
            assertThat(map.owner(1023)).isEqualTo("s2");
            // through the proxy: every balance and every logged move as the ledger says
            try (Connection p = cluster.proxyConnection("")) {
                for (var row : Sql.query(p, "SELECT id, checking, savings FROM accounts ORDER BY id")) {
                    int id = Integer.parseInt(row.get(0));
                    assertThat(Long.parseLong(row.get(1))).as("checking of %d", id).isEqualTo(OPENING - expected.get(id).get());
                    assertThat(Long.parseLong(row.get(2))).as("savings of %d", id).isEqualTo(OPENING + expected.get(id).get());
                }
                assertThat(Sql.count(p, "SELECT COUNT(*) FROM accounts")).isEqualTo(ACCOUNTS);
                List<String> moves = new ArrayList<>();
                for (var row : Sql.query(p, "SELECT account, id, amount FROM moves ORDER BY account, id")) {
                    moves.add(row.get(0) + "/" + row.get(1) + "/" + row.get(2));
                }
                assertThat(moves).containsExactlyInAnyOrderElementsOf(loggedMoves);
            }
            // on the shards: each row once, on its slot's owner; the spare got its share
            long accountsSeen = 0;
            long movesSeen = 0;
            for (int i = 0; i < 3; i++) {
                String shard = "s" + i;
                try (Connection s = cluster.shardConnection(i); Statement st = s.createStatement()) {
                    try (ResultSet rs = st.executeQuery("SELECT id FROM accounts")) {
                        while (rs.next()) {
                            accountsSeen++;
                            assertThat(map.owner(SlotFunction.slot(Integer.toString(rs.getInt(1)), map.slotCount())))
                                    .as("owner of account %d found on %s", rs.getInt(1), shard).isEqualTo(shard);
                        }
                    }
                    try (ResultSet rs = st.executeQuery("SELECT account FROM moves")) {
                        while (rs.next()) {
                            movesSeen++;
                            assertThat(map.owner(SlotFunction.slot(Integer.toString(rs.getInt(1)), map.slotCount())))
                                    .as("owner of a move of account %d found on %s", rs.getInt(1), shard).isEqualTo(shard);
                        }
                    }
                    if (i == 2) {
                        assertThat(Sql.count(s, "SELECT COUNT(*) FROM accounts")).isPositive();
                        // the slot function the migrator installed gives the proxy's slots
                        for (int id : new int[] {1, 42, 399}) {
                            assertThat(Sql.count(s, "SELECT " + SlotFunction.postgresSlotExpression(Integer.toString(id), 4096)))
                                    .isEqualTo(SlotFunction.slot(Integer.toString(id), 4096));
                        }
                        assertThat(Sql.count(s, "SELECT " + SlotFunction.postgresSlotExpression("'Zoë-日本'", 4096)))
                                .isEqualTo(SlotFunction.slot("Zoë-日本", 4096));
                    }
                }
            }
            assertThat(accountsSeen).isEqualTo(ACCOUNTS);
            assertThat(movesSeen).isEqualTo(loggedMoves.size());
        }
    }

    /** Moves from checking to savings (or back) of random accounts, both legs logged, in one transaction; a ledger of commits. */
    private static void transfers(PgShardedCluster cluster, Random random, AtomicBoolean running, Map<Integer, AtomicLong> expected,
            List<String> loggedMoves, AtomicLong nextMove, AtomicLong committed, AtomicLong retried, List<String> unexpected) {
        try (Connection c = cluster.proxyConnection("")) {
            c.setAutoCommit(false);
            try (PreparedStatement checking = c.prepareStatement("UPDATE accounts SET checking = checking - ? WHERE id = ?");
                    PreparedStatement savings = c.prepareStatement("UPDATE accounts SET savings = savings + ? WHERE id = ?");
                    PreparedStatement log = c.prepareStatement("INSERT INTO moves (account, id, amount) VALUES (?, ?, ?)")) {
                while (running.get()) {
                    int account = 1 + random.nextInt(ACCOUNTS);
                    long amount = random.nextInt(101) - 50;
                    long moveId = nextMove.incrementAndGet();
                    try {
                        for (PreparedStatement leg : List.of(checking, savings)) {
                            leg.setLong(1, amount);
                            leg.setInt(2, account);
                            if (leg.executeUpdate() != 1) {
                                throw new IllegalStateException("account " + account + " not found");
                            }
                        }
                        for (long[] leg : new long[][] {{2 * moveId, -amount}, {2 * moveId + 1, amount}}) {
                            log.setInt(1, account);
                            log.setLong(2, leg[0]);
                            log.setLong(3, leg[1]);
                            log.executeUpdate();
                        }
                        c.commit();
                    } catch (SQLException e) {
                        rollbackQuietly(c);
                        // 40001: held past the cutover's timeout or fenced; 40P01: deadlock
                        if ("40001".equals(e.getSQLState()) || "40P01".equals(e.getSQLState())) {
                            retried.incrementAndGet();
                            continue;
                        }
                        unexpected.add(e.getSQLState() + ": " + e.getMessage());
                        continue;
                    }
                    expected.get(account).addAndGet(amount);
                    loggedMoves.add(account + "/" + (2 * moveId) + "/" + (-amount));
                    loggedMoves.add(account + "/" + (2 * moveId + 1) + "/" + amount);
                    committed.incrementAndGet();
                }
            }
        } catch (SQLException | RuntimeException e) {
            unexpected.add("client: " + e);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection may be gone; the server rolls back on disconnect
        }
    }
}

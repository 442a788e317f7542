package io.shardgate.proxy.backend.pg;

import io.shardgate.proxy.backend.BackendEventLoops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.shardgate.local.LocalPostgres;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** One native connection against a real PostgreSQL: login with each method, replies, errors, failures. */
class PgBackendConnectionTest {
    static final String DB = "shop";
    private static final long WAIT = 30;
    private static LocalPostgres pg;
    private static BackendEventLoops loops;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(LocalPostgres.isAvailable(), "PostgreSQL binaries are not installed");
        pg = LocalPostgres.temporary();
        loops = new BackendEventLoops(1);
        pg.createDatabase(DB);
        pg.createDatabaseUser(DB, "app", "secret");
        pg.execute("SET password_encryption = 'scram-sha-256'; CREATE ROLE scram_app LOGIN PASSWORD 's3cret'");
        pg.execute("SET password_encryption = 'md5'; CREATE ROLE md5_app LOGIN PASSWORD 'md5pw'");
        pg.execute("CREATE ROLE clear_app LOGIN PASSWORD 'plain'");
        pg.execute(DB, "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)");
        pg.execute(DB, "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g");
        pg.execute(DB, "GRANT SELECT ON items TO app, scram_app, md5_app, clear_app");
        // password methods for three roles; everyone else stays trusted (the harness's psql)
        Path hba = pg.dataDir().resolve("pg_hba.conf");
        String rules = "host all scram_app 127.0.0.1/32 scram-sha-256\nhost all md5_app 127.0.0.1/32 md5\n"
                + "host all clear_app 127.0.0.1/32 password\n";
        Files.writeString(hba, rules + Files.readString(hba));
        pg.execute("SELECT pg_reload_conf()");
    }

    @AfterAll
    static void stop() {
        if (loops != null) {
            loops.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    static PgBackendSettings settings(LocalPostgres server, String user, String password) {
        return new PgBackendSettings("s0", LocalPostgres.HOST, server.port(), user, password, DB, "shardgate-test", "UTC",
                Duration.ofSeconds(2), Duration.ofSeconds(5));
    }

    static PgBackendConnection open(PgBackendSettings s) throws Exception {
        return PgBackendConnection.connect(loops, s).get(WAIT, TimeUnit.SECONDS);
    }

    static List<PgRecordingSink.Message> query(PgBackendConnection c, String sql) throws Exception {
        PgRecordingSink sink = new PgRecordingSink();
        c.send(PgBackendConnection.queryMessage(sql.getBytes(StandardCharsets.UTF_8)), "Query", sink);
        return sink.done.get(WAIT, TimeUnit.SECONDS);
    }

    @Test
    void trustMd5ScramAndCleartextLoginsWork() throws Exception {
        for (String[] login : List.of(new String[] {"app", ""}, new String[] {"md5_app", "md5pw"},
                new String[] {"scram_app", "s3cret"}, new String[] {"clear_app", "plain"})) {
            PgBackendConnection c = open(settings(pg, login[0], login[1]));
            try {
                PgReply r = c.query("SELECT current_user, current_setting('application_name'), current_setting('TimeZone'),"
                        + " current_setting('extra_float_digits'), current_setting('DateStyle')").get(WAIT, TimeUnit.SECONDS);
                assertThat(r.ok()).as(login[0]).isTrue();
                assertThat(r.types()).isEqualTo("TDCZ");
                assertThat(c.parameters()).containsEntry("client_encoding", "UTF8").containsEntry("application_name", "shardgate-test")
                        .containsKey("server_version");
                assertThat(c.processId()).isPositive();
                assertThat(c.transactionStatus()).isEqualTo('I');
            } finally {
                c.quit();
            }
        }
    }

    @Test
    void aWrongPasswordFailsTheLoginNamingShardAndUser() {
        assertThatThrownBy(() -> open(settings(pg, "scram_app", "wrong"))).cause().isInstanceOf(ProxyException.class)
                .hasMessageContaining("shard s0 (127.0.0.1:" + pg.port() + "): login as 'scram_app' to database 'shop' failed")
                .hasMessageContaining("28P01");
        assertThatThrownBy(() -> open(settings(pg, "md5_app", "wrong"))).cause().hasMessageContaining("28P01");
    }

    @Test
    void aRefusedConnectionFailsWithShardUnavailable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        PgBackendSettings s = new PgBackendSettings("s9", LocalPostgres.HOST, port, "app", "", DB, "", "UTC",
                Duration.ofSeconds(2), Duration.ofSeconds(5));
        assertThatThrownBy(() -> open(s)).cause().isInstanceOfSatisfying(ProxyException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.SHARD_UNAVAILABLE)).hasMessageContaining("shard s9").hasMessageContaining("cannot connect");
    }

    @Test
    void aQueryReplyEndsAtReadyForQueryAndTheConnectionTakesTheNext() throws Exception {
        PgBackendConnection c = open(settings(pg, "app", ""));
        try {
            List<PgRecordingSink.Message> rows = query(c, "SELECT id, name FROM items WHERE id <= 3 ORDER BY id");
            assertThat(PgRecordingSink.types(rows)).isEqualTo("TDDDCZ");
            assertThat(new String(rows.get(4).bytes(), 5, rows.get(4).bytes().length - 6, StandardCharsets.UTF_8)).isEqualTo("SELECT 3");
            // two statements in one Query: two results, one ReadyForQuery
            assertThat(PgRecordingSink.types(query(c, "SELECT 1; SELECT 2"))).isEqualTo("TDCTDCZ");
            assertThat(PgRecordingSink.types(query(c, ""))).isEqualTo("IZ");
            assertThat(c.isUsable()).isTrue();
        } finally {
            c.quit();
        }
    }

    @Test
    void anErrorEndsTheReplyAndKeepsEveryFieldInTheServersOrder() throws Exception {
        PgBackendConnection c = open(settings(pg, "app", ""));
        try {
            List<PgRecordingSink.Message> reply = query(c, "SELECT nosuch FROM items");
            assertThat(PgRecordingSink.types(reply)).isEqualTo("EZ");
            PgServerError e = PgServerError.parse(Unpooled.wrappedBuffer(reply.getFirst().bytes(), 5, reply.getFirst().bytes().length - 5));
            assertThat(e.sqlState()).isEqualTo("42703");
            assertThat(e.message()).isEqualTo("column \"nosuch\" does not exist");
            assertThat(String.join("", e.fields().keySet().stream().map(String::valueOf).toList())).startsWith("SVCMP");
            assertThat(e.fields()).containsEntry('P', "8");
            // in a transaction block the status follows it
            assertThat(PgRecordingSink.types(query(c, "BEGIN"))).isEqualTo("CZ");
            assertThat(c.transactionStatus()).isEqualTo('T');
            query(c, "SELECT 1/0");
            assertThat(c.transactionStatus()).isEqualTo('E');
            query(c, "ROLLBACK");
            assertThat(c.transactionStatus()).isEqualTo('I');
        } finally {
            c.quit();
        }
    }

    @Test
    void parameterStatusDuringARequestIsKeptNotPassedOnAndMarksTheSessionChanged() throws Exception {
        PgBackendConnection c = open(settings(pg, "app", ""));
        try {
            c.sessionTag("settings-a");
            assertThat(PgRecordingSink.types(query(c, "SET TimeZone = 'Europe/Paris'"))).isEqualTo("CZ");
            assertThat(c.parameters()).containsEntry("TimeZone", "Europe/Paris");
            assertThat(c.sessionTag()).isEqualTo(PgBackendConnection.UNKNOWN_SESSION);
        } finally {
            c.quit();
        }
    }

    @Test
    void aPausedReadResumesAndTheWholeResultArrives() throws Exception {
        PgBackendConnection c = open(settings(pg, "app", ""));
        try {
            AtomicInteger rows = new AtomicInteger();
            java.util.concurrent.CompletableFuture<Character> end = new java.util.concurrent.CompletableFuture<>();
            PgReplySink slow = new PgReplySink() {
                @Override
                public void message(PgFrame frame, boolean last) {
                    if (frame.type() == 'D' && rows.incrementAndGet() == 100) {
                        c.pauseReading();
                        loops.group().schedule(c::resumeReading, 200, TimeUnit.MILLISECONDS);
                    }
                    frame.release();
                    if (last) {
                        end.complete(c.transactionStatus());
                    }
                }

                @Override
                public void failed(ProxyException error) {
                    end.completeExceptionally(error);
                }
            };
            c.send(PgBackendConnection.queryMessage("SELECT * FROM items".getBytes(StandardCharsets.UTF_8)), "Query", slow);
            assertThat(end.get(WAIT, TimeUnit.SECONDS)).isEqualTo('I');
            assertThat(rows.get()).isEqualTo(20000);
        } finally {
            c.quit();
        }
    }

    @Test
    void aCancelRequestCancelsTheRunningStatement() throws Exception {
        PgBackendConnection c = open(settings(pg, "app", ""));
        try {
            PgRecordingSink sink = new PgRecordingSink();
            long start = System.nanoTime();
            c.send(PgBackendConnection.queryMessage("SELECT pg_sleep(20)".getBytes(StandardCharsets.UTF_8)), "Query", sink);
            Thread.sleep(300);
            c.cancelRequest().get(WAIT, TimeUnit.SECONDS);
            List<PgRecordingSink.Message> reply = sink.done.get(WAIT, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(10);
            assertThat(PgRecordingSink.types(reply)).endsWith("EZ");
            byte[] e = reply.get(reply.size() - 2).bytes();
            assertThat(PgServerError.parse(Unpooled.wrappedBuffer(e, 5, e.length - 5)).sqlState()).isEqualTo("57014");
            assertThat(c.isUsable()).isTrue();
        } finally {
            c.quit();
        }
    }

    @Test
    void aHungServerFailsTheRequestAtTheReplyTimeoutNamingShardAndTime() throws Exception {
        PgBackendConnection c = open(settings(pg, "app", "").withReplyTimeout(Duration.ofMillis(500)));
        PgRecordingSink sink = new PgRecordingSink();
        c.send(PgBackendConnection.queryMessage("SELECT pg_sleep(3)".getBytes(StandardCharsets.UTF_8)), "Query", sink);
        assertThatThrownBy(() -> sink.done.get(WAIT, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class).cause()
                .hasMessageContaining("shard s0").hasMessageContaining("no answer to Query for")
                .hasMessageContaining("reply timeout 500 ms");
        assertThat(c.isUsable()).isFalse();
        assertThatThrownBy(() -> c.query("SELECT 1").get(WAIT, TimeUnit.SECONDS)).cause()
                .hasMessageContaining("cannot send Query: the connection is closed");
    }

    @Test
    void aBackendKilledMidRequestFailsItNamingTheShard() throws Exception {
        PgBackendConnection c = open(settings(pg, "app", ""));
        PgBackendConnection killer = open(settings(pg, "postgres", ""));
        try {
            PgRecordingSink sink = new PgRecordingSink();
            c.send(PgBackendConnection.queryMessage("SELECT pg_sleep(20)".getBytes(StandardCharsets.UTF_8)), "Query", sink);
            Thread.sleep(300);
            killer.query("SELECT pg_terminate_backend(" + c.processId() + ")").get(WAIT, TimeUnit.SECONDS);
            // the server says FATAL 57P01 and closes: the request ends with its error or with the lost connection
            try {
                List<PgRecordingSink.Message> reply = sink.done.get(WAIT, TimeUnit.SECONDS);
                assertThat(PgRecordingSink.types(reply)).contains("E");
            } catch (ExecutionException e) {
                assertThat(e.getCause()).hasMessageContaining("shard s0").hasMessageContaining("Query");
            }
            Thread.sleep(200);
            assertThat(c.isUsable()).isFalse();
        } finally {
            killer.quit();
            c.close();
        }
    }

    @Test
    void aCopyIsRefusedAndTheConnectionClosed() throws Exception {
        PgBackendConnection c = open(settings(pg, "postgres", ""));
        PgRecordingSink sink = new PgRecordingSink();
        ByteBuf q = PgBackendConnection.queryMessage("COPY (SELECT 1) TO STDOUT".getBytes(StandardCharsets.UTF_8));
        c.send(q, "Query", sink);
        assertThatThrownBy(() -> sink.done.get(WAIT, TimeUnit.SECONDS)).cause().hasMessageContaining("started a COPY");
        assertThat(c.isUsable()).isFalse();
    }
}

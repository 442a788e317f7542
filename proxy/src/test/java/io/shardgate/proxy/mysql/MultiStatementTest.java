package io.shardgate.proxy.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.proxy.mysql.codec.Capabilities;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Multi-statement COM_QUERY on the wire, packet by packet: every statement reaches the session on its own, every
 * result's closing packet (the classic EOF, or the 0xFE OK with CLIENT_DEPRECATE_EOF, and a plain OK) carries
 * SERVER_MORE_RESULTS_EXISTS except the last, the sequence ids run on across results, the first error ends the message,
 * and COM_SET_OPTION turns the feature on and off. MultiStatementIT compares the same with a real server and clients.
 */
class MultiStatementTest {
    private static final int COM_QUERY = 0x03;
    private static final int COM_SET_OPTION = 0x1B;
    private static final int MORE = 0x0008;
    private static final int IN_TRANS = 0x0001;
    private static final int AUTOCOMMIT = 0x0002;

    private final FakeSessions sessions = new FakeSessions();
    private MySqlFrontend frontend;

    @BeforeEach
    void start() throws InterruptedException {
        frontend = MySqlFrontend.start("127.0.0.1", 0, sessions, MySqlAuth.NATIVE, 1 << 20, 10, 1);
    }

    @AfterEach
    void stop() {
        frontend.close();
    }

    @Test
    void everyResultButTheLastCarriesMoreResultsInItsClassicEofs() throws Exception {
        try (RawClient raw = new RawClient(frontend.port())) {
            raw.login("app", "app", Capabilities.MULTI_STATEMENTS);
            RawClient.Packet begin = raw.command(COM_QUERY, "begin; select @@query_cache_type ;commit");
            assertThat(begin.sequenceId()).isEqualTo(1);
            assertThat(begin.okStatus()).isEqualTo(IN_TRANS | AUTOCOMMIT | MORE);
            List<RawClient.Packet> rs = readResultSet(raw);
            assertThat(rs.getFirst().sequenceId()).as("sequence ids run on across results").isEqualTo(2);
            assertThat(eofStatus(rs.get(2))).as("EOF after the column definitions").isEqualTo(IN_TRANS | AUTOCOMMIT | MORE);
            assertThat(new String(rs.get(3).payload(), 1, 3, StandardCharsets.UTF_8)).isEqualTo("OFF");
            assertThat(eofStatus(rs.get(4))).as("EOF after the rows").isEqualTo(IN_TRANS | AUTOCOMMIT | MORE);
            RawClient.Packet commit = raw.read();
            assertThat(commit.okStatus()).as("the last result").isEqualTo(AUTOCOMMIT);
            assertThat(sessions.last().statements()).containsExactly("begin", "select @@query_cache_type ", "commit");
        }
    }

    @Test
    void withDeprecateEofTheClosingOkCarriesMoreResults() throws Exception {
        try (RawClient raw = new RawClient(frontend.port())) {
            raw.login("app", "app", Capabilities.MULTI_STATEMENTS | Capabilities.DEPRECATE_EOF);
            raw.command(COM_QUERY, "select @@query_cache_type; select @@version_comment;");
            List<RawClient.Packet> first = new ArrayList<>(List.of(raw.read(), raw.read(), raw.read()));
            assertThat(first.get(2).payload()[0] & 0xFF).isEqualTo(0xFE);
            assertThat(okEofStatus(first.get(2))).isEqualTo(AUTOCOMMIT | MORE);
            raw.read(); // the second result's column count
            raw.read(); // its column definition
            raw.read(); // its row
            assertThat(okEofStatus(raw.read())).isEqualTo(AUTOCOMMIT);
        }
    }

    @Test
    void theFirstErrorEndsTheMessage() throws Exception {
        try (RawClient raw = new RawClient(frontend.port())) {
            raw.login("app", "app", Capabilities.MULTI_STATEMENTS);
            assertThat(raw.command(COM_QUERY, "begin; select * from nope; commit").okStatus()).isEqualTo(IN_TRANS | AUTOCOMMIT | MORE);
            assertThat(raw.read().errno()).isEqualTo(FakeSessions.NO_SUCH_TABLE_ERRNO);
            assertThat(sessions.last().statements()).containsExactly("begin", "select * from nope");
            // the transaction stays open, as on a server, and the connection answers the next command
            assertThat(raw.command(COM_QUERY, "commit").okStatus()).isEqualTo(AUTOCOMMIT);
        }
    }

    @Test
    void emptyAndCommentOnlyMessagesAnswerAsTheServer() throws Exception {
        try (RawClient raw = new RawClient(frontend.port())) {
            raw.login("app", "app", Capabilities.MULTI_STATEMENTS);
            RawClient.Packet empty = raw.command(COM_QUERY, " ;; ");
            assertThat(empty.errno()).isEqualTo(1065);
            assertThat(empty.message()).isEqualTo("Query was empty");
            assertThat(raw.command(COM_QUERY, "/* nothing */").okStatus()).isEqualTo(AUTOCOMMIT);
            assertThat(raw.command(COM_QUERY, "commit; -- done").okStatus()).isEqualTo(AUTOCOMMIT | MORE);
            assertThat(raw.read().okStatus()).isEqualTo(AUTOCOMMIT);
            assertThat(sessions.last().statements()).containsExactly("commit");
        }
    }

    @Test
    void comSetOptionTurnsMultiStatementsOnAndOff() throws Exception {
        try (RawClient raw = new RawClient(frontend.port())) {
            raw.login("app", "app", 0);
            // off since the handshake: the text is one statement, which the session refuses whole
            assertThat(raw.command(COM_QUERY, "begin; commit").errno()).isEqualTo(1064);
            assertThat(sessions.last().statements()).containsExactly("begin; commit");

            RawClient.Packet on = raw.command(COM_SET_OPTION, new byte[] {0, 0});
            assertThat(on.payload()).containsExactly(0xFE, 0, 0, AUTOCOMMIT, 0);
            assertThat(raw.command(COM_QUERY, "begin; commit").okStatus()).isEqualTo(IN_TRANS | AUTOCOMMIT | MORE);
            assertThat(raw.read().okStatus()).isEqualTo(AUTOCOMMIT);

            assertThat(raw.command(COM_SET_OPTION, new byte[] {1, 0}).payload()[0] & 0xFF).isEqualTo(0xFE);
            assertThat(raw.command(COM_QUERY, "begin; commit").errno()).isEqualTo(1064);

            RawClient.Packet unknown = raw.command(COM_SET_OPTION, new byte[] {2, 0});
            assertThat(unknown.errno()).isEqualTo(1047);
            assertThat(unknown.sqlState()).isEqualTo("08S01");
            assertThat(sessions.last().statements()).containsExactly("begin; commit", "begin", "commit", "begin; commit");
        }
    }

    /** Column count, one column definition, EOF, one row, EOF (the classic protocol). */
    private static List<RawClient.Packet> readResultSet(RawClient raw) throws Exception {
        List<RawClient.Packet> out = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            out.add(raw.read());
        }
        return out;
    }

    private static int eofStatus(RawClient.Packet p) {
        assertThat(p.payload()[0] & 0xFF).as("an EOF packet").isEqualTo(0xFE);
        assertThat(p.payload()).hasSize(5);
        return (p.payload()[3] & 0xFF) | (p.payload()[4] & 0xFF) << 8;
    }

    /** The 0xFE OK that ends a result set with CLIENT_DEPRECATE_EOF: 0xFE, affected 0, insert id 0, status, warnings. */
    private static int okEofStatus(RawClient.Packet p) {
        assertThat(p.payload()[0] & 0xFF).isEqualTo(0xFE);
        return (p.payload()[3] & 0xFF) | (p.payload()[4] & 0xFF) << 8;
    }
}

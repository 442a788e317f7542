package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.router.MySqlLexer.CommentOnly;
import io.shardgate.router.MySqlLexer.Gate;
import io.shardgate.router.MySqlLexer.Latin1View;
import io.shardgate.router.MySqlLexer.Piece;
import io.shardgate.router.MySqlLexer.Refused;
import io.shardgate.router.MySqlLexer.Run;
import io.shardgate.router.MySqlLexer.Split;
import io.shardgate.router.MySqlLexer.Statement;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The statement splitter and executable-comment reader. The expected splits are what MariaDB 10.11.19 answered to the
 * same messages (PyMySQL with and without CLIENT_MULTI_STATEMENTS; MultiStatementIT compares them end to end).
 */
class MySqlLexerTest {
    private static final Gate MARIADB_10_11 = Gate.of("10.11.19-MariaDB-0+deb12u1");

    /** The statements as the front end sends them, "OK" for a comment-only piece; the refusal's reason if refused. */
    private static List<String> split(String sql) {
        Split split = MySqlLexer.splitMulti(sql, MARIADB_10_11);
        List<String> out = new ArrayList<>();
        switch (split) {
            case Refused r -> out.add("REFUSED " + r.reason());
            case Run run -> {
                for (Piece p : run.pieces()) {
                    out.add(switch (p) {
                        case Statement s -> sql.substring(s.start(), s.end());
                        case CommentOnly c -> "OK";
                    });
                }
            }
        }
        return out;
    }

    @Test
    void splitsOnSemicolonsOutsideQuotesAndComments() {
        assertThat(split("SELECT 1; SELECT 2")).containsExactly("SELECT 1", "SELECT 2");
        assertThat(split("INSERT INTO t VALUES (1, 'a;b');INSERT INTO t VALUES (2, \"c;\\\"d\")"))
                .containsExactly("INSERT INTO t VALUES (1, 'a;b')", "INSERT INTO t VALUES (2, \"c;\\\"d\")");
        assertThat(split("SELECT 'it''s;', `a;``b` FROM t; SELECT 'x\\';y'; SELECT 3"))
                .containsExactly("SELECT 'it''s;', `a;``b` FROM t", "SELECT 'x\\';y'", "SELECT 3");
        assertThat(split("SELECT 1 -- a; b\n; SELECT 2 # c; d\n; SELECT /* e; */ 3"))
                .containsExactly("SELECT 1 -- a; b\n", "SELECT 2 # c; d\n", "SELECT /* e; */ 3");
        // "--" without white space after it is two minus signs, not a comment
        assertThat(split("SELECT 1--1; SELECT 2")).containsExactly("SELECT 1--1", "SELECT 2");
    }

    @Test
    void trailingSemicolonsAndWhiteSpaceAreNoStatement() {
        assertThat(split("SELECT 1;")).containsExactly("SELECT 1");
        assertThat(split("SELECT 1; ")).containsExactly("SELECT 1");
        assertThat(split("SELECT 1;;")).containsExactly("SELECT 1");
        assertThat(split("SELECT 1; ;\n")).containsExactly("SELECT 1");
        assertThat(split(";")).isEmpty();
        assertThat(split("  ")).isEmpty();
    }

    @Test
    void aLastPieceOfCommentsIsAnEmptyQueryAnsweredWithOk() {
        assertThat(split("SELECT 1; -- c")).containsExactly("SELECT 1", "OK");
        assertThat(split("SELECT 1; /* c */;")).containsExactly("SELECT 1", "OK");
        assertThat(split("SELECT 1;#c")).containsExactly("SELECT 1", "OK");
        assertThat(split("/* c */")).containsExactly("OK");
        assertThat(split("SELECT 1; /*!99999 x */")).containsExactly("SELECT 1", "OK");
    }

    @Test
    void anEmptyPieceBeforeASemicolonSendsTheRestForTheServersSyntaxError() {
        assertThat(split("SELECT 1; ; SELECT 2")).containsExactly("SELECT 1", "; SELECT 2");
        assertThat(split("SELECT 1;;SELECT 2")).containsExactly("SELECT 1", ";SELECT 2");
        assertThat(split("; SELECT 1")).containsExactly("; SELECT 1");
        assertThat(split("/* c */; SELECT 1")).containsExactly("/* c */; SELECT 1");
        assertThat(split("SELECT 1;; /* c */")).containsExactly("SELECT 1", "; /* c */");
    }

    @Test
    void compoundStatementsKeepTheirSemicolons() {
        String proc = "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END";
        assertThat(split(proc)).containsExactly(proc);
        assertThat(split("BEGIN NOT ATOMIC SELECT 1; END")).containsExactly("BEGIN NOT ATOMIC SELECT 1; END");
        assertThat(split("SELECT 1; " + proc).getFirst()).startsWith("REFUSED a stored program");
        // BEGIN as a transaction, and tables whose columns have stored-program words, are ordinary statements
        assertThat(split("BEGIN; INSERT INTO t VALUES (1); COMMIT")).containsExactly("BEGIN", "INSERT INTO t VALUES (1)", "COMMIT");
        assertThat(split("CREATE TABLE e (event INT); SELECT 1")).containsExactly("CREATE TABLE e (event INT)", "SELECT 1");
    }

    @Test
    void executableCommentsAreCodeWhenTheServerRunsThem() {
        assertThat(split("SELECT 1 /*!99999 ; */; SELECT 2")).containsExactly("SELECT 1 /*!99999 ; */", "SELECT 2");
        assertThat(split("/*!40101 SET NAMES utf8mb4 */;\n/*!40103 SET TIME_ZONE='+00:00' */;"))
                .containsExactly("/*!40101 SET NAMES utf8mb4 */", "/*!40103 SET TIME_ZONE='+00:00' */");
        assertThat(split("/*!SELECT 1; SELECT 2*/").getFirst()).startsWith("REFUSED a semicolon inside an executable comment");
        // a comment that is skipped may hold a quote, and one level of comments
        assertThat(split("SELECT 1 /*!99999 it's /* x */ ; */; SELECT 2")).containsExactly("SELECT 1 /*!99999 it's /* x */ ; */", "SELECT 2");
    }

    @Test
    void analysisTextHasTheContentOfTheCommentsTheServerRuns() {
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*!, 2 */", MARIADB_10_11)).isEqualTo("SELECT 1    , 2   ");
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*!40101, 2 */", MARIADB_10_11)).isEqualTo("SELECT 1         , 2   ");
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*M!100100 , 2 */", MARIADB_10_11)).isEqualTo("SELECT 1 " + " ".repeat(10) + " , 2   ");
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*!99999 , 2 */", MARIADB_10_11).strip()).isEqualTo("SELECT 1");
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*M!999999 , 2 */", MARIADB_10_11).strip()).isEqualTo("SELECT 1");
        // MariaDB skips MySQL 5.7+ numbers unless written /*M!; MySQL skips /*M! altogether
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*!50701 , 2 */", MARIADB_10_11).strip()).isEqualTo("SELECT 1");
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*M!50701 , 2 */", MARIADB_10_11)).contains(", 2");
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*!50701 , 2 */", Gate.of("8.0.36"))).contains(", 2");
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*M!100100 , 2 */", Gate.of("8.0.36")).strip()).isEqualTo("SELECT 1");
        // the version is the server's own: 10.11.19 runs 101119 and not 101120
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*!101119 , 2 */", MARIADB_10_11)).contains(", 2");
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*!101120 , 2 */", MARIADB_10_11).strip()).isEqualTo("SELECT 1");
        // fewer than five digits are no version: they are code
        assertThat(MySqlLexer.forAnalysis("SELECT 1 /*!4010 , 2 */", MARIADB_10_11)).contains("4010 , 2");
        // quotes hide comment markers; plain comments stay
        String quoted = "SELECT '/*!, 2 */' /* plain */";
        assertThat(MySqlLexer.forAnalysis(quoted, MARIADB_10_11)).isSameAs(quoted);
    }

    @Test
    void severalStatementsWithoutMultiStatementsAsTheServerReadsThem() {
        assertThat(MySqlLexer.severalStatements("SELECT 1", MARIADB_10_11)).isFalse();
        assertThat(MySqlLexer.severalStatements("SELECT 1;;", MARIADB_10_11)).isFalse();
        assertThat(MySqlLexer.severalStatements("SELECT 1; /* c */;", MARIADB_10_11)).isFalse();
        assertThat(MySqlLexer.severalStatements("SELECT ';'", MARIADB_10_11)).isFalse();
        assertThat(MySqlLexer.severalStatements("CREATE PROCEDURE p() BEGIN SELECT 1; END", MARIADB_10_11)).isFalse();
        assertThat(MySqlLexer.severalStatements("SELECT 1; SELECT 2", MARIADB_10_11)).isTrue();
        assertThat(MySqlLexer.severalStatements("SELECT 1;; /* c */", MARIADB_10_11)).isTrue();
        assertThat(MySqlLexer.severalStatements("; SELECT 1", MARIADB_10_11)).isTrue();
        // the server's parser fails at such a semicolon: a shard is asked for that error
        assertThat(MySqlLexer.severalStatements("/*!SELECT 1; SELECT 2*/", MARIADB_10_11)).isTrue();
    }

    @Test
    void openCommentsAreTheServersSyntaxError() {
        for (String open : List.of("SELECT 1 /* x", "SELECT 1 /*!, 2", "SELECT 1 /*!99999 , 2", "SELECT 1 /*!99999 , 2 /* x */")) {
            assertThat(MySqlLexer.serverSyntaxError(open, MARIADB_10_11)).as(open).isTrue();
        }
        // quotes left open are left to the parser: under NO_BACKSLASH_ESCAPES 'a\' is a whole string
        for (String closed : List.of("SELECT 'abc'", "SELECT 1 -- x", "SELECT 1 # x", "SELECT 1 /*!, 2 */", "SELECT 'a\\'",
                "SELECT 'abc", "SELECT 'a\'")) {
            assertThat(MySqlLexer.serverSyntaxError(closed, MARIADB_10_11)).as(closed).isFalse();
        }
    }

    /** The client's bytes, byte by byte: offsets are byte offsets, and UTF-8 or latin1 letters never split. */
    @Test
    void splitsBytesAtByteOffsets() {
        byte[] utf8 = "INSERT INTO t VALUES (1, 'ü;€'); SELECT 'ß' /*!, 2 */;".getBytes(StandardCharsets.UTF_8);
        Run run = (Run) MySqlLexer.splitMulti(new Latin1View(utf8), MARIADB_10_11);
        assertThat(run.pieces()).hasSize(2);
        Statement first = (Statement) run.pieces().get(0);
        Statement second = (Statement) run.pieces().get(1);
        assertThat(new String(utf8, first.start(), first.end() - first.start(), StandardCharsets.UTF_8))
                .isEqualTo("INSERT INTO t VALUES (1, 'ü;€')");
        assertThat(new String(utf8, second.start(), second.end() - second.start(), StandardCharsets.UTF_8))
                .isEqualTo("SELECT 'ß' /*!, 2 */");
        // latin1 0xFC (ü) and 0xBF, and every byte 0x80-0xFF, are letters to the splitter
        byte[] high = new byte[128 + 12];
        for (int i = 0; i < 128; i++) {
            high[i] = (byte) (0x80 + i);
        }
        System.arraycopy(";SELECT 2;  ".getBytes(StandardCharsets.US_ASCII), 0, high, 128, 12);
        Run highRun = (Run) MySqlLexer.splitMulti(new Latin1View(high), MARIADB_10_11);
        assertThat(highRun.pieces()).containsExactly(new Statement(0, 128), new Statement(129, 137));
    }

    @Test
    void gateFromTheAnnouncedVersion() {
        assertThat(Gate.of("5.5.5-10.11.19-MariaDB-0+deb12u1-shardgate")).isEqualTo(new Gate(101119, true));
        assertThat(Gate.of("8.0.36")).isEqualTo(new Gate(80036, false));
        assertThat(Gate.of("garbage")).isEqualTo(Gate.DEFAULT);
    }
}

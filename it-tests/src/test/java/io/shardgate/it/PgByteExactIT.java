package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * PostgreSQL's side of issue 14 items 1 and 2: the proxy's shards talk UTF8, so it serves UTF8 clients (and SQL_ASCII
 * ones, which a UTF8 server does not convert), refuses other client encodings at startup and in SET, and answers
 * invalid UTF-8 with PostgreSQL's own error; psql and pgJDBC through the proxy against a reference PostgreSQL.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgByteExactIT {
    private static final String TABLES = """
            tables:
              - {name: texts, kind: sharded, key: id, key-type: int}
            """;
    private static final String DDL = "CREATE TABLE texts (id BIGINT NOT NULL PRIMARY KEY, t TEXT, b BYTEA)";

    private PgShardedCluster cluster;
    @TempDir
    Path dir;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(2, TABLES, "md5");
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            Sql.update(p, DDL);
            Sql.update(r, DDL);
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** UTF8 and SQL_ASCII psql sessions write the same bytes as on a single server; invalid UTF-8 gets the same error. */
    @Test
    void psqlInUtf8AndSqlAsciiStoresTheSameBytesAndRefusesInvalidUtf8AsTheServerDoes() throws Exception {
        byte[] script = bytes("INSERT INTO texts (id, t, b) VALUES (1, 'café ✓', '\\x7b00ff80c3'), (2, 'naïve', NULL),",
                " (3, 'Ünï €', '\\xc328'), (4, 'x', '\\x00');\n",
                "UPDATE texts SET t = t || ' 😀' WHERE id IN (2, 4);\n",
                "SELECT 'caf", raw(0xC3, 0x28), "';\n",
                "INSERT INTO texts (id, t) VALUES (5, 'bad ", raw(0xFF), "');\n",
                "SELECT id, t, encode(convert_to(t, 'UTF8'), 'hex'), b FROM texts WHERE id BETWEEN 1 AND 5 ORDER BY id;\n");
        for (String encoding : List.of("UTF8", "SQL_ASCII")) {
            String viaProxy = psql(cluster.proxyPort(), PgShardedCluster.USER, PgShardedCluster.PASSWORD, encoding, script);
            String direct = psql(cluster.reference().port(), "postgres", "", encoding, script);
            assertThat(viaProxy).as(encoding).isEqualTo(direct)
                    .contains("ERROR:  invalid byte sequence for encoding \"UTF8\": 0xc3 0x28")
                    .contains("ERROR:  invalid byte sequence for encoding \"UTF8\": 0xff")
                    .contains("636166c3a920e29c93");
            try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
                String q = "SELECT id, encode(convert_to(t, 'UTF8'), 'hex'), encode(b, 'hex') FROM texts ORDER BY id";
                assertThat(Sql.query(p, q)).isEqualTo(Sql.query(r, q)).hasSize(4);
            }
            try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
                Sql.update(p, "DELETE FROM texts");
                Sql.update(r, "DELETE FROM texts");
            }
        }
    }

    /** LATIN1 would need a conversion the shards are never asked for: refused at startup and in SET, naming UTF8. */
    @Test
    void otherClientEncodingsAreRefusedNamingUtf8() throws Exception {
        String atStartup = psql(cluster.proxyPort(), PgShardedCluster.USER, PgShardedCluster.PASSWORD, "LATIN1", bytes("SELECT 1;\n"));
        assertThat(atStartup).contains("client_encoding \"LATIN1\" is not supported").contains("UTF8");
        String viaSet = psql(cluster.proxyPort(), PgShardedCluster.USER, PgShardedCluster.PASSWORD, "UTF8",
                bytes("SET client_encoding TO 'LATIN1';\nSET NAMES 'WIN1252';\nSET client_encoding = 'UTF8';\nSELECT 'still ✓';\n"));
        assertThat(viaSet).contains("SET client_encoding LATIN1 is not supported").contains("SET NAMES win1252 is not supported")
                .contains("must be UTF8").contains("still ✓");
        try (Connection p = cluster.proxyConnection("")) {
            assertThatThrownBy(() -> Sql.update(p, "SET client_encoding = 'EUC_JP'")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("must be UTF8");
            assertThat(Sql.query(p, "SELECT 'ok ✓'")).containsExactly(List.of("ok ✓"));
        }
    }

    /** psql reading {@code script} from a file (its bytes as they are), errors echoed, not stopping at one. */
    private String psql(int port, String user, String password, String encoding, byte[] script) throws Exception {
        Path file = Files.createTempFile(dir, "script", ".sql");
        Files.write(file, script);
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", user,
                "-d", PgShardedCluster.DATABASE, "--echo-errors", "-f", file.toString());
        Map<String, String> env = pb.environment();
        env.put("PGPASSWORD", password);
        env.put("PGCONNECT_TIMEOUT", "10");
        env.put("PGSSLMODE", "disable");
        env.put("PGCLIENTENCODING", encoding);
        pb.redirectErrorStream(true);
        Process process = pb.start();
        process.getOutputStream().close();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out.replace(file.toString(), "script.sql");
    }

    private static byte[] raw(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static byte[] bytes(Object... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object part : parts) {
            out.writeBytes(part instanceof byte[] b ? b : part.toString().getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }
}

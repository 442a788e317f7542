package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.shardgate.local.LocalPostgres;
import io.shardgate.proxy.exec.BackendUrl;
import io.shardgate.proxy.execute.RowImage;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dual write's copy on a PostgreSQL shard ({@link RowImages} through pgJDBC, with the proxy's connection settings):
 * every type's value arrives as the source's, compared as PostgreSQL's text of each whole row ({@code w::text}).
 */
class RowImagesPgTest {
    private static final String DB = "shardgate";
    private static LocalPostgres pg;

    @BeforeAll
    static void start() {
        assumeTrue(LocalPostgres.isAvailable(), "PostgreSQL binaries are not installed");
        pg = LocalPostgres.temporary();
        pg.createDatabase(DB);
        pg.execute(DB, """
                CREATE TYPE mood AS ENUM ('sad', 'ok', 'very happy');
                CREATE TABLE w (id bigint PRIMARY KEY, k int NOT NULL, ts timestamptz(6), t timestamp(6), tm time(6), tmtz timetz,
                  d date, iv interval, n numeric, n2 numeric(30,10), f4 real, f8 double precision, by bytea, jb jsonb, js json,
                  ia int[], ta text[], u uuid, b bool, bits bit varying(10), ip inet, tx text, ch char(5), m mood);
                CREATE TABLE w_copy (LIKE w INCLUDING ALL);
                INSERT INTO w VALUES
                  (1, 7, '2026-01-02 03:04:05.123456+00', '2026-01-02 03:04:05.000001', '23:59:59.999999', '03:04:05.678+05:30',
                   '2026-01-02', '1 year 2 mons 3 days 04:05:06.789', '12345678901234567890.01234567890123', '-99999999999999999999.9999999999',
                   '1.0000001', '0.30000000000000004', '\\x00ff80c3', '{"a": [1, 2.50, "é"], "b": null}', '{"b":1,  "a" : 2, "b": 3}',
                   '{1,NULL,3}', '{"a b","c,d",NULL,"\\"q\\""}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', true, B'1011',
                   '10.1.2.3/16', E'één 💡 \\\\ ''q''', 'ab', 'very happy'),
                  (2, 7, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL),
                  (3, 7, 'infinity', '-infinity', '00:00:00', '00:00:00-12', '4713-01-01 BC', '-1 days +00:00:00.000001', 'NaN', '0.0000000001',
                   'NaN', '-Infinity', '\\x', '[]', 'null', '{}', '{}', '00000000-0000-0000-0000-000000000000', false, B'',
                   '::1', '', '', 'sad'),
                  (4, 7, '1970-01-01 00:00:00.000001+14', '0001-01-01 00:00:00', NULL, NULL, 'infinity', NULL, '-0.000', NULL,
                   '-0', '4.9e-324', '\\xfe00ff27', '"x"', '  "x"  ', '{{1,2},{3,4}}', NULL, NULL, NULL, B'1111111111',
                   NULL, NULL, NULL, NULL),
                  (5, 8, NULL, NULL, NULL, NULL, NULL, NULL, '1', NULL, '3.4028235e38', '1.7976931348623157e308', NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL, 'not copied', NULL, NULL);
                """);
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void copiesEveryTypeExactly() throws Exception {
        String url = BackendUrl.parse(pg.jdbcUrl(DB)).connectorUrl(Duration.ofSeconds(10), 16);
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password())) {
            c.setAutoCommit(false);
            List<Object> keys = List.of(7L);
            RowImage image = RowImages.read(c, "w", "k", keys);
            assertThat(image.rows()).hasSize(4);
            RowImages.replace(c, "w_copy", "k", keys, image);
            c.commit();
            List<String> source = rows(c, "SELECT w::text FROM w WHERE k = 7 ORDER BY id");
            List<String> target = rows(c, "SELECT w_copy::text FROM w_copy ORDER BY id");
            for (int r = 0; r < source.size(); r++) {
                assertThat(target.get(r)).as("row %d", r).isEqualTo(source.get(r));
            }
            assertThat(target).hasSameSizeAs(source);
            assertThat(source.getFirst()).contains("03:04:05.678+05:30", "1.0000001", "\\\\x00ff80c3");
        }
    }

    private static List<String> rows(Connection c, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}

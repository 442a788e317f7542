package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * String shard keys on PostgreSQL shards: the default collations are deterministic, so a text key answers as a single
 * server does for 'ada' and 'Ada'; a {@code citext} key or one under a nondeterministic ICU collation (which hold
 * different spellings equal) is refused at CREATE TABLE through the proxy, before anything runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgStringKeyCollationIT {
    private static final String TABLES = """
            tables:
              - {name: accounts, kind: sharded, key: name, key-type: string}
            """;
    private static final String CASE_INSENSITIVE = "CREATE COLLATION case_insensitive (provider = icu, locale = 'und-u-ks-level2',"
            + " deterministic = false)";

    private PgShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = PgShardedCluster.start(2, TABLES, "scram-sha-256");
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void citextAndNondeterministicCollationsAreRefusedAndATextKeyAnswersAsASingleServer() throws Exception {
        for (int i = 0; i < 2; i++) {
            try (Connection s = cluster.shardConnection(i)) {
                Sql.update(s, CASE_INSENSITIVE);
            }
        }
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            SQLException citext = catchThrowableOfType(SQLException.class,
                    () -> Sql.update(p, "CREATE TABLE accounts (name citext PRIMARY KEY, balance BIGINT)"));
            assertThat(citext.getSQLState()).isEqualTo("0A000");
            assertThat(citext.getMessage()).contains("STRING_KEY_COLLATION", "accounts.name is citext");
            SQLException icu = catchThrowableOfType(SQLException.class,
                    () -> Sql.update(p, "CREATE TABLE accounts (name text COLLATE case_insensitive PRIMARY KEY, balance BIGINT)"));
            assertThat(icu.getSQLState()).isEqualTo("0A000");
            assertThat(icu.getMessage()).contains("nondeterministic collation case_insensitive");
            for (int i = 0; i < 2; i++) {
                try (Connection s = cluster.shardConnection(i)) {
                    assertThat(Sql.query(s, "SELECT count(*) FROM pg_class WHERE relname = 'accounts'")).as("nothing ran on s%d", i)
                            .containsExactly(List.of("0"));
                }
            }

            String ddl = "CREATE TABLE accounts (name text COLLATE \"C\" PRIMARY KEY, balance BIGINT NOT NULL)";
            Sql.update(p, ddl);
            Sql.update(r, ddl);
            for (Connection c : List.of(p, r)) {
                assertThat(Sql.update(c, "INSERT INTO accounts (name, balance) VALUES ('Ada', 10), ('ada', 20), ('ADA', 30)"))
                        .isEqualTo(3);
                assertThat(Sql.update(c, "UPDATE accounts SET balance = balance + 1 WHERE name = ?", "ada")).isEqualTo(1);
            }
            for (String key : List.of("ada", "Ada", "ADA", "aDa")) {
                String q = "SELECT name, balance FROM accounts WHERE name = ?";
                assertThat(Sql.query(p, q, key)).as(key).isEqualTo(Sql.query(r, q, key));
            }
            String all = "SELECT name, balance FROM accounts ORDER BY name";
            assertThat(Sql.query(p, all)).isEqualTo(Sql.query(r, all)).hasSize(3);
        }
    }
}

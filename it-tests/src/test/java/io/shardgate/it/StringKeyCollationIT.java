package io.shardgate.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * String shard keys under MariaDB's default collation ({@code utf8mb4_general_ci}, as the local servers and the demo
 * run): there {@code 'ada'} and {@code 'Ada'} are one key to a server but two slots to the proxy, so such a key column
 * is refused at CREATE TABLE through the proxy and by {@code table add} / {@code table shard}. With a binary collation
 * the demo's accounts table answers as a single server does, and a key with trailing spaces (equal to the key without
 * them under PAD SPACE) is refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StringKeyCollationIT {
    private static final String TABLES = """
            tables:
              - {name: accounts, kind: sharded, key: name, key-type: string}
            """;
    private ShardedCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = ShardedCluster.start(2, TABLES);
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void createTableRefusesAStringKeyUnderACaseInsensitiveCollationBeforeAnythingRuns() throws Exception {
        List<String> refused = List.of(
                "CREATE TABLE accounts (name VARCHAR(64) NOT NULL PRIMARY KEY, balance BIGINT)",
                "CREATE TABLE accounts (name VARCHAR(64) COLLATE utf8mb4_unicode_ci NOT NULL PRIMARY KEY, balance BIGINT)",
                "CREATE TABLE accounts (name VARCHAR(64) CHARACTER SET utf8mb4 NOT NULL PRIMARY KEY, balance BIGINT)",
                "CREATE TABLE accounts (name VARCHAR(64) NOT NULL PRIMARY KEY, balance BIGINT) DEFAULT CHARSET=utf8mb4"
                        + " COLLATE=utf8mb4_general_ci");
        try (Connection p = cluster.proxyConnection("")) {
            for (String ddl : refused) {
                SQLException e = catchThrowableOfType(SQLException.class, () -> Sql.update(p, ddl));
                assertThat((Object) e).as(ddl).isNotNull();
                assertThat(e.getErrorCode()).as(ddl).isEqualTo(7001);
                assertThat(e.getMessage()).as(ddl).contains("STRING_KEY_COLLATION", "accounts.name", "binary collation");
            }
            assertThat(catchThrowableOfType(SQLException.class, () -> Sql.update(p, refused.getFirst())).getMessage())
                    .contains("collation utf8mb4_general_ci", "the default of shard s0's database");
        }
        for (int i = 0; i < cluster.shardCount(); i++) {
            try (Connection s = cluster.shardConnection(i)) {
                assertThat(Sql.query(s, "SHOW TABLES LIKE 'accounts'")).as("nothing ran on s%d", i).isEmpty();
            }
        }
    }

    @Test
    void theDemoAccountsTableWithABinaryCollationAnswersAsASingleServerDoes() throws Exception {
        String ddl = "CREATE TABLE accounts (name VARCHAR(64) COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, balance BIGINT NOT NULL)";
        try (Connection p = cluster.proxyConnection(""); Connection r = cluster.referenceConnection("")) {
            Sql.update(p, ddl);
            Sql.update(r, ddl);
            for (Connection c : List.of(p, r)) {
                assertThat(Sql.update(c, "INSERT INTO accounts (name, balance) VALUES ('Ada', 10)")).isEqualTo(1);
                assertThat(Sql.update(c, "INSERT INTO accounts (name, balance) VALUES (?, ?)", "ada", 20)).isEqualTo(1);
                assertThat(Sql.update(c, "INSERT INTO accounts (name, balance) VALUES ('ADA', 30), ('Bob', 40)")).isEqualTo(2);
                assertThat(Sql.update(c, "UPDATE accounts SET balance = balance + 1 WHERE name = 'ada'")).isEqualTo(1);
            }
            for (String key : List.of("ada", "Ada", "ADA", "aDa", "Bob", "bob")) {
                String q = "SELECT name, balance FROM accounts WHERE name = ?";
                assertThat(Sql.query(p, q, key)).as(key).isEqualTo(Sql.query(r, q, key));
                String literal = "SELECT name, balance FROM accounts WHERE name = '" + key + "'";
                assertThat(Sql.query(p, literal)).as(literal).isEqualTo(Sql.query(r, literal));
            }
            String all = "SELECT name, balance FROM accounts ORDER BY name";
            assertThat(Sql.query(p, all)).isEqualTo(Sql.query(r, all)).hasSize(4);
            SQLException dupProxy = catchThrowableOfType(SQLException.class,
                    () -> Sql.update(p, "INSERT INTO accounts (name, balance) VALUES ('Ada', 1)"));
            SQLException dupRef = catchThrowableOfType(SQLException.class,
                    () -> Sql.update(r, "INSERT INTO accounts (name, balance) VALUES ('Ada', 1)"));
            assertThat(dupProxy.getErrorCode()).isEqualTo(dupRef.getErrorCode()).isEqualTo(1062);
            // utf8mb4_bin is PAD SPACE in MariaDB: 'ada ' is 'ada' to the server, but would hash elsewhere
            assertThat(Sql.query(r, "SELECT name FROM accounts WHERE name = 'ada '")).containsExactly(List.of("ada"));
            SQLException spaces = catchThrowableOfType(SQLException.class,
                    () -> Sql.query(p, "SELECT name FROM accounts WHERE name = 'ada '"));
            assertThat(spaces.getErrorCode()).isEqualTo(7001);
            assertThat(spaces.getMessage()).contains("BAD_SHARD_KEY_VALUE", "'ada ' ends with a space");
        }
    }

    @Test
    void tableAddAndTableShardRefuseAStringKeyUnderACaseInsensitiveCollation() throws Exception {
        try (Connection p = cluster.proxyConnection("")) {
            // undeclared tables live on the default shard s0, as an adopted database's do
            Sql.update(p, "CREATE TABLE members (name VARCHAR(64) NOT NULL PRIMARY KEY, joined INT)");
            Sql.update(p, "CREATE TABLE handles (name VARCHAR(64) NOT NULL PRIMARY KEY, joined INT)");
            Sql.update(p, "INSERT INTO handles VALUES ('Ada', 1), ('bob', 2)");
            Sql.update(p, "CREATE TABLE tags (name VARBINARY(64) NOT NULL PRIMARY KEY, n INT)");
        }
        ShardgateProcess.Result add = table("add", "members", "--kind", "sharded", "--key", "name", "--key-type", "string");
        assertThat(add.exitCode()).as(add.toString()).isEqualTo(1);
        assertThat(add.stderr()).contains("cannot declare members sharded by string key name (on s0)", "utf8mb4_general_ci",
                "binary collation");
        ShardgateProcess.Result forced = table("add", "members", "--kind", "sharded", "--key", "name", "--key-type", "string",
                "--force");
        assertThat(forced.exitCode()).as("--force does not make a wrong placement right: %s", forced).isEqualTo(1);
        ShardgateProcess.Result shard = table("shard", "handles", "--key", "name");
        assertThat(shard.exitCode()).as(shard.toString()).isEqualTo(1);
        assertThat(shard.stderr()).contains("cannot shard handles by name on s0", "utf8mb4_general_ci");
        ShardgateProcess.Result binary = table("add", "tags", "--kind", "sharded", "--key", "name", "--key-type", "string");
        assertThat(binary.exitCode()).as(binary.toString()).isZero();
        assertThat(table("show", "members").stdout()).contains("not declared");
    }

    private ShardgateProcess.Result table(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("table"));
        all.addAll(List.of(args));
        all.addAll(List.of("--zk", cluster.zooKeeperConnect(), "--cluster", ShardedCluster.CLUSTER));
        return ShardgateProcess.run(Duration.ofSeconds(60), all.toArray(String[]::new));
    }
}

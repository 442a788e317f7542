package io.shardgate.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.Dialect;
import io.shardgate.cluster.KeyType;
import io.shardgate.cluster.ShardDefinition;
import io.shardgate.cluster.StringKeyCollation;
import io.shardgate.cluster.TableDefinition;
import io.shardgate.cluster.UnknownTablePolicy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The string key column a CREATE TABLE defines, and which collations can hold a string shard key. */
class CreatedStringKeyTest {
    private static final ClusterDefinition CLUSTER = new ClusterDefinition(Dialect.MYSQL, 16,
            List.of(new ShardDefinition("s0", "jdbc:mysql://127.0.0.1:1/db", "u", "", 4, false)),
            Map.of("accounts", TableDefinition.sharded("accounts", "name", KeyType.STRING),
                    "users", TableDefinition.sharded("users", "id", KeyType.INT)), "s0", UnknownTablePolicy.SINGLE);

    private static Optional<CreatedStringKey> key(String sql) {
        return Router.analyse(sql, Dialect.MYSQL).createdStringKey(CLUSTER);
    }

    @Test
    void theKeyColumnsCharsetAndCollationAreTakenFromTheColumnThenTheTable() {
        assertThat(key("CREATE TABLE accounts (name VARCHAR(64) NOT NULL PRIMARY KEY, balance INT)")).contains(
                new CreatedStringKey("accounts", "name", "VARCHAR(64)", null, null, null, null));
        assertThat(key("CREATE TABLE accounts (name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY)"))
                .get().satisfies(k -> {
                    assertThat(k.charset()).isEqualTo("utf8mb4");
                    assertThat(k.collation()).isEqualTo("utf8mb4_bin");
                });
        assertThat(key("CREATE TABLE `accounts` (`name` VARCHAR(64) COLLATE 'utf8mb4_general_ci', PRIMARY KEY (name))").get()
                .collation()).isEqualTo("utf8mb4_general_ci");
        assertThat(key("CREATE TABLE accounts (name VARCHAR(64) BINARY NOT NULL) DEFAULT CHARSET=latin1").get().collation())
                .isEqualTo("_bin");
        CreatedStringKey table = key("CREATE TABLE accounts (name VARCHAR(64) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
                + " COLLATE=utf8mb4_bin").orElseThrow();
        assertThat(table.collation()).isNull();
        assertThat(table.tableCharset()).isEqualTo("utf8mb4");
        assertThat(table.tableCollation()).isEqualTo("utf8mb4_bin");
        assertThat(key("CREATE TABLE accounts (name VARCHAR(32) NOT NULL PRIMARY KEY, n BIGINT NOT NULL) DEFAULT CHARSET utf8mb4"
                + " COLLATE utf8mb4_bin").orElseThrow().tableCollation()).isEqualTo("utf8mb4_bin");
        assertThat(key("CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(10))")).as("an integer key").isEmpty();
        assertThat(key("CREATE TABLE notes (name VARCHAR(10))")).as("an undeclared table").isEmpty();
        assertThat(key("SELECT * FROM accounts")).isEmpty();
    }

    @Test
    void onlyBinaryCollationsHoldMySqlStringKeys() {
        assertThat(StringKeyCollation.mysqlRefusal("t.k", "varchar", "utf8mb4", "utf8mb4_bin")).isEmpty();
        assertThat(StringKeyCollation.mysqlRefusal("t.k", "varbinary(20)", null, null)).isEmpty();
        assertThat(StringKeyCollation.mysqlRefusal("t.k", "char", "binary", "binary")).isEmpty();
        assertThat(StringKeyCollation.mysqlRefusal("t.k", "varchar", "utf8mb4", "utf8mb4_nopad_bin")).isEmpty();
        assertThat(StringKeyCollation.mysqlRefusal("t.k", "bigint", null, null)).as("not a string column").isEmpty();
        assertThat(StringKeyCollation.mysqlRefusal("t.k", "varchar", "utf8mb4", "utf8mb4_general_ci")).get().asString()
                .contains("t.k", "collation utf8mb4_general_ci", "COLLATE utf8mb4_bin");
        assertThat(StringKeyCollation.mysqlRefusal("t.k", "varchar", "utf8mb4", "utf8mb4_0900_as_cs")).isPresent();
        assertThat(StringKeyCollation.mysqlRefusal("t.k", "text", "latin1", null)).get().asString()
                .contains("character set latin1 with its default collation");
    }

    @Test
    void citextAndNondeterministicCollationsCannotHoldPostgresStringKeys() {
        assertThat(StringKeyCollation.postgresRefusal("t.k", "text", null, true)).isEmpty();
        assertThat(StringKeyCollation.postgresRefusal("t.k", "varchar(20)", "C", true)).isEmpty();
        assertThat(StringKeyCollation.postgresRefusal("t.k", "citext", null, true)).get().asString().contains("citext");
        assertThat(StringKeyCollation.postgresRefusal("t.k", "public.citext", null, true)).isPresent();
        assertThat(StringKeyCollation.postgresRefusal("t.k", "text", "case_insensitive", false)).get().asString()
                .contains("nondeterministic collation case_insensitive");
    }
}

package io.shardgate.proxy.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardgate.cluster.Dialect;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InsertColumnsTest {
    private final List<String> asked = new ArrayList<>();

    private List<String> columns(String table) {
        asked.add(table);
        return Map.of("users", List.of("id", "name"), "odd`name", List.of("a")).getOrDefault(table, List.of());
    }

    @Test
    void namesTheColumnsAfterTheTable() {
        assertThat(InsertColumns.named("INSERT INTO users VALUES (1, 'a'), (?, ?)", Dialect.MYSQL, this::columns))
                .contains("INSERT INTO users (`id`, `name`) VALUES (1, 'a'), (?, ?)");
        assertThat(InsertColumns.named("/* app */ insert ignore users value (1, 'a')", Dialect.MYSQL, this::columns))
                .contains("/* app */ insert ignore users (`id`, `name`) value (1, 'a')");
        assertThat(InsertColumns.named("REPLACE INTO shop.`users`VALUES (1, 'a')", Dialect.MYSQL, this::columns))
                .contains("REPLACE INTO shop.`users` (`id`, `name`) VALUES (1, 'a')");
        assertThat(InsertColumns.named("INSERT INTO \"users\" VALUES ($1, $2)", Dialect.POSTGRES, this::columns))
                .contains("INSERT INTO \"users\" (\"id\", \"name\") VALUES ($1, $2)");
        assertThat(asked).containsOnly("users");
    }

    @Test
    void leavesOtherStatementsAlone() {
        assertThat(InsertColumns.named("INSERT INTO users (id, name) VALUES (1, 'a')", Dialect.MYSQL, this::columns)).isEmpty();
        assertThat(InsertColumns.named("INSERT INTO users SELECT * FROM other", Dialect.MYSQL, this::columns)).isEmpty();
        assertThat(InsertColumns.named("INSERT INTO nothere VALUES (1)", Dialect.MYSQL, this::columns)).isEmpty();
        assertThat(asked).containsExactly("nothere");
    }
}

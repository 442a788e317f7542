package io.shardgate.migrator;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Creates a table on one shard as another shard has it: {@code SHOW CREATE TABLE} on MySQL, the definition rebuilt from
 * the catalog on PostgreSQL (see {@link ShardSql}). The one place the migrator's preflight and the admin commands share.
 */
public final class TableDdl {
    private TableDdl() {}

    /**
     * Runs on {@code target} the statements that create {@code table} as {@code source} has it and returns them. Both
     * connections are left in autocommit mode as they came; DDL commits on MySQL anyway.
     */
    public static List<String> copyDefinition(Connection source, Connection target, String table) throws SQLException {
        List<String> ddl = ShardSql.of(source).createTable(source, table);
        try (Statement st = target.createStatement()) {
            for (String sql : ddl) {
                st.execute(sql);
            }
        }
        return ddl;
    }
}

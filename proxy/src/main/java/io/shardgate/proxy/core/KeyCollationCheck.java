package io.shardgate.proxy.core;

import io.shardgate.cluster.StringKeyCollation;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.error.ProxyException;
import io.shardgate.proxy.session.StatementResult;
import io.shardgate.router.CreatedStringKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Refuses, before anything runs, a {@code CREATE TABLE} of a table sharded by a string key whose column would compare
 * keys by a collation under which different strings are equal (see {@link StringKeyCollation}). The column's own
 * collation or character set decides, else the table's, else the database's default, which each shard is asked for
 * (DDL is rare: a round trip per shard is cheap here). On PostgreSQL a named collation is looked up in {@code pg_collation}.
 */
final class KeyCollationCheck {
    private KeyCollationCheck() {}

    static void require(CreatedStringKey key, boolean postgres, List<String> shards, SessionBackends backends, String database) {
        String column = key.table() + "." + key.column();
        Optional<String> refusal = postgres ? postgres(key, column, shards.getFirst(), backends, database)
                : mysql(key, column, shards, backends, database);
        refusal.ifPresent(reason -> {
            throw new ProxyException(ErrorCode.UNROUTABLE_STATEMENT, "Shardgate cannot create this table (STRING_KEY_COLLATION): "
                    + reason);
        });
    }

    private static Optional<String> mysql(CreatedStringKey key, String column, List<String> shards, SessionBackends backends,
            String database) {
        if (key.collation() != null || key.charset() != null) {
            return StringKeyCollation.mysqlRefusal(column, key.dataType(), key.charset(), key.collation());
        }
        if (key.tableCollation() != null || key.tableCharset() != null) {
            return StringKeyCollation.mysqlRefusal(column, key.dataType(), key.tableCharset(), key.tableCollation());
        }
        for (String shard : shards) {
            String collation = ask(backends, shard, "SELECT @@collation_database", List.of(), database);
            Optional<String> refusal = StringKeyCollation.mysqlRefusal(column, key.dataType(), null, collation);
            if (refusal.isPresent()) {
                return Optional.of(refusal.get() + " (the default of shard " + shard + "'s database, which the column takes)");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> postgres(CreatedStringKey key, String column, String shard, SessionBackends backends,
            String database) {
        if (key.collation() == null) {
            return StringKeyCollation.postgresRefusal(column, key.dataType(), null, true);
        }
        String deterministic = ask(backends, shard, "SELECT collisdeterministic::text FROM pg_collation WHERE collname = ?",
                List.of(key.collation()), database);
        return StringKeyCollation.postgresRefusal(column, key.dataType(), key.collation(), !"false".equals(deterministic));
    }

    /** The first column of the first row, or null. */
    private static String ask(SessionBackends backends, String shard, String sql, List<Object> parameters, String database) {
        StatementResult result = backends.query(shard, sql, parameters, database);
        if (result instanceof StatementResult.Rows rows && !rows.rows().isEmpty() && rows.rows().getFirst()[0] != null) {
            return new String(rows.rows().getFirst()[0], StandardCharsets.UTF_8);
        }
        return null;
    }
}

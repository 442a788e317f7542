package io.shardgate.migrator;

import io.shardgate.cluster.KeyType;
import java.util.List;
import java.util.Objects;

/**
 * What the worker needs to know of one sharded table on the source: its columns in order, its
 * primary key and where its shard key is.
 *
 * @param name          the table's name as the server spells it
 * @param columns       every column, in ordinal order
 * @param primaryKey    indexes into {@code columns} of the primary-key columns, in key order
 * @param shardKey      index into {@code columns} of the shard-key column
 * @param keyType       how the shard key is normalised for the slot function
 * @param sql           the SQL of the shards this table lives on
 */
record TableShape(String name, List<Column> columns, List<Integer> primaryKey, int shardKey, KeyType keyType, ShardSql sql) {
    TableShape {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(sql, "sql");
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
        if (primaryKey.isEmpty()) {
            throw new IllegalArgumentException("table " + name + " has no primary key");
        }
    }

    /**
     * A column and how its values travel: as text, as an exact number, as a double or as bytes;
     * {@code dataType} is the server's (information_schema DATA_TYPE), empty when unknown.
     */
    record Column(String name, Kind kind, String dataType) {
        Column(String name, Kind kind) {
            this(name, kind, "");
        }

        boolean integer() {
            return switch (dataType.toLowerCase(java.util.Locale.ROOT)) {
                case "tinyint", "smallint", "mediumint", "int", "integer", "bigint" -> true;
                default -> false;
            };
        }
    }

    enum Kind {
        TEXT, EXACT_NUMBER, APPROX_NUMBER, BINARY;

        static Kind of(String dataType) {
            return switch (dataType.toLowerCase(java.util.Locale.ROOT)) {
                case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "year" -> EXACT_NUMBER;
                case "float", "double", "real", "double precision" -> APPROX_NUMBER;
                case "bytea", "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "bit", "geometry", "point",
                        "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection" -> BINARY;
                default -> TEXT;
            };
        }
    }

    Column primaryKeyColumn(int i) {
        return columns.get(primaryKey.get(i));
    }

    String quote(String identifier) {
        return sql.quote(identifier);
    }
}

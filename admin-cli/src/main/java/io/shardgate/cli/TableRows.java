package io.shardgate.cli;

import io.shardgate.cluster.ClusterDefinition;
import io.shardgate.cluster.ShardDefinition;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Where a table physically exists and how many rows it has there, shard by shard. */
final class TableRows {
    /** One shard's answer: {@code rows} is null where the table does not exist, {@code error} set where the shard was unreachable. */
    record OnShard(String shard, Long rows, String error) {
        boolean exists() {
            return rows != null;
        }
    }

    private TableRows() {}

    static List<OnShard> of(ClusterDefinition definition, String table) {
        Map<String, OnShard> out = new LinkedHashMap<>();
        for (ShardDefinition shard : definition.shards()) {
            try (ShardDatabase db = ShardDatabase.connect(shard)) {
                Long rows = db.rowCounts(List.of(table)).get(table);
                out.put(shard.name(), new OnShard(shard.name(), rows, null));
            } catch (SQLException e) {
                out.put(shard.name(), new OnShard(shard.name(), null, ShardDatabase.reason(e)));
            }
        }
        return List.copyOf(out.values());
    }

    static String describe(List<OnShard> shards) {
        return String.join(", ", shards.stream().map(s -> s.error() != null ? s.shard() + " unreachable (" + s.error() + ")"
                : s.exists() ? s.shard() + " " + s.rows() + " rows" : s.shard() + " absent").toList());
    }
}

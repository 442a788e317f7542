package io.shardgate.proxy.exec.merge;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.MergePlan.ColumnRef;
import io.shardgate.router.plan.MergePlan.SortKey;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Merges the row results of one statement run on several shards, as a {@link MergePlan} says. Pure:
 * no JDBC, values are the backends' text bytes. Steps, in the plan's order: group and re-aggregate,
 * DISTINCT, ORDER BY (a k-way merge of the shards' already ordered rows when nothing was grouped, a
 * sort otherwise), OFFSET/LIMIT, and finally the router's hidden columns are dropped.
 *
 * <p>A grouped result without ORDER BY is sorted by its group keys, as MariaDB (and MySQL before 8.0)
 * return GROUP BY results.
 */
public final class ResultMerger {
    private ResultMerger() {}

    /** The merged result: the visible columns and rows. */
    public record Merged(List<ColumnInfo> columns, List<byte[][]> rows) {}

    public static Merged rows(List<ColumnInfo> columns, List<ShardRows> shards, MergePlan.Rows plan) {
        int hidden = plan.hiddenColumns();
        if (hidden > columns.size()) {
            throw new IllegalArgumentException("plan hides " + hidden + " columns of a result with " + columns.size());
        }
        List<byte[][]> rows;
        if (plan.grouped()) {
            rows = group(columns, shards, plan);
            if (plan.distinct()) {
                rows = distinct(columns, rows, hidden);
            }
            List<SortKey> order = plan.orderBy().isEmpty() ? groupOrder(plan.groupBy()) : plan.orderBy();
            if (!order.isEmpty()) {
                rows.sort(new RowOrder(columns, order, hidden));
            }
        } else {
            long wanted = plan.distinct() ? Long.MAX_VALUE : plan.limit().stream().map(l -> l + plan.offset()).findFirst()
                    .orElse(Long.MAX_VALUE);
            rows = plan.orderBy().isEmpty() ? concat(shards, wanted) : kWayMerge(shards, new RowOrder(columns, plan.orderBy(), hidden), wanted);
            if (plan.distinct()) {
                rows = distinct(columns, rows, hidden);
            }
        }
        rows = window(rows, plan.offset(), plan.limit().orElse(Long.MAX_VALUE));
        return dropHidden(columns, rows, hidden);
    }

    /** One split counter key: counters summed over every shard's sub-row, other columns from the home shard's row. */
    public static Merged counterRow(List<ColumnInfo> columns, List<ShardRows> shards, MergePlan.CounterRow plan) {
        List<byte[][]> all = shards.stream().flatMap(s -> s.rows().stream()).toList();
        if (all.isEmpty()) {
            return new Merged(columns, List.of());
        }
        byte[][] out = shards.stream().filter(s -> s.shard().equals(plan.homeShard()) && !s.rows().isEmpty())
                .map(s -> s.rows().getFirst()).findFirst().orElse(all.getFirst()).clone();
        for (int c : plan.counterColumns()) {
            BigDecimal total = null;
            for (byte[][] row : all) {
                if (row[c] != null) {
                    total = (total == null ? BigDecimal.ZERO : total).add(MySqlText.decimal(row[c]));
                }
            }
            out[c] = total == null ? null : MySqlText.number(total, columns.get(c));
        }
        return new Merged(columns, List.<byte[][]>of(out));
    }

    private static List<byte[][]> group(List<ColumnInfo> columns, List<ShardRows> shards, MergePlan.Rows plan) {
        int hidden = plan.hiddenColumns();
        int[] keyPositions = plan.groupBy().stream().mapToInt(r -> r.position(columns.size(), hidden)).toArray();
        ValueOrder[] keyOrders = Arrays.stream(keyPositions).mapToObj(p -> ValueOrder.of(columns.get(p))).toArray(ValueOrder[]::new);
        Map<List<Object>, List<byte[][]>> groups = new LinkedHashMap<>();
        for (ShardRows shard : shards) {
            for (byte[][] row : shard.rows()) {
                groups.computeIfAbsent(key(row, keyPositions, keyOrders), k -> new ArrayList<>()).add(row);
            }
        }
        Aggregation aggregation = new Aggregation(columns, plan.aggregates(), hidden);
        List<byte[][]> out = new ArrayList<>(groups.size());
        if (groups.isEmpty() && plan.groupBy().isEmpty()) {
            out.add(aggregation.emptyGroup());
            return out;
        }
        for (List<byte[][]> g : groups.values()) {
            out.add(aggregation.merge(g));
        }
        return out;
    }

    private static List<Object> key(byte[][] row, int[] positions, ValueOrder[] orders) {
        List<Object> key = new ArrayList<>(positions.length);
        for (int i = 0; i < positions.length; i++) {
            byte[] v = row[positions[i]];
            key.add(v == null ? NullKey.NULL : orders[i].groupKey(v));
        }
        return key;
    }

    private enum NullKey { NULL }

    private static List<SortKey> groupOrder(List<ColumnRef> groupBy) {
        return groupBy.stream().map(r -> new SortKey(r, true, true)).toList();
    }

    private static List<byte[][]> distinct(List<ColumnInfo> columns, List<byte[][]> rows, int hidden) {
        int visible = columns.size() - hidden;
        int[] positions = new int[visible];
        ValueOrder[] orders = new ValueOrder[visible];
        for (int i = 0; i < visible; i++) {
            positions[i] = i;
            orders[i] = ValueOrder.of(columns.get(i));
        }
        Set<List<Object>> seen = new HashSet<>();
        List<byte[][]> out = new ArrayList<>();
        for (byte[][] row : rows) {
            if (seen.add(key(row, positions, orders))) {
                out.add(row);
            }
        }
        return out;
    }

    private static List<byte[][]> concat(List<ShardRows> shards, long wanted) {
        List<byte[][]> out = new ArrayList<>();
        for (ShardRows s : shards) {
            for (byte[][] row : s.rows()) {
                if (out.size() >= wanted) {
                    return out;
                }
                out.add(row);
            }
        }
        return out;
    }

    /** Merges shards whose rows each arrive ordered; stops after {@code wanted} rows. Ties keep shard order. */
    private static List<byte[][]> kWayMerge(List<ShardRows> shards, Comparator<byte[][]> order, long wanted) {
        record Cursor(int shard, List<byte[][]> rows, int at) {
            byte[][] row() {
                return rows.get(at);
            }
        }
        PriorityQueue<Cursor> heads = new PriorityQueue<>(Math.max(1, shards.size()),
                Comparator.<Cursor, byte[][]>comparing(Cursor::row, order).thenComparingInt(Cursor::shard));
        for (int i = 0; i < shards.size(); i++) {
            if (!shards.get(i).rows().isEmpty()) {
                heads.add(new Cursor(i, shards.get(i).rows(), 0));
            }
        }
        List<byte[][]> out = new ArrayList<>();
        while (!heads.isEmpty() && out.size() < wanted) {
            Cursor c = heads.poll();
            out.add(c.row());
            if (c.at() + 1 < c.rows().size()) {
                heads.add(new Cursor(c.shard(), c.rows(), c.at() + 1));
            }
        }
        return out;
    }

    private static List<byte[][]> window(List<byte[][]> rows, long offset, long limit) {
        if (offset == 0 && limit >= rows.size()) {
            return rows;
        }
        int from = (int) Math.min(offset, rows.size());
        int to = (int) Math.min(rows.size(), from + Math.min(limit, Integer.MAX_VALUE));
        return rows.subList(from, to);
    }

    private static Merged dropHidden(List<ColumnInfo> columns, List<byte[][]> rows, int hidden) {
        if (hidden == 0) {
            return new Merged(columns, rows);
        }
        int visible = columns.size() - hidden;
        List<byte[][]> out = new ArrayList<>(rows.size());
        for (byte[][] row : rows) {
            out.add(Arrays.copyOf(row, visible));
        }
        return new Merged(columns.subList(0, visible), out);
    }
}

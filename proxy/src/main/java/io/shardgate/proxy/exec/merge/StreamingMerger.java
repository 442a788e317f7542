package io.shardgate.proxy.exec.merge;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.router.plan.MergePlan;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Merges the rows of one statement run on several shards as they arrive, one row at a time, for plans without grouping
 * (grouped results are merged whole by {@link ResultMerger}: each shard sends one row per group, so they are bounded by
 * the groups, not by the rows read). Pure, like {@link ResultMerger}, and giving the same rows: a concatenation in shard
 * order, or a k-way merge of the shards' ordered rows (ties in shard order), then DISTINCT (only the distinct rows seen
 * are kept), OFFSET/LIMIT, and the hidden columns dropped. Reaching the LIMIT closes every shard's input at once, so
 * their rest is never read.
 */
public final class StreamingMerger {
    private StreamingMerger() {}

    /** One shard's rows, in the order its statement returns them. */
    public interface Input {
        /** The next row, or null at the end. */
        byte[][] next();

        /** Stops reading (before the end: the shard's rest is not wanted). Idempotent. */
        void close();
    }

    /** The merged rows, pulled one at a time. */
    public interface Merged {
        /** The visible columns of the merged rows. */
        List<ColumnInfo> columns();

        /** The next merged row (visible columns only), or null at the end. */
        byte[][] next();

        /** Closes every input still open. Idempotent. */
        void close();
    }

    /** Whether {@code plan} can be merged row by row here. */
    public static boolean streams(MergePlan.Rows plan) {
        return !plan.grouped();
    }

    public static Merged rows(List<ColumnInfo> columns, List<Input> shards, MergePlan.Rows plan) {
        if (!streams(plan)) {
            throw new IllegalArgumentException("grouped results are merged whole: " + plan);
        }
        int hidden = plan.hiddenColumns();
        if (hidden > columns.size()) {
            throw new IllegalArgumentException("plan hides " + hidden + " columns of a result with " + columns.size());
        }
        Source source = plan.orderBy().isEmpty() ? new Concat(shards)
                : new KWay(shards, new RowOrder(columns, plan.orderBy(), hidden));
        return new Window(columns, source, shards, plan);
    }

    private interface Source {
        byte[][] next();
    }

    /** The shards one after the other, each closed when it ends. */
    private static final class Concat implements Source {
        private final List<Input> shards;
        private int at;

        Concat(List<Input> shards) {
            this.shards = shards;
        }

        @Override
        public byte[][] next() {
            while (at < shards.size()) {
                byte[][] row = shards.get(at).next();
                if (row != null) {
                    return row;
                }
                shards.get(at++).close();
            }
            return null;
        }
    }

    /** The smallest head of the shards' ordered rows each time; a shard's first row is read at the first call. */
    private static final class KWay implements Source {
        private record Head(int shard, byte[][] row) {}

        private final List<Input> shards;
        private final PriorityQueue<Head> heads;
        private boolean started;

        KWay(List<Input> shards, Comparator<byte[][]> order) {
            this.shards = shards;
            this.heads = new PriorityQueue<>(Math.max(1, shards.size()),
                    Comparator.<Head, byte[][]>comparing(Head::row, order).thenComparingInt(Head::shard));
        }

        @Override
        public byte[][] next() {
            if (!started) {
                started = true;
                for (int i = 0; i < shards.size(); i++) {
                    advance(i);
                }
            }
            Head h = heads.poll();
            if (h == null) {
                return null;
            }
            advance(h.shard());
            return h.row();
        }

        private void advance(int shard) {
            byte[][] row = shards.get(shard).next();
            if (row != null) {
                heads.add(new Head(shard, row));
            } else {
                shards.get(shard).close();
            }
        }
    }

    /** DISTINCT, OFFSET/LIMIT and the hidden columns, over the merged source. */
    private static final class Window implements Merged {
        private final List<ColumnInfo> visibleColumns;
        private final Source source;
        private final List<Input> shards;
        private final int visible;
        private final long offset;
        private final long limit;
        private final Set<List<Object>> seen;
        private final ValueOrder[] orders;
        private long skipped;
        private long returned;
        private boolean closed;

        Window(List<ColumnInfo> columns, Source source, List<Input> shards, MergePlan.Rows plan) {
            this.visible = columns.size() - plan.hiddenColumns();
            this.visibleColumns = List.copyOf(columns.subList(0, visible));
            this.source = source;
            this.shards = List.copyOf(shards);
            this.offset = plan.offset();
            this.limit = plan.limit().orElse(Long.MAX_VALUE);
            this.seen = plan.distinct() ? new HashSet<>() : null;
            this.orders = plan.distinct() ? visibleColumns.stream().map(ValueOrder::of).toArray(ValueOrder[]::new) : null;
        }

        @Override
        public List<ColumnInfo> columns() {
            return visibleColumns;
        }

        @Override
        public byte[][] next() {
            if (closed) {
                return null;
            }
            if (returned >= limit) {
                close(); // the rest of every shard is not wanted
                return null;
            }
            while (true) {
                byte[][] row = source.next();
                if (row == null) {
                    close();
                    return null;
                }
                if (seen != null && !seen.add(key(row))) {
                    continue;
                }
                if (skipped < offset) {
                    skipped++;
                    continue;
                }
                returned++;
                return row.length == visible ? row : Arrays.copyOf(row, visible);
            }
        }

        private List<Object> key(byte[][] row) {
            List<Object> key = new ArrayList<>(visible);
            for (int i = 0; i < visible; i++) {
                key.add(row[i] == null ? NullKey.NULL : orders[i].groupKey(row[i]));
            }
            return key;
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            RuntimeException first = null;
            for (Input in : shards) {
                try {
                    in.close();
                } catch (RuntimeException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    private enum NullKey { NULL }
}

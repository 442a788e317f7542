package io.shardgate.proxy.exec.merge;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.router.plan.MergePlan.SortKey;
import java.util.Comparator;
import java.util.List;

/** A comparator of whole rows by ORDER BY keys; NULL placed as each key's {@code nullsFirst} says. */
final class RowOrder implements Comparator<byte[][]> {
    private final int[] positions;
    private final ValueOrder[] orders;
    private final boolean[] ascending;
    private final boolean[] nullsFirst;

    RowOrder(List<ColumnInfo> columns, List<SortKey> keys, int hiddenColumns) {
        int n = keys.size();
        positions = new int[n];
        orders = new ValueOrder[n];
        ascending = new boolean[n];
        nullsFirst = new boolean[n];
        for (int i = 0; i < n; i++) {
            SortKey k = keys.get(i);
            positions[i] = k.column().position(columns.size(), hiddenColumns);
            orders[i] = ValueOrder.of(columns.get(positions[i]));
            ascending[i] = k.ascending();
            nullsFirst[i] = k.nullsFirst();
        }
    }

    @Override
    public int compare(byte[][] a, byte[][] b) {
        for (int i = 0; i < positions.length; i++) {
            int c = compareKey(i, a[positions[i]], b[positions[i]]);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private int compareKey(int i, byte[] x, byte[] y) {
        if (x == null || y == null) {
            if (x == y) {
                return 0;
            }
            // null placement is absolute: it does not flip with DESC
            return (x == null) == nullsFirst[i] ? -1 : 1;
        }
        int c = orders[i].compare(x, y);
        return ascending[i] ? c : -c;
    }
}

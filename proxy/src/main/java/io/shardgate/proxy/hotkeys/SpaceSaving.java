package io.shardgate.proxy.hotkeys;

import java.util.HashMap;
import java.util.Map;

/**
 * The Space-Saving heavy-hitter summary (Metwally, Agrawal, El Abbadi, "Efficient Computation of
 * Frequent and Top-k Elements in Data Streams", 2005) with a fixed number of counters. While it has
 * seen at most {@code capacity} distinct keys its counts are exact; after that a new key takes over
 * the counter with the smallest count, inheriting that count as its error. For every monitored key
 * {@code count - error <= true count <= count}, and an unmonitored key occurred at most
 * {@link #minCount()} times.
 *
 * <p>Counters sit in an array-backed min-heap by count, each knowing its position, so an increment
 * is a sift-down of O(log capacity) and an eviction replaces the root. Counters are reused across
 * {@link #clear()}s. Not thread-safe: {@link HotKeySketch} guards each instance with a lock.
 */
final class SpaceSaving {
    private final int capacity;
    private final Map<HotKey, Counter> index;
    private final Counter[] heap;
    private int size;
    private long total;

    /** A monitored key; {@code position} is its index in the heap. */
    static final class Counter {
        private HotKey key;
        private long count;
        private long error;
        private int position;

        HotKey key() {
            return key;
        }

        long count() {
            return count;
        }

        long error() {
            return error;
        }
    }

    @FunctionalInterface
    interface CounterVisitor {
        void visit(Counter counter);
    }

    SpaceSaving(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
        this.index = HashMap.newHashMap(capacity);
        this.heap = new Counter[capacity];
    }

    /** Counts one occurrence of {@code key}. */
    void add(HotKey key) {
        total++;
        Counter counter = index.get(key);
        if (counter != null) {
            counter.count++;
            siftDown(counter.position);
            return;
        }
        if (size < capacity) {
            counter = heap[size] == null ? new Counter() : heap[size];
            counter.key = key;
            counter.count = 1;
            counter.error = 0;
            counter.position = size;
            heap[size++] = counter;
            index.put(key, counter);
            siftUp(counter.position);
            return;
        }
        Counter smallest = heap[0];
        index.remove(smallest.key);
        smallest.key = key;
        smallest.error = smallest.count;
        smallest.count++;
        index.put(key, smallest);
        siftDown(0);
    }

    /** The counter of {@code key}, or null when it is not monitored. */
    Counter counter(HotKey key) {
        return index.get(key);
    }

    /** An upper bound of the count of any key that is not monitored: 0 until every counter is taken. */
    long minCount() {
        return size < capacity ? 0 : heap[0].count;
    }

    /** Occurrences counted since the last clear. */
    long total() {
        return total;
    }

    int size() {
        return size;
    }

    void forEach(CounterVisitor visitor) {
        for (int i = 0; i < size; i++) {
            visitor.visit(heap[i]);
        }
    }

    void clear() {
        index.clear();
        for (int i = 0; i < size; i++) {
            heap[i].key = null;
        }
        size = 0;
        total = 0;
    }

    private void siftUp(int position) {
        int i = position;
        Counter moving = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent].count <= moving.count) {
                break;
            }
            place(heap[parent], i);
            i = parent;
        }
        place(moving, i);
    }

    private void siftDown(int position) {
        int i = position;
        Counter moving = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1].count < heap[child].count) {
                child++;
            }
            if (heap[child].count >= moving.count) {
                break;
            }
            place(heap[child], i);
            i = child;
        }
        place(moving, i);
    }

    private void place(Counter counter, int position) {
        heap[position] = counter;
        counter.position = position;
    }
}

package io.shardgate.proxy.exec.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import io.shardgate.router.plan.MergePlan;
import io.shardgate.router.plan.MergePlan.ColumnRef;
import io.shardgate.router.plan.MergePlan.SortKey;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The row-by-row merger: the same rows as {@link ResultMerger}, read only as far as they are needed. */
class StreamingMergerTest {
    private static final ColumnInfo INT = column("i", ColumnType.INT, 45);
    private static final ColumnInfo NAME = column("name", ColumnType.VARCHAR, 45);

    /** A shard's rows, counting how many were read and whether it was closed. */
    private static final class FakeShard implements StreamingMerger.Input {
        final List<byte[][]> rows;
        int read;
        boolean closed;

        FakeShard(List<byte[][]> rows) {
            this.rows = rows;
        }

        @Override
        public byte[][] next() {
            if (closed) {
                throw new IllegalStateException("read after close");
            }
            return read < rows.size() ? rows.get(read++) : null;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void concatInShardOrderWithOffsetAndLimit() {
        var plan = plan(false, List.of(), OptionalLong.of(2), 1, 0);
        assertThat(merge(List.of(INT), plan, List.of(rows("1", "2"), rows("3")))).containsExactly("2", "3");
    }

    @Test
    void kWayMergeOrdersNumericallyAndKeepsShardOrderOnTies() {
        var plan = plan(false, List.of(asc(0)), OptionalLong.empty(), 0, 0);
        List<List<byte[][]>> shards = List.of(twoColumns(new String[][] {{"2", "a"}, {"10", "a"}}),
                twoColumns(new String[][] {{"-5", "b"}, {"2", "b"}, {"9", "b"}}));
        FakeShard s0 = new FakeShard(shards.get(0));
        FakeShard s1 = new FakeShard(shards.get(1));
        StreamingMerger.Merged merged = StreamingMerger.rows(List.of(INT, NAME), List.of(s0, s1), plan);
        List<String> out = new ArrayList<>();
        for (byte[][] r; (r = merged.next()) != null; ) {
            out.add(text(r[0]) + text(r[1]));
        }
        assertThat(out).containsExactly("-5b", "2a", "2b", "9b", "10a");
        assertThat(s0.closed && s1.closed).isTrue();
    }

    @Test
    void limitStopsReadingAndClosesEveryShard() {
        List<byte[][]> big0 = new ArrayList<>();
        List<byte[][]> big1 = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) {
            big0.add(row(Integer.toString(2 * i)));
            big1.add(row(Integer.toString(2 * i + 1)));
        }
        FakeShard s0 = new FakeShard(big0);
        FakeShard s1 = new FakeShard(big1);
        StreamingMerger.Merged merged = StreamingMerger.rows(List.of(INT), List.of(s0, s1),
                plan(false, List.of(asc(0)), OptionalLong.of(10), 0, 0));
        List<String> out = new ArrayList<>();
        for (byte[][] r; (r = merged.next()) != null; ) {
            out.add(text(r[0]));
        }
        assertThat(out).containsExactly("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        // one head read ahead per shard at most, then both closed: the rest is never read
        assertThat(s0.read).isLessThanOrEqualTo(6);
        assertThat(s1.read).isLessThanOrEqualTo(6);
        assertThat(s0.closed && s1.closed).isTrue();
        assertThat(merged.next()).isNull();
    }

    @Test
    void concatWithLimitNeverOpensTheRestOfTheShards() {
        FakeShard s0 = new FakeShard(rows("1", "2", "3"));
        FakeShard s1 = new FakeShard(rows("4"));
        StreamingMerger.Merged merged = StreamingMerger.rows(List.of(INT), List.of(s0, s1), plan(false, List.of(), OptionalLong.of(2), 0, 0));
        assertThat(text(merged.next()[0])).isEqualTo("1");
        assertThat(text(merged.next()[0])).isEqualTo("2");
        assertThat(merged.next()).isNull();
        assertThat(s1.read).isZero();
        assertThat(s0.closed && s1.closed).isTrue();
    }

    @Test
    void closingEarlyClosesEveryShard() {
        FakeShard s0 = new FakeShard(rows("1", "2"));
        FakeShard s1 = new FakeShard(rows("3"));
        StreamingMerger.Merged merged = StreamingMerger.rows(List.of(INT), List.of(s0, s1), plan(false, List.of(), OptionalLong.empty(), 0, 0));
        merged.next();
        merged.close();
        assertThat(s0.closed && s1.closed).isTrue();
        assertThat(merged.next()).isNull();
    }

    @Test
    void distinctKeepsTheFirstOfEqualRowsUnderTheColumnsCollation() {
        var plan = plan(true, List.of(asc(0)), OptionalLong.empty(), 0, 0);
        assertThat(merge(List.of(NAME), plan, List.of(rows("apple", "Banana"), rows("APPLE", "banana", "cherry"))))
                .containsExactly("apple", "Banana", "cherry");
    }

    @Test
    void hiddenSortColumnIsUsedThenDropped() {
        var plan = plan(false, List.of(new SortKey(ColumnRef.hidden(0), true, true)), OptionalLong.of(2), 1, 1);
        StreamingMerger.Merged merged = StreamingMerger.rows(List.of(NAME, INT),
                List.of(new FakeShard(twoColumns(new String[][] {{"a", "1"}, {"c", "3"}})),
                        new FakeShard(twoColumns(new String[][] {{"b", "2"}, {"d", "4"}}))), plan);
        assertThat(merged.columns()).containsExactly(NAME);
        List<String> out = new ArrayList<>();
        for (byte[][] r; (r = merged.next()) != null; ) {
            assertThat(r.length).isEqualTo(1);
            out.add(text(r[0]));
        }
        assertThat(out).containsExactly("b", "c");
    }

    @Test
    void groupedPlansAreNotStreamed() {
        var grouped = new MergePlan.Rows(List.of(ColumnRef.visible(0)), List.of(), false, List.of(), OptionalLong.empty(), 0, 0);
        assertThat(StreamingMerger.streams(grouped)).isFalse();
        assertThatThrownBy(() -> StreamingMerger.rows(List.of(INT), List.of(), grouped)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Random shards, ordered per shard as a server would return them: the same rows as the whole-result merger. */
    @Test
    void sameRowsAsTheWholeResultMerger() {
        Random random = new Random(15);
        for (int round = 0; round < 300; round++) {
            int shards = 1 + random.nextInt(4);
            boolean ordered = random.nextBoolean();
            boolean distinct = random.nextInt(4) == 0;
            OptionalLong limit = random.nextBoolean() ? OptionalLong.of(random.nextInt(12)) : OptionalLong.empty();
            long offset = random.nextInt(3) == 0 ? random.nextInt(5) : 0;
            var plan = plan(distinct, ordered ? List.of(asc(0)) : List.of(), limit, offset, 0);
            List<List<byte[][]>> input = new ArrayList<>();
            for (int s = 0; s < shards; s++) {
                int[] values = random.ints(random.nextInt(10), -5, 20).toArray();
                if (ordered) {
                    Arrays.sort(values);
                }
                input.add(Arrays.stream(values).mapToObj(v -> row(Integer.toString(v))).toList());
            }
            List<ShardRows> whole = new ArrayList<>();
            for (int s = 0; s < shards; s++) {
                whole.add(new ShardRows("s" + s, input.get(s)));
            }
            List<String> expected = ResultMerger.rows(List.of(INT), whole, plan).rows().stream().map(r -> text(r[0])).toList();
            assertThat(merge(List.of(INT), plan, input)).as("round %d: %s %s", round, plan, input.size()).isEqualTo(expected);
        }
    }

    private static List<String> merge(List<ColumnInfo> columns, MergePlan.Rows plan, List<List<byte[][]>> shards) {
        List<StreamingMerger.Input> inputs = new ArrayList<>();
        for (List<byte[][]> s : shards) {
            inputs.add(new FakeShard(s));
        }
        StreamingMerger.Merged merged = StreamingMerger.rows(columns, inputs, plan);
        List<String> out = new ArrayList<>();
        for (byte[][] r; (r = merged.next()) != null; ) {
            out.add(text(r[0]));
        }
        merged.close();
        return out;
    }

    private static MergePlan.Rows plan(boolean distinct, List<SortKey> orderBy, OptionalLong limit, long offset, int hidden) {
        return new MergePlan.Rows(List.of(), List.of(), distinct, orderBy, limit, offset, hidden);
    }

    private static SortKey asc(int column) {
        return new SortKey(ColumnRef.visible(column), true, true);
    }

    private static List<byte[][]> rows(String... values) {
        return Arrays.stream(values).map(StreamingMergerTest::row).toList();
    }

    private static List<byte[][]> twoColumns(String[][] values) {
        return Arrays.stream(values).map(v -> new byte[][] {utf8(v[0]), utf8(v[1])}).toList();
    }

    private static byte[][] row(String value) {
        return new byte[][] {value == null ? null : utf8(value)};
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] v) {
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    private static ColumnInfo column(String name, ColumnType type, int collation) {
        return new ColumnInfo("db", "t", "t", name, name, type, 11, 0, false, false, false, collation);
    }
}

package io.shardgate.proxy.mysql.codec;

import static io.shardgate.proxy.mysql.codec.Payload.concat;
import static io.shardgate.proxy.mysql.codec.Payload.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.shardgate.proxy.mysql.message.ServerMessage;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ServerMessageEncoderTest {
    private static final int WITHOUT_DEPRECATE_EOF = Capabilities.SERVER & ~Capabilities.DEPRECATE_EOF;

    private final ConnectionState state = new ConnectionState(64 << 20);
    private final EmbeddedChannel channel = new EmbeddedChannel(new ServerMessageEncoder(state));

    @AfterEach
    void nothingLeft() {
        assertThat((Object) channel.readOutbound()).isNull();
        channel.finishAndReleaseAll();
    }

    @Test
    void handshake() {
        byte[] nonce = "abcdefghijklmnopqrst".getBytes(StandardCharsets.US_ASCII);
        byte[] expected = Payload.of().int1(10).nul("5.5.5-10.11.19-MariaDB-shardgate").int4(42).str("abcdefgh").int1(0)
                .int2(Capabilities.SERVER & 0xFFFF).int1(45).int2(2).int2(Capabilities.SERVER >>> 16).int1(21).zeros(10)
                .str("ijklmnopqrst").int1(0).nul("caching_sha2_password").packet(0);
        assertThat(encode(new ServerMessage.Handshake(42, "5.5.5-10.11.19-MariaDB-shardgate", nonce, "caching_sha2_password",
                Capabilities.SERVER, 45, 2))).isEqualTo(hex(expected));
    }

    @Test
    void authSwitchAndMoreData() {
        byte[] nonce = "abcdefghijklmnopqrst".getBytes(StandardCharsets.US_ASCII);
        state.takeSequence();
        state.takeSequence();
        assertThat(encode(new ServerMessage.AuthSwitchRequest("mysql_native_password", nonce)))
                .isEqualTo(hex(Payload.of().int1(0xFE).nul("mysql_native_password").bytes(nonce).int1(0).packet(2)));
        assertThat(encode(new ServerMessage.AuthMoreData(new byte[] {3}))).isEqualTo(hex(Payload.of().int1(1).int1(3).packet(3)));
    }

    @Test
    void ok() {
        assertThat(encode(new ServerMessage.Ok(3, 300, 0x0002, 1, "")))
                .isEqualTo(hex(Payload.of().int1(0).int1(3).int1(0xFC).int2(300).int2(2).int2(1).packet(0)));
        // the info text is length-encoded, as servers write it (a bare string broke Connector/J's parser)
        assertThat(encode(new ServerMessage.Ok(1L << 32, 0, 0x0003, 0, "Records: 2  Duplicates: 0  Warnings: 0")))
                .isEqualTo(hex(Payload.of().int1(0).int1(0xFE).int8(1L << 32).int1(0).int2(3).int2(0)
                        .lenencStr("Records: 2  Duplicates: 0  Warnings: 0").packet(1)));
    }

    @Test
    void err() {
        assertThat(encode(new ServerMessage.Err(1064, "42000", "You have an error — near 'x'")))
                .isEqualTo(hex(Payload.of().int1(0xFF).int2(1064).str("#42000").str("You have an error — near 'x'").packet(0)));
        assertThat(encode(new ServerMessage.Err(7900, "", "internal")))
                .isEqualTo(hex(Payload.of().int1(0xFF).int2(7900).str("#HY000").str("internal").packet(1)));
    }

    /**
     * Names and error texts are in wire form (see ColumnInfo): a latin1 session's 'é' arrives as the escape of byte E9
     * and must leave as that one byte, not as UTF-8 of the escape; ordinary text leaves as UTF-8.
     */
    @Test
    void namesAndErrorTextsAreWrittenAsTheServersBytes() {
        String latin1E = io.shardgate.proxy.session.ClientCharset.UTF8MB4.decode(new byte[] {(byte) 0xE9});
        ColumnInfo c = new ColumnInfo("shop", "t" + latin1E, "t", latin1E, "café", ColumnType.INT, 11, 0, false, false, false, 63);
        assertThat(hex(column(c))).isEqualTo(hex(Payload.of().lenencStr("def").lenencStr("shop").lenencBytes(new byte[] {'t', (byte) 0xE9})
                .lenencStr("t").lenencBytes(new byte[] {(byte) 0xE9}).lenencBytes(utf8("café")).int1(0x0C).int2(63).int4(11)
                .int1(MySqlTypes.LONG).int2(0).int1(0).int2(0).build()));
        assertThat(encode(new ServerMessage.Err(1146, "42S02", "Table 'shop.x_" + latin1E + "' doesn't exist")))
                .isEqualTo(hex(Payload.of().int1(0xFF).int2(1146).str("#42S02").str("Table 'shop.x_").bytes(0xE9)
                        .str("' doesn't exist").packet(0)));
    }

    @Test
    void eofIsAnOkWithHeader0xFEUnderDeprecateEof() {
        assertThat(encode(new ServerMessage.Eof(0x0003, 2)))
                .isEqualTo(hex(Payload.of().int1(0xFE).int1(0).int1(0).int2(3).int2(2).packet(0)));
        state.negotiated(WITHOUT_DEPRECATE_EOF);
        assertThat(encode(new ServerMessage.Eof(0x0003, 2)))
                .isEqualTo(hex(Payload.of().int1(0xFE).int2(2).int2(3).packet(1)));
    }

    @Test
    void columnDefinitionBytes() {
        ColumnInfo id = new ColumnInfo("shop", "o", "orders", "id", "order_id", ColumnType.BIGINT, 20, 0, true, true, false, 63);
        ColumnInfo note = new ColumnInfo("shop", "o", "orders", "note", "note", ColumnType.TEXT, 262140, 0, false, false, false, 45);
        assertThat(hex(column(id))).isEqualTo(hex(Payload.of().lenencStr("def").lenencStr("shop").lenencStr("o")
                .lenencStr("orders").lenencStr("id").lenencStr("order_id").int1(0x0C).int2(63).int4(20).int1(MySqlTypes.LONGLONG)
                .int2(MySqlTypes.FLAG_NOT_NULL | MySqlTypes.FLAG_UNSIGNED).int1(0).int2(0).build()));
        assertThat(hex(column(note))).isEqualTo(hex(Payload.of().lenencStr("def").lenencStr("shop").lenencStr("o")
                .lenencStr("orders").lenencStr("note").lenencStr("note").int1(0x0C).int2(45).int4(262140).int1(MySqlTypes.BLOB)
                .int2(MySqlTypes.FLAG_BLOB).int1(0).int2(0).build()));
    }

    @Test
    void fieldListColumnsCarryANullDefaultAndEndWithEof() {
        state.received(0); // answering a COM_FIELD_LIST with sequence id 0
        ColumnInfo a = ColumnInfo.computed("a", ColumnType.VARCHAR, 80);
        ColumnInfo b = ColumnInfo.computed("b", ColumnType.INT, 11);
        String expected = hex(concat(
                Payload.of().bytes(column(a)).int1(0xFB).packet(1),
                Payload.of().bytes(column(b)).int1(0xFB).packet(2),
                Payload.of().int1(0xFE).int2(0).int2(2).packet(3)));
        assertThat(encode(new ServerMessage.FieldList(List.of(a, b), 2))).isEqualTo(expected);
    }

    @Test
    void textResultSetWithEof() {
        state.negotiated(WITHOUT_DEPRECATE_EOF);
        state.received(0); // answering a COM_QUERY with sequence id 0
        ColumnInfo a = ColumnInfo.computed("a", ColumnType.VARCHAR, 80);
        ColumnInfo b = ColumnInfo.computed("b", ColumnType.INT, 11);
        List<byte[][]> rows = List.of(new byte[][] {utf8("héllo"), utf8("1")}, new byte[][] {null, utf8("")});
        String expected = hex(concat(
                Payload.of().int1(2).packet(1),
                Payload.packet(2, column(a)),
                Payload.packet(3, column(b)),
                Payload.of().int1(0xFE).int2(0).int2(2).packet(4),
                Payload.of().lenencStr("héllo").lenencStr("1").packet(5),
                Payload.of().int1(0xFB).int1(0).packet(6),
                Payload.of().int1(0xFE).int2(0).int2(2).packet(7)));
        assertThat(encode(new ServerMessage.ResultSet(List.of(a, b), rows, false, 2, 0))).isEqualTo(expected);
    }

    @Test
    void textResultSetUnderDeprecateEof() {
        ColumnInfo a = ColumnInfo.computed("a", ColumnType.VARCHAR, 80);
        String expected = hex(concat(
                Payload.of().int1(1).packet(0),
                Payload.packet(1, column(a)),
                Payload.of().lenencStr("x").packet(2),
                Payload.of().int1(0xFE).int1(0).int1(0).int2(0x0022).int2(1).packet(3)));
        assertThat(encode(new ServerMessage.ResultSet(List.of(a), List.<byte[][]>of(new byte[][] {utf8("x")}), false, 0x22, 1)))
                .isEqualTo(expected);
    }

    @Test
    void binaryRowEncodesEachTypeFromText() {
        List<ColumnInfo> columns = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        Payload expected = Payload.of();
        add(columns, values, ColumnType.TINYINT, "-1", false);
        expected.int1(-1);
        add(columns, values, ColumnType.TINYINT, "255", true);
        expected.int1(255);
        add(columns, values, ColumnType.SMALLINT, "-32768", false);
        expected.int2(-32768);
        add(columns, values, ColumnType.YEAR, "2024", false);
        expected.int2(2024);
        add(columns, values, ColumnType.MEDIUMINT, "-8388608", false);
        expected.int4(-8388608);
        add(columns, values, ColumnType.INT, "4294967295", true);
        expected.int4(0xFFFFFFFFL);
        add(columns, values, ColumnType.BIGINT, "-9223372036854775808", false);
        expected.int8(Long.MIN_VALUE);
        add(columns, values, ColumnType.BIGINT, "18446744073709551615", true);
        expected.int8(-1L);
        add(columns, values, ColumnType.BIGINT, "9223372036854775808", true);
        expected.int8(Long.MIN_VALUE);
        add(columns, values, ColumnType.FLOAT, "1.5", false);
        expected.floatLE(1.5f);
        add(columns, values, ColumnType.DOUBLE, "-2.25E-10", false);
        expected.doubleLE(-2.25E-10);
        add(columns, values, ColumnType.DECIMAL, "12345.670", false);
        expected.lenencStr("12345.670");
        add(columns, values, ColumnType.DATE, "2024-02-29", false);
        expected.int1(4).int2(2024).int1(2).int1(29);
        add(columns, values, ColumnType.DATE, "0000-00-00", false);
        expected.int1(0);
        add(columns, values, ColumnType.DATETIME, "2024-02-29 13:14:15", false);
        expected.int1(7).int2(2024).int1(2).int1(29).int1(13).int1(14).int1(15);
        add(columns, values, ColumnType.DATETIME, "2024-02-29 00:00:00", false);
        expected.int1(4).int2(2024).int1(2).int1(29);
        add(columns, values, ColumnType.TIMESTAMP, "2024-02-29 13:14:15.123456", false);
        expected.int1(11).int2(2024).int1(2).int1(29).int1(13).int1(14).int1(15).int4(123456);
        add(columns, values, ColumnType.DATETIME, "2024-02-29 00:00:00.5", false);
        expected.int1(11).int2(2024).int1(2).int1(29).int1(0).int1(0).int1(0).int4(500000);
        add(columns, values, ColumnType.DATETIME, "0000-00-00 00:00:00", false);
        expected.int1(0);
        add(columns, values, ColumnType.TIME, "-26:03:04.500000", false);
        expected.int1(12).int1(1).int4(1).int1(2).int1(3).int1(4).int4(500000);
        add(columns, values, ColumnType.TIME, "838:59:59", false);
        expected.int1(8).int1(0).int4(34).int1(22).int1(59).int1(59);
        add(columns, values, ColumnType.TIME, "00:00:00", false);
        expected.int1(0);
        add(columns, values, ColumnType.VARCHAR, null, false);
        add(columns, values, ColumnType.BLOB, "blob", false);
        expected.lenencStr("blob");
        add(columns, values, ColumnType.INT, null, false);

        ByteBuf row = Unpooled.buffer();
        BinaryRows.write(row, columns, values.toArray(new byte[0][]));
        int n = columns.size(); // 26 columns: bitmap of (26 + 7 + 2) / 8 = 4 bytes, offset 2
        byte[] bitmap = new byte[(n + 7 + 2) / 8];
        for (int i : new int[] {n - 3, n - 1}) {
            bitmap[(i + 2) / 8] |= (byte) (1 << ((i + 2) % 8));
        }
        assertThat(hex(ByteBufUtil.getBytes(row))).isEqualTo(hex(concat(new byte[] {0}, bitmap, expected.build())));
        row.release();
    }

    @Test
    void binaryResultSetFraming() {
        ColumnInfo c = ColumnInfo.computed("n", ColumnType.INT, 11);
        List<byte[][]> rows = List.of(new byte[][] {utf8("7")}, new byte[][] {null});
        String expected = hex(concat(
                Payload.of().int1(1).packet(0),
                Payload.packet(1, column(c)),
                Payload.of().int1(0).int1(0).int4(7).packet(2),
                Payload.of().int1(0).int1(0b100).packet(3),
                Payload.of().int1(0xFE).int1(0).int1(0).int2(2).int2(0).packet(4)));
        assertThat(encode(new ServerMessage.ResultSet(List.of(c), rows, true, 2, 0))).isEqualTo(expected);
    }

    @Test
    void aStreamedResultSetIsTheWholeOnesBytesInPieces() {
        state.negotiated(WITHOUT_DEPRECATE_EOF);
        state.received(0);
        ColumnInfo a = ColumnInfo.computed("a", ColumnType.VARCHAR, 80);
        ColumnInfo b = ColumnInfo.computed("b", ColumnType.INT, 11);
        List<byte[][]> rows = List.of(new byte[][] {utf8("héllo"), utf8("1")}, new byte[][] {null, utf8("")});
        String whole = encode(new ServerMessage.ResultSet(List.of(a, b), rows, false, 2, 0));
        state.received(0);
        String pieces = encode(new ServerMessage.ResultSetHead(List.of(a, b), 2))
                + encode(new ServerMessage.ResultRows(List.of(a, b), rows.subList(0, 1), false))
                + encode(new ServerMessage.ResultRows(List.of(a, b), rows.subList(1, 2), false))
                + encode(new ServerMessage.ResultSetEnd(2, 0));
        assertThat(pieces).isEqualTo(whole);
    }

    @Test
    void aStreamedRowThatCannotBeEncodedEndsItsResultWithAnError() {
        state.received(0);
        ColumnInfo c = ColumnInfo.computed("n", ColumnType.BIGINT, 20);
        encode(new ServerMessage.ResultSetHead(List.of(c), 2)); // column count 1, definition 2 (deprecate EOF)
        assertThat(encode(new ServerMessage.ResultRows(List.of(c), List.<byte[][]>of(new byte[][] {utf8("7")}), true))).startsWith(
                "0a000003"); // binary row: header, null bitmap, 8 bytes
        String failed = encode(new ServerMessage.ResultRows(List.of(c), List.<byte[][]>of(new byte[][] {utf8("12abc")}), true));
        assertThat(failed.substring(6)).startsWith("04" + hex(Payload.of().int1(0xFF).int2(7900).str("#HY000").build()));
        // after the ERR the client reads no more of this result: its other rows and its end are dropped
        assertThat(encode(new ServerMessage.ResultRows(List.of(c), List.<byte[][]>of(new byte[][] {utf8("8")}), true))).isEmpty();
        assertThat(encode(new ServerMessage.ResultSetEnd(2, 0))).isEmpty();
        assertThat(encode(new ServerMessage.Ok(0, 0, 2, 0, ""))).startsWith("07000005");
    }

    @Test
    void aValueThatCannotBeEncodedBecomesAnErrorInsteadOfSilence() {
        state.received(0);
        ColumnInfo c = ColumnInfo.computed("n", ColumnType.BIGINT, 20);
        String out = encode(new ServerMessage.ResultSet(List.of(c), List.<byte[][]>of(new byte[][] {utf8("12abc")}), true, 2, 0));
        // one ERR packet with sequence id 1, errno 7900 (0x1EDC), in place of the whole result set
        assertThat(out.substring(6)).startsWith("01" + hex(Payload.of().int1(0xFF).int2(7900).str("#HY000").build()))
                .contains(hex(utf8("cannot encode the ResultSet")));
        // the next message continues the sequence after the error packet
        assertThat(encode(new ServerMessage.Ok(0, 0, 2, 0, ""))).startsWith("07000002");
    }

    @Test
    void prepareOkWithParametersAndColumns() {
        state.negotiated(WITHOUT_DEPRECATE_EOF);
        ColumnInfo p = ColumnInfo.computed("?", ColumnType.VARCHAR, 0);
        ColumnInfo c = ColumnInfo.computed("id", ColumnType.BIGINT, 20);
        String expected = hex(concat(
                Payload.of().int1(0).int4(9).int2(1).int2(2).int1(0).int2(0).packet(0),
                Payload.packet(1, column(p)),
                Payload.packet(2, column(p)),
                Payload.of().int1(0xFE).int2(0).int2(2).packet(3),
                Payload.packet(4, column(c)),
                Payload.of().int1(0xFE).int2(0).int2(2).packet(5)));
        assertThat(encode(new ServerMessage.PrepareOk(9, List.of(p, p), List.of(c), 2, 0))).isEqualTo(expected);
    }

    @Test
    void prepareOkWithoutParametersOrColumnsUnderDeprecateEof() {
        ColumnInfo p = ColumnInfo.computed("?", ColumnType.VARCHAR, 0);
        assertThat(encode(new ServerMessage.PrepareOk(1, List.of(), List.of(), 2, 0)))
                .isEqualTo(hex(Payload.of().int1(0).int4(1).int2(0).int2(0).int1(0).int2(0).packet(0)));
        assertThat(encode(new ServerMessage.PrepareOk(2, List.of(p), List.of(), 2, 0))).isEqualTo(hex(concat(
                Payload.of().int1(0).int4(2).int2(0).int2(1).int1(0).int2(0).packet(1),
                Payload.packet(2, column(p)))));
    }

    @Test
    void aRowOf16MiBOrMoreIsSplitWithConsecutiveSequenceIds() {
        ColumnInfo c = ColumnInfo.computed("big", ColumnType.BLOB, 0xFFFFFFFFL);
        byte[] big = new byte[MySqlFrameDecoder.MAX_PIECE + 100];
        Arrays.fill(big, (byte) 'z');
        channel.writeOutbound(new ServerMessage.ResultSet(List.of(c), List.<byte[][]>of(new byte[][] {big}), false, 2, 0));
        ByteBuf out = readAll();
        // column count (seq 0), definition (1), the row in two pieces (2, 3), the closing OK (4)
        ConnectionState reader = new ConnectionState(64 << 20);
        EmbeddedChannel frames = new EmbeddedChannel(new MySqlFrameDecoder(reader));
        int rowAt = 4 + 1 + 4 + column(c).length;
        assertThat(out.getUnsignedMediumLE(rowAt)).isEqualTo(MySqlFrameDecoder.MAX_PIECE);
        assertThat(out.getUnsignedByte(rowAt + 3)).isEqualTo((short) 2);
        int secondAt = rowAt + 4 + MySqlFrameDecoder.MAX_PIECE;
        assertThat(out.getUnsignedMediumLE(secondAt)).isEqualTo(100 + 9 - 0); // lenenc prefix FE + 8 bytes
        assertThat(out.getUnsignedByte(secondAt + 3)).isEqualTo((short) 3);
        frames.writeInbound(out);
        List<Integer> sequence = new ArrayList<>();
        byte[] row = null;
        for (Object m; (m = frames.readInbound()) != null; ) {
            MySqlFrameDecoder.Frame f = (MySqlFrameDecoder.Frame) m;
            sequence.add(f.sequenceId());
            if (f.payload().readableBytes() > MySqlFrameDecoder.MAX_PIECE) {
                row = ByteBufUtil.getBytes(f.payload());
            }
            f.payload().release();
        }
        assertThat(sequence).containsExactly(0, 1, 3, 4);
        assertThat(row).isEqualTo(Payload.of().lenencBytes(big).build());
        frames.finishAndReleaseAll();
    }

    @Test
    void aPayloadOfExactly0xFFFFFFIsFollowedByAnEmptyPacket() {
        ColumnInfo c = ColumnInfo.computed("big", ColumnType.BLOB, 0xFFFFFFFFL);
        byte[] value = new byte[MySqlFrameDecoder.MAX_PIECE - 4]; // FD + 3 length bytes + value = 0xFFFFFF
        channel.writeOutbound(new ServerMessage.ResultSet(List.of(c), List.<byte[][]>of(new byte[][] {value}), false, 2, 0));
        ByteBuf out = readAll();
        int rowAt = 4 + 1 + 4 + column(c).length;
        assertThat(out.getUnsignedMediumLE(rowAt)).isEqualTo(MySqlFrameDecoder.MAX_PIECE);
        int emptyAt = rowAt + 4 + MySqlFrameDecoder.MAX_PIECE;
        assertThat(out.getUnsignedMediumLE(emptyAt)).isZero();
        assertThat(out.getUnsignedByte(emptyAt + 3)).isEqualTo((short) 3);
        assertThat(out.getUnsignedByte(emptyAt + 4 + 3)).as("closing OK").isEqualTo((short) 4);
        out.release();
    }

    // ---- helpers ----

    private static void add(List<ColumnInfo> columns, List<byte[]> values, ColumnType type, String text, boolean unsigned) {
        columns.add(new ColumnInfo("", "", "", "c" + columns.size(), "", type, 20, 6, unsigned, false, false, 63));
        values.add(text == null ? null : utf8(text));
    }

    private static byte[] column(ColumnInfo c) {
        ByteBuf b = Unpooled.buffer();
        ServerMessageEncoder.column(b, c);
        byte[] bytes = ByteBufUtil.getBytes(b);
        b.release();
        return bytes;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private String encode(ServerMessage msg) {
        channel.writeOutbound(msg);
        ByteBuf out = readAll();
        try {
            return ByteBufUtil.hexDump(out);
        } finally {
            out.release();
        }
    }

    private ByteBuf readAll() {
        ByteBuf all = Unpooled.buffer();
        for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
            all.writeBytes(b);
            b.release();
        }
        return all;
    }
}

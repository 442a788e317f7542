package io.shardgate.proxy.mysql.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.shardgate.proxy.backend.mysql.TextRows;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The text-protocol pieces a merge decodes: a column definition that writes back as the server's bytes, and row values. */
class TextRowsTest {

    private static byte[] definition(String schema, String table, String name, int collation, long length, int type, int flags,
            int decimals) {
        ByteBuf p = Unpooled.buffer();
        Wire.writeLenEncString(p, "def");
        Wire.writeLenEncString(p, schema);
        Wire.writeLenEncString(p, table);
        Wire.writeLenEncString(p, table);
        Wire.writeLenEncString(p, name);
        Wire.writeLenEncString(p, name);
        p.writeByte(0x0C).writeShortLE(collation).writeIntLE((int) length).writeByte(type).writeShortLE(flags).writeByte(decimals)
                .writeShortLE(0);
        return ByteBufUtil.getBytes(p);
    }

    private static byte[] encoded(ColumnInfo c) {
        ByteBuf out = Unpooled.buffer();
        ServerMessageEncoder.column(out, c);
        return ByteBufUtil.getBytes(out);
    }

    @Test
    void aColumnDefinitionWritesBackAsTheServersBytes() {
        // BIGINT(20) NOT NULL PRI_KEY AUTO_INCREMENT, DECIMAL(12,2), INT(11) UNSIGNED ZEROFILL, a utf8mb4 name, a BLOB
        byte[][] definitions = {
                definition("shop", "t", "id", 63, 20, 8, 0x4203, 0),
                definition("shop", "t", "price", 63, 14, 246, 0, 2),
                definition("shop", "t", "n", 63, 11, 3, 0x0060, 0),
                definition("shop", "tábla", "név", 45, 80, 253, 0, 0),
                definition("shop", "t", "data", 63, 65535, 252, 0x0090, 0),
                definition("", "", "1+1", 63, 3, 8, 0x0081, 0)};
        for (byte[] d : definitions) {
            ColumnInfo c = TextRows.column(Unpooled.wrappedBuffer(d), "shop");
            assertThat(encoded(c)).as(c.name()).isEqualTo(d);
        }
        ColumnInfo price = TextRows.column(Unpooled.wrappedBuffer(definitions[1]), "shop");
        assertThat(price.type()).isEqualTo(ColumnType.DECIMAL);
        assertThat(price.length()).isEqualTo(14);
        assertThat(price.decimals()).isEqualTo(2);
        assertThat(TextRows.column(Unpooled.wrappedBuffer(definitions[3]), "shop").name()).isEqualTo("név");
    }

    @Test
    void theShardsDatabaseIsShownAsTheLogicalOne() {
        ColumnInfo c = TextRows.column(Unpooled.wrappedBuffer(definition("shop_s1", "t", "id", 63, 20, 8, 0, 0)), "shop");
        assertThat(c.schema()).isEqualTo("shop");
        assertThat(encoded(c)).isEqualTo(definition("shop", "t", "id", 63, 20, 8, 0, 0));
        assertThat(TextRows.column(Unpooled.wrappedBuffer(definition("", "", "x", 63, 1, 8, 0, 0)), "shop").schema()).isEmpty();
    }

    @Test
    void rowValuesNullsAndLengthPrefixes() {
        byte[] big = new byte[70_000];
        Arrays.fill(big, (byte) 'b');
        ByteBuf p = Unpooled.buffer();
        Wire.writeLenEncBytes(p, "a".getBytes(StandardCharsets.UTF_8));
        p.writeByte(0xFB);
        Wire.writeLenEncBytes(p, new byte[0]);
        Wire.writeLenEncBytes(p, new byte[300]); // 0xFC prefix
        Wire.writeLenEncBytes(p, big); // 0xFD prefix
        p.writeByte(0xFB);
        byte[][] row = TextRows.row(ByteBufUtil.getBytes(p), 6);
        assertThat(row[0]).containsExactly('a');
        assertThat(row[1]).isNull();
        assertThat(row[2]).isEmpty();
        assertThat(row[3]).hasSize(300);
        assertThat(row[4]).isEqualTo(big);
        assertThat(row[5]).isNull();
    }

    @Test
    void anEightBytePrefix() {
        ByteBuf p = Unpooled.buffer();
        p.writeByte(0xFE).writeLongLE(3).writeBytes("xyz".getBytes(StandardCharsets.US_ASCII));
        assertThat(TextRows.row(ByteBufUtil.getBytes(p), 1)[0]).containsExactly('x', 'y', 'z');
    }

    @Test
    void malformedRowsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> TextRows.row(new byte[] {1, 'a'}, 2)).isInstanceOf(MySqlProtocolException.class)
                .hasMessageContaining("ends before column 2 of 2");
        assertThatThrownBy(() -> TextRows.row(new byte[] {5, 'a'}, 1)).hasMessageContaining("runs past the end");
        assertThatThrownBy(() -> TextRows.row(new byte[] {1, 'a', 'b'}, 1)).hasMessageContaining("1 bytes after the last");
        assertThatThrownBy(() -> TextRows.row(new byte[] {(byte) 0xFC, 1}, 1)).hasMessageContaining("cut off");
        assertThatThrownBy(() -> TextRows.row(new byte[] {(byte) 0xFF}, 1)).hasMessageContaining("0xFF");
        byte[] huge = new byte[9];
        huge[0] = (byte) 0xFE;
        huge[8] = (byte) 0x80; // a negative length as a long
        assertThatThrownBy(() -> TextRows.row(huge, 1)).hasMessageContaining("runs past the end");
    }
}

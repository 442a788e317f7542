package io.shardgate.proxy.pg.codec;

import static io.shardgate.proxy.pg.codec.PgMessageDecoderTest.bytes;
import static io.shardgate.proxy.pg.codec.PgMessageDecoderTest.concat;
import static io.shardgate.proxy.pg.codec.PgMessageDecoderTest.cstr;
import static io.shardgate.proxy.pg.codec.PgMessageDecoderTest.int32;
import static io.shardgate.proxy.pg.codec.PgMessageDecoderTest.message;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.shardgate.proxy.pg.message.PgServerMessage;
import io.shardgate.proxy.session.ColumnInfo;
import io.shardgate.proxy.session.ColumnType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PgMessageEncoderTest {
    private final EmbeddedChannel channel = new EmbeddedChannel(new PgMessageEncoder());

    @AfterEach
    void release() {
        channel.finishAndReleaseAll();
    }

    @Test
    void encryptionRefusedIsOneByte() {
        assertThat(encode(new PgServerMessage.EncryptionRefused())).containsExactly('N');
    }

    @Test
    void authenticationMessages() {
        assertThat(encode(new PgServerMessage.AuthenticationOk())).containsExactly(bytes('R', 0, 0, 0, 8, 0, 0, 0, 0));
        assertThat(encode(new PgServerMessage.AuthenticationMd5(bytes(1, 2, 3, 4))))
                .containsExactly(bytes('R', 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4));
        assertThat(encode(new PgServerMessage.AuthenticationSasl(List.of("SCRAM-SHA-256"))))
                .containsExactly(message('R', concat(int32(10), cstr("SCRAM-SHA-256"), bytes(0))));
        assertThat(encode(new PgServerMessage.AuthenticationSaslContinue("r=x".getBytes(StandardCharsets.UTF_8))))
                .containsExactly(message('R', concat(int32(11), "r=x".getBytes(StandardCharsets.UTF_8))));
        assertThat(encode(new PgServerMessage.AuthenticationSaslFinal("v=y".getBytes(StandardCharsets.UTF_8))))
                .containsExactly(message('R', concat(int32(12), "v=y".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void parameterStatusBackendKeyAndReadyForQuery() {
        assertThat(encode(new PgServerMessage.ParameterStatus("client_encoding", "UTF8")))
                .containsExactly(message('S', concat(cstr("client_encoding"), cstr("UTF8"))));
        assertThat(encode(new PgServerMessage.BackendKeyData(7, -2)))
                .containsExactly(bytes('K', 0, 0, 0, 12, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFE));
        assertThat(encode(new PgServerMessage.ReadyForQuery('T'))).containsExactly(bytes('Z', 0, 0, 0, 5, 'T'));
    }

    @Test
    void rowDescriptionUsesTheBackendsTypeOrMapsTheNeutralOne() {
        ColumnInfo fromBackend = new ColumnInfo("db", "", "", "balance", "", ColumnType.DECIMAL, -1, 2, false, false, true, 63, 1700,
                (12 << 16 | 2) + 4);
        ColumnInfo computed = ColumnInfo.computed("n", ColumnType.BIGINT, 21);
        byte[] expected = message('T', concat(bytes(0, 2),
                cstr("balance"), int32(0), bytes(0, 0), int32(1700), bytes(0xFF, 0xFF), int32((12 << 16 | 2) + 4), bytes(0, 0),
                cstr("n"), int32(0), bytes(0, 0), int32(20), bytes(0, 8), int32(-1), bytes(0, 1)));
        assertThat(encode(new PgServerMessage.RowDescription(List.of(fromBackend, computed), List.of((short) 0, (short) 1))))
                .containsExactly(expected);
    }

    @Test
    void dataRowsInTextAndBinaryWithNull() {
        ColumnInfo id = new ColumnInfo("", "", "", "id", "", ColumnType.INT, 4, 0, false, false, true, 63, 23, -1);
        ColumnInfo name = new ColumnInfo("", "", "", "name", "", ColumnType.TEXT, -1, 0, false, false, true, 63, 25, -1);
        List<byte[][]> rows = new ArrayList<>();
        rows.add(new byte[][] {"42".getBytes(StandardCharsets.UTF_8), "ada".getBytes(StandardCharsets.UTF_8)});
        rows.add(new byte[][] {"-1".getBytes(StandardCharsets.UTF_8), null});
        byte[] expected = concat(
                message('D', concat(bytes(0, 2), int32(4), int32(42), int32(3), "ada".getBytes(StandardCharsets.UTF_8))),
                message('D', concat(bytes(0, 2), int32(4), int32(-1), int32(-1))));
        assertThat(encode(new PgServerMessage.DataRows(List.of(id, name), List.of((short) 1, (short) 0), rows))).containsExactly(expected);
    }

    @Test
    void commandCompleteAndEmptyMessages() {
        assertThat(encode(new PgServerMessage.CommandComplete("INSERT 0 3"))).containsExactly(message('C', cstr("INSERT 0 3")));
        assertThat(encode(new PgServerMessage.EmptyQueryResponse())).containsExactly(bytes('I', 0, 0, 0, 4));
        assertThat(encode(new PgServerMessage.ParseComplete())).containsExactly(bytes('1', 0, 0, 0, 4));
        assertThat(encode(new PgServerMessage.BindComplete())).containsExactly(bytes('2', 0, 0, 0, 4));
        assertThat(encode(new PgServerMessage.CloseComplete())).containsExactly(bytes('3', 0, 0, 0, 4));
        assertThat(encode(new PgServerMessage.NoData())).containsExactly(bytes('n', 0, 0, 0, 4));
        assertThat(encode(new PgServerMessage.PortalSuspended())).containsExactly(bytes('s', 0, 0, 0, 4));
        assertThat(encode(new PgServerMessage.ParameterDescription(List.of(23, 25))))
                .containsExactly(message('t', concat(bytes(0, 2), int32(23), int32(25))));
    }

    @Test
    void errorAndNoticeKeepSeveritySqlStateAndMessageApart() {
        assertThat(encode(PgServerMessage.ErrorResponse.error("23505", "duplicate key")))
                .containsExactly(message('E', concat(bytes('S'), cstr("ERROR"), bytes('V'), cstr("ERROR"), bytes('C'), cstr("23505"),
                        bytes('M'), cstr("duplicate key"), bytes(0))));
        assertThat(encode(new PgServerMessage.ErrorResponse(true, "WARNING", "01000", "careful"))[0]).isEqualTo((byte) 'N');
        assertThat(encode(PgServerMessage.ErrorResponse.error("23505", "dup").withDetail("Key (id)=(1) already exists.", "h")))
                .containsExactly(message('E', concat(bytes('S'), cstr("ERROR"), bytes('V'), cstr("ERROR"), bytes('C'), cstr("23505"),
                        bytes('M'), cstr("dup"), bytes('D'), cstr("Key (id)=(1) already exists."), bytes('H'), cstr("h"),
                        bytes(0))));
    }

    @Test
    void errorFieldsGoOutInTheServersOrderWhateverTheMapsOrder() {
        var fields = java.util.Map.of('R', "errorMissingColumn", 'P', "8", 'n', "users_pkey", 'D', "d", 'L', "3722");
        assertThat(encode(PgServerMessage.ErrorResponse.error("42703", "m").withFields(fields)))
                .containsExactly(message('E', concat(bytes('S'), cstr("ERROR"), bytes('V'), cstr("ERROR"), bytes('C'), cstr("42703"),
                        bytes('M'), cstr("m"), bytes('D'), cstr("d"), bytes('P'), cstr("8"), bytes('n'), cstr("users_pkey"),
                        bytes('L'), cstr("3722"), bytes('R'), cstr("errorMissingColumn"), bytes(0))));
    }

    private byte[] encode(PgServerMessage m) {
        channel.writeOutbound(m);
        ByteBuf out = channel.readOutbound();
        try {
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }
}

package io.shardgate.proxy.mysql.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.mysql.message.ClientMessage;
import io.shardgate.proxy.session.ClientText;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ClientMessageDecoderTest {
    private static final int UNSIGNED = 0x80;
    private static final byte[] SCRAMBLE = new byte[20];

    static {
        Arrays.fill(SCRAMBLE, (byte) 0xA5);
    }

    private final ConnectionState state = new ConnectionState(1 << 20);
    private final EmbeddedChannel channel = new EmbeddedChannel(new MySqlFrameDecoder(state), new ClientMessageDecoder(state));

    @AfterEach
    void nothingLeft() {
        assertThat((Object) channel.readInbound()).isNull();
        channel.finishAndReleaseAll();
    }

    // ---- handshake phase ----

    @Test
    void handshakeResponseLikeConnectorJ() {
        int caps = Capabilities.PROTOCOL_41 | Capabilities.SECURE_CONNECTION | Capabilities.PLUGIN_AUTH
                | Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capabilities.CONNECT_ATTRS | Capabilities.CONNECT_WITH_DB;
        byte[] attrs = Payload.of().lenencStr("_client_name").lenencStr("MySQL Connector/J").lenencStr("_os").lenencStr("Linux").build();
        var hr = (ClientMessage.HandshakeResponse) decode(header(caps).nul("app").lenencBytes(SCRAMBLE).nul("shardgate")
                .nul("caching_sha2_password").lenenc(attrs.length).bytes(attrs).build());
        assertThat(hr.capabilities()).isEqualTo(caps);
        assertThat(hr.maxPacketSize()).isEqualTo(16 << 20);
        assertThat(hr.collation()).isEqualTo(45);
        assertThat(hr.user()).isEqualTo("app");
        assertThat(hr.authResponse()).isEqualTo(SCRAMBLE);
        assertThat(hr.database()).isEqualTo("shardgate");
        assertThat(hr.authPlugin()).isEqualTo("caching_sha2_password");
        assertThat(hr.attributes()).isEqualTo(Map.of("_client_name", "MySQL Connector/J", "_os", "Linux"));
    }

    @Test
    void handshakeResponseWithoutDatabase() {
        int caps = Capabilities.PROTOCOL_41 | Capabilities.SECURE_CONNECTION | Capabilities.PLUGIN_AUTH;
        var hr = (ClientMessage.HandshakeResponse) decode(header(caps).nul("app").int1(20).bytes(SCRAMBLE)
                .nul("mysql_native_password").build());
        assertThat(hr.database()).isNull();
        assertThat(hr.authResponse()).isEqualTo(SCRAMBLE);
        assertThat(hr.authPlugin()).isEqualTo("mysql_native_password");
        assertThat(hr.attributes()).isEmpty();
    }

    @Test
    void handshakeResponseWithSecureConnectionOneByteLengthAndNoPluginAuth() {
        int caps = Capabilities.PROTOCOL_41 | Capabilities.SECURE_CONNECTION | Capabilities.CONNECT_WITH_DB;
        var hr = (ClientMessage.HandshakeResponse) decode(header(caps).nul("u").int1(0).nul("db").build());
        assertThat(hr.authResponse()).isEmpty();
        assertThat(hr.database()).isEqualTo("db");
        assertThat(hr.authPlugin()).isEmpty();
    }

    @Test
    void handshakeResponseWithNulTerminatedAuth() {
        var hr = (ClientMessage.HandshakeResponse) decode(header(Capabilities.PROTOCOL_41).nul("u").nul("secret").build());
        assertThat(hr.authResponse()).isEqualTo("secret".getBytes());
    }

    @Test
    void sslRequestIsExactly32Bytes() {
        int caps = Capabilities.PROTOCOL_41 | Capabilities.SSL | Capabilities.SECURE_CONNECTION;
        assertThat(decode(header(caps).build())).isEqualTo(new ClientMessage.SslRequest(caps));
    }

    @Test
    void authSwitchResponse() {
        state.phase(ConnectionState.Phase.AUTH_SWITCH_RESPONSE);
        var asr = (ClientMessage.AuthSwitchResponse) decode(SCRAMBLE);
        assertThat(asr.authResponse()).isEqualTo(SCRAMBLE);
    }

    @Test
    void truncatedHandshakeResponses() {
        int caps = Capabilities.PROTOCOL_41 | Capabilities.SECURE_CONNECTION | Capabilities.PLUGIN_AUTH
                | Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capabilities.CONNECT_ATTRS | Capabilities.CONNECT_WITH_DB;
        assertMalformed(Payload.of().int4(caps).int4(0).build(), "handshake response needs 32 bytes, the packet has 8 left");
        assertMalformed(header(caps).str("app").build(), "user name");
        assertMalformed(header(caps).nul("app").lenenc(20).bytes(1, 2, 3).build(), "auth response of length 20 runs past");
        assertMalformed(header(caps).nul("app").int1(0xFC).int1(1).build(), "auth response needs 2 bytes");
        assertMalformed(header(caps & ~Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA).nul("app").int1(20).bytes(1, 2).build(),
                "auth response needs 20 bytes, the packet has 2 left");
        assertMalformed(header(caps & ~Capabilities.PLUGIN_AUTH_LENENC_CLIENT_DATA).nul("app").build(), "auth response length");
        assertMalformed(header(caps).nul("app").lenenc(0).str("db").build(), "database name");
        assertMalformed(header(caps).nul("app").lenenc(0).nul("db").str("mysql_nat").build(), "auth plugin name");
        assertMalformed(header(caps).nul("app").lenenc(0).nul("db").nul("p").lenenc(50).bytes(1).build(),
                "connection attributes claim 50 bytes, 1 remain");
        assertMalformed(header(caps).nul("app").lenenc(0).nul("db").nul("p").lenenc(3).lenenc(1).int1('a').lenenc(5).build(),
                "connection attribute value of length 5 runs past");
        assertMalformed(header(0).build(), "does not speak protocol 4.1");
    }

    // ---- command phase ----

    @Test
    void textCommands() {
        state.phase(ConnectionState.Phase.COMMAND);
        assertThat(decode(bytes(0x01))).isEqualTo(new ClientMessage.Quit());
        assertThat(decode(Payload.of().int1(0x02).str("shop").build())).isEqualTo(new ClientMessage.InitDb("shop"));
        assertThat(decode(Payload.of().int1(0x03).str("select 'héllo ✓'").build()))
                .isEqualTo(new ClientMessage.Query(utf8("select 'héllo ✓'")));
        assertThat(decode(Payload.of().int1(0x04).nul("orders").str("c%").build()))
                .isEqualTo(new ClientMessage.FieldList("orders", "c%"));
        assertThat(decode(bytes(0x0E))).isEqualTo(new ClientMessage.Ping());
        assertThat(decode(Payload.of().int1(0x11).nul("bob").zeros(10).build())).isEqualTo(new ClientMessage.ChangeUser("bob"));
        assertThat(decode(Payload.of().int1(0x16).str("select ?").build())).isEqualTo(new ClientMessage.StmtPrepare(utf8("select ?")));
        assertThat(decode(Payload.of().int1(0x19).int4(7).build())).isEqualTo(new ClientMessage.StmtClose(7));
        assertThat(decode(Payload.of().int1(0x1A).int4(8).build())).isEqualTo(new ClientMessage.StmtReset(8));
        assertThat(decode(Payload.of().int1(0x1B).int2(1).build())).isEqualTo(new ClientMessage.SetOption(1));
        assertThat(decode(bytes(0x1F))).isEqualTo(new ClientMessage.ResetConnection());
        assertThat(decode(bytes(0x05))).isEqualTo(new ClientMessage.Unknown(0x05));
    }

    /** SQL text is bytes in the client's character set: the codec hands them on as they came, invalid UTF-8 and all. */
    @Test
    void queryAndPrepareKeepTheClientsBytes() {
        state.phase(ConnectionState.Phase.COMMAND);
        byte[] sql = concat(utf8("INSERT INTO t VALUES (1, _binary'"), new byte[] {0x7B, 0x00, (byte) 0xFF, (byte) 0x80, (byte) 0xC3},
                utf8("', 'caf"), new byte[] {(byte) 0xE9}, utf8("')"));
        var q = (ClientMessage.Query) decode(Payload.of().int1(0x03).bytes(sql).build());
        assertThat(q.sql()).isEqualTo(sql);
        var p = (ClientMessage.StmtPrepare) decode(Payload.of().int1(0x16).bytes(sql).build());
        assertThat(p.sql()).isEqualTo(sql);
    }

    @Test
    void queryBytesSplitAcrossTwoReads() {
        state.phase(ConnectionState.Phase.COMMAND);
        byte[] sql = concat(utf8("SELECT _binary'"), new byte[] {(byte) 0xFF, (byte) 0xC3, (byte) 0x28}, utf8("'"));
        byte[] packet = Payload.packet(0, Payload.of().int1(0x03).bytes(sql).build());
        int cut = packet.length - 3; // inside the invalid sequence
        channel.writeInbound(Unpooled.wrappedBuffer(packet, 0, cut));
        assertThat((Object) channel.readInbound()).isNull();
        channel.writeInbound(Unpooled.wrappedBuffer(packet, cut, packet.length - cut));
        assertThat(((ClientMessage.Query) channel.readInbound()).sql()).isEqualTo(sql);
    }

    @Test
    void stringParametersKeepTheClientsBytes() {
        state.phase(ConnectionState.Phase.COMMAND);
        state.registerPrepared(3, 2);
        byte[] latin1 = {'c', 'a', 'f', (byte) 0xE9};
        byte[] invalid = {0x7B, 0x00, (byte) 0xFF, (byte) 0x80, (byte) 0xC3};
        var e = (ClientMessage.StmtExecute) decode(Payload.of().int1(0x17).int4(3).int1(0).int4(1).bytes(0).int1(1)
                .int2(MySqlTypes.VAR_STRING).int2(MySqlTypes.STRING).lenencBytes(latin1).lenencBytes(invalid).build());
        assertThat(e.parameters()).containsExactly(new ClientText(latin1), new ClientText(invalid));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    void truncatedCommands() {
        state.phase(ConnectionState.Phase.COMMAND);
        assertMalformed(new byte[0], "command needs 1 bytes");
        assertMalformed(Payload.of().int1(0x04).str("orders").build(), "COM_FIELD_LIST table");
        assertMalformed(Payload.of().int1(0x11).str("bob").build(), "COM_CHANGE_USER user name");
        assertMalformed(Payload.of().int1(0x19).int2(7).build(), "statement id needs 4 bytes, the packet has 2 left");
        assertMalformed(Payload.of().int1(0x1A).build(), "statement id needs 4 bytes");
        assertMalformed(Payload.of().int1(0x1B).int1(1).build(), "COM_SET_OPTION needs 2 bytes");
        assertMalformed(Payload.of().int1(0x18).int4(1).int1(0).build(), "COM_STMT_SEND_LONG_DATA parameter needs 2 bytes");
        assertMalformed(Payload.of().int1(0x17).int4(1).int1(0).build(), "COM_STMT_EXECUTE header needs 9 bytes");
    }

    @Test
    void executeWithEveryParameterType() {
        state.phase(ConnectionState.Phase.COMMAND);
        state.registerPrepared(1, 18);
        Payload p = Payload.of().int1(0x17).int4(1).int1(0).int4(1)
                .bytes(0, 0, 0b0000_0001) // parameter 16 is NULL
                .int1(1)
                .int2(MySqlTypes.TINY).int2(MySqlTypes.TINY | UNSIGNED << 8)
                .int2(MySqlTypes.SHORT).int2(MySqlTypes.SHORT | UNSIGNED << 8)
                .int2(MySqlTypes.LONG).int2(MySqlTypes.LONG | UNSIGNED << 8)
                .int2(MySqlTypes.LONGLONG).int2(MySqlTypes.LONGLONG | UNSIGNED << 8)
                .int2(MySqlTypes.FLOAT).int2(MySqlTypes.DOUBLE).int2(MySqlTypes.NEWDECIMAL)
                .int2(MySqlTypes.VAR_STRING).int2(MySqlTypes.BLOB)
                .int2(MySqlTypes.DATE).int2(MySqlTypes.DATETIME).int2(MySqlTypes.TIME)
                .int2(MySqlTypes.VAR_STRING).int2(MySqlTypes.LONGLONG | UNSIGNED << 8);
        values(p);
        var e = (ClientMessage.StmtExecute) decode(p.build());
        assertThat(e.statementId()).isEqualTo(1);
        assertThat(e.parameters()).containsExactly(expectedValues().toArray());

        // new-params-bound = 0: the types bound by the previous execute are used again
        Payload again = Payload.of().int1(0x17).int4(1).int1(0).int4(1).bytes(0, 0, 0b0000_0001).int1(0);
        values(again);
        var e2 = (ClientMessage.StmtExecute) decode(again.build());
        assertThat(e2.parameters()).containsExactly(expectedValues().toArray());
    }

    private static void values(Payload p) {
        p.int1(-5).int1(250)
                .int2(-30000).int2(65535)
                .int4(-2_000_000_000).int4(4_294_967_295L)
                .int8(Long.MIN_VALUE).int8(-1L)
                .floatLE(1.5f).doubleLE(-2.25).lenencStr("12345.678901")
                .lenencStr("héllo ✓").lenencBytes(new byte[] {0, 1, 2, (byte) 0xFF})
                .int1(4).int2(2024).int1(2).int1(29)
                .int1(11).int2(2024).int1(2).int1(29).int1(13).int1(14).int1(15).int4(123456)
                .int1(12).int1(1).int4(1).int1(2).int1(3).int1(4).int4(500000)
                // parameter 16 is null: no value
                .int8(42);
    }

    private static List<Object> expectedValues() {
        return Arrays.asList(-5L, 250L, -30000L, 65535L, -2_000_000_000L, 4_294_967_295L,
                Long.MIN_VALUE, new BigInteger("18446744073709551615"),
                1.5f, -2.25, new BigDecimal("12345.678901"), new ClientText(utf8("héllo ✓")), new byte[] {0, 1, 2, (byte) 0xFF},
                LocalDate.of(2024, 2, 29), LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000),
                Duration.ofHours(26).plusMinutes(3).plusSeconds(4).plusMillis(500).negated(),
                null, 42L);
    }

    @Test
    void stringTypedParametersThatAreNotUtf8StayBytes() {
        // Connector/J binds setBytes as MYSQL_TYPE_STRING: decoding it as text would corrupt it; the session decodes
        // string parameters losslessly in its character set
        state.phase(ConnectionState.Phase.COMMAND);
        state.registerPrepared(7, 2);
        byte[] packet = Payload.of().int1(0x17).int4(7).int1(0).int4(1).int1(0).int1(1)
                .int2(MySqlTypes.STRING).int2(MySqlTypes.VAR_STRING)
                .lenencBytes(new byte[] {0, 1, 2, (byte) 0xFF}).lenencStr("ok ✓").build();
        assertThat(((ClientMessage.StmtExecute) decode(packet)).parameters()).containsExactly(new ClientText(new byte[] {0, 1, 2, (byte) 0xFF}),
                new ClientText(utf8("ok ✓")));
    }

    @Test
    void shortTemporalEncodings() {
        state.phase(ConnectionState.Phase.COMMAND);
        state.registerPrepared(2, 4);
        byte[] packet = Payload.of().int1(0x17).int4(2).int1(0).int4(1).int1(0).int1(1)
                .int2(MySqlTypes.DATETIME).int2(MySqlTypes.DATETIME).int2(MySqlTypes.TIME).int2(MySqlTypes.TIME)
                .int1(7).int2(1999).int1(12).int1(31).int1(23).int1(59).int1(58)
                .int1(4).int2(2000).int1(1).int1(2)
                .int1(8).int1(0).int4(0).int1(838).int1(59).int1(59) // hours byte wraps: 838 & 0xFF
                .int1(0)
                .build();
        var e = (ClientMessage.StmtExecute) decode(packet);
        assertThat(e.parameters()).containsExactly(LocalDateTime.of(1999, 12, 31, 23, 59, 58),
                LocalDateTime.of(2000, 1, 2, 0, 0), Duration.ofHours(838 & 0xFF).plusMinutes(59).plusSeconds(59), Duration.ZERO);
    }

    @Test
    void executeWithoutParameters() {
        state.phase(ConnectionState.Phase.COMMAND);
        state.registerPrepared(3, 0);
        assertThat(decode(Payload.of().int1(0x17).int4(3).int1(0).int4(1).build()))
                .isEqualTo(new ClientMessage.StmtExecute(3, 0, List.of(), new byte[] {0x17, 3, 0, 0, 0, 0, 1, 0, 0, 0}));
    }

    @Test
    void executeOfAnUnknownStatementIsLeftToTheSession() {
        state.phase(ConnectionState.Phase.COMMAND);
        assertThat(decode(Payload.of().int1(0x17).int4(99).int1(0).int4(1).bytes(1, 2, 3).build()))
                .isEqualTo(new ClientMessage.StmtExecute(99, 0, List.of()));
    }

    @Test
    void longDataIsFoldedIntoTheNextExecute() {
        state.phase(ConnectionState.Phase.COMMAND);
        state.registerPrepared(4, 3);
        assertThat(decode(Payload.of().int1(0x18).int4(4).int2(0).str("abc").build()))
                .isEqualTo(new ClientMessage.StmtSendLongData(4, 0));
        assertThat(decode(Payload.of().int1(0x18).int4(4).int2(0).str("déf").build()))
                .isEqualTo(new ClientMessage.StmtSendLongData(4, 0));
        assertThat(decode(Payload.of().int1(0x18).int4(4).int2(1).bytes(9, 8).build()))
                .isEqualTo(new ClientMessage.StmtSendLongData(4, 1));
        byte[] execute = Payload.of().int1(0x17).int4(4).int1(0).int4(1).int1(0).int1(1)
                .int2(MySqlTypes.VAR_STRING).int2(MySqlTypes.BLOB).int2(MySqlTypes.LONG)
                .int4(77) // only parameter 2 is in the packet
                .build();
        var e = (ClientMessage.StmtExecute) decode(execute);
        assertThat(e.parameters()).containsExactly(new ClientText(utf8("abcdéf")), new byte[] {9, 8}, 77L);
        assertThat(e.relayPacket()).as("long data cannot be relayed in one packet").isNull();

        // the long data was used up: the next execute carries all values again
        byte[] next = Payload.of().int1(0x17).int4(4).int1(0).int4(1).int1(0).int1(0)
                .lenencStr("x").lenencBytes(new byte[] {1}).int4(5).build();
        var again = (ClientMessage.StmtExecute) decode(next);
        assertThat(again.parameters()).containsExactly(new ClientText(utf8("x")), new byte[] {1}, 5L);
        // sent without types (new-params-bound 0): the relayed packet binds the ones the client bound before
        assertThat(again.relayPacket()).isEqualTo(Payload.of().int1(0x17).int4(4).int1(0).int4(1).int1(0).int1(1)
                .int2(MySqlTypes.VAR_STRING).int2(MySqlTypes.BLOB).int2(MySqlTypes.LONG)
                .lenencStr("x").lenencBytes(new byte[] {1}).int4(5).build());
        // a cursor (CURSOR_TYPE_READ_ONLY) is not relayed
        byte[] cursor = Payload.of().int1(0x17).int4(4).int1(1).int4(1).int1(0).int1(0)
                .lenencStr("x").lenencBytes(new byte[] {1}).int4(5).build();
        assertThat(((ClientMessage.StmtExecute) decode(cursor)).relayPacket()).isNull();
    }

    @Test
    void longDataBeyondTheLimitIsRefused() {
        ConnectionState small = new ConnectionState(1024);
        small.phase(ConnectionState.Phase.COMMAND);
        small.registerPrepared(1, 1);
        EmbeddedChannel ch = new EmbeddedChannel(new MySqlFrameDecoder(small), new ClientMessageDecoder(small));
        ch.writeInbound(Unpooled.wrappedBuffer(Payload.of().int1(0x18).int4(1).int2(0).zeros(1000).packet(0)));
        assertThat((Object) ch.readInbound()).isEqualTo(new ClientMessage.StmtSendLongData(1, 0));
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.wrappedBuffer(Payload.of().int1(0x18).int4(1).int2(0).zeros(100).packet(0))))
                .cause().isInstanceOfSatisfying(MySqlProtocolException.class,
                        ex -> assertThat(ex.code()).isEqualTo(ErrorCode.PACKET_TOO_LARGE));
        ch.finishAndReleaseAll();
    }

    @Test
    void truncatedExecutePackets() {
        state.phase(ConnectionState.Phase.COMMAND);
        state.registerPrepared(5, 9);
        Payload head = Payload.of().int1(0x17).int4(5).int1(0).int4(1);
        assertMalformed(Payload.of().int1(0x17).int4(5).int1(0).int4(1).build(), "parameter null bitmap needs 2 bytes");
        assertMalformed(Payload.of().int1(0x17).int4(5).int1(0).int4(1).int2(0).build(), "new-params-bound flag needs 1 bytes");
        assertMalformed(Payload.of().int1(0x17).int4(5).int1(0).int4(1).int2(0).int1(1).int2(MySqlTypes.LONG).build(),
                "parameter types needs 18 bytes, the packet has 2 left");
        assertMalformed(Payload.of().int1(0x17).int4(5).int1(0).int4(1).int2(0).int1(0).build(),
                "statement 5 executed without parameter types ever being bound");
        assertThat(head).isNotNull();
        assertMalformedValue(MySqlTypes.TINY, new byte[0], "TINY parameter needs 1 bytes");
        assertMalformedValue(MySqlTypes.SHORT, new byte[1], "SHORT parameter needs 2 bytes");
        assertMalformedValue(MySqlTypes.LONG, new byte[3], "LONG parameter needs 4 bytes, the packet has 3 left");
        assertMalformedValue(MySqlTypes.LONGLONG, new byte[7], "LONGLONG parameter needs 8 bytes");
        assertMalformedValue(MySqlTypes.FLOAT, new byte[2], "FLOAT parameter needs 4 bytes");
        assertMalformedValue(MySqlTypes.DOUBLE, new byte[4], "DOUBLE parameter needs 8 bytes");
        assertMalformedValue(MySqlTypes.NEWDECIMAL, new byte[] {5, '1', '2'}, "DECIMAL parameter of length 5 runs past");
        assertMalformedValue(MySqlTypes.NEWDECIMAL, new byte[] {3, '1', 'x', '2'}, "DECIMAL parameter '1x2' is not a number");
        assertMalformedValue(MySqlTypes.VAR_STRING, new byte[] {(byte) 0xFC, 1}, "string parameter needs 2 bytes");
        assertMalformedValue(MySqlTypes.BLOB, new byte[] {9}, "binary parameter of length 9 runs past");
        assertMalformedValue(MySqlTypes.DATE, new byte[0], "DATE parameter length needs 1 bytes");
        assertMalformedValue(MySqlTypes.DATE, new byte[] {4, 1, 2}, "DATE parameter needs 4 bytes, the packet has 2 left");
        assertMalformedValue(MySqlTypes.DATE, new byte[] {4, (byte) 0xE8, 7, 13, 1}, "date/time parameter is out of range");
        assertMalformedValue(MySqlTypes.DATETIME, new byte[] {11, 1, 2, 3}, "DATETIME parameter needs 11 bytes");
        assertMalformedValue(MySqlTypes.DATETIME, new byte[] {5}, "DATETIME parameter has length 5, expected one of [0, 4, 7, 11]");
        assertMalformedValue(MySqlTypes.TIME, new byte[] {4, 0, 0, 0, 0}, "TIME parameter has length 4, expected one of [0, 8, 12]");
        assertMalformedValue(MySqlTypes.TIME, new byte[] {12, 0, 0, 0, 0, 0, 1, 2, 3}, "TIME parameter needs 12 bytes");
        assertMalformedValue(0x42, new byte[] {1}, "parameter type 0x42 is not a MySQL type");
    }

    private void assertMalformedValue(int type, byte[] value, String message) {
        state.registerPrepared(6, 1);
        assertMalformed(Payload.of().int1(0x17).int4(6).int1(0).int4(1).int1(0).int1(1).int2(type).bytes(value).build(), message);
    }

    // ---- helpers ----

    private static Payload header(int caps) {
        return Payload.of().int4(caps).int4(16 << 20).int1(45).zeros(23);
    }

    private static byte[] bytes(int... b) {
        return Payload.of().bytes(b).build();
    }

    private Object decode(byte[] payload) {
        channel.writeInbound(Unpooled.wrappedBuffer(Payload.packet(0, payload)));
        Object msg = channel.readInbound();
        assertThat(msg).as("one message decoded").isNotNull();
        return msg;
    }

    private void assertMalformed(byte[] payload, String message) {
        ByteBuf in = Unpooled.wrappedBuffer(Payload.packet(0, payload));
        assertThatThrownBy(() -> channel.writeInbound(in))
                .isInstanceOf(DecoderException.class)
                .cause().isInstanceOfSatisfying(MySqlProtocolException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED_PACKET);
                    assertThat(e.getMessage()).startsWith("malformed packet: ").contains(message);
                });
        assertThat(in.refCnt()).as("the packet is released").isZero();
    }
}

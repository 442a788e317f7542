package io.shardgate.proxy.pg.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.pg.message.PgClientMessage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PgMessageDecoderTest {
    private final EmbeddedChannel channel = new EmbeddedChannel(new PgMessageDecoder(1 << 20));

    @AfterEach
    void release() {
        channel.finishAndReleaseAll();
    }

    // ---- startup phase

    @Test
    void sslRequestThenStartup() {
        write(bytes(0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.SslRequest());
        write(startup("user", "app", "database", "shardgate"));
        PgClientMessage.Startup s = channel.readInbound();
        assertThat(s.protocolVersion()).isEqualTo(196608);
        assertThat(s.parameters()).isEqualTo(Map.of("user", "app", "database", "shardgate"));
    }

    @Test
    void gssEncRequest() {
        write(bytes(0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x30));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.GssEncRequest());
    }

    @Test
    void cancelRequestThenNothingElseIsRead() {
        write(bytes(0, 0, 0, 16, 0x04, 0xD2, 0x16, 0x2E, 0, 0, 0, 7, 0x12, 0x34, 0x56, 0x78));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.CancelRequest(7, 0x12345678));
        write(query("SELECT 1"));
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void startupSplitAcrossReadsByteByByte() {
        byte[] s = startup("user", "app");
        for (byte b : s) {
            assertThat((Object) channel.readInbound()).isNull();
            write(new byte[] {b});
        }
        PgClientMessage.Startup m = channel.readInbound();
        assertThat(m.parameters()).containsEntry("user", "app");
    }

    @Test
    void startupLengthOverTheLimitIsRefusedBeforeReadingIt() {
        assertThatThrownBy(() -> write(bytes(0, 0, 0x27, 0x11)))
                .isInstanceOf(DecoderException.class).cause().isInstanceOf(PgProtocolException.class)
                .hasMessage("invalid startup packet length 10001 (must be 8..10000)");
    }

    @Test
    void oldProtocolVersionIsRefused() {
        assertThatThrownBy(() -> write(bytes(0, 0, 0, 9, 0, 2, 0, 0, 0)))
                .cause().hasMessage("unsupported frontend protocol 2.0: this proxy speaks protocol 3.0");
    }

    @Test
    void startupParameterWithoutTerminatorIsMalformed() {
        byte[] body = concat(bytes(0, 3, 0, 0), "user".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> write(concat(int32(4 + body.length), body)))
                .cause().hasMessage("startup parameter name is not terminated by a zero byte");
    }

    // ---- regular messages

    @Test
    void simpleQuery() {
        started();
        write(bytes('Q', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Query("SELECT 1"));
    }

    /** Invalid UTF-8 is kept (as lone surrogates, see ClientCharset) for the front end's 22021, not replaced by U+FFFD. */
    @Test
    void invalidUtf8InAQueryIsKeptForTheFrontEndToRefuse() {
        started();
        write(bytes('Q', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', 0xFF, 0));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Query("SELECT \uDCFF"));
    }

    @Test
    void twoMessagesInOneReadAndOneSplitAcrossReads() {
        started();
        byte[] both = concat(query("SELECT 1"), bytes('S', 0, 0, 0, 4));
        write(concat(both, Arrays.copyOfRange(query("SELECT 2"), 0, 3)));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Query("SELECT 1"));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Sync());
        assertThat((Object) channel.readInbound()).isNull();
        byte[] q2 = query("SELECT 2");
        write(Arrays.copyOfRange(q2, 3, q2.length));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Query("SELECT 2"));
    }

    @Test
    void parseWithParameterTypes() {
        started();
        byte[] body = concat(cstr("s1"), cstr("SELECT $1, $2"), bytes(0, 2, 0, 0, 0, 23, 0, 0, 0, 0));
        write(message('P', body));
        PgClientMessage.Parse p = channel.readInbound();
        assertThat(p).isEqualTo(new PgClientMessage.Parse("s1", "SELECT $1, $2", List.of(23, 0)));
    }

    @Test
    void bindWithFormatsNullAndValues() {
        started();
        byte[] body = concat(cstr("p"), cstr("s1"), bytes(0, 1, 0, 1), bytes(0, 2, 0, 0, 0, 4, 0, 0, 0, 42, 0xFF, 0xFF, 0xFF, 0xFF),
                bytes(0, 1, 0, 0));
        write(message('B', body));
        PgClientMessage.Bind b = channel.readInbound();
        assertThat(b.portal()).isEqualTo("p");
        assertThat(b.statement()).isEqualTo("s1");
        assertThat(b.parameterFormats()).containsExactly((short) 1);
        assertThat(b.values()).hasSize(2);
        assertThat(b.values().get(0)).containsExactly(0, 0, 0, 42);
        assertThat(b.values().get(1)).isNull();
        assertThat(b.resultFormats()).containsExactly((short) 0);
    }

    @Test
    void describeExecuteCloseFlushTerminate() {
        started();
        write(concat(message('D', concat(bytes('S'), cstr("s1"))), message('E', concat(cstr(""), bytes(0, 0, 0, 10))),
                message('C', concat(bytes('P'), cstr("p"))), bytes('H', 0, 0, 0, 4), bytes('X', 0, 0, 0, 4)));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Describe('S', "s1"));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Execute("", 10));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Close('P', "p"));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Flush());
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Terminate());
    }

    @Test
    void passwordMessageKeepsItsBytes() {
        started();
        write(message('p', cstr("md5abc")));
        PgClientMessage.AuthData a = channel.readInbound();
        assertThat(new String(a.data(), StandardCharsets.UTF_8)).isEqualTo("md5abc\0");
    }

    @Test
    void unknownTypeIsDecodedForTheFrontEndToRefuse() {
        started();
        write(message('z', bytes(1, 2, 3)));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Unknown('z'));
    }

    @Test
    void functionCallIsDecodedWithoutItsBody() {
        started();
        write(message('F', bytes(0, 0, 3, 0xE8, 0, 0, 0, 0, 0, 0)));
        write(message('S', bytes()));
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.FunctionCall());
        assertThat((Object) channel.readInbound()).isEqualTo(new PgClientMessage.Sync());
    }

    @Test
    void messageOverTheLimitIsRefusedBeforeItArrives() {
        started();
        assertThatThrownBy(() -> write(bytes('Q', 0x00, 0x10, 0x00, 0x01)))
                .cause().isInstanceOfSatisfying(PgProtocolException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.PACKET_TOO_LARGE))
                .hasMessage("message 'Q' of 1048577 bytes is larger than the limit of 1048576 bytes (limits.max-packet-bytes)");
        // the rest of the stream is discarded, not read as messages
        write(query("SELECT 1"));
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void lengthBelowFourIsMalformed() {
        started();
        assertThatThrownBy(() -> write(bytes('Q', 0, 0, 0, 3)))
                .cause().hasMessage("invalid length 3 of message 'Q'");
    }

    @Test
    void bindValueLongerThanTheMessageIsMalformed() {
        started();
        byte[] body = concat(cstr(""), cstr(""), bytes(0, 0), bytes(0, 1, 0, 0, 0, 100, 1, 2));
        assertThatThrownBy(() -> write(message('B', body)))
                .cause().hasMessage("Bind parameter 1 has length 100 but 2 bytes are left");
    }

    @Test
    void invalidFormatCodeAndDescribeKindAreMalformed() {
        started();
        byte[] bind = concat(cstr(""), cstr(""), bytes(0, 1, 0, 2), bytes(0, 0), bytes(0, 0));
        assertThatThrownBy(() -> write(message('B', bind)))
                .cause().hasMessage("invalid format code 2 in parameter format codes (must be 0 or 1)");
    }

    @Test
    void describeOfAnUnknownKindIsMalformed() {
        started();
        assertThatThrownBy(() -> write(message('D', concat(bytes('X'), cstr("s")))))
                .cause().hasMessage("Describe of 'X': must be 'S' (statement) or 'P' (portal)");
    }

    @Test
    void bytesAfterTheLastFieldAreMalformed() {
        started();
        assertThatThrownBy(() -> write(message('S', bytes(1))))
                .cause().hasMessage("message 'S' has 1 bytes after its last field");
    }

    @Test
    void executeCutShortIsMalformed() {
        started();
        assertThatThrownBy(() -> write(message('E', concat(cstr(""), bytes(0, 0)))))
                .cause().hasMessage("message 'E' of 7 bytes ends early");
    }

    // ---- helpers

    private void started() {
        write(startup("user", "app"));
        assertThat((Object) channel.readInbound()).isInstanceOf(PgClientMessage.Startup.class);
    }

    private void write(byte[] b) {
        channel.writeInbound(Unpooled.wrappedBuffer(b));
    }

    static byte[] startup(String... keyValues) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(bytes(0, 3, 0, 0));
        for (String s : keyValues) {
            body.writeBytes(cstr(s));
        }
        body.write(0);
        return concat(int32(4 + body.size()), body.toByteArray());
    }

    static byte[] query(String sql) {
        return message('Q', cstr(sql));
    }

    static byte[] message(char type, byte[] body) {
        return concat(new byte[] {(byte) type}, int32(4 + body.length), body);
    }

    static byte[] cstr(String s) {
        return concat(s.getBytes(StandardCharsets.UTF_8), new byte[] {0});
    }

    static byte[] int32(int v) {
        return ByteBuffer.allocate(4).putInt(v).array();
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}

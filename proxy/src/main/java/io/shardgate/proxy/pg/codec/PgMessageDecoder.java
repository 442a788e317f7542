package io.shardgate.proxy.pg.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.shardgate.proxy.error.ErrorCode;
import io.shardgate.proxy.pg.message.PgClientMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts a PostgreSQL protocol 3.0 byte stream into {@link PgClientMessage}s. Before the StartupMessage a message is
 * a 4-byte length and a body whose first int32 says what it is (SSLRequest, GSSENCRequest, CancelRequest or the
 * protocol version of a StartupMessage); after it, a type byte, a 4-byte length (counting itself) and a body.
 *
 * <p>Lengths are checked against their bounds before anything is accumulated: a startup-phase message may be at
 * most {@value #MAX_STARTUP} bytes (as in PostgreSQL), any other at most the configured maximum. After a protocol
 * error, or once a CancelRequest has been read (the connection carries nothing else), the rest of the stream is
 * discarded: the front end closes the connection.
 */
public final class PgMessageDecoder extends ByteToMessageDecoder {
    static final int MAX_STARTUP = 10_000;
    static final int SSL_REQUEST = 80877103;
    static final int GSSENC_REQUEST = 80877104;
    static final int CANCEL_REQUEST = 80877102;
    static final int PROTOCOL_3_0 = 196608;

    private enum State { STARTUP, REGULAR, DISCARD }

    private final int maxMessageBytes;
    private State state = State.STARTUP;

    public PgMessageDecoder(int maxMessageBytes) {
        if (maxMessageBytes < 5) {
            throw new IllegalArgumentException("maxMessageBytes must be at least 5, was " + maxMessageBytes);
        }
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            decodeAvailable(in, out);
        } catch (PgProtocolException e) {
            state = State.DISCARD;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private void decodeAvailable(ByteBuf in, List<Object> out) {
        while (true) {
            switch (state) {
                case STARTUP -> {
                    if (!startupMessage(in, out)) {
                        return;
                    }
                }
                case REGULAR -> {
                    if (!regularMessage(in, out)) {
                        return;
                    }
                }
                case DISCARD -> {
                    in.skipBytes(in.readableBytes());
                    return;
                }
            }
        }
    }

    private boolean startupMessage(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return false;
        }
        int length = in.getInt(in.readerIndex());
        if (length < 8 || length > MAX_STARTUP) {
            throw error(ErrorCode.MALFORMED_PACKET, "invalid startup packet length " + length + " (must be 8.." + MAX_STARTUP + ")");
        }
        if (in.readableBytes() < length) {
            return false;
        }
        in.skipBytes(4);
        ByteBuf body = in.readSlice(length - 4);
        int code = body.readInt();
        try {
            switch (code) {
                case SSL_REQUEST -> out.add(new PgClientMessage.SslRequest());
                case GSSENC_REQUEST -> out.add(new PgClientMessage.GssEncRequest());
                case CANCEL_REQUEST -> {
                    out.add(new PgClientMessage.CancelRequest(body.readInt(), body.readInt()));
                    state = State.DISCARD;
                }
                case PROTOCOL_3_0 -> {
                    out.add(new PgClientMessage.Startup(code, startupParameters(body)));
                    state = State.REGULAR;
                }
                default -> throw error(ErrorCode.MALFORMED_PACKET, "unsupported frontend protocol " + (code >>> 16) + "." + (code & 0xFFFF)
                        + ": this proxy speaks protocol 3.0");
            }
        } catch (IndexOutOfBoundsException e) {
            throw error(ErrorCode.MALFORMED_PACKET, "startup packet of " + length + " bytes ends early");
        }
        return true;
    }

    private static Map<String, String> startupParameters(ByteBuf body) {
        Map<String, String> parameters = new LinkedHashMap<>();
        while (true) {
            String name = cString(body, "startup parameter name");
            if (name.isEmpty()) {
                return parameters;
            }
            parameters.put(name, cString(body, "value of startup parameter " + name));
        }
    }

    private boolean regularMessage(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 5) {
            return false;
        }
        char type = (char) in.getUnsignedByte(in.readerIndex());
        int length = in.getInt(in.readerIndex() + 1);
        if (length < 4) {
            throw error(ErrorCode.MALFORMED_PACKET, "invalid length " + length + " of message '" + printable(type) + "'");
        }
        if (length > maxMessageBytes) {
            throw error(ErrorCode.PACKET_TOO_LARGE, "message '" + printable(type) + "' of " + length
                    + " bytes is larger than the limit of " + maxMessageBytes + " bytes (limits.max-packet-bytes)");
        }
        if (in.readableBytes() < 1 + length) {
            return false;
        }
        in.skipBytes(5);
        ByteBuf body = in.readSlice(length - 4);
        try {
            out.add(message(type, body));
        } catch (IndexOutOfBoundsException e) {
            throw error(ErrorCode.MALFORMED_PACKET, "message '" + printable(type) + "' of " + length + " bytes ends early");
        }
        if (body.isReadable()) {
            throw error(ErrorCode.MALFORMED_PACKET, "message '" + printable(type) + "' has " + body.readableBytes()
                    + " bytes after its last field");
        }
        return true;
    }

    private static PgClientMessage message(char type, ByteBuf body) {
        return switch (type) {
            case 'Q' -> new PgClientMessage.Query(text(body, "query string"));
            case 'P' -> parse(body);
            case 'B' -> bind(body);
            case 'D' -> new PgClientMessage.Describe(kind(body, "Describe"), cString(body, "Describe name"));
            case 'E' -> new PgClientMessage.Execute(cString(body, "portal name"), body.readInt());
            case 'C' -> new PgClientMessage.Close(kind(body, "Close"), cString(body, "Close name"));
            case 'S' -> new PgClientMessage.Sync();
            case 'H' -> new PgClientMessage.Flush();
            case 'X' -> new PgClientMessage.Terminate();
            case 'p' -> new PgClientMessage.AuthData(bytes(body, body.readableBytes()));
            case 'F' -> {
                body.skipBytes(body.readableBytes());
                yield new PgClientMessage.FunctionCall();
            }
            case 'd' -> new PgClientMessage.CopyData(bytes(body, body.readableBytes()));
            case 'c' -> {
                body.skipBytes(body.readableBytes());
                yield new PgClientMessage.CopyDone();
            }
            case 'f' -> new PgClientMessage.CopyFail(cString(body, "CopyFail reason"));
            default -> {
                body.skipBytes(body.readableBytes());
                yield new PgClientMessage.Unknown(type);
            }
        };
    }

    private static PgClientMessage.Parse parse(ByteBuf body) {
        String name = cString(body, "statement name");
        String sql = text(body, "query string");
        int count = count(body, "parameter types");
        List<Integer> types = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            types.add(body.readInt());
        }
        return new PgClientMessage.Parse(name, sql, types);
    }

    private static PgClientMessage.Bind bind(ByteBuf body) {
        String portal = cString(body, "portal name");
        String statement = cString(body, "statement name");
        List<Short> parameterFormats = formats(body, "parameter format codes");
        int count = count(body, "parameter values");
        List<byte[]> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int length = body.readInt();
            if (length < -1 || length > body.readableBytes()) {
                throw error(ErrorCode.MALFORMED_PACKET, "Bind parameter " + (i + 1) + " has length " + length + " but "
                        + body.readableBytes() + " bytes are left");
            }
            values.add(length == -1 ? null : bytes(body, length));
        }
        return new PgClientMessage.Bind(portal, statement, parameterFormats, values, formats(body, "result format codes"));
    }

    private static List<Short> formats(ByteBuf body, String what) {
        int count = count(body, what);
        List<Short> formats = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            short f = body.readShort();
            if (f != 0 && f != 1) {
                throw error(ErrorCode.MALFORMED_PACKET, "invalid format code " + f + " in " + what + " (must be 0 or 1)");
            }
            formats.add(f);
        }
        return formats;
    }

    /** An int16 count, checked against what is left (each entry takes at least 2 bytes). */
    private static int count(ByteBuf body, String what) {
        int n = body.readUnsignedShort();
        if (n * 2L > body.readableBytes()) {
            throw error(ErrorCode.MALFORMED_PACKET, "count of " + what + " is " + n + " but only " + body.readableBytes()
                    + " bytes are left");
        }
        return n;
    }

    private static char kind(ByteBuf body, String message) {
        char k = (char) body.readUnsignedByte();
        if (k != 'S' && k != 'P') {
            throw error(ErrorCode.MALFORMED_PACKET, message + " of '" + printable(k) + "': must be 'S' (statement) or 'P' (portal)");
        }
        return k;
    }

    private static String cString(ByteBuf body, String what) {
        int end = body.indexOf(body.readerIndex(), body.writerIndex(), (byte) 0);
        if (end < 0) {
            throw error(ErrorCode.MALFORMED_PACKET, what + " is not terminated by a zero byte");
        }
        String s = body.toString(body.readerIndex(), end - body.readerIndex(), StandardCharsets.UTF_8);
        body.readerIndex(end + 1);
        return s;
    }

    /**
     * SQL text: decoded losslessly ({@link io.shardgate.proxy.session.ClientCharset#decode}), so that invalid UTF-8 is
     * not silently replaced: the front end answers it with PostgreSQL's own error (22021) and the connection goes on.
     */
    private static String text(ByteBuf body, String what) {
        int end = body.indexOf(body.readerIndex(), body.writerIndex(), (byte) 0);
        if (end < 0) {
            throw error(ErrorCode.MALFORMED_PACKET, what + " is not terminated by a zero byte");
        }
        byte[] b = new byte[end - body.readerIndex()];
        body.readBytes(b);
        body.readerIndex(end + 1);
        return io.shardgate.proxy.session.ClientCharset.UTF8MB4.decode(b);
    }

    private static byte[] bytes(ByteBuf body, int length) {
        byte[] b = new byte[length];
        body.readBytes(b);
        return b;
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\x%02x", (int) c);
    }

    private static PgProtocolException error(ErrorCode code, String message) {
        return new PgProtocolException(code, message);
    }
}
